/** Segment list helpers shared by the PRP and SGL parsers. */
import type { DataSegment } from './types.js';

/** One past the highest host address: a range may end here but not beyond (P-9, S-10). */
const ADDRESS_LIMIT = 1n << 64n;

/** Total bytes of all segments. */
export function segmentsLength(segs: readonly DataSegment[]): number {
  let total = 0;
  for (const s of segs) total += s.length;
  return total;
}

/** True when `length` bytes from `addr` run past 2^64 (the last byte would wrap). */
export function rangeWraps(addr: bigint, length: number): boolean {
  return addr + BigInt(length) > ADDRESS_LIMIT;
}

/**
 * Appends a piece of data (length > 0), merging it into the last segment when it continues it:
 * host ranges when they are adjacent, bit buckets always (their address means nothing).
 */
export function appendSegment(out: DataSegment[], addr: bigint, length: number, bitBucket: boolean): void {
  const last = out.at(-1);
  if (last !== undefined && last.bitBucket === bitBucket && (bitBucket || last.addr + BigInt(last.length) === addr)) {
    last.length += length;
    return;
  }
  out.push({ addr: bitBucket ? 0n : addr, length, bitBucket });
}

/** Throws for a transfer length that is not a non-negative safe integer (a simulator bug, not host input). */
export function assertTransferLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`data pointer: transfer length ${length} is not a non-negative integer`);
  }
}
