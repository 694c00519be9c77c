import { hex } from './address.js';
import { Atu, type AtuSlot } from './atu.js';
import type { ContractChecker } from './contract-checker.js';
import type { EpcCounters } from './counters.js';
import type { BusFault, HostBus } from './host-bus.js';

/**
 * A live outbound mapping, the TypeScript form of `struct pci_epc_map`
 * (docs/epc-mapping.md §1.1). Invariants: `offset = pciAddr - mapPciAddr`,
 * `physAddr = physBase + offset`, `offset + pciSize <= mapSize`.
 *
 * Data moves only through {@link read} and {@link write}, only inside
 * `[0, pciSize)`, and only while the map is live; the bytes go through the
 * translation the controller actually programmed.
 */
export class EpcMap {
  readonly pciAddr: bigint;
  /** Bytes mapped from `pciAddr`; may be less than requested (a partial mapping). */
  readonly pciSize: number;
  readonly mapPciAddr: bigint;
  readonly mapSize: number;
  readonly offset: number;
  readonly physBase: number;
  readonly physAddr: number;
  /** @internal */ readonly slot: AtuSlot;
  private live = true;
  private readonly bus: HostBus;
  private readonly counters: EpcCounters;
  private readonly checker: ContractChecker;

  /** @internal Made by `Epc.memMap` only. */
  constructor(
    fields: Omit<EpcMap, 'read' | 'write' | 'isLive' | 'markUnmapped' | 'slot'>,
    slot: AtuSlot,
    bus: HostBus,
    counters: EpcCounters,
    checker: ContractChecker,
  ) {
    this.pciAddr = fields.pciAddr;
    this.pciSize = fields.pciSize;
    this.mapPciAddr = fields.mapPciAddr;
    this.mapSize = fields.mapSize;
    this.offset = fields.offset;
    this.physBase = fields.physBase;
    this.physAddr = fields.physAddr;
    this.slot = slot;
    this.bus = bus;
    this.counters = counters;
    this.checker = checker;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** `memcpy_fromio(dst, virt_addr + offset, dst.length)`: host memory into `dst`. */
  read(offset: number, dst: Uint8Array): BusFault | null {
    this.checkAccess(offset, dst.length);
    const fault = this.bus.read(Atu.translate(this.slot, this.physAddr + offset), dst);
    if (fault === null) this.counters.bytesFromHost += dst.length;
    else this.counters.busFaults++;
    return fault;
  }

  /** `memcpy_toio(virt_addr + offset, src, src.length)`: `src` into host memory. */
  write(offset: number, src: Uint8Array): BusFault | null {
    this.checkAccess(offset, src.length);
    const fault = this.bus.write(Atu.translate(this.slot, this.physAddr + offset), src);
    if (fault === null) this.counters.bytesToHost += src.length;
    else this.counters.busFaults++;
    return fault;
  }

  /** @internal */
  markUnmapped(): void {
    this.live = false;
  }

  private checkAccess(offset: number, size: number): void {
    if (!this.live) this.checker.violation('access-after-unmap', `access to ${this.describe()} after unmap`);
    if (!(offset >= 0 && size >= 0 && offset + size <= this.pciSize)) {
      this.checker.violation(
        'access-outside-map',
        `access [${offset}, ${offset + size}) outside [0, ${this.pciSize}) of ${this.describe()}`,
      );
    }
  }

  private describe(): string {
    return `map of ${hex(this.pciAddr)}+${hex(this.pciSize)}`;
  }
}
