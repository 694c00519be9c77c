import { ceilLog2, hex } from './address.js';
import { passBits } from './align-addr.js';
import { EpcError } from './errors.js';
import type { AtuRule, OutboundWindow } from './profile.js';

/** RK3399 ROCKCHIP_PCIE_AT_MIN/MAX_NUM_BITS: pass-through bits are clamped to 8..20. */
const RK3399_PASS_BITS = { min: 8, max: 20 } as const;
/** Cadence regions are powers of two of at least 256 B (nbits >= 8). */
const CADENCE_MIN_REGION_BITS = 8;

/** One programmed outbound translation. */
export interface AtuSlot {
  readonly index: number;
  readonly cpuBase: number;
  readonly pciBase: bigint;
  readonly size: number;
  /** 0 for linear (base + offset) translation, else the number of low bits passed through. */
  readonly passBits: number;
}

/**
 * The outbound address translation unit: slots, the controller's programming rules and
 * the translation itself. Translation is what the hardware does, not what the caller
 * meant: a slot programmed with a misaligned address sends bytes to the wrong host
 * address, exactly as the real controller would.
 */
export class Atu {
  private readonly rule: AtuRule;
  private readonly windows: readonly OutboundWindow[];
  private readonly slots: (AtuSlot | null)[];
  /**
   * Programmed translations of an unlimited ATU, at most one per CPU address. A short array: a few
   * maps are live at a time, and a hash map this small rehashes on almost every program/release.
   */
  private readonly unlimited: (AtuSlot | undefined)[] = [];
  private unlimitedCount = 0;
  /** Slots kept for interrupts from probe on: never counted as free for data. */
  private readonly reservedSlots = new Set<number>();

  constructor(rule: AtuRule, windows: readonly OutboundWindow[]) {
    this.rule = rule;
    this.windows = windows;
    this.slots = [];
    if (rule.kind === 'dwc') this.slots.length = rule.slots;
    else if (rule.kind === 'cadence') this.slots.length = rule.maxRegions;
    else if (rule.kind === 'region-per-window' || rule.kind === 'window-per-mapping')
      this.slots.length = windows.length;
    this.slots.fill(null);
  }

  /** Slots that can ever hold a data mapping (Infinity when unlimited). */
  get capacity(): number {
    if (this.rule.kind === 'unlimited') return Number.POSITIVE_INFINITY;
    // Cadence: region 0 is for interrupts and the last region is rejected by map_addr.
    if (this.rule.kind === 'cadence') return this.rule.maxRegions - 2;
    return this.slots.length;
  }

  /** Slots a data mapping could take now. */
  get free(): number {
    const rule = this.rule;
    if (rule.kind === 'unlimited') return Number.POSITIVE_INFINITY;
    const last = rule.kind === 'cadence' ? rule.maxRegions - 1 : this.slots.length;
    let free = 0;
    for (let i = rule.kind === 'cadence' ? 1 : 0; i < last; i++)
      if (this.slots[i] === null && !this.reservedSlots.has(i)) free++;
    return free;
  }

  get inUse(): number {
    return this.rule.kind === 'unlimited' ? this.unlimitedCount : this.slots.filter((s) => s !== null).length;
  }

  /** Keeps the slot that translates CPU address `cpuBase` for interrupts (RK3399's IRQ region). */
  reserveSlotFor(cpuBase: number): void {
    if (this.rule.kind === 'region-per-window') this.reservedSlots.add(this.windowIndex(cpuBase));
  }

