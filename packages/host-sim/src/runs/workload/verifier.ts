/**
 * fio's verify, without stored copies: the expected content of every block in the workload's
 * region is one 32-bit entry, the generation of the last write that covered it (or unwritten,
 * deallocated, unknown), and {@link BlockPattern} rebuilds the bytes from it. Every byte a read
 * brings back into host RAM is compared; bytes the host asked the controller to discard (SGL Bit
 * Buckets) are counted, not compared.
 *
 * Expectations:
 * - unwritten blocks read as zeroes (a fresh RAM namespace: nvme-epf's RAM backend returns zeroes
 *   for bytes never written);
 * - deallocated blocks read as DLFEAT says (Identify Namespace byte 33, bits 2:0): 001b zeroes,
 *   010b all ones, 000b not reported, then they are not checked until written again (nvme-epf
 *   reports 001b);
 * - a write that failed leaves its blocks unknown until written again.
 */
import { DeallocateReadBehavior, getBits, ID_NS_DLFEAT } from '@epfsim/nvme-spec-types';
import type { DataChunk } from '../../host/placement/layout.js';
import type { BlockPattern } from './block-pattern.js';
import type { IoRequest } from './io-request.js';

/** What a read of a deallocated block returns. */
export type DeallocatedReads = 'zeroes' | 'ones' | 'unknown';

/** DLFEAT's read behaviour as an expectation. */
export function deallocatedReads(dlfeat: number): DeallocatedReads {
  const behavior = getBits(dlfeat, ID_NS_DLFEAT.READ_BEHAVIOR);
  if (behavior === DeallocateReadBehavior.ZEROES) return 'zeroes';
  if (behavior === DeallocateReadBehavior.ONES) return 'ones';
  return 'unknown';
}

/** Table entries besides write generations. */
const UNWRITTEN = 0;
const DEALLOCATED = 0xffff_fffe;
const UNKNOWN = 0xffff_ffff;
/** Largest write generation (the values above are markers). */
const MAX_GENERATION = DEALLOCATED - 1;
const ALL_ONES = 0xff;
/** Mismatches kept in full; later ones are only counted. */
export const MISMATCH_LOG_LIMIT = 20;

/** One block that did not read back as expected. */
export interface Mismatch {
  readonly lba: number;
  /** Offset in the block of the first differing byte. */
  readonly byte: number;
  readonly expected: string;
  readonly found: string;
}

export interface VerifySummary {
  readonly enabled: boolean;
  /** Read commands whose data was checked. */
  readonly readsChecked: number;
  readonly bytesCompared: number;
  /** Blocks checked, and how many of them held written data (the rest: zeroes or ones expected). */
  readonly blocksChecked: number;
  readonly blocksWithData: number;
  /** Bytes of reads the host discarded by design (SGL Bit Buckets): not compared. */
  readonly bytesDiscarded: number;
  /** Blocks read whose content could not be known (after a failed write, or a deallocation DLFEAT leaves unreported). */
  readonly blocksNotVerifiable: number;
  readonly mismatchedBlocks: number;
  /** The first {@link MISMATCH_LOG_LIMIT}. */
  readonly mismatches: readonly Mismatch[];
}

/** Blocks the table covers. */
export interface VerifyRegion {
  readonly start: number;
  readonly blocks: number;
}

export class Verifier {
  private readonly pattern: BlockPattern;
  private readonly region: VerifyRegion;
  private readonly deallocated: DeallocatedReads;
  private readonly generations: Uint32Array;
  private lastGeneration = 0;
  private expected = new Uint8Array(0);
  private readonly mismatchLog: Mismatch[] = [];
  private readsChecked = 0;
  private bytesCompared = 0;
  private blocksChecked = 0;
  private blocksWithData = 0;
  private bytesDiscarded = 0;
  private blocksNotVerifiable = 0;
  private mismatchedBlocks = 0;

