import { hex, PCI_ADDR_LIMIT } from './address.js';
import { EpcConfigError } from './errors.js';

/** Host memory is stored in pages of this size, created on first write. */
export const HOST_PAGE_SHIFT = 12;
export const HOST_PAGE_SIZE = 1 << HOST_PAGE_SHIFT;
const PAGE_SHIFT_N = BigInt(HOST_PAGE_SHIFT);
const PAGE_MASK_N = BigInt(HOST_PAGE_SIZE - 1);
/** Reads up to this many bytes (a CQE, a PRP entry) are copied by a loop rather than through a subarray. */
const SMALL_COPY = 64;
/**
 * Dropped pages kept for reuse (16 MiB), shared by every memory in the process: a workload that
 * clears and refills buffers, or a campaign that builds a fresh host per case and releases the last
 * one, allocates nothing.
 */
const SPARE_PAGES_MAX = 4096;
const spare: (Uint8Array | undefined)[] = [];
let spareCount = 0;

/** A page from the spare pool, or undefined when it is empty. */
function takeSpare(): Uint8Array | undefined {
  if (spareCount === 0) return undefined;
  const page = spare[--spareCount];
  spare[spareCount] = undefined;
  return page;
}

function giveSpare(page: Uint8Array): void {
  if (spareCount < SPARE_PAGES_MAX) spare[spareCount++] = page;
}
/**
 * 2^53: below it an address is exact as a number, and the per-access arithmetic (page, offset,
 * end) is done in numbers, which allocate nothing; above it in bigints.
 */
const SAFE_LIMIT = 2 ** 53;
const SAFE_LIMIT_N = BigInt(SAFE_LIMIT);

/** Pages per chunk of the page table (1 MiB of address space). */
const CHUNK_SHIFT = 8;
const CHUNK_PAGES = 1 << CHUNK_SHIFT;
/** Empty chunks are kept (no map churn as pages come and go) while there are at most this many. */
const KEEP_EMPTY_CHUNKS = 1024;

/** The pages of 1 MiB of address space, by index. */
interface PageChunk {
  readonly pages: (Uint8Array | undefined)[];
  count: number;
}

/**
 * Empty chunks of released memories, kept for reuse: a host that scatters its buffers has a chunk
 * (and its array) per page, and a campaign builds such a host per case.
 */
const SPARE_CHUNKS_MAX = 1024;
const spareChunks: PageChunk[] = [];

/**
 * Page storage by page number: a map of 1 MiB chunks, each an array of its pages. Pages come and
 * go with every buffer; a hash map keyed by page would rehash all the time, an array slot does not.
 */
class PageTable {
  private readonly chunks = new Map<number, PageChunk>();
  private lastKey = -1;
  private lastChunk: PageChunk | undefined = undefined;
  size = 0;

  get(page: number): Uint8Array | undefined {
    const key = chunkOf(page);
    const chunk = key === this.lastKey ? this.lastChunk : this.chunk(key);
    return chunk?.pages[page - key * CHUNK_PAGES];
  }

  /** Stores `data` as `page` (which holds nothing yet). */
  add(page: number, data: Uint8Array): void {
    const key = chunkOf(page);
    let chunk = this.chunk(key);
    if (chunk === undefined) {
      // Grown as pages arrive (a chunk of scattered buffers holds one or two).
      chunk = spareChunks.pop() ?? { pages: [], count: 0 };
      this.chunks.set(key, chunk);
      this.lastKey = key;
      this.lastChunk = chunk;
    }
    chunk.pages[page - key * CHUNK_PAGES] = data;
    chunk.count++;
    this.size++;
  }

  /** Removes `page` and returns its storage, if it had any. */
  remove(page: number): Uint8Array | undefined {
    const key = chunkOf(page);
    const chunk = this.chunk(key);
    if (chunk === undefined) return undefined;
    const index = page - key * CHUNK_PAGES;
    const data = chunk.pages[index];
    if (data === undefined) return undefined;
    chunk.pages[index] = undefined;
    chunk.count--;
    this.size--;
    if (chunk.count === 0 && this.chunks.size > KEEP_EMPTY_CHUNKS) {
      this.chunks.delete(key);
      // Reused by the next chunk any table opens: its array keeps the room it grew to, which a
      // fresh one allocates again (a scattering host opens a chunk for nearly every page).
      if (spareChunks.length < SPARE_CHUNKS_MAX) spareChunks.push(chunk);
      if (this.lastChunk === chunk) {
        this.lastKey = -1;
        this.lastChunk = undefined;
      }
    }
    return data;
  }

  /** Removes every page, each handed to `give`, and keeps the emptied chunks for the next table. */
  clear(give: (page: Uint8Array) => void): void {
    for (const chunk of this.chunks.values()) {
      const pages = chunk.pages;
      // A chunk's array is only as long as its highest page: scattered pages leave it short.
      for (let i = 0; i < pages.length && chunk.count > 0; i++) {
        const data = pages[i];
        if (data === undefined) continue;
        pages[i] = undefined;
        chunk.count--;
        give(data);
      }
      if (spareChunks.length < SPARE_CHUNKS_MAX) spareChunks.push(chunk);
    }
    this.chunks.clear();
    this.size = 0;
    this.lastKey = -1;
    this.lastChunk = undefined;
  }

