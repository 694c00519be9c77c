/**
 * What the simulator can honour in a controller profile. {@link checkProfileLimits} runs in
 * `parseProfile()` (a profile file) and in the {@link Epc} constructor (a profile object built in
 * code), so a profile that passes can be brought up and mapped: `memMap` only ever returns an
 * {@link EpcError} for it, never throws.
 */
import { hex, KiB, MiB } from './address.js';
import { EpcConfigError } from './errors.js';
import type { EpcProfile, OutboundWindow } from './profile.js';
import { KERNEL_PAGE_SIZE, OutboundAllocator } from './window-allocator.js';

export const PROFILE_LIMITS = {
  /**
   * CPU physical addresses end below 2^52, the widest physical address of arm64 (52-bit PA)
   * and x86-64; window arithmetic stays exact in JS numbers (below 2^53).
   */
  physAddrLimit: 2 ** 52,
  /** Outbound windows in one profile: as many as the largest translation-slot count (256). */
  maxWindows: 256,
  /**
   * Allocator pages over all windows: the allocator keeps one byte per page (the kernel's bitmap in
   * pci-epc-mem.c), so 4 Mi pages cost 4 MiB: 16 GiB of 4 KiB pages, 256 GiB of 64 KiB pages.
   */
  maxWindowPages: 4 * MiB,
  /**
   * BAR alignment (`epc_features->align`): BAR memory is allocated whole, so at most 1 MiB
   * (the built-in controllers use 128 B to 64 KiB).
   */
  maxBarAlign: 1 * MiB,
} as const;

/** Profiles that passed, so that a testbed made per fuzz case does not check its profile again. */
const checked = new WeakSet<EpcProfile>();

/**
 * Throws an {@link EpcConfigError} (one line naming the field and the limit) unless every window,
 * alignment and interrupt region of `profile` is one the simulator can allocate and map.
 */
export function checkProfileLimits(profile: EpcProfile, source = 'profile'): void {
  if (checked.has(profile)) return;
  const at = (field: string) => `${source}.${field}`;
  const windows = profile.windows;
  if (windows.length === 0) throw new EpcConfigError(at('windows'), `must be a non-empty array`);
  if (windows.length > PROFILE_LIMITS.maxWindows)
    throw new EpcConfigError(at('windows'), `${windows.length} windows; the limit is ${PROFILE_LIMITS.maxWindows}`);
  let pages = 0;
  windows.forEach((w, i) => {
    pages += checkWindow(w, `${at('windows')}[${i}]`);
  });
  if (pages > PROFILE_LIMITS.maxWindowPages)
    throw new EpcConfigError(
      at('windows'),
      `${pages} allocator pages in all; the limit is ${PROFILE_LIMITS.maxWindowPages} (fewer or larger pages)`,
    );
  checkOverlap(windows, at('windows'));
  if (profile.atu.kind === 'window-per-mapping') {
    // rcar_pcie_ep_map_addr() maps a window whose base is the address: the allocator may hand out
    // only whole windows (R-Car registers each window with its size as page size).
    windows.forEach((w, i) => {
      if (w.pageSize !== w.size)
        throw new EpcConfigError(
          `${at('windows')}[${i}].pageSize`,
          `must equal the window's size with atu window-per-mapping (one mapping per window, at its base)`,
        );
    });
  }
  const largest = Math.max(...windows.map((w) => w.size));
  checkAlignments(profile, largest, at);
  if (!isPowerOfTwoUpTo(profile.barAlign, PROFILE_LIMITS.physAddrLimit))
    throw new EpcConfigError(at('barAlign'), `must be a power of two`);
  if (profile.barAlign > PROFILE_LIMITS.maxBarAlign)
    throw new EpcConfigError(
      at('barAlign'),
      `${hex(profile.barAlign)} exceeds the limit of ${hex(PROFILE_LIMITS.maxBarAlign)} (BAR memory is allocated whole)`,
    );
  checkInterruptRegion(profile, at('irq'));
  checked.add(profile);
}

