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

/** A live grant: what was granted, and its range as [addr, end) with the buckets it touches. */
interface Entry {
  readonly id: GrantId;
  /** Order of granting, for {@link GrantTable.list}. */
  readonly seq: number;
  readonly direction: GrantDirection;
  readonly addr: bigint;
  readonly end: bigint;
  readonly size: number;
  /** `addr` and `end` as numbers when `end` is below 2^53, else NaN (the bigints decide). */
  readonly addrN: number;
  readonly endN: number;
  readonly firstBucket: number;
  readonly lastBucket: number;
}

/** Buckets of the coverage index are 64 KiB of address space (a few queue rings or buffers each). */
const BUCKET_BYTES = 2 ** 16;
const BUCKET_SHIFT = 16n;
/** A grant over more buckets than this is kept in one list of wide grants instead. */
const MAX_BUCKETS_PER_GRANT = 8;
/** An access over more buckets than this is checked against every live grant. */
const MAX_BUCKETS_PER_CHECK = 1024;
/** Below 2^53 addresses are exact as numbers: ranges there are checked without bigint arithmetic. */
const SAFE_LIMIT = 2 ** 53;
const SAFE_LIMIT_N = BigInt(SAFE_LIMIT);

/**
 * Buckets are found by their number folded below 2^30: a small integer key hashes several times
 * faster than a heap number (bucket numbers reach 2^48). A fold shares a bucket between ranges
 * 2^46 bytes apart, which costs a look at one more grant: every check compares exact addresses.
 */
const KEY_SPACE = 2 ** 30;
const keyOf = (bucket: number): number => bucket % KEY_SPACE;

/**
 * Empty buckets are kept while the index holds at most this many buckets. Few: a data buffer lands
 * in a fresh 64 KiB of a 1 GiB arena nearly every time, and a small map that churns stays in cache
 * where a large one that does not misses (4096 kept was 12 % slower on 4 KiB reads, measured side by side).
 */
const KEEP_EMPTY_BUCKETS = 32;

/**
 * The live grants of one direction. A check first looks at the grant the previous check needed
 * (a queue's ring), then in the 64 KiB bucket of the access's first byte, where the grant that
 * holds the whole access is in the common case; only an access no single grant holds merges every
 * grant that overlaps it. Adding and revoking touch only the grant's own buckets.
 */
class DirectionIndex {
  private readonly buckets = new Map<number, Bucket>();
  private readonly wide: Entry[] = [];
  /** The grant that answered the last check the start map could not. */
  private lastHit: Entry | null = null;

  add(entry: Entry): void {
    const first = entry.firstBucket;
    const last = entry.lastBucket;
    if (last - first >= MAX_BUCKETS_PER_GRANT) {
      this.wide.push(entry);
      return;
    }
    for (let b = first; b <= last; b++) {
      let bucket = this.buckets.get(keyOf(b));
      if (bucket === undefined) {
        bucket = new Bucket();
        this.buckets.set(keyOf(b), bucket);
      }
      bucket.add(entry);
    }
  }

  remove(entry: Entry): void {
    if (this.lastHit === entry) this.lastHit = null;
    const first = entry.firstBucket;
    const last = entry.lastBucket;
    if (last - first >= MAX_BUCKETS_PER_GRANT) {
      removeFrom(this.wide, entry);
      return;
    }
    for (let b = first; b <= last; b++) {
      const bucket = this.buckets.get(keyOf(b));
      if (bucket === undefined) continue;
      bucket.remove(entry);
      if (bucket.count === 0 && this.buckets.size > KEEP_EMPTY_BUCKETS) this.buckets.delete(keyOf(b));
    }
  }

  clear(): void {
    this.buckets.clear();
    this.wide.length = 0;
    this.lastHit = null;
  }

