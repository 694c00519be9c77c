import { PCI_ADDR_LIMIT } from './address.js';
import type { BusDirection, BusFault, BusFaultReason, HostBus } from './host-bus.js';
import { SparseMemory } from './sparse-memory.js';

/**
 * Decides whether the endpoint may touch [addr, addr + size) in `direction`: the
 * host's IOMMU. The host installs one; without it every RAM address is allowed.
 */
export type GrantHook = (addr: bigint, size: number, direction: BusDirection) => boolean;

/** A range whose writes the host handles itself (an MSI doorbell, a BAR of another device). */
export interface MmioRegion {
  readonly start: bigint;
  readonly size: number;
  onWrite(addr: bigint, data: Uint8Array): void;
}

/** 2^63: from an address below it, no access of at most 2^53 bytes reaches 2^64. */
const HALF_SPACE = 1n << 63n;

/** How many faults are kept in full; later ones are only counted. */
const FAULT_LOG_LIMIT = 1000;

/**
 * The host's memory as the endpoint reaches it: RAM with holes, an IOMMU grant hook,
 * MMIO regions for interrupt messages, and a log of every refused access (a PCIe
 * Unsupported Request seen from the host side).
 */
export class HostAddressSpace implements HostBus {
  readonly memory = new SparseMemory();
  readonly faults: BusFault[] = [];
  faultCount = 0;
  private grant: GrantHook | null = null;
  private mmio: MmioRegion[] = [];
  /** One past the last byte of each MMIO region, by index. */
  private mmioEnds: bigint[] = [];

  setGrantHook(hook: GrantHook | null): void {
    this.grant = hook;
  }

  addMmioRegion(region: MmioRegion): void {
    this.mmio.push(region);
    this.mmioEnds.push(region.start + BigInt(region.size));
  }

  read(addr: bigint, dst: Uint8Array): BusFault | null {
    const refused = this.check(addr, dst.length, 'read');
    if (refused !== null) return this.fault(addr, dst.length, 'read', refused);
    this.memory.read(addr, dst);
    return null;
  }

  write(addr: bigint, src: Uint8Array): BusFault | null {
    const mmio = this.mmio;
    for (let i = 0; i < mmio.length; i++) {
      const region = mmio[i] as MmioRegion;
      const regionEnd = this.mmioEnds[i] as bigint;
      // The end is computed only for a write that starts inside the region (an interrupt message).
      if (addr >= region.start && addr < regionEnd && addr + BigInt(src.length) <= regionEnd) {
        region.onWrite(addr, src);
        return null;
      }
    }
    const refused = this.check(addr, src.length, 'write');
    if (refused !== null) return this.fault(addr, src.length, 'write', refused);
    this.memory.write(addr, src);
    return null;
  }

  /** Host CPU access to its own memory: no IOMMU, no fault log. */
  hostRead(addr: bigint, dst: Uint8Array): void {
    this.memory.read(addr, dst);
  }

  hostWrite(addr: bigint, src: Uint8Array): void {
    this.memory.write(addr, src);
  }

  /** Host CPU clear of its own memory. */
  hostZero(addr: bigint, size: number): void {
    this.memory.zero(addr, size);
  }

  /** Why the endpoint may not access [addr, addr + size), or null when it may. */
  private check(addr: bigint, size: number, direction: BusDirection): BusFaultReason | null {
    // Below 2^63 a range of a safe-integer size cannot pass 2^64: no end to compute.
    if (addr < 0n || (addr >= HALF_SPACE && addr + BigInt(size) > PCI_ADDR_LIMIT)) return 'wrap';
    if (!this.memory.covers(addr, size)) return 'hole';
    if (this.grant !== null && !this.grant(addr, size, direction)) return 'ungranted';
    return null;
  }

  private fault(addr: bigint, size: number, direction: BusDirection, reason: BusFaultReason): BusFault {
    const fault = { addr, size, direction, reason };
    this.faultCount++;
    if (this.faults.length < FAULT_LOG_LIMIT) this.faults.push(fault);
    return fault;
  }
}
