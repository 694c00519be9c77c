/** Fuzzing where the host puts the endpoint test function's buffers: clean on the real loop, a shrunk failure on a broken one. */
import { BUILTIN_PROFILES, findProfile } from '@epfsim/epc-core';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../../src/front/cli/command.js';
import { fuzzEndpointTest } from '../../../src/front/cli/fuzz-endpoint-test.js';

function context(json = false): { ctx: CommandContext; lines: string[] } {
  const lines: string[] = [];
  const ctx = { json, verbose: false, out: (l: string) => lines.push(l), err: () => {}, stderr: process.stderr };
  return { ctx: ctx as unknown as CommandContext, lines };
}

describe('fuzz --function pci-epf-test', () => {
  it('runs clean on every built-in profile with the kernel map loop', () => {
    const { ctx, lines } = context();
    expect(fuzzEndpointTest(ctx, BUILTIN_PROFILES, 120, 5)).toBe(0);
    expect(lines[0]).toMatch(/^epfsim fuzz --function pci-epf-test: 120 cases .* seed 5, 0 failed/);
  });

  it('shrinks a map loop that ignores partial maps to a small case across a 1 MiB edge', () => {
    const rk3399 = findProfile('rk3399')!;
    const { ctx, lines } = context();
    expect(fuzzEndpointTest(ctx, [rk3399], 200, 7, { mapLoop: 'single-map' })).toBe(1);
    const failed = lines.find((l) => l.startsWith('FAILED '));
    expect(failed).toMatch(/^FAILED rk3399: (READ|WRITE|COPY) \d+ bytes, buffers from 0x[0-9a-f]+, alignment \d+: .*/);
    expect(lines).toContain('  replay it: epfsim fuzz --function pci-epf-test --seed 7 --cases 200 (same profiles)');
  });
});