  /** True when every byte of [addr, addr + size) (size > 0) is covered by one or more entries. */
  covers(addr: bigint, size: number): boolean {
    // Number arithmetic when the whole access lies below 2^53; NaN otherwise.
    const addrN = addr < SAFE_LIMIT_N ? Number(addr) : Number.NaN;
    const endN = addrN + size < SAFE_LIMIT ? addrN + size : Number.NaN;
    const hit = this.lastHit;
    if (hit !== null && holds(hit, addr, size, addrN, endN)) return true;
    const first = Number.isNaN(endN) ? bucketOf(addr) : Math.floor(addrN / BUCKET_BYTES);
    const bucket = this.buckets.get(keyOf(first));
    if (bucket !== undefined) {
      const entries = bucket.entries;
      for (let i = 0; i < bucket.count; i++) {
        const e = entries[i] as Entry;
        if (holds(e, addr, size, addrN, endN)) {
          this.lastHit = e;
          return true;
        }
      }
    }
    for (const e of this.wide) if (holds(e, addr, size, addrN, endN)) return true;
    return this.coversMerged(addr, addr + BigInt(size), first);
  }

  /** Merges every grant overlapping [addr, end) and checks that they leave no gap. */
  private coversMerged(addr: bigint, end: bigint, first: number): boolean {
    const last = bucketOf(end - 1n);
    const overlapping: Entry[] = [];
    const take = (list: readonly Entry[]): void => {
      for (const e of list) if (e.addr < end && e.end > addr) overlapping.push(e);
    };
    if (last - first > MAX_BUCKETS_PER_CHECK) {
      for (const bucket of this.buckets.values()) take(bucket.live());
    } else {
      for (let b = first; b <= last; b++) {
        const bucket = this.buckets.get(keyOf(b));
        if (bucket !== undefined) take(bucket.live());
      }
    }
    take(this.wide);
    overlapping.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    let cursor = addr;
    for (const e of overlapping) {
      if (e.addr > cursor) return false;
      if (e.end > cursor) cursor = e.end;
      if (cursor >= end) return true;
    }
    return false;
  }
}

/** True when grant `e` holds all of [addr, addr + size); `addrN`/`endN` are the numbers, or NaN. */
function holds(e: Entry, addr: bigint, size: number, addrN: number, endN: number): boolean {
  // Both ranges below 2^53: compare numbers (NaN compares false and falls through to bigints).
  if (endN <= e.endN) return addrN >= e.addrN;
  if (!Number.isNaN(endN) && !Number.isNaN(e.endN)) return false;
  return e.addr <= addr && e.end >= addr + BigInt(size);
}

/** The bucket holding byte `addr` (a bucket number below 2^48: exact as a number). */
function bucketOf(addr: bigint): number {
  return addr < SAFE_LIMIT_N ? Math.floor(Number(addr) / BUCKET_BYTES) : Number(addr >> BUCKET_SHIFT);
}

/**
 * The grants touching one bucket: an array that keeps its capacity as grants come and go (a popped
 * array is trimmed and grown again, allocating each time), with the live ones first.
 */
class Bucket {
  readonly entries: (Entry | undefined)[] = [];
  count = 0;

  add(entry: Entry): void {
    this.entries[this.count++] = entry;
  }

  remove(entry: Entry): void {
    const entries = this.entries;
    for (let i = 0; i < this.count; i++) {
      if (entries[i] !== entry) continue;
      this.count--;
      entries[i] = entries[this.count];
      entries[this.count] = undefined;
      return;
    }
  }

  /** The live entries, as a fresh array (for the rare merged check). */
  live(): Entry[] {
    return this.entries.slice(0, this.count) as Entry[];
  }
}

/** Removes `entry` (by identity) from a small list; order does not matter. */
function removeFrom(list: Entry[], entry: Entry): void {
  const i = list.indexOf(entry);
  if (i < 0) return;
  const lastIndex = list.length - 1;
  if (i !== lastIndex) list[i] = list[lastIndex] as Entry;
  list.pop();
}

/** The index entry of a grant of [addr, addr + size). */
function entryOf(id: GrantId, seq: number, { addr, size, direction }: GrantSpec): Entry {
  if (addr >= 0n && addr < SAFE_LIMIT_N && Number(addr) + size < SAFE_LIMIT) {
    const addrN = Number(addr);
    const endN = addrN + size;
    const lastByte = size > 0 ? endN - 1 : addrN;
    return {
      id,
      seq,
      direction,
      addr,
      end: BigInt(endN),
      size,
      addrN,
      endN,
      firstBucket: Math.floor(addrN / BUCKET_BYTES),
      lastBucket: Math.floor(lastByte / BUCKET_BYTES),
    };
  }
  const end = addr + BigInt(size);
  return {
    id,
    seq,
    direction,
    addr,
    end,
    size,
    addrN: Number.NaN,
    endN: Number.NaN,
    firstBucket: bucketOf(addr),
    lastBucket: bucketOf(size > 0 ? end - 1n : addr),
  };
}

