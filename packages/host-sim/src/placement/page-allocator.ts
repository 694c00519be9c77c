/**
 * Page frames of an arena of host RAM, handed out the way a kernel's page allocator does from
 * the device's point of view: anywhere in the arena (seeded), so consecutive buffers are not
 * physically adjacent, with contiguous runs when asked for.
 */
import { PlacementError } from '../errors.js';
import type { HostMemory } from '../memory/host-memory.js';
import type { HostRange } from '../memory/host-range.js';
import type { Random } from '../random.js';

/** Random probes for a free run before falling back to a linear scan. */
const RANDOM_PROBES = 32;

/** A page allocator over [base, base + pages × pageSize), placed as RAM once. */
export class PageAllocator {
  readonly arena: HostRange;
  readonly pageSize: number;
  private readonly pages: number;
  private readonly used = new Set<number>();
  private readonly random: Random;
  private cursor = 0;

  /** Places the arena in `memory` (one RAM region, as a host's RAM bank). */
  constructor(memory: HostMemory, base: bigint, bytes: number, pageSize: number, random: Random) {
    if (bytes % pageSize !== 0 || base % BigInt(pageSize) !== 0n) throw new RangeError('arena not page aligned');
    this.arena = memory.place(base, bytes);
    this.pageSize = pageSize;
    this.pages = bytes / pageSize;
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

  /** Gives back `count` pages from `addr`. */
  free(addr: bigint, count = 1): void {
    const first = Number((addr - this.arena.addr) / BigInt(this.pageSize));
    for (let i = 0; i < count; i++) {
      if (!this.used.delete(first + i)) throw new RangeError(`page ${first + i} of the arena freed twice`);
    }
  }

  private runFree(first: number, count: number): boolean {
    for (let i = 0; i < count; i++) if (this.used.has(first + i)) return false;
    return true;
  }

  private take(first: number, count: number): bigint {
    for (let i = 0; i < count; i++) this.used.add(first + i);
    return this.arena.addr + BigInt(first) * BigInt(this.pageSize);
  }
}
