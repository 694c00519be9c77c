/** Segment list helpers shared by the PRP and SGL parsers. */
import type { DataSegment } from './types.js';

/** One past the highest host address: a range may end here but not beyond (P-9, S-10). */
const ADDRESS_LIMIT = 1n << 64n;
/** Below 2^53 addresses are exact as numbers. */
const SAFE_LIMIT = 2 ** 53;
const SAFE_LIMIT_N = BigInt(SAFE_LIMIT);

/** `BigInt.asUintN(64, value)`, without making a new bigint when `value` is already a 64-bit address. */
export function toU64(value: bigint): bigint {
  return value >= 0n && value < ADDRESS_LIMIT ? value : BigInt.asUintN(64, value);
}

/** True when `next` starts where [addr, addr + length) ends. */
function continues(addr: bigint, length: number, next: bigint): boolean {
  if (addr < SAFE_LIMIT_N && next < SAFE_LIMIT_N) return Number(addr) + length === Number(next);
  return addr + BigInt(length) === next;
}

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
  const last = out[out.length - 1];
  if (last !== undefined && last.bitBucket === bitBucket && (bitBucket || continues(last.addr, last.length, addr))) {
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