/** Returns the window's allocator pages. */
function checkWindow(w: OutboundWindow, at: string): number {
  const limit = PROFILE_LIMITS.physAddrLimit;
  if (!Number.isSafeInteger(w.physBase) || w.physBase < 0 || w.physBase >= limit)
    throw new EpcConfigError(`${at}.physBase`, `${w.physBase} is not a CPU address below 2^52`);
  if (!Number.isSafeInteger(w.size) || w.size < 1 || w.size > limit - w.physBase)
    throw new EpcConfigError(`${at}.size`, `the window must end at or below 2^52 (${hex(limit)})`);
  if (!isPowerOfTwoUpTo(w.pageSize, limit)) throw new EpcConfigError(`${at}.pageSize`, `must be a power of two`);
  if (w.size < w.pageSize) throw new EpcConfigError(`${at}.size`, `smaller than its pageSize`);
  // pci_epc_multi_mem_init() never makes pages smaller than PAGE_SIZE: a smaller window holds nothing.
  if (w.size < KERNEL_PAGE_SIZE)
    throw new EpcConfigError(`${at}.size`, `${w.size} bytes cannot hold one ${KERNEL_PAGE_SIZE}-byte kernel page`);
  return Math.floor(w.size / Math.max(w.pageSize, KERNEL_PAGE_SIZE));
}

/** Two windows over the same CPU addresses would hand out one block twice. */
function checkOverlap(windows: readonly OutboundWindow[], at: string): void {
  const order = windows.map((w, i) => ({ w, i })).sort((a, b) => a.w.physBase - b.w.physBase);
  for (let k = 1; k < order.length; k++) {
    const prev = order[k - 1]!;
    const next = order[k]!;
    if (prev.w.physBase + prev.w.size > next.w.physBase) {
      const [a, b] = prev.i < next.i ? [prev.i, next.i] : [next.i, prev.i];
      throw new EpcConfigError(
        `${at}[${b}]`,
        `overlaps ${at}[${a}] (${hex(windows[a]!.physBase)}+${hex(windows[a]!.size)} and ${hex(windows[b]!.physBase)}+${hex(windows[b]!.size)})`,
      );
    }
  }
}

/** Alignments a window cannot hold would make every map of some addresses fail. */
function checkAlignments(profile: EpcProfile, largest: number, at: (field: string) => string): void {
  const a = profile.align;
  const tooLarge = (field: string, value: number) => {
    if (value > largest)
      throw new EpcConfigError(at(field), `${hex(value)} exceeds the largest window (${hex(largest)} bytes)`);
  };
  if (a.kind === 'dwc') {
    if (!isPowerOfTwoUpTo(a.regionAlign, PROFILE_LIMITS.physAddrLimit))
      throw new EpcConfigError(at('align.regionAlign'), `must be a power of two`);
    tooLarge('align.regionAlign', a.regionAlign);
  } else if (a.kind === 'pass-bits') {
    tooLarge('align.maxBits', 2 ** a.maxBits);
    if (a.sizeGranule !== 'pow2') tooLarge('align.sizeGranule', a.sizeGranule);
  }
}

/** `reserved` interrupts take a window chunk at probe (Epc constructor); data needs a page after it. */
function checkInterruptRegion(profile: EpcProfile, at: string): void {
  if (profile.irq.mapping !== 'reserved') return;
  const allocator = new OutboundAllocator(profile.windows);
  const size = profile.irq.reservedSize ?? allocator.firstPageSize;
  if (!Number.isSafeInteger(size) || size < 1 || allocator.alloc(size) === null)
    throw new EpcConfigError(`${at}.reservedSize`, `no outbound window can hold ${hex(size)} bytes`);
  if (!allocator.canAlloc(KERNEL_PAGE_SIZE))
    throw new EpcConfigError(
      `${at}.reservedSize`,
      `the interrupt chunk (${hex(size)} bytes) leaves no window page for data (${KERNEL_PAGE_SIZE / KiB} KiB)`,
    );
}

function isPowerOfTwoUpTo(value: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= 1 && value <= max && 2 ** Math.round(Math.log2(value)) === value;
}
