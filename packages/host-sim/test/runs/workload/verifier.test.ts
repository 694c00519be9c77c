import { DeallocateReadBehavior, ID_NS_DLFEAT, packFields } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { DataChunk } from '../../../src/host/placement/layout.js';
import { createRandom } from '../../../src/host/random.js';
import { BlockPattern } from '../../../src/runs/workload/block-pattern.js';
import { LATENCY_PERCENTILES, LatencyRecorder } from '../../../src/runs/workload/latency-recorder.js';
import { deallocatedReads, MISMATCH_LOG_LIMIT, Verifier } from '../../../src/runs/workload/verifier.js';

const BS = 512;

function verifier(deallocated: 'zeroes' | 'ones' | 'unknown' = 'zeroes', start = 100, blocks = 64) {
  const pattern = new BlockPattern(BS, createRandom(9));
  return { pattern, v: new Verifier(pattern, { start, blocks }, deallocated) };
}

/** Writes `nlb` blocks at `slba` in the verifier's model and returns the bytes a correct read returns. */
function written(v: Verifier, slba: number, nlb: number): Uint8Array {
  const gen = v.nextGeneration();
  const data = new Uint8Array(nlb * BS);
  v.fill(data, slba, nlb, gen);
  v.writeDone(slba, nlb, gen, true);
  return data;
}

describe('block pattern', () => {
  it('stamps each block with its LBA and generation, and differs by both', () => {
    const p = new BlockPattern(BS, createRandom(1));
    const a = new Uint8Array(BS);
    const b = new Uint8Array(BS);
    const c = new Uint8Array(BS);
    p.stamp(a, 0, 2 ** 40 + 5, 3);
    p.stamp(b, 0, 2 ** 40 + 5, 4);
    p.stamp(c, 0, 2 ** 40 + 6, 3);
    expect(p.readStamp(a, 0)).toEqual({ lba: 2 ** 40 + 5, generation: 3 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a.subarray(16)).equals(Buffer.from(c.subarray(16)))).toBe(false);
    expect(p.readStamp(new Uint8Array(BS), 0)).toBeUndefined();
  });
});

