import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitTrace, parseTrace, type TraceRequest } from '../../../src/runs/trace/index.js';

const MiB = 1024 * 1024;

function req(offset: number, length: number, op: TraceRequest['op'] = 'read', timeNs = 0): TraceRequest {
  return { timeNs, op, offset, length };
}

describe('fitTrace', () => {
  it('folds offsets modulo the capacity, aligned to the block size', () => {
    const out = fitTrace([req(0, 4096), req(10 * MiB + 8192, 4096), req(3 * MiB, 8192, 'write', 77)], 4 * MiB, 4096);
    expect(out).toEqual([req(0, 4096), req(2 * MiB + 8192, 4096), req(3 * MiB, 8192, 'write', 77)]);
  });

  it('widens unaligned extents to whole blocks', () => {
    // [1000, 1512) lies in block 0; [3584, 4608) straddles blocks 0 and 1.
    expect(fitTrace([req(1000, 512), req(3584, 1024)], MiB, 4096)).toEqual([req(0, 4096), req(0, 8192)]);
  });

  it('clips a request at the end of the namespace, and one longer than the namespace', () => {
    expect(fitTrace([req(MiB - 4096, 16384), req(0, 8 * MiB)], MiB, 4096)).toEqual([
      req(MiB - 4096, 4096),
      req(0, MiB),
    ]);
  });

  it('ignores a partial last block of capacity, and passes flushes through', () => {
    const flush = { timeNs: 5, op: 'flush', offset: 0, length: 0 } as const;
    const out = fitTrace([req(MiB, 512), flush], MiB + 500, 512);
    expect(out).toEqual([req(0, 512), flush]);
    expect(out[1]).toBe(flush);
  });

  it('refuses impossible geometry', () => {
    expect(() => fitTrace([], 1000, 4096)).toThrow(RangeError);
    expect(() => fitTrace([], MiB, 0)).toThrow(RangeError);
  });

  it('fits the real TPC-C trace onto a 64 MiB namespace, deterministically', () => {
    const text = readFileSync(new URL('../../../../../examples/traces/tpcc-small.trace', import.meta.url), 'utf8');
    const { requests, span } = parseTrace(text, { source: 'tpcc-small.trace' });
    expect(span).toBeGreaterThan(64 * MiB);
    const fitted = fitTrace(requests, 64 * MiB, 4096);
    expect(fitted.length).toBe(requests.length);
    const bad = fitted.filter(
      (r, i) =>
        r.offset % 4096 !== 0 ||
        r.length % 4096 !== 0 ||
        r.length <= 0 ||
        r.offset + r.length > 64 * MiB ||
        r.timeNs !== requests[i]!.timeNs ||
        r.op !== requests[i]!.op,
    );
    expect(bad).toEqual([]);
    expect(fitTrace(requests, 64 * MiB, 4096)).toEqual(fitted);
  });
});