  /** Page numbers that hold storage (a snapshot: the caller may remove pages while it walks it). */
  keys(): number[] {
    const out: number[] = [];
    for (const [key, chunk] of this.chunks) {
      if (chunk.count === 0) continue;
      for (let i = 0; i < CHUNK_PAGES; i++) if (chunk.pages[i] !== undefined) out.push(key * CHUNK_PAGES + i);
    }
    return out;
  }

  private chunk(key: number): PageChunk | undefined {
    if (key === this.lastKey) return this.lastChunk;
    const chunk = this.chunks.get(key);
    if (chunk !== undefined) {
      this.lastKey = key;
      this.lastChunk = chunk;
    }
    return chunk;
  }
}

/** The chunk holding `page` (pages are below 2^52: small ones shift, others divide exactly). */
function chunkOf(page: number): number {
  return page < 0x8000_0000 ? page >> CHUNK_SHIFT : Math.floor(page / CHUNK_PAGES);
}

interface Region {
  readonly start: bigint;
  readonly end: bigint; // exclusive, may be 2^64
  /** `end` as a number when it is below 2^53, else Infinity (the bigint decides). */
  readonly endN: number;
}

function region(start: bigint, end: bigint): Region {
  return { start, end, endN: end < SAFE_LIMIT_N ? Number(end) : Number.POSITIVE_INFINITY };
}

/**
 * Sparse 64-bit memory: present regions (RAM the host has) and holes (everything
 * else). Storage grows with the bytes written, never with the address range: pages
 * are keyed by page number, which is below 2^52 and so exact as a JS number.
 * Untouched RAM reads as zero, as real RAM after the host zeroes it; a hole is not
 * memory at all and {@link SparseMemory.covers} says so.
 */
export class SparseMemory {
  private readonly pages = new PageTable();
  /** Present regions, sorted by start, never overlapping or touching (touching regions merge). */
  private readonly regions: Region[] = [];

  /** Adds RAM at [start, start + size). Overlapping or adjacent regions merge. */
  addRegion(start: bigint, size: bigint | number): void {
    const end = start + BigInt(size);
    if (start < 0n || end > PCI_ADDR_LIMIT || end <= start) {
      throw new EpcConfigError('', `memory region ${hex(start)}+${size} is outside the 64-bit address space`);
    }
    const regions = this.regions;
    // The first region that touches or follows the new one; every region from there that
    // starts at or before its end merges into it.
    const i = this.firstEndingAtOrAfter(start);
    let j = i;
    let mergedStart = start;
    let mergedEnd = end;
    while (j < regions.length) {
      const r = regions[j]!;
      if (r.start > mergedEnd) break;
      if (r.start < mergedStart) mergedStart = r.start;
      if (r.end > mergedEnd) mergedEnd = r.end;
      j++;
    }
    const merged = region(mergedStart, mergedEnd);
    if (j === i) regions.splice(i, 0, merged);
    else if (j === i + 1) regions[i] = merged;
    else regions.splice(i, j - i, merged);
  }

  /** Removes RAM at [start, start + size) and drops the pages inside it. */
  removeRegion(start: bigint, size: bigint | number): void {
    const end = start + BigInt(size);
    const regions = this.regions;
    // Regions that share a byte with [start, end): from the first ending after start.
    const i = this.firstEndingAfter(start);
    let j = i;
    while (j < regions.length && regions[j]!.start < end) j++;
    if (j > i) {
      const first = regions[i]!;
      const last = regions[j - 1]!;
      const left = first.start < start ? region(first.start, start) : undefined;
      const right = last.end > end ? region(end, last.end) : undefined;
      if (left !== undefined && right !== undefined) regions.splice(i, j - i, left, right);
      else if (left !== undefined || right !== undefined) regions.splice(i, j - i, (left ?? right) as Region);
      else regions.splice(i, j - i);
    }
    // Pages wholly inside [start, end), as page numbers (exact below 2^53).
    if (end <= start) return;
    const firstPage = Number((start + PAGE_MASK_N) >> PAGE_SHIFT_N);
    const endPage = Number(end >> PAGE_SHIFT_N);
    if (endPage <= firstPage || this.pages.size === 0) return;
    if (endPage - firstPage > this.pages.size) {
      // A range much larger than what is stored: visit the stored pages instead.
      for (const page of this.pages.keys()) if (page >= firstPage && page < endPage) this.drop(page);
      return;
    }
    for (let page = firstPage; page < endPage; page++) this.drop(page);
  }

  /** True when every byte of [addr, addr + size) is RAM. */
  covers(addr: bigint, size: number): boolean {
    const r = this.regionHolding(addr);
    if (r === undefined) return false;
    if (addr < SAFE_LIMIT_N && size < SAFE_LIMIT) {
      // Number arithmetic: exact while the end stays below 2^53 (endN is below it or Infinity).
      const end = Number(addr) + size;
      if (end < SAFE_LIMIT) return end <= r.endN;
    }
    return addr + BigInt(size) <= r.end;
  }

