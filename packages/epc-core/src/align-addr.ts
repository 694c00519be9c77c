import { alignUp, fls64, hex } from './address.js';
import { customAlignAddr } from './custom-align.js';
import type { AlignRule } from './profile.js';

/** What `align_addr` returns: where to map, how much, and where the request starts in it. */
export interface AlignedRange {
  readonly mapPciAddr: bigint;
  readonly mapSize: number;
  readonly offset: number;
}

/**
 * The controller's `align_addr` operation (docs/epc-mapping.md §1.2, §3.1, §3.2). It never
 * returns a mapping that covers zero requested bytes; it may cover fewer than `size`,
 * which is the partial mapping the caller of `memMap` must loop over.
 */
export function alignAddr(rule: AlignRule, pciAddr: bigint, size: number, windowPageSize: number): AlignedRange {
  switch (rule.kind) {
    case 'none':
      return { mapPciAddr: pciAddr, mapSize: size, offset: 0 };
    case 'custom':
      return customAlignAddr(rule.key, pciAddr, size);
    case 'dwc': {
      // dw_pcie_ep_align_addr(): mask by region_align, pad to the window page size.
      const offset = Number(pciAddr & BigInt(rule.regionAlign - 1));
      return { mapPciAddr: pciAddr - BigInt(offset), mapSize: alignUp(offset + size, windowPageSize), offset };
    }
    case 'pass-bits': {
      // rockchip_pcie_ep_align_addr(): the low bits that vary over the range pass through.
      const bits = passBits(pciAddr, size, rule.minBits, rule.maxBits);
      const mask = (1n << BigInt(bits)) - 1n;
      const offset = Number(pciAddr & mask);
      const limit = 2 ** rule.maxBits;
      const covered = offset + size > limit ? limit - offset : size;
      const mapSize =
        rule.sizeGranule === 'pow2'
          ? Math.max(2 ** Math.ceil(Math.log2(offset + covered)), 2 ** rule.minBits)
          : alignUp(offset + covered, rule.sizeGranule);
      return { mapPciAddr: pciAddr & ~mask, mapSize, offset };
    }
  }
}

/** clamp(fls64(a ^ (a + s - 1)), min, max): the RK3399 `num_pass_bits`. */
export function passBits(pciAddr: bigint, size: number, minBits: number, maxBits: number): number {
  const bits = fls64(pciAddr ^ (pciAddr + BigInt(size) - 1n));
  return Math.min(Math.max(bits, minBits), maxBits);
}

/**
 * The least number of maps that can cover [addr, addr + size): every 2^maxBits block the
 * range touches on pass-through controllers (no map crosses one), one otherwise (DWC
 * pads but never truncates; with no rule the map is exact).
 */
export function leastMapCount(rule: AlignRule, addr: bigint, size: number): number {
  if (rule.kind !== 'pass-bits') return 1;
  const block = 1n << BigInt(rule.maxBits);
  return Number((addr + BigInt(size) - 1n) / block - addr / block) + 1;
}

/**
 * The alignment rule as a limit a user can act on: why a translation programmed at an arbitrary
 * host address does not reach it (the pre-6.13 strategies run into this). Undefined: no rule.
 */
export function describeAlignRule(rule: AlignRule): string | undefined {
  switch (rule.kind) {
    case 'none':
      return undefined;
    case 'dwc':
      return `the controller's translations start on ${hex(rule.regionAlign)} boundaries (region_align)`;
    case 'pass-bits':
      return `the controller passes the low ${rule.minBits}..${rule.maxBits} address bits through, so a translation reaches only addresses aligned like the window block`;
    case 'custom':
      return `the controller's own alignAddr rule (${rule.key}) decides where a translation may start`;
  }
}