  /** `unwritten`: what blocks hold before the run writes them (zeroes on a fresh namespace). */
  constructor(
    pattern: BlockPattern,
    region: VerifyRegion,
    deallocated: DeallocatedReads,
    unwritten: 'zeroes' | 'unknown' = 'zeroes',
  ) {
    this.pattern = pattern;
    this.region = region;
    this.deallocated = deallocated;
    this.generations = new Uint32Array(region.blocks);
    if (unwritten === 'unknown') this.generations.fill(UNKNOWN);
  }

  /** A new generation for a write about to be submitted. */
  nextGeneration(): number {
    if (this.lastGeneration === MAX_GENERATION) throw new RangeError('write generations exhausted');
    return ++this.lastGeneration;
  }

  /** The bytes of a write of `nlb` blocks at `slba` with `generation`, into `dst` (at least nlb blocks). */
  fill(dst: Uint8Array, slba: number, nlb: number, generation: number): void {
    const bs = this.pattern.blockSize;
    for (let i = 0; i < nlb; i++) this.pattern.stamp(dst, i * bs, slba + i, generation);
  }

  /** A write completed: its blocks now hold `generation`, or are unknown when it failed. */
  writeDone(slba: number, nlb: number, generation: number, ok: boolean): void {
    this.setRange(slba, nlb, ok ? generation : UNKNOWN);
  }

  /** A deallocation completed. */
  trimDone(slba: number, nlb: number, ok: boolean): void {
    this.setRange(slba, nlb, ok ? DEALLOCATED : UNKNOWN);
  }

  /**
   * Checks a successful read of `nlb` blocks at `slba`: `data` as the host gathered it, `chunks`
   * the buffer's pieces in data order (absent: all RAM). Returns the blocks that differ.
   */
  check(slba: number, nlb: number, data: Uint8Array, chunks?: readonly DataChunk[]): number {
    const bs = this.pattern.blockSize;
    const length = nlb * bs;
    if (data.length !== length) throw new RangeError(`read of ${nlb} blocks returned ${data.length} bytes`);
    this.readsChecked++;
    if (this.expected.length < length) this.expected = new Uint8Array(length);
    const expected = this.expected;
    const verifiable: [number, number][] = [];
    for (let i = 0; i < nlb; i++) {
      if (!this.expectBlock(expected, i * bs, slba + i)) {
        this.blocksNotVerifiable++;
        continue;
      }
      const last = verifiable.at(-1);
      if (last !== undefined && last[1] === i * bs) last[1] += bs;
      else verifiable.push([i * bs, (i + 1) * bs]);
    }
    const ram = ramRanges(chunks, length);
    this.bytesDiscarded += length - ram.reduce((n, [a, b]) => n + b - a, 0);
    let bad = 0;
    let lastBadBlock = -1;
    for (const [from, to] of intersect(verifiable, ram)) {
      this.bytesCompared += to - from;
      if (sameBytes(data, expected, from, to)) continue;
      for (let block = Math.floor(from / bs); block * bs < to; block++) {
        const a = Math.max(from, block * bs);
        const b = Math.min(to, (block + 1) * bs);
        if (block === lastBadBlock || sameBytes(data, expected, a, b)) continue;
        lastBadBlock = block;
        bad++;
        this.recordMismatch(slba + block, block * bs, a, b, data, expected);
      }
    }
    this.mismatchedBlocks += bad;
    return bad;
  }

  summary(): VerifySummary {
    return {
      enabled: true,
      readsChecked: this.readsChecked,
      bytesCompared: this.bytesCompared,
      blocksChecked: this.blocksChecked,
      blocksWithData: this.blocksWithData,
      bytesDiscarded: this.bytesDiscarded,
      blocksNotVerifiable: this.blocksNotVerifiable,
      mismatchedBlocks: this.mismatchedBlocks,
      mismatches: [...this.mismatchLog],
    };
  }

  /** Writes block `lba`'s expected bytes at `at`; false when its content cannot be known. */
  private expectBlock(dst: Uint8Array, at: number, lba: number): boolean {
    const state = this.generations[this.index(lba)] as number;
    const bs = this.pattern.blockSize;
    if (state === UNKNOWN || (state === DEALLOCATED && this.deallocated === 'unknown')) return false;
    this.blocksChecked++;
    if (state === UNWRITTEN) {
      dst.fill(0, at, at + bs);
    } else if (state === DEALLOCATED) {
      dst.fill(this.deallocated === 'zeroes' ? 0 : ALL_ONES, at, at + bs);
    } else {
      this.blocksWithData++;
      this.pattern.stamp(dst, at, lba, state);
    }
    return true;
  }