/** Slots of the grant table: a grant id is its slot plus a multiple of this (a generation). */
const SLOT_SPACE = 2 ** 24;

/**
 * Live grants with a coverage index per direction: a check usually looks at one bucket of
 * address space, and granting or revoking costs the same whatever the number of live grants.
 */
export class GrantTable {
  /**
   * Live grants by slot. A grant's id is its slot plus SLOT_SPACE × the slot's generation, so ids
   * are never reused: the first ids handed out are 1, 2, 3, … and a stale id finds no grant. An
   * array rather than a hash map keyed by ever-new ids: that map rehashes every few dozen grants,
   * and each discarded table keeps the grants it held alive into the old generation.
   */
  private readonly slots: (Entry | undefined)[] = [undefined];
  private readonly generations: number[] = [0];
  private readonly freeSlots: number[] = [];
  private liveCount = 0;
  private sequence = 0;
  private readonly read = new DirectionIndex();
  private readonly write = new DirectionIndex();

  /** The hook to install with `HostAddressSpace.setGrantHook`. */
  readonly hook: GrantHook = (addr, size, direction) => this.allows(addr, size, direction);

  /** Grants [addr, addr + size) in `direction`; returns the handle to revoke it with. */
  grant(spec: GrantSpec): GrantId {
    if (spec.size < 0 || !Number.isSafeInteger(spec.size)) throw new RangeError(`grant of ${formatRange(spec)}`);
    const { size, direction } = spec;
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slots.length;
      if (slot >= SLOT_SPACE) throw new RangeError(`more than ${SLOT_SPACE - 1} live grants`);
      this.slots.push(undefined);
      this.generations.push(0);
    }
    const id = slot + SLOT_SPACE * (this.generations[slot] as number);
    const entry = entryOf(id, this.sequence++, spec);
    this.slots[slot] = entry;
    this.liveCount++;
    // A zero-sized grant covers nothing and is not indexed.
    if (size > 0) this.index(direction).add(entry);
    return id;
  }

  /** Revokes one grant; false when it was not live (a double revoke is a driver bug the caller may assert on). */
  revoke(id: GrantId): boolean {
    const slot = id % SLOT_SPACE;
    const entry = Number.isSafeInteger(id) && id > 0 ? this.slots[slot] : undefined;
    if (entry === undefined || entry.id !== id) return false;
    this.slots[slot] = undefined;
    this.generations[slot] = (this.generations[slot] as number) + 1;
    this.freeSlots.push(slot);
    this.liveCount--;
    if (entry.size > 0) this.index(entry.direction).remove(entry);
    return true;
  }

  /** Revokes every grant (controller reset). */
  revokeAll(): void {
    for (let slot = 1; slot < this.slots.length; slot++) {
      if (this.slots[slot] === undefined) continue;
      this.slots[slot] = undefined;
      this.generations[slot] = (this.generations[slot] as number) + 1;
      this.freeSlots.push(slot);
    }
    this.liveCount = 0;
    this.read.clear();
    this.write.clear();
  }

  /** Number of live grants. */
  get size(): number {
    return this.liveCount;
  }

  /** The live grants, for reports and case files. */
  list(): GrantSpec[] {
    const live = this.slots.filter((e): e is Entry => e !== undefined);
    live.sort((a, b) => a.seq - b.seq);
    return live.map((e) => ({ addr: e.addr, size: e.size, direction: e.direction }));
  }

  /** True when every byte of [addr, addr + size) is covered by grants of `direction` (possibly several). */
  allows(addr: bigint, size: number, direction: GrantDirection): boolean {
    if (size <= 0) return true;
    return this.index(direction).covers(addr, size);
  }

  private index(direction: GrantDirection): DirectionIndex {
    return direction === 'read' ? this.read : this.write;
  }
}