  /** `map_addr`: programs a slot, or returns the controller's error. */
  program(cpuBase: number, pciBase: bigint, size: number, reserved = false): AtuSlot | EpcError {
    if (size <= 0) return new EpcError('EINVAL', 'outbound region of size 0');
    const rule = this.rule;
    switch (rule.kind) {
      case 'unlimited': {
        const slot = { index: this.unlimitedCount, cpuBase, pciBase, size, passBits: 0 };
        // A second program of the same CPU address replaces the first, as a keyed table would.
        const at = this.unlimitedIndexOf(cpuBase);
        if (at < 0) this.unlimited[this.unlimitedCount++] = slot;
        else this.unlimited[at] = slot;
        return slot;
      }
      case 'dwc': {
        // dw_pcie_prog_outbound_atu(): every rule is EINVAL.
        const index = this.slots.indexOf(null);
        if (index < 0) return new EpcError('EINVAL', `no free outbound window (${rule.slots} iATU slots in use)`);
        if (cpuBase % rule.regionAlign !== 0)
          return new EpcError(
            'EINVAL',
            `CPU address ${hex(cpuBase)} not aligned to region_align ${hex(rule.regionAlign)}`,
          );
        if (pciBase % BigInt(rule.regionAlign) !== 0n)
          return new EpcError(
            'EINVAL',
            `PCI address ${hex(pciBase)} not aligned to region_align ${hex(rule.regionAlign)}`,
          );
        if (Math.floor(cpuBase / rule.regionLimit) !== Math.floor((cpuBase + size - 1) / rule.regionLimit))
          return new EpcError('EINVAL', `region ${hex(cpuBase)}+${hex(size)} crosses a region_limit boundary`);
        return this.take(index, { index, cpuBase, pciBase, size, passBits: 0 });
      }
      case 'region-per-window': {
        // rockchip_pcie_ep_map_addr(): one translation per 1 MiB region, EBUSY when taken.
        const index = this.windowIndex(cpuBase);
        if (index < 0) return new EpcError('EINVAL', `CPU address ${hex(cpuBase)} is in no outbound region`);
        if (this.slots[index] !== null) return new EpcError('EBUSY', `outbound region ${index} is already mapped`);
        const bits = passBits(pciBase, size, RK3399_PASS_BITS.min, RK3399_PASS_BITS.max);
        return this.take(index, { index, cpuBase, pciBase, size, passBits: bits });
      }
      case 'cadence': {
        // cdns_pcie_ep_map_addr(): first free bit; region 0 is the IRQ region, the last is rejected.
        const index = reserved ? 0 : this.slots.indexOf(null, 1);
        if (index < 0 || index >= rule.maxRegions - 1)
          return new EpcError('EINVAL', `no free outbound region (${rule.maxRegions - 2} usable)`);
        const bits = Math.max(ceilLog2(size), CADENCE_MIN_REGION_BITS);
        return this.take(index, { index, cpuBase, pciBase, size, passBits: bits });
      }
      case 'window-per-mapping': {
        // rcar_pcie_ep_map_addr(): the window whose base is the address.
        const index = this.windows.findIndex((w) => w.physBase === cpuBase);
        if (index < 0) return new EpcError('EINVAL', `${hex(cpuBase)} is not the base of an outbound window`);
        if (this.slots[index] !== null) return new EpcError('EBUSY', `outbound window ${index} is already mapped`);
        return this.take(index, { index, cpuBase, pciBase, size, passBits: 0 });
      }
    }
  }

  /** `unmap_addr`: finds the slot by CPU address; does nothing when none matches. Returns whether one was freed. */
  release(cpuBase: number): boolean {
    if (this.rule.kind === 'unlimited') {
      const at = this.unlimitedIndexOf(cpuBase);
      if (at < 0) return false;
      // Swap with the last and clear it; the array keeps its capacity (popping would trim it).
      const last = --this.unlimitedCount;
      this.unlimited[at] = this.unlimited[last];
      this.unlimited[last] = undefined;
      return true;
    }
    const index = this.slots.findIndex((s) => s !== null && s.cpuBase === cpuBase);
    if (index < 0) return false;
    this.slots[index] = null;
    return true;
  }

  /** The host PCI address the hardware emits for CPU address `phys` inside `slot`. */
  static translate(slot: AtuSlot, phys: number): bigint {
    if (slot.passBits === 0) return phys === slot.cpuBase ? slot.pciBase : slot.pciBase + BigInt(phys - slot.cpuBase);
    const span = 2 ** slot.passBits;
    const mask = BigInt(span - 1);
    return (slot.pciBase & ~mask) | BigInt(phys % span);
  }

  private unlimitedIndexOf(cpuBase: number): number {
    // From the newest: a data map is released soon after it is made.
    const slots = this.unlimited;
    for (let i = this.unlimitedCount - 1; i >= 0; i--) if ((slots[i] as AtuSlot).cpuBase === cpuBase) return i;
    return -1;
  }

  private take(index: number, slot: AtuSlot): AtuSlot {
    this.slots[index] = slot;
    return slot;
  }

  private windowIndex(cpuBase: number): number {
    return this.windows.findIndex((w) => cpuBase >= w.physBase && cpuBase < w.physBase + w.size);
  }
}
