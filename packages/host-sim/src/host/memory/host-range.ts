/**
 * A range of host (PCI bus) addresses. Addresses are bigint everywhere, because placements reach
 * 2^64 − 1; sizes are numbers (no single structure or buffer is larger than 2^53 bytes).
 */
import { hex, PCI_ADDR_LIMIT } from '@epfsim/epc-core';

/** [addr, addr + size) in the 64-bit host address space. `size` may be 0 only where a caller says so. */
export interface HostRange {
  readonly addr: bigint;
  readonly size: number;
}

/** One past the last byte. */
export function rangeEnd(r: HostRange): bigint {
  return r.addr + BigInt(r.size);
}

/** True when the two ranges share at least one byte. */
export function rangesOverlap(a: HostRange, b: HostRange): boolean {
  return a.size > 0 && b.size > 0 && a.addr < rangeEnd(b) && b.addr < rangeEnd(a);
}

/** True when [addr, addr + size) lies inside the 64-bit space (it may end exactly at 2^64). */
export function rangeInSpace(addr: bigint, size: number): boolean {
  return addr >= 0n && addr + BigInt(size) <= PCI_ADDR_LIMIT;
}

/** `0x1000+0x200`, for messages. */
export function formatRange(r: HostRange): string {
  return `${hex(r.addr)}+${hex(r.size)}`;
}

/** Rounds `addr` down to a multiple of `align` (a power of two). */
export function alignDownBig(addr: bigint, align: number): bigint {
  return addr & ~BigInt(align - 1);
}

/** Rounds `addr` up to a multiple of `align` (a power of two). */
export function alignUpBig(addr: bigint, align: number): bigint {
  const mask = BigInt(align - 1);
  return (addr + mask) & ~mask;
}

/** Below 2^53 an address is exact as a number: its offset needs no bigint arithmetic. */
const SAFE_LIMIT_N = 1n << 53n;

/** `addr mod align` for a power-of-two `align`, as a number. */
export function offsetIn(addr: bigint, align: number): number {
  if (addr >= 0n && addr < SAFE_LIMIT_N) return Number(addr) % align;
  return Number(addr & BigInt(align - 1));
}

/**
 * Sorts ranges by address and merges those that touch or overlap: the coverage of a set of
 * ranges in canonical form. Zero-sized ranges disappear.
 */
export function mergeRanges(ranges: readonly HostRange[]): HostRange[] {
  const sorted = ranges.filter((r) => r.size > 0).sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  const out: { addr: bigint; end: bigint }[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    const end = rangeEnd(r);
    if (last !== undefined && r.addr <= last.end) {
      if (end > last.end) last.end = end;
    } else {
      out.push({ addr: r.addr, end });
    }
  }
  return out.map((r) => ({ addr: r.addr, size: Number(r.end - r.addr) }));
}
