/**
 * A controller profile: the outbound limits of one endpoint controller, as plain data.
 * Facts: docs/epc-mapping.md §3 (per-controller constraints).
 */

/** One outbound memory window, as `struct pci_epc_mem_window`. Physical addresses are CPU-side. */
export interface OutboundWindow {
  readonly physBase: number;
  readonly size: number;
  readonly pageSize: number;
}

/**
 * The controller's `align_addr` rule.
 * - `none`: no `align_addr` op; the core maps exactly what was asked (generic, R-Car).
 * - `dwc`: `dw_pcie_ep_align_addr()`: align down to `regionAlign`, pad to the window page, never truncate.
 * - `pass-bits`: the Cadence-derived address pass-through (RK3399's `rockchip_pcie_ep_align_addr()`):
 *   the low `clamp(fls64(a ^ (a+s-1)), minBits, maxBits)` bits pass through, the mapping is
 *   truncated at the next 2^maxBits boundary, and its size is rounded to `sizeGranule`
 *   (or to a power of two, for Cadence regions).
 * - `custom`: the controller's own rule, a function from a profile module.
 */
export type AlignRule =
  | { readonly kind: 'none' }
  | { readonly kind: 'dwc'; readonly regionAlign: number }
  | {
      readonly kind: 'pass-bits';
      readonly minBits: number;
      readonly maxBits: number;
      readonly sizeGranule: number | 'pow2';
    }
  /** A profile module's own `alignAddr` function, registered under `key` (custom-align.ts). */
  | { readonly kind: 'custom'; readonly key: string };

/**
 * How the outbound address translation unit takes and programs slots.
 * - `unlimited`: no slot limit, linear translation (an ideal controller).
 * - `dwc`: `numObWindows` iATU slots, first free; base and PCI address aligned to
 *   `regionAlign`; a region may not cross a `regionLimit` boundary on the CPU side.
 *   Every failure is EINVAL (`dw_pcie_ep_outbound_atu()`).
 * - `region-per-window`: RK3399, one translation per 1 MiB window, EBUSY when taken;
 *   pass-through translation.
 * - `cadence`: `maxRegions` regions, region 0 kept for interrupts and the last unusable;
 *   power-of-two regions of at least 256 B with pass-through translation; EINVAL when full.
 * - `window-per-mapping`: R-Car, the window whose base is the address carries one mapping.
 */
export type AtuRule =
  | { readonly kind: 'unlimited' }
  | { readonly kind: 'dwc'; readonly slots: number; readonly regionAlign: number; readonly regionLimit: number }
  | { readonly kind: 'region-per-window' }
  | { readonly kind: 'cadence'; readonly maxRegions: number }
  | { readonly kind: 'window-per-mapping' };

/**
 * How interrupts reach the host.
 * - `direct`: the controller writes the message with no outbound mapping (generic).
 * - `transient`: each MSI/MSI-X raise maps the message address through the data slot pool
 *   and unmaps it (DWC before Linux 7.0).
 * - `reserved`: one translation and one window chunk are kept for interrupts from probe on
 *   (RK3399, Cadence).
 * - `register`: MSI through a controller register, no mapping (R-Car).
 */
export type IrqMapping = 'direct' | 'transient' | 'reserved' | 'register';

export interface IrqCapabilities {
  readonly msi: boolean;
  readonly msix: boolean;
  readonly intx: boolean;
  readonly mapping: IrqMapping;
  /** Bytes of window memory allocated at probe for interrupts (`reserved` only). */
  readonly reservedSize?: number;
}

export interface EpcProfile {
  readonly name: string;
  readonly description: string;
  readonly windows: readonly OutboundWindow[];
  readonly align: AlignRule;
  readonly atu: AtuRule;
  readonly irq: IrqCapabilities;
  /** `epc_features->align`: inbound BAR alignment, also what pre-6.13 function drivers aligned to. */
  readonly barAlign: number;
  /** Whether the real controller has an eDMA engine (the `dma` strategy is simulated on all). */
  readonly hasDma: boolean;
}