  private recordMismatch(
    lba: number,
    blockAt: number,
    from: number,
    to: number,
    data: Uint8Array,
    expected: Uint8Array,
  ): void {
    if (this.mismatchLog.length >= MISMATCH_LOG_LIMIT) return;
    let first = from;
    while (first < to && data[first] === expected[first]) first++;
    this.mismatchLog.push({
      lba,
      byte: first - blockAt,
      expected: this.describeExpected(lba),
      found: this.describeFound(data, blockAt, first),
    });
  }

  private describeExpected(lba: number): string {
    const state = this.generations[this.index(lba)] as number;
    if (state === UNWRITTEN) return 'zeroes (never written)';
    if (state === DEALLOCATED) return `${this.deallocated === 'ones' ? 'ones' : 'zeroes'} (deallocated)`;
    return `write generation ${state} of this LBA`;
  }

  private describeFound(data: Uint8Array, blockAt: number, first: number): string {
    const block = data.subarray(blockAt, blockAt + this.pattern.blockSize);
    const stamp = this.pattern.readStamp(data, blockAt);
    const byte = `byte 0x${(data[first] ?? 0).toString(16).padStart(2, '0')}`;
    if (stamp !== undefined) return `${byte} in a block of write generation ${stamp.generation} of LBA ${stamp.lba}`;
    if (block.every((b) => b === 0)) return 'zeroes';
    return `${byte} in data no write produced`;
  }

  private setRange(slba: number, nlb: number, value: number): void {
    const from = this.index(slba);
    this.index(slba + nlb - 1);
    this.generations.fill(value, from, from + nlb);
  }

  private index(lba: number): number {
    const i = lba - this.region.start;
    if (i < 0 || i >= this.region.blocks) throw new RangeError(`LBA ${lba} is outside the verified region`);
    return i;
  }
}

/** Byte ranges of the RAM chunks, in data order. */
function ramRanges(chunks: readonly DataChunk[] | undefined, length: number): [number, number][] {
  if (chunks === undefined) return [[0, length]];
  const out: [number, number][] = [];
  let at = 0;
  for (const c of chunks) {
    if (c.kind === 'ram' && c.size > 0) {
      const last = out.at(-1);
      if (last !== undefined && last[1] === at) last[1] += c.size;
      else out.push([at, at + c.size]);
    }
    at += c.size;
  }
  return out;
}

/** Intersections of two sorted lists of disjoint ranges. */
function intersect(a: readonly [number, number][], b: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [a0, a1] = a[i] as [number, number];
    const [b0, b1] = b[j] as [number, number];
    const from = Math.max(a0, b0);
    const to = Math.min(a1, b1);
    if (from < to) out.push([from, to]);
    if (a1 < b1) i++;
    else j++;
  }
  return out;
}

/** Native comparison of `a[from, to)` and `b[from, to)`. */
function sameBytes(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  return Buffer.from(a.buffer, a.byteOffset + from, to - from).equals(
    Buffer.from(b.buffer, b.byteOffset + from, to - from),
  );
}

/** The verify summary of a run that verifies nothing. */
export function emptyVerify(): VerifySummary {
  return {
    enabled: false,
    readsChecked: 0,
    bytesCompared: 0,
    blocksChecked: 0,
    blocksWithData: 0,
    bytesDiscarded: 0,
    blocksNotVerifiable: 0,
    mismatchedBlocks: 0,
    mismatches: [],
  };
}

/** The blocks a list of requests touches, first to last (at least one block). */
export function blocksTouched(requests: readonly IoRequest[]): VerifyRegion {
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const r of requests) {
    if (r.nlb === 0) continue;
    start = Math.min(start, r.slba);
    end = Math.max(end, r.slba + r.nlb);
  }
  return end === 0 ? { start: 0, blocks: 1 } : { start, blocks: end - start };
}
