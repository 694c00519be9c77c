import { findProfile } from '@epfsim/epc-core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { caseCommands } from '../../src/case-file/case-file.js';
import { parseCaseFile, serializeCaseFile } from '../../src/case-file/parse-case-file.js';
import { buildFuzzCase, type FuzzTarget, fuzzCaseArbitrary, runFuzzCase } from '../../src/fuzz/fuzz-case.js';
import { rangesOverlap } from '../../src/memory/host-range.js';
import type { PlacementName } from '../../src/placement/placement-factory.js';

function target(profile: string, placement: PlacementName): FuzzTarget {
  return { profile: findProfile(profile)!, placement, strategy: 'mem-map', blockSize: 512, blocks: 1 << 21 };
}

const stress = target('stress', 'adversarial');

describe('fuzz cases', () => {
  test.prop([fuzzCaseArbitrary(stress)], { numRuns: 40 })(
    'are concrete case files: memory, queues and raw commands that survive the file format',
    (params) => {
      const c = buildFuzzCase(stress, params, 9);
      // Compared as text: deep equality of megabytes of Uint8Array is slow.
      const text = JSON.stringify(serializeCaseFile(c));
      expect(JSON.stringify(serializeCaseFile(parseCaseFile(JSON.parse(text))))).toBe(text);
      expect(c.profile).toBe('stress');
      // Nothing is granted for the whole case; every data command carries its own grants.
      for (const m of c.memory) expect(m.grant).toBe('none');
      for (const { command } of caseCommands(c))
        if (command.prp1 !== 0n) expect(command.grants?.length).toBeGreaterThan(0);
      const rings = c.steps.flatMap((s) =>
        s.do === 'enable'
          ? [
              { addr: s.admin.sqAddr, size: s.admin.sqSize * 64 },
              { addr: s.admin.cqAddr, size: s.admin.cqSize * 16 },
            ]
          : s.do === 'create-cq' || s.do === 'create-sq'
            ? [{ addr: s.addr, size: s.size * (s.do === 'create-sq' ? 64 : 16) }]
            : [],
      );
      for (const r of rings) {
        expect(r.addr % 4096n).toBe(0n);
        for (const m of c.memory) expect(rangesOverlap(r, m)).toBe(false);
      }
      // The same parameters give the same case, bit for bit.
      expect(JSON.stringify(serializeCaseFile(buildFuzzCase(stress, params, 9)))).toBe(text);
    },
  );

  test.prop([fuzzCaseArbitrary(stress)], { numRuns: 40 })('pass on a correct controller', (params) => {
    const { report } = runFuzzCase(stress, params);
    expect(firstOf(report)).toBeUndefined();
  });

  it('check reads against the model: every read after a write expects the written bytes', () => {
    const withReads = fc
      .sample(fuzzCaseArbitrary(target('rk3399', 'linux')), { seed: 4, numRuns: 30 })
      .map((p) => buildFuzzCase(target('rk3399', 'linux'), p))
      .flatMap((c) => caseCommands(c).filter(({ command }) => command.opcode === 2));
    expect(
      withReads.some(({ command }) =>
        command.expect?.data?.some((d) => d.expected.kind !== 'bytes' || d.expected.bytes.some((b) => b !== 0)),
      ),
    ).toBe(true);
  });

  it('expect the invalid placement statuses, and faults where data is put in a hole', () => {
    const invalid = target('rk3588', 'invalid');
    const cases = fc.sample(fuzzCaseArbitrary(invalid), { seed: 8, numRuns: 60 }).map((p) => buildFuzzCase(invalid, p));
    const commands = cases.map((c) => caseCommands(c).map(({ command }) => command));
    const statuses = new Set(commands.flat().flatMap((cmd) => cmd.expect?.status ?? []));
    for (const s of ['0/13h', '0/02h', '0/04h']) expect(statuses).toContain(s);
    expect(commands.some((c) => c.some((cmd) => (cmd.expect?.faults?.length ?? 0) > 0))).toBe(true);
    for (const cmd of commands.flat()) expect(cmd.expect?.data).toBeUndefined();
    const p = fc.sample(fuzzCaseArbitrary(invalid), { seed: 8, numRuns: 10 });
    for (const params of p) expect(firstOf(runFuzzCase(invalid, params).report)).toBeUndefined();
  });
});

function firstOf(report: ReturnType<typeof runFuzzCase>['report']): string | undefined {
  return report.ok
    ? undefined
    : JSON.stringify({ steps: report.steps, commands: report.commands, failures: report.failures }, (_, v) =>
        typeof v === 'bigint' ? `0x${v.toString(16)}` : v,
      );
}
