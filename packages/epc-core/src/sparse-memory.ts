import { hex, PCI_ADDR_LIMIT } from './address.js';
import { EpcConfigError } from './errors.js';

/** Host memory is stored in pages of this size, created on first write. */
export const HOST_PAGE_SHIFT = 12;
export const HOST_PAGE_SIZE = 1 << HOST_PAGE_SHIFT;
const PAGE_SHIFT_N = BigInt(HOST_PAGE_SHIFT);
const PAGE_MASK_N = BigInt(HOST_PAGE_SIZE - 1);
/** Dropped pages kept for reuse: a workload that clears and refills buffers allocates nothing. */
const SPARE_PAGES_MAX = 4096;

interface Region {
  readonly start: bigint;
  readonly end: bigint; // exclusive, may be 2^64
}

/**
 * Sparse 64-bit memory: present regions (RAM the host has) and holes (everything
 * else). Storage grows with the bytes written, never with the address range: pages
 * are keyed by page number, which is below 2^52 and so exact as a JS number.
 * Untouched RAM reads as zero, as real RAM after the host zeroes it; a hole is not
 * memory at all and {@link SparseMemory.covers} says so.
 */
export class SparseMemory {
  private readonly pages = new Map<number, Uint8Array>();
  private readonly spare: Uint8Array[] = [];
  private regions: Region[] = [];

  /** Adds RAM at [start, start + size). Overlapping or adjacent regions merge. */
  addRegion(start: bigint, size: bigint | number): void {
    const end = start + BigInt(size);
    if (start < 0n || end > PCI_ADDR_LIMIT || end <= start) {
      throw new EpcConfigError(`memory region ${hex(start)}+${size} is outside the 64-bit address space`);
    }
    const merged: Region[] = [];
    let current = { start, end };
    for (const r of this.regions) {
      if (r.end < current.start || r.start > current.end) merged.push(r);
      else current = { start: minBig(r.start, current.start), end: maxBig(r.end, current.end) };
    }
    merged.push(current);
    merged.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.regions = merged;
  }

  /** Removes RAM at [start, start + size) and drops the pages inside it. */
  removeRegion(start: bigint, size: bigint | number): void {
    const end = start + BigInt(size);
    const kept: Region[] = [];
    for (const r of this.regions) {
      if (r.end <= start || r.start >= end) kept.push(r);
      else {
        if (r.start < start) kept.push({ start: r.start, end: start });
        if (r.end > end) kept.push({ start: end, end: r.end });
      }
    }
    this.regions = kept;
    for (let page = start >> PAGE_SHIFT_N; page << PAGE_SHIFT_N < end; page++) {
      const pageStart = page << PAGE_SHIFT_N;
      if (pageStart >= start && pageStart + BigInt(HOST_PAGE_SIZE) <= end) this.drop(Number(page));
    }
  }

  /** True when every byte of [addr, addr + size) is RAM. */
  covers(addr: bigint, size: number): boolean {
    const end = addr + BigInt(size);
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = regions[mid]!;
      if (addr < r.start) hi = mid - 1;
      else if (addr >= r.end) lo = mid + 1;
      else return end <= r.end;
    }
    return false;
  }

  /** Copies memory at `addr` into `dst`. The caller checked {@link covers}. */
  read(addr: bigint, dst: Uint8Array): void {
    let page = Number(addr >> PAGE_SHIFT_N);
    let offset = Number(addr & PAGE_MASK_N);
    let done = 0;
    while (done < dst.length) {
      const n = Math.min(HOST_PAGE_SIZE - offset, dst.length - done);
      const data = this.pages.get(page);
      if (data === undefined) dst.fill(0, done, done + n);
      else dst.set(data.subarray(offset, offset + n), done);
      done += n;
      page++;
      offset = 0;
    }
  }

  /** Copies `src` into memory at `addr`. The caller checked {@link covers}. */
  write(addr: bigint, src: Uint8Array): void {
    let page = Number(addr >> PAGE_SHIFT_N);
    let offset = Number(addr & PAGE_MASK_N);
    let done = 0;
    while (done < src.length) {
      const n = Math.min(HOST_PAGE_SIZE - offset, src.length - done);
      let data = this.pages.get(page);
      if (data === undefined) {
        data = this.spare.pop()?.fill(0) ?? new Uint8Array(HOST_PAGE_SIZE);
        this.pages.set(page, data);
      }
      data.set(src.subarray(done, done + n), offset);
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
    let page = Number(addr >> PAGE_SHIFT_N);
    let offset = Number(addr & PAGE_MASK_N);
    for (let done = 0; done < size; ) {
      const n = Math.min(HOST_PAGE_SIZE - offset, size - done);
      if (n === HOST_PAGE_SIZE) this.drop(page);
      else this.pages.get(page)?.fill(0, offset, offset + n);
      done += n;
      page++;
      offset = 0;
    }
  }

  private drop(page: number): void {
    const data = this.pages.get(page);
    if (data === undefined) return;
    this.pages.delete(page);
    if (this.spare.length < SPARE_PAGES_MAX) this.spare.push(data);
  }

  /** Bytes of page storage in use: grows with what was written, not with addresses. */
  get residentBytes(): number {
    return this.pages.size * HOST_PAGE_SIZE;
  }
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