describe('verifier', () => {
  it('passes a clean read of written and unwritten blocks', () => {
    const { v } = verifier();
    const data = written(v, 104, 4);
    const read = new Uint8Array(8 * BS);
    read.set(data, 4 * BS); // blocks 100..103 never written: zeroes
    expect(v.check(100, 8, read)).toBe(0);
    expect(v.summary()).toMatchObject({
      readsChecked: 1,
      bytesCompared: 8 * BS,
      blocksChecked: 8,
      blocksWithData: 4,
      mismatchedBlocks: 0,
    });
  });

  it('catches one corrupted byte and says which block, byte and what it found', () => {
    const { v } = verifier();
    const data = written(v, 110, 4);
    data[2 * BS + 300]! ^= 0x40;
    expect(v.check(110, 4, data)).toBe(1);
    const s = v.summary();
    expect(s.mismatchedBlocks).toBe(1);
    expect(s.mismatches[0]).toMatchObject({ lba: 112, byte: 300, expected: 'write generation 1 of this LBA' });
    expect(s.mismatches[0]?.found).toContain('write generation 1 of LBA 112');
  });

  it('names a stale block and a block that landed at the wrong LBA', () => {
    const { v } = verifier();
    const old = written(v, 120, 1);
    written(v, 120, 1);
    expect(v.check(120, 1, old)).toBe(1);
    const elsewhere = written(v, 121, 1);
    written(v, 122, 1);
    expect(v.check(122, 1, elsewhere)).toBe(1);
    const [stale, misplaced] = v.summary().mismatches;
    expect(stale).toMatchObject({ lba: 120, byte: 12, expected: 'write generation 2 of this LBA' });
    expect(stale?.found).toContain('generation 1 of LBA 120');
    expect(misplaced?.found).toContain('of LBA 121');
  });

  it('does not compare bytes the host discarded into bit buckets', () => {
    const { v } = verifier();
    written(v, 100, 2);
    const chunks: DataChunk[] = [
      { kind: 'ram', addr: 0x1000n, size: 700 },
      { kind: 'bit-bucket', addr: 0n, size: 200 },
      { kind: 'ram', addr: 0x9000n, size: 124 },
    ];
    const expected = new Uint8Array(2 * BS);
    v.fill(expected, 100, 2, 1);
    const gathered = expected.slice();
    gathered.fill(0, 700, 900); // the driver gathers zeroes where a bit bucket was
    expect(v.check(100, 2, gathered, chunks)).toBe(0);
    gathered[950]! ^= 1; // but a RAM byte after it is compared
    expect(v.check(100, 2, gathered, chunks)).toBe(1);
    expect(v.summary()).toMatchObject({ bytesDiscarded: 400, bytesCompared: 2 * 824 });
  });

  it('expects deallocated blocks as DLFEAT says: zeroes, ones, or not checked', () => {
    const dlfeat = (behavior: number) => packFields(ID_NS_DLFEAT, { READ_BEHAVIOR: behavior });
    expect(deallocatedReads(dlfeat(DeallocateReadBehavior.ZEROES))).toBe('zeroes');
    expect(deallocatedReads(dlfeat(DeallocateReadBehavior.ONES))).toBe('ones');
    expect(deallocatedReads(dlfeat(DeallocateReadBehavior.NOT_REPORTED))).toBe('unknown');

    const zeroes = verifier('zeroes').v;
    const stale = written(zeroes, 100, 2);
    zeroes.trimDone(100, 2, true);
    expect(zeroes.check(100, 2, new Uint8Array(2 * BS))).toBe(0);
    expect(zeroes.check(100, 2, stale)).toBe(2);
    expect(zeroes.summary().mismatches[0]?.expected).toBe('zeroes (deallocated)');

    const ones = verifier('ones').v;
    ones.trimDone(100, 1, true);
    expect(ones.check(100, 1, new Uint8Array(BS).fill(0xff))).toBe(0);
    expect(ones.check(100, 1, new Uint8Array(BS))).toBe(1);

    const unknown = verifier('unknown').v;
    unknown.trimDone(100, 1, true);
    expect(unknown.check(100, 1, new Uint8Array(BS).fill(0x5a))).toBe(0);
    expect(unknown.summary()).toMatchObject({ blocksNotVerifiable: 1, bytesCompared: 0 });
  });

  it('leaves blocks of a failed write unchecked until written again', () => {
    const { v } = verifier();
    const gen = v.nextGeneration();
    v.writeDone(100, 1, gen, false);
    expect(v.check(100, 1, new Uint8Array(BS).fill(7))).toBe(0);
    expect(v.summary().blocksNotVerifiable).toBe(1);
    const data = written(v, 100, 1);
    data[0]! ^= 1;
    expect(v.check(100, 1, data)).toBe(1);
  });

  it('keeps the first mismatches in full and counts the rest', () => {
    const { v } = verifier();
    for (let i = 0; i < MISMATCH_LOG_LIMIT + 5; i++) v.check(100, 1, new Uint8Array(BS).fill(1));
    expect(v.summary().mismatchedBlocks).toBe(MISMATCH_LOG_LIMIT + 5);
    expect(v.summary().mismatches).toHaveLength(MISMATCH_LOG_LIMIT);
  });

  it('refuses LBAs outside its region (a workload bug, not a data error)', () => {
    const { v } = verifier();
    expect(() => v.check(99, 1, new Uint8Array(BS))).toThrow(RangeError);
    expect(() => v.writeDone(160, 8, 1, true)).toThrow(RangeError);
  });
});

describe('latency recorder', () => {
  it('summarises with monotonic percentiles between min and max', () => {
    const l = new LatencyRecorder();
    const random = createRandom(3);
    for (let i = 0; i < 10_000; i++) l.record(1_000 + random.below(2_000_000));
    const s = l.summary();
    expect(s.count).toBe(10_000);
    const values = LATENCY_PERCENTILES.map((p) => s.percentilesNs[String(p)] as number);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1] as number);
    expect(values[0]).toBeGreaterThanOrEqual(s.minNs);
    expect(values.at(-1)).toBeLessThanOrEqual(s.maxNs);
    expect(s.meanNs).toBeGreaterThan(s.minNs);
  });

  it('reports zeroes when nothing was recorded, and takes sub-nanosecond values', () => {
    const l = new LatencyRecorder();
    expect(l.summary()).toMatchObject({ count: 0, minNs: 0, maxNs: 0, meanNs: 0 });
    l.record(0.2);
    expect(l.summary().minNs).toBe(1);
  });
});

describe('blocks the run has not written', () => {
  it('are zeroes on a fresh namespace, and not checked when the backend may hold older data (a file)', () => {
    const pattern = new BlockPattern(BS, createRandom(9));
    const fresh = new Verifier(pattern, { start: 0, blocks: 8 }, 'zeroes');
    const old = new Uint8Array(2 * BS).fill(0x5a);
    expect(fresh.check(0, 2, old)).toBe(2);
    const file = new Verifier(pattern, { start: 0, blocks: 8 }, 'zeroes', 'unknown');
    expect(file.check(0, 2, old)).toBe(0);
    expect(file.summary()).toMatchObject({ blocksNotVerifiable: 2, mismatchedBlocks: 0 });
    // Once written in this run, a block is checked like any other.
    const data = written(file, 0, 1);
    data[3] = (data[3] ?? 0) ^ 1;
    expect(file.check(0, 1, data)).toBe(1);
  });
});
