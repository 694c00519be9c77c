/**
 * An IOMMU-like grant table: the host driver grants the function exactly the ranges one command
 * (or one queue) may touch, each in one direction, and revokes them when the command completes.
 * Everything else is refused; the host address space records each refusal as a fault with the
 * address, size and direction, which is an isolation violation.
 */
import type { BusDirection, GrantHook } from '@epfsim/epc-core';
import { formatRange, type HostRange } from './host-range.js';

/**
 * Who moves the bytes, seen from the device, as on the bus: `read` = the device reads host memory
 * (SQEs, PRP lists, SGL segments, write data); `write` = the device writes it (CQEs, read data).
 */
export type GrantDirection = BusDirection;

/** One range the device may access in one direction. */
export interface GrantSpec extends HostRange {
  readonly direction: GrantDirection;
}

/** Handle of a live grant. */
export type GrantId = number;

/** Sorted starts and the running maximum of ends: answers "is [a, b) covered" by jumping. */
interface CoverageIndex {
  readonly starts: bigint[];
  readonly maxEnds: bigint[];
}

/** Index of the last element of `sorted` that is ≤ `value`, or −1. */
function lastAtOrBelow(sorted: readonly bigint[], value: bigint): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as bigint) <= value) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Live grants with a lazily rebuilt coverage index per direction (grants change in batches, checks are many). */
export class GrantTable {
  private readonly live = new Map<GrantId, GrantSpec>();
  private readonly index: Record<GrantDirection, CoverageIndex | null> = { read: null, write: null };
  private nextId = 1;

  /** The hook to install with `HostAddressSpace.setGrantHook`. */
  readonly hook: GrantHook = (addr, size, direction) => this.allows(addr, size, direction);

  /** Grants [addr, addr + size) in `direction`; returns the handle to revoke it with. */
  grant(spec: GrantSpec): GrantId {
    if (spec.size < 0 || !Number.isSafeInteger(spec.size)) throw new RangeError(`grant of ${formatRange(spec)}`);
    const id = this.nextId++;
    this.live.set(id, { addr: spec.addr, size: spec.size, direction: spec.direction });
    this.index[spec.direction] = null;
    return id;
  }

  /** Revokes one grant; false when it was not live (a double revoke is a driver bug the caller may assert on). */
  revoke(id: GrantId): boolean {
    const spec = this.live.get(id);
    if (spec === undefined) return false;
    this.live.delete(id);
    this.index[spec.direction] = null;
    return true;
  }

  /** Revokes every grant (controller reset). */
  revokeAll(): void {
    this.live.clear();
    this.index.read = null;
    this.index.write = null;
  }

  /** Number of live grants. */
  get size(): number {
    return this.live.size;
  }

  /** The live grants, for reports and case files. */
  list(): GrantSpec[] {
    return [...this.live.values()];
  }

  /** True when every byte of [addr, addr + size) is covered by grants of `direction` (possibly several). */
  allows(addr: bigint, size: number, direction: GrantDirection): boolean {
    if (size <= 0) return true;
    const { starts, maxEnds } = this.coverage(direction);
    const end = addr + BigInt(size);
    let cursor = addr;
    for (;;) {
      const i = lastAtOrBelow(starts, cursor);
      if (i < 0) return false;
      const reach = maxEnds[i] as bigint;
      if (reach <= cursor) return false;
      if (reach >= end) return true;
      cursor = reach;
    }
  }

  private coverage(direction: GrantDirection): CoverageIndex {
    const cached = this.index[direction];
    if (cached !== null) return cached;
    const specs = [...this.live.values()]
      .filter((g) => g.direction === direction && g.size > 0)
      .sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    const starts: bigint[] = [];
    const maxEnds: bigint[] = [];
    let reach = -1n;
    for (const g of specs) {
      const end = g.addr + BigInt(g.size);
      if (end > reach) reach = end;
      starts.push(g.addr);
      maxEnds.push(reach);
    }
    const built = { starts, maxEnds };
    this.index[direction] = built;
    return built;
  }
}
