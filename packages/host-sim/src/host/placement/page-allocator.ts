/**
 * Page frames of an arena of host RAM, handed out the way a kernel's page allocator does from
 * the device's point of view: anywhere in the arena (seeded), so consecutive buffers are not
 * physically adjacent, with contiguous runs when asked for.
 */
import { PlacementError } from '../errors.js';
import type { HostMemory } from '../memory/host-memory.js';
import type { HostRange } from '../memory/host-range.js';
import type { Random } from '../random.js';
import type { PlacedQueue } from './layout.js';

/** 2^53: an arena below it computes page addresses in numbers (one bigint per page handed out). */
const SAFE_LIMIT_N = 1n << 53n;
/** Random probes for a free run before falling back to a linear scan. */
const RANDOM_PROBES = 32;
/** Arenas of up to this many pages track use in a bitmap (one byte per page); larger ones in a set. */
const BITMAP_MAX_PAGES = 1 << 24;

/** Which pages of the arena are in use. */
interface UsedPages {
  has(page: number): boolean;
  /** Marks `page` used. */
  add(page: number): void;
  /** Marks `page` free; false when it was not in use. */
  delete(page: number): boolean;
  readonly size: number;
}

/** One byte per page: no hashing and no allocation as pages come and go. */
class PageBitmap implements UsedPages {
  private readonly bits: Uint8Array;
  size = 0;

  constructor(pages: number) {
    this.bits = new Uint8Array(pages);
  }

  has(page: number): boolean {
    return this.bits[page] === 1;
  }

  add(page: number): void {
    if (this.bits[page] === 1) return;
    this.bits[page] = 1;
    this.size++;
  }

  delete(page: number): boolean {
    if (this.bits[page] !== 1) return false;
    this.bits[page] = 0;
    this.size--;
    return true;
  }
}

/** A page allocator over [base, base + pages × pageSize), placed as RAM once. */
export class PageAllocator {
  readonly arena: HostRange;
  readonly pageSize: number;
  private readonly memory: HostMemory;
  private readonly pages: number;
  private readonly used: UsedPages;
  /** The arena's base as a number when the whole arena lies below 2^53 (addresses in number arithmetic), else NaN. */
  private readonly baseN: number;
  private readonly random: Random;
  private cursor = 0;

  /** Places the arena in `memory` (one RAM region, as a host's RAM bank). */
  constructor(memory: HostMemory, base: bigint, bytes: number, pageSize: number, random: Random) {
    if (bytes % pageSize !== 0 || base % BigInt(pageSize) !== 0n) throw new RangeError('arena not page aligned');
    this.arena = memory.place(base, bytes);
    this.memory = memory;
    this.pageSize = pageSize;
    this.pages = bytes / pageSize;
    this.baseN = base + BigInt(bytes) < SAFE_LIMIT_N ? Number(base) : Number.NaN;
    this.used = this.pages <= BITMAP_MAX_PAGES ? new PageBitmap(this.pages) : new Set<number>();
    this.random = random;
  }

  /** Pages in use. */
  get inUse(): number {
    return this.used.size;
  }

  /** `count` physically contiguous pages; returns the address of the first. */
  alloc(count = 1, alignPages = 1): bigint {
    const slots = Math.floor((this.pages - count) / alignPages) + 1;
    if (count <= 0 || slots <= 0) throw new PlacementError('NO_SPACE', `no run of ${count} pages in the arena`);
    for (let probe = 0; probe < RANDOM_PROBES; probe++) {
      const first = this.random.below(slots) * alignPages;
      if (this.runFree(first, count)) return this.take(first, count);
    }
    for (let n = 0; n < slots; n++) {
      const first = ((this.cursor + n) % slots) * alignPages;
      if (this.runFree(first, count)) {
        this.cursor = (first / alignPages + 1) % slots;
        return this.take(first, count);
      }
    }
    throw new PlacementError('NO_SPACE', `no free run of ${count} pages in the arena`);
  }

  /**
   * Gives back `count` pages from `addr`. Their bytes are cleared, as a kernel that zeroes pages
   * on free does: the storage goes back to the host memory's spare pages, so a long run keeps only
   * the pages in use resident, and the next user of a page starts from zeroes.
   */
  /**
   * Whole pages for `bytes`, contiguous, page aligned and zeroed, as `dma_alloc_coherent()`
   * or `spdk_zmalloc()` give a queue; `release` returns them.
   */
  placeZeroed(bytes: number, tags: readonly string[]): PlacedQueue {
    const count = Math.ceil(bytes / this.pageSize);
    const addr = this.alloc(count);
    this.memory.zero(addr, count * this.pageSize);
    return { range: { addr, size: bytes }, tags, release: () => this.free(addr, count) };
  }

  free(addr: bigint, count = 1): void {
    const offset = Number.isNaN(this.baseN) ? Number(addr - this.arena.addr) : Number(addr) - this.baseN;
    const first = Math.trunc(offset / this.pageSize);
    for (let i = 0; i < count; i++) {
      if (!this.used.delete(first + i)) throw new RangeError(`page ${first + i} of the arena freed twice`);
    }
    this.memory.zero(addr, count * this.pageSize);
  }

  private runFree(first: number, count: number): boolean {
    for (let i = 0; i < count; i++) if (this.used.has(first + i)) return false;
    return true;
  }

  private take(first: number, count: number): bigint {
    for (let i = 0; i < count; i++) this.used.add(first + i);
    const offset = first * this.pageSize;
    return Number.isNaN(this.baseN) ? this.arena.addr + BigInt(offset) : BigInt(this.baseN + offset);
  }
}
