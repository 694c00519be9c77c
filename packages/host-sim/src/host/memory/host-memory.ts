/**
 * Host memory as the simulated host driver owns it: RAM placed at exact 64-bit addresses (so
 * placement policies can put a queue, a PRP list or a buffer on any edge), host CPU access to it,
 * and the IOMMU grant table that decides what the function may touch.
 */
import { type BusFault, HostAddressSpace, hex } from '@epfsim/epc-core';
import { type GrantId, type GrantSpec, GrantTable } from './grant-table.js';
import {
  alignDownBig,
  alignUpBig,
  formatRange,
  type HostRange,
  rangeEnd,
  rangeInSpace,
  rangesOverlap,
} from './host-range.js';

/** One access the function made outside what the host granted: an isolation violation. */
export interface IsolationViolation extends GrantSpec {
  /** Sequence number among all violations, from 0. */
  readonly seq: number;
}

/**
 * What the host driver needs from host memory. The simulated host implements it over an
 * epc-core address space; a QEMU target implements it over guest RAM (where grants are advisory).
 */
export interface HostMemory {
  /** Adds RAM at exactly [addr, addr + size) and returns that range. Throws if any byte is already placed or reserved. */
  place(addr: bigint, size: number): HostRange;
  /** Removes RAM that {@link place} added (the whole placement, which must be given exactly). */
  free(range: HostRange): void;
  /** True when no byte of [addr, addr + size) is placed or reserved, and the range fits in 64 bits. */
  isFree(addr: bigint, size: number): boolean;
  /** Host CPU read of placed RAM. */
  read(addr: bigint, dst: Uint8Array): void;
  /** Host CPU write of placed RAM. */
  write(addr: bigint, src: Uint8Array): void;
  /** Host CPU write of `size` zero bytes. */
  zero(addr: bigint, size: number): void;
  /** Lets the function access a range in one direction until {@link revoke}. */
  grant(spec: GrantSpec): GrantId;
  revoke(id: GrantId): void;
  /** Every access the function made that no grant covered. */
  readonly isolationViolations: readonly IsolationViolation[];
  readonly isolationViolationCount: number;
}

/** How many violations are kept in full; later ones are only counted. */
const VIOLATION_LOG_LIMIT = 1000;
/** Host pages are 4 KiB in epc-core's sparse memory; freeing zeroes the partial pages at both ends. */
const PAGE = 4096;

/** Label of RAM placements (reserved ranges carry their own label). */
const RAM = 'ram';

interface Placement extends HostRange {
  readonly label: string;
  /** One past the last byte (kept, so searches do no arithmetic). */
  readonly end: bigint;
}

/** Index of the first placement whose end is above `addr` in a list sorted by address. */
function firstEndingAfter(list: readonly Placement[], addr: bigint): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as Placement).end <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Host memory over an epc-core {@link HostAddressSpace}, with the grant table installed as its IOMMU. */
export class SimulatedHostMemory implements HostMemory {
  readonly space: HostAddressSpace;
  readonly grants = new GrantTable();
  readonly isolationViolations: IsolationViolation[] = [];
  isolationViolationCount = 0;
  /** Placements and reserved ranges, sorted by address, never overlapping. */
  private readonly placements: Placement[] = [];

  constructor(space: HostAddressSpace = new HostAddressSpace()) {
    this.space = space;
    space.setGrantHook((addr, size, direction) => {
      if (this.grants.allows(addr, size, direction)) return true;
      if (this.isolationViolations.length < VIOLATION_LOG_LIMIT) {
        this.isolationViolations.push({ addr, size, direction, seq: this.isolationViolationCount });
      }
      this.isolationViolationCount++;
      return false;
    });
  }

  /** Every refused device access (holes and wraps as well as ungranted ranges), from the address space's log. */
  get busFaults(): readonly BusFault[] {
    return this.space.faults;
  }

  /** Bytes of page storage in use. */
  get residentBytes(): number {
    return this.space.memory.residentBytes;
  }

  /** Keeps [addr, addr + size) out of placements without making it RAM (MMIO such as the MSI doorbell). */
  reserve(addr: bigint, size: number, label: string): void {
    this.insert({ addr, size, label, end: addr + BigInt(size) });
  }

