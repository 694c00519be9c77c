/** Host ranges of generated layouts: made disjoint without filtering, placed all or nothing. */
import { PCI_ADDR_LIMIT } from '@epfsim/epc-core';
import type { HostMemory } from '../../host/memory/host-memory.js';
import { type HostRange, rangeEnd, rangesOverlap } from '../../host/memory/host-range.js';

/**
 * Returns `ranges` moved, where needed, so that no two overlap: a range that overlaps one before it
 * moves to the nearest spot just after or just before one of those, keeping its offset within
 * `align` (so alignment and page offsets survive). Deterministic, so a shrunk input maps to the same
 * addresses. Throws only if the ranges cannot fit in the 64-bit space at all.
 * @internal
 */
export function disjoint(ranges: readonly HostRange[], align: number): HostRange[] {
  const out: HostRange[] = [];
  const step = BigInt(align);
  const fits = (addr: bigint, size: number) =>
    addr >= 0n && addr + BigInt(size) <= PCI_ADDR_LIMIT && !out.some((o) => rangesOverlap(o, { addr, size }));
  for (const r of ranges) {
    if (fits(r.addr, r.size)) {
      out.push(r);
      continue;
    }
    const phase = r.addr % step;
    const size = BigInt(r.size);
    const candidates = out.flatMap((o) => {
      const after = ((rangeEnd(o) - phase + step - 1n) / step) * step + phase;
      const below = o.addr - size - phase;
      return below >= 0n ? [after, below - (below % step) + phase] : [after];
    });
    const distance = (a: bigint) => (a > r.addr ? a - r.addr : r.addr - a);
    candidates.sort((a, b) => (distance(a) < distance(b) ? -1 : distance(a) > distance(b) ? 1 : 0));
    const addr = candidates.find((a) => fits(a, r.size));
    if (addr === undefined) throw new RangeError('disjoint: the ranges do not fit in the 64-bit space');
    out.push({ addr, size: r.size });
  }
  return out;
}

/**
 * Places RAM for every range if all of them are free in `memory`; returns the function that frees
 * them again, or undefined (nothing placed) when something is in the way.
 * @internal
 */
export function placeAll(memory: HostMemory, ranges: readonly HostRange[]): (() => void) | undefined {
  if (!ranges.every((r) => memory.isFree(r.addr, r.size))) return undefined;
  const placed = ranges.map((r) => memory.place(r.addr, r.size));
  return () => {
    for (const r of placed) memory.free(r);
  };
}
