import type { PciConfig } from './pci-config.js';

/**
 * What the host sees of the endpoint across the link: configuration space, BAR MMIO and
 * the INTx pin. Host-side code (host-sim) depends on this interface only.
 */
export interface EndpointLink {
  readonly config: PciConfig;
  barSize(bar: number): number;
  mmioRead32(bar: number, offset: number): number;
  mmioWrite32(bar: number, offset: number, value: number): void;
  mmioRead64(bar: number, offset: number): bigint;
  mmioWrite64(bar: number, offset: number, value: bigint): void;
  /** The host's INTx line handler (level: true = asserted). */
  onIntx(handler: (asserted: boolean) => void): void;
}