  place(addr: bigint, size: number): HostRange {
    this.insert({ addr, size, label: RAM, end: addr + BigInt(size) });
    this.space.memory.addRegion(addr, size);
    return { addr, size };
  }

  free(range: HostRange): void {
    // Placements never overlap and are sorted: the only candidate is the first one ending after the start.
    const i = firstEndingAfter(this.placements, range.addr);
    const found = this.placements[i];
    if (found === undefined || found.addr !== range.addr || found.size !== range.size || found.label !== RAM)
      throw new RangeError(`free of ${formatRange(range)}: not a placement`);
    this.placements.splice(i, 1);
    // Sparse memory drops only pages wholly inside the removed range. A partial page at either end
    // is dropped too when no other RAM shares it; when some does, the freed bytes are zeroed so a
    // later placement there starts from zeroes, as a first placement does.
    const end = rangeEnd(range);
    const pageStart = alignDownBig(range.addr, PAGE);
    const pageEnd = alignUpBig(end, PAGE);
    const headShared = range.addr > pageStart && this.ramOverlaps(pageStart, Number(range.addr - pageStart));
    const tailShared = pageEnd > end && this.ramOverlaps(end, Number(pageEnd - end));
    if (headShared) {
      const headEnd = pageStart + BigInt(PAGE);
      this.zero(range.addr, Number(minBig(headEnd, end) - range.addr));
    }
    if (tailShared) {
      const tailStart = alignDownBig(end - 1n, PAGE);
      const from = maxBig(tailStart, range.addr);
      this.zero(from, Number(end - from));
    }
    const removeStart = headShared ? range.addr : pageStart;
    const removeEnd = tailShared ? end : pageEnd;
    this.space.memory.removeRegion(removeStart, removeEnd - removeStart);
  }

  isFree(addr: bigint, size: number): boolean {
    if (size <= 0 || !rangeInSpace(addr, size)) return false;
    const i = firstEndingAfter(this.placements, addr);
    const next = this.placements[i];
    return next === undefined || !rangesOverlap(next, { addr, size });
  }

  /** True when every byte of the range is placed RAM. */
  isRam(addr: bigint, size: number): boolean {
    return this.space.memory.covers(addr, size);
  }

  read(addr: bigint, dst: Uint8Array): void {
    this.checkRam(addr, dst.length, 'read');
    this.space.hostRead(addr, dst);
  }

  write(addr: bigint, src: Uint8Array): void {
    this.checkRam(addr, src.length, 'write');
    this.space.hostWrite(addr, src);
  }

  zero(addr: bigint, size: number): void {
    this.checkRam(addr, size, 'zero');
    this.space.hostZero(addr, size);
  }

  grant(spec: GrantSpec): GrantId {
    return this.grants.grant(spec);
  }

  revoke(id: GrantId): void {
    if (!this.grants.revoke(id)) throw new RangeError(`revoke of grant ${id}: not live`);
  }

  /** True when some RAM placement shares a byte with [addr, addr + size). */
  private ramOverlaps(addr: bigint, size: number): boolean {
    const probe = { addr, size };
    for (let i = firstEndingAfter(this.placements, addr); i < this.placements.length; i++) {
      const p = this.placements[i] as Placement;
      if (p.addr >= rangeEnd(probe)) return false;
      if (p.label === RAM && rangesOverlap(p, probe)) return true;
    }
    return false;
  }

  private insert(p: Placement): void {
    if (!this.isFree(p.addr, p.size)) {
      throw new RangeError(`placement ${formatRange(p)} (${p.label}) overlaps another or leaves the 64-bit space`);
    }
    this.placements.splice(firstEndingAfter(this.placements, p.addr), 0, p);
  }

  /** The host CPU touches only RAM it placed: anything else is a bug in host-sim itself. */
  private checkRam(addr: bigint, size: number, what: string): void {
    if (size > 0 && !this.space.memory.covers(addr, size)) {
      throw new RangeError(`host ${what} of ${hex(addr)}+${hex(size)} outside placed RAM`);
    }
  }
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
