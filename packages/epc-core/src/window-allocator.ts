import { ceilLog2, hex } from './address.js';
import type { OutboundWindow } from './profile.js';

/** The kernel's PAGE_SIZE: window pages are never smaller (pci_epc_multi_mem_init()). */
export const KERNEL_PAGE_SIZE = 4096;

interface WindowState {
  readonly window: OutboundWindow;
  readonly pageSize: number;
  readonly pages: number;
  /** One entry per page: true when taken (the kernel's bitmap). */
  readonly used: Uint8Array;
  /** Every page below this one is taken: first fit starts its search here. */
  firstFree: number;
}

/**
 * The outbound memory allocator of drivers/pci/endpoint/pci-epc-mem.c: windows in index
 * order, first fit, power-of-two page blocks naturally aligned inside their window
 * (`bitmap_find_free_region()`), windows smaller than the request skipped (v6.13).
 */
export class OutboundAllocator {
  private readonly states: WindowState[];

  constructor(windows: readonly OutboundWindow[]) {
    this.states = windows.map((window) => {
      const pageSize = Math.max(window.pageSize, KERNEL_PAGE_SIZE);
      const pages = Math.floor(window.size / pageSize);
      return { window, pageSize, pages, used: new Uint8Array(pages), firstFree: 0 };
    });
  }

  /** The page size of window 0 after clamping (`epc->mem->window.page_size`). */
  get firstPageSize(): number {
    return this.states[0]?.pageSize ?? KERNEL_PAGE_SIZE;
  }

  /** `pci_epc_mem_alloc_addr()`: the physical address of a block, or null (ENOMEM). */
  alloc(size: number): number | null {
    return this.find(size, true);
  }

  /** Whether {@link alloc} would succeed now, without taking anything. */
  canAlloc(size: number): boolean {
    return this.find(size, false) !== null;
  }

  private find(size: number, take: boolean): number | null {
    for (const s of this.states) {
      if (size > s.window.size) continue;
      const blockPages = size <= s.pageSize ? 1 : 2 ** blockOrder(size, s.pageSize);
      // Blocks below the first free page hold a taken page: the first that can fit starts at or after it.
      const start = Math.ceil(s.firstFree / blockPages) * blockPages;
      for (let page = start; page + blockPages <= s.pages; page += blockPages) {
        if (isFree(s.used, page, blockPages)) {
          if (take) {
            s.used.fill(1, page, page + blockPages);
            if (page === s.firstFree) {
              let next = page + blockPages;
              while (next < s.pages && s.used[next] !== 0) next++;
              s.firstFree = next;
            }
          }
          return s.window.physBase + page * s.pageSize;
        }
      }
    }
    return null;
  }

  /** `pci_epc_mem_free_addr()`: releases the block; `size` must be the allocated size. */
  free(physAddr: number, size: number): void {
    const s = this.windowOf(physAddr);
    if (s === undefined) throw new RangeError(`free of ${hex(physAddr)}: not in any outbound window`);
    const page = (physAddr - s.window.physBase) / s.pageSize;
    const blockPages = size <= s.pageSize ? 1 : 2 ** blockOrder(size, s.pageSize);
    if (!Number.isInteger(page) || page % blockPages !== 0) {
      throw new RangeError(`free of ${hex(physAddr)}+${size}: not an allocated block`);
    }
    s.used.fill(0, page, page + blockPages);
    if (page < s.firstFree) s.firstFree = page;
  }

  /** Index of the window holding `physAddr`, or -1. */
  windowIndexOf(physAddr: number): number {
    const states = this.states;
    for (let i = 0; i < states.length; i++) {
      const w = (states[i] as WindowState).window;
      if (physAddr >= w.physBase && physAddr < w.physBase + w.size) return i;
    }
    return -1;
  }

  /**
   * Why {@link alloc} of `size` fails, in the profile's terms: no window is that large, or every
   * window large enough has no free naturally aligned block of that size now.
   */
  shortfall(size: number): string {
    const largest = Math.max(0, ...this.states.map((s) => s.window.size));
    if (size > largest) return `largest window ${hex(largest)}`;
    const fitting = this.states.filter((s) => size <= s.window.size);
    const used = fitting.reduce((n, s) => n + s.used.reduce((a, u) => a + u, 0) * s.pageSize, 0);
    const total = fitting.reduce((n, s) => n + s.pages * s.pageSize, 0);
    const windows = fitting.length === 1 ? 'the 1 window' : `the ${fitting.length} windows`;
    const block = hex(this.blockSize(size, fitting[0]!));
    return `no free ${block}-byte block: ${hex(used)} of the ${hex(total)} bytes of ${windows} that large are held by live maps`;
  }

  /** The block `size` takes in a window: a power of two of its pages. */
  private blockSize(size: number, s: WindowState): number {
    return (size <= s.pageSize ? 1 : 2 ** blockOrder(size, s.pageSize)) * s.pageSize;
  }

  /** Pages in use over all windows (for leak checks). */
  get usedPages(): number {
    let n = 0;
    for (const s of this.states) for (const u of s.used) n += u;
    return n;
  }

  private windowOf(physAddr: number): WindowState | undefined {
    return this.states[this.windowIndexOf(physAddr)];
  }
}

/** order = fls((ALIGN(size, page) - 1) >> page_shift): ceil(log2(pages)). */
function blockOrder(size: number, pageSize: number): number {
  return ceilLog2(Math.ceil(size / pageSize));
}

function isFree(used: Uint8Array, from: number, count: number): boolean {
  for (let i = from; i < from + count; i++) if (used[i] !== 0) return false;
  return true;
}
