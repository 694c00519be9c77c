/**
 * The host's side of the link as the endpoint sees it: outbound reads and writes that
 * reach host memory by PCI address. An access that hits a hole, an address the host's
 * IOMMU has not granted, or a range that wraps fails like a PCIe Unsupported Request:
 * the endpoint gets a {@link BusFault}, the host records it. Nothing is zero-filled.
 */

export type BusDirection = 'read' | 'write';
export type BusFaultReason = 'hole' | 'ungranted' | 'wrap';

export interface BusFault {
  readonly addr: bigint;
  readonly size: number;
  readonly direction: BusDirection;
  readonly reason: BusFaultReason;
}

export interface HostBus {
  /** Endpoint reads host memory at `addr` into `dst`. Returns null on success. */
  read(addr: bigint, dst: Uint8Array): BusFault | null;
  /** Endpoint writes `src` to host memory at `addr`. Returns null on success. */
  write(addr: bigint, src: Uint8Array): BusFault | null;
}