  /** True when every byte of [addr, end) is RAM ({@link covers} with the end already computed). */
  coversRange(addr: bigint, end: bigint): boolean {
    const r = this.regionHolding(addr);
    return r !== undefined && end <= r.end;
  }

  /** The region that holds byte `addr`, if any. */
  private regionHolding(addr: bigint): Region | undefined {
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = regions[mid]!;
      if (addr < r.start) hi = mid - 1;
      else if (addr >= r.end) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** Page and offset of the last {@link locate}: fields, so that finding them allocates nothing. */
  private page = 0;
  private offset = 0;

  /** Splits `addr` into its page number and offset, with number arithmetic below 2^53. */
  private locate(addr: bigint): void {
    if (addr < SAFE_LIMIT_N) {
      const n = Number(addr);
      this.page = Math.floor(n / HOST_PAGE_SIZE);
      this.offset = n - this.page * HOST_PAGE_SIZE;
    } else {
      this.page = Number(addr >> PAGE_SHIFT_N);
      this.offset = Number(addr & PAGE_MASK_N);
    }
  }

  /** Copies memory at `addr` into `dst`. The caller checked {@link covers}. */
  read(addr: bigint, dst: Uint8Array): void {
    this.locate(addr);
    let page = this.page;
    let offset = this.offset;
    const length = dst.length;
    if (offset + length <= HOST_PAGE_SIZE) {
      // One page: the common case (an SQE, a CQE, a list, a page of data).
      const data = this.pages.get(page);
      if (data === undefined) dst.fill(0);
      else if (length <= SMALL_COPY) for (let i = 0; i < length; i++) dst[i] = data[offset + i] as number;
      else dst.set(offset === 0 && length === HOST_PAGE_SIZE ? data : data.subarray(offset, offset + length));
      return;
    }
    let done = 0;
    while (done < length) {
      const n = Math.min(HOST_PAGE_SIZE - offset, length - done);
      const data = this.pages.get(page);
      if (data === undefined) dst.fill(0, done, done + n);
      else dst.set(n === HOST_PAGE_SIZE ? data : data.subarray(offset, offset + n), done);
      done += n;
      page++;
      offset = 0;
    }
  }

  /** Copies `src` into memory at `addr`. The caller checked {@link covers}. */
  write(addr: bigint, src: Uint8Array): void {
    this.locate(addr);
    let page = this.page;
    let offset = this.offset;
    const length = src.length;
    if (offset + length <= HOST_PAGE_SIZE) {
      if (length === 0) return;
      this.pageFor(page, offset === 0 && length === HOST_PAGE_SIZE).set(src, offset);
      return;
    }
    let done = 0;
    while (done < length) {
      const n = Math.min(HOST_PAGE_SIZE - offset, length - done);
      this.pageFor(page, n === HOST_PAGE_SIZE).set(src.subarray(done, done + n), offset);
      done += n;
      page++;
      offset = 0;
    }
  }

  /**
   * Zeroes [addr, addr + size): whole pages are dropped (untouched RAM reads as zero), so
   * clearing a buffer costs no storage. The caller checked {@link covers}.
   */
  zero(addr: bigint, size: number): void {
    this.locate(addr);
    let page = this.page;
    let offset = this.offset;
    for (let done = 0; done < size; ) {
      const n = Math.min(HOST_PAGE_SIZE - offset, size - done);
      if (n === HOST_PAGE_SIZE) this.drop(page);
      else this.pages.get(page)?.fill(0, offset, offset + n);
      done += n;
      page++;
      offset = 0;
    }
  }

  /** The storage of `page`, created (zeroed, or not when the caller overwrites all of it) on first use. */
  private pageFor(page: number, whole: boolean): Uint8Array {
    let data = this.pages.get(page);
    if (data === undefined) {
      const spare = takeSpare();
      data = spare === undefined ? new Uint8Array(HOST_PAGE_SIZE) : whole ? spare : spare.fill(0);
      this.pages.add(page, data);
    }
    return data;
  }

  private drop(page: number): void {
    const data = this.pages.remove(page);
    if (data !== undefined) giveSpare(data);
  }

  /**
   * Drops every page (to the shared spare pool) and every region: the memory is empty, as new.
   * Whoever is done with a memory calls it so the next one reuses its pages.
   */
  release(): void {
    this.pages.clear(giveSpare);
    this.regions.length = 0;
  }

  /** Index of the first region whose end is at or after `addr` (it touches or follows `addr`). */
  private firstEndingAtOrAfter(addr: bigint): number {
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (regions[mid]!.end < addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first region whose end is after `addr` (it holds or follows `addr`). */
  private firstEndingAfter(addr: bigint): number {
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (regions[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Bytes of page storage in use: grows with what was written, not with addresses. */
  get residentBytes(): number {
    return this.pages.size * HOST_PAGE_SIZE;
  }
}
