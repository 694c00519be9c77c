import { GiB, KiB, MiB } from './address.js';
import type { EpcProfile, OutboundWindow } from './profile.js';

/** n windows of `size` bytes, each one allocation (`page_size = size`), back to back. */
function regions(physBase: number, count: number, size: number): OutboundWindow[] {
  return Array.from({ length: count }, (_, i) => ({ physBase: physBase + i * size, size, pageSize: size }));
}

/** A DesignWare controller (docs/epc-mapping.md §3.1): one window, iATU slots, 64 KiB regions. */
function dwc(
  name: string,
  description: string,
  slots: number,
  window: OutboundWindow,
  regionLimit: number,
): EpcProfile {
  return {
    name,
    description,
    windows: [window],
    align: { kind: 'dwc', regionAlign: 64 * KiB },
    atu: { kind: 'dwc', slots, regionAlign: 64 * KiB, regionLimit },
    irq: { msi: true, msix: true, intx: true, mapping: 'transient' },
    barAlign: 64 * KiB,
    hasDma: true,
  };
}

/** The built-in controller profiles, by name. */
export const BUILTIN_PROFILES: readonly EpcProfile[] = [
  {
    name: 'generic',
    description: 'an ideal controller: one 1 GiB window, no alignment rule, unlimited translations',
    windows: [{ physBase: 0x1_0000_0000, size: 1 * GiB, pageSize: 4 * KiB }],
    align: { kind: 'none' },
    atu: { kind: 'unlimited' },
    irq: { msi: true, msix: true, intx: true, mapping: 'direct' },
    barAlign: 4 * KiB,
    hasDma: true,
  },
  dwc(
    'dwc',
    'Synopsys DesignWare: 8 iATU slots, 64 KiB region alignment, 4 GiB region limit, 256 MiB window',
    8,
    { physBase: 0x4000_0000, size: 256 * MiB, pageSize: 64 * KiB },
    4 * GiB,
  ),
  dwc(
    'rk3588',
    'Rockchip RK3588 pcie3x4 (DWC): 16 iATU slots, 64 KiB alignment, 8 GiB limit',
    16,
    { physBase: 0xa_4000_0000, size: 0x3f00_0000, pageSize: 64 * KiB },
    8 * GiB,
  ),
  dwc(
    'imx8m',
    'NXP i.MX8M (DWC): 4 iATU slots, 64 KiB alignment, 4 GiB limit, 128 MiB window',
    4,
    { physBase: 0x1800_0000, size: 128 * MiB, pageSize: 64 * KiB },
    4 * GiB,
  ),
  {
    name: 'rk3399',
    description:
      'Rockchip RK3399: 32 x 1 MiB regions (one kept for interrupts), pass-through bits 8..20, maps end at the next 1 MiB',
    windows: regions(0xfa00_0000, 32, 1 * MiB),
    align: { kind: 'pass-bits', minBits: 8, maxBits: 20, sizeGranule: 256 },
    atu: { kind: 'region-per-window' },
    irq: { msi: true, msix: false, intx: true, mapping: 'reserved', reservedSize: 1 * MiB },
    barAlign: 256,
    hasDma: false,
  },
  {
    name: 'cadence',
    description:
      'Cadence (e.g. TI J721E): 32 regions, region 0 for interrupts and the last unusable (30 for data), power-of-two regions >= 256 B',
    windows: [{ physBase: 0x1000_0000, size: 128 * MiB, pageSize: 4 * KiB }],
    align: { kind: 'pass-bits', minBits: 8, maxBits: 24, sizeGranule: 'pow2' },
    atu: { kind: 'cadence', maxRegions: 32 },
    irq: { msi: true, msix: true, intx: true, mapping: 'reserved', reservedSize: 128 * KiB },
    barAlign: 256,
    hasDma: false,
  },
  {
    name: 'rcar',
    description: 'Renesas R-Car Gen3: 4 outbound windows (1 MiB, 2 MiB, 128 MiB, 128 MiB), one mapping each',
    windows: [
      { physBase: 0xfe10_0000, size: 1 * MiB, pageSize: 1 * MiB },
      { physBase: 0xfe20_0000, size: 2 * MiB, pageSize: 2 * MiB },
      { physBase: 0x3000_0000, size: 128 * MiB, pageSize: 128 * MiB },
      { physBase: 0x3800_0000, size: 128 * MiB, pageSize: 128 * MiB },
    ],
    align: { kind: 'none' },
    atu: { kind: 'window-per-mapping' },
    irq: { msi: true, msix: false, intx: true, mapping: 'register' },
    barAlign: 128,
    hasDma: false,
  },
  {
    name: 'stress',
    description: 'two tiny windows (64 KiB + 32 KiB), maps end at every 16 KiB boundary, 3 translation slots',
    windows: [
      { physBase: 0x2000_0000, size: 64 * KiB, pageSize: 4 * KiB },
      { physBase: 0x2001_0000, size: 32 * KiB, pageSize: 4 * KiB },
    ],
    align: { kind: 'pass-bits', minBits: 8, maxBits: 14, sizeGranule: 256 },
    atu: { kind: 'dwc', slots: 3, regionAlign: 256, regionLimit: 4 * GiB },
    irq: { msi: true, msix: true, intx: true, mapping: 'transient' },
    barAlign: 256,
    hasDma: false,
  },
];

export const PROFILE_NAMES: readonly string[] = BUILTIN_PROFILES.map((p) => p.name);

export function findProfile(name: string): EpcProfile | undefined {
  return BUILTIN_PROFILES.find((p) => p.name === name);
}
