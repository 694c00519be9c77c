import { hex, PCI_ADDR_LIMIT, rangeFits } from './address.js';
import { type AlignedRange, alignAddr } from './align-addr.js';
import { Atu, type AtuSlot } from './atu.js';
import { ContractChecker } from './contract-checker.js';
import { type EpcCounters, newCounters } from './counters.js';
import type { EndpointLink } from './endpoint-link.js';
import { EpcMap } from './epc-map.js';
import { EpcError } from './errors.js';
import { type EpcFaultFlags, type EpcFaultName, resolveEpcFaults } from './faults.js';
import type { BusFault, HostBus } from './host-bus.js';
import { InboundBar } from './inbound-bar.js';
import { InterruptMessages } from './interrupt-messages.js';
import { PciConfig } from './pci-config.js';
import type { EpcProfile } from './profile.js';
import { checkProfileLimits } from './profile-limits.js';
import type { TransferObserver } from './strategies/transfer-strategy.js';
import { OutboundAllocator } from './window-allocator.js';

export interface EpcOptions {
  /** Throw on every contract violation (double unmap, leaks at check time). Default true. */
  readonly strict?: boolean;
  /** Faults to inject, by name (see {@link EPC_FAULTS}); none by default. An unknown name throws EpcConfigError. */
  readonly faults?: readonly EpcFaultName[];
}

export type IrqType = 'msi' | 'msix' | 'intx';

/** An MSI or MSI-X message is one dword. */
const IRQ_MESSAGE_SIZE = 4;
const MESSAGE_ADDRESS_RESERVED = 3n;
/** Unmapped maps kept in the live list before it is compacted. */
const LIVE_COMPACT_SLACK = 14;
/** 2^63: from an address below it, no range of a safe-integer size reaches 2^64. */
const HALF_SPACE = 1n << 63n;
/** The smallest BAR the NVMe function and pci_epc_set_bar() accept. */
const MIN_BAR_SIZE = 4096;

/**
 * A simulated PCI endpoint controller with the outbound mapping semantics of
 * `pci_epc_mem_map()` on the chosen profile. The function driver uses the EPC side
 * (memMap, memUnmap, raiseIrq, BARs); the host uses the {@link EndpointLink} side.
 */
export class Epc implements EndpointLink {
  readonly profile: EpcProfile;
  readonly bus: HostBus;
  readonly counters: EpcCounters = newCounters();
  readonly checker: ContractChecker;
  /**
   * Told of every transfer a strategy makes on this EPC, failed or not (epfsim compare uses it to
   * find where failing host addresses sat). Null by default: unobserved transfers pay one check.
   */
  transferObserver: TransferObserver | null = null;
  readonly config = new PciConfig();
  /** The injected faults, one flag each, resolved once from {@link EpcOptions.faults}. */
  readonly faults: EpcFaultFlags;
  private readonly allocator: OutboundAllocator;
  private readonly atu: Atu;
  /**
   * Maps made and not yet unmapped, in order, plus unmapped ones not compacted away yet: a map's
   * own `isLive` says which. An array, not a Set: one or two maps are live at a time, and a hash
   * set that small rehashes on almost every map and unmap.
   */
  private live: EpcMap[] = [];
  private liveCount = 0;
  private readonly bars: (InboundBar | undefined)[] = [];
  private readonly messages = new InterruptMessages(this.config, (index) => this.bar(index));
  private intxHandler: ((asserted: boolean) => void) | null = null;
  private intxLevel = false;
  private irqReserved: { phys: number; size: number; slot: AtuSlot | null } | null = null;
  /** The fields of the map being made (EpcMap copies them). */
  private readonly mapFields = {
    pciAddr: 0n,
    pciSize: 0,
    mapPciAddr: 0n,
    mapSize: 0,
    offset: 0,
    physBase: 0,
    physAddr: 0,
  };
  /** The last message address that passed the dword check (-1: none yet). */
  private messageAddressChecked = -1n;
  /** One message buffer, reused: a bus write copies (or consumes) the bytes before it returns. */
  private readonly irqPayload = new Uint8Array(IRQ_MESSAGE_SIZE);
  private readonly irqPayloadView = new DataView(this.irqPayload.buffer);

  /** Throws an {@link EpcConfigError} for a profile the simulator cannot honour ({@link checkProfileLimits}). */
  constructor(profile: EpcProfile, bus: HostBus, options: EpcOptions = {}) {
    checkProfileLimits(profile, `profile ${profile.name}`);
    this.profile = profile;
    this.bus = bus;
    this.checker = new ContractChecker(options.strict ?? true);
    this.faults = resolveEpcFaults(options.faults ?? []);
    this.allocator = new OutboundAllocator(profile.windows);
    this.atu = new Atu(profile.atu, profile.windows);
    if (profile.irq.mapping === 'reserved') {
      // RK3399 and Cadence allocate their interrupt chunk at probe (docs/epc-mapping.md §3.2, §3.4).
      const size = profile.irq.reservedSize ?? this.allocator.firstPageSize;
      const phys = this.allocator.alloc(size);
      // checkProfileLimits() made sure a window holds it.
      if (phys === null) throw new RangeError(`profile ${profile.name}: no window can hold the interrupt chunk`);
      this.irqReserved = { phys, size, slot: null };
      this.atu.reserveSlotFor(phys);
    }
  }

  // ---- outbound mapping (pci-epc-core.c) ----

  /** The controller's `align_addr` for this request. */
  alignAddr(pciAddr: bigint, size: number): AlignedRange {
    return alignAddr(this.profile.align, pciAddr, size, this.allocator.firstPageSize);
  }

  /**
   * `pci_epc_mem_map()`: align, allocate, program. The result may cover less than
   * `size` (`pciSize` says how much); the caller loops from `pciAddr + pciSize`.
   */
  memMap(pciAddr: bigint, size: number): EpcMap | EpcError {
    this.counters.memMapCalls++;
    const refused = this.checkRange(pciAddr, size);
    if (refused !== null) return this.mapFailed(refused, pciAddr, size);
    let mapPciAddr = pciAddr;
    let mapSize = size;
    let offset = 0;
    let pciSize = size;
    if (this.profile.align.kind !== 'none') {
      // No align_addr op (generic, R-Car): the core maps exactly what was asked, nothing to check.
      ({ mapPciAddr, mapSize, offset } = this.alignAddr(pciAddr, size));
      const mapEnd = mapPciAddr + BigInt(mapSize);
      pciSize = mapEnd < pciAddr + BigInt(size) ? Number(mapEnd - pciAddr) : size;
      if (pciSize < 1 || offset + pciSize > mapSize || mapPciAddr + BigInt(offset) !== pciAddr) {
        throw new RangeError(`align_addr broke its contract for ${hex(pciAddr)}+${hex(size)}`);
      }
    }
    const physBase = this.allocator.alloc(mapSize);
    if (physBase === null) return this.mapFailed(this.noWindow(mapSize), pciAddr, size);
    const slot = this.program(physBase, mapPciAddr, mapSize);
    if (slot instanceof EpcError) {
      this.allocator.free(physBase, mapSize);
      return this.mapFailed(slot, pciAddr, size);
    }
    if (pciSize < size) this.counters.partialMaps++;
    // The constructor copies the fields: one scratch object serves every map.
    const fields = this.mapFields;
    fields.pciAddr = pciAddr;
    fields.pciSize = pciSize;
    fields.mapPciAddr = mapPciAddr;
    fields.mapSize = mapSize;
    fields.offset = offset;
    fields.physBase = physBase;
    fields.physAddr = physBase + offset;
    const map = new EpcMap(fields, slot, this.bus, this.counters, this.checker);
    this.live.push(map);
    this.liveCount++;
    if (this.liveCount > this.counters.liveMapsHighWater) this.counters.liveMapsHighWater = this.liveCount;
    return map;
  }

  /** `pci_epc_mem_unmap()`: releases the translation and the window memory. */
  memUnmap(map: EpcMap): void {
    if (!map.isLive || !madeBy(map, this.counters)) {
      this.checker.violation(
        map.isLive ? 'foreign-unmap' : 'double-unmap',
        `unmap of ${hex(map.pciAddr)}: not a live map`,
      );
      return;
    }
    map.markUnmapped();
    this.liveCount--;
    // Drop unmapped maps once they outnumber the live ones (the common case: every unmap).
    if (this.live.length > 2 * this.liveCount + LIVE_COMPACT_SLACK) this.live = this.live.filter((m) => m.isLive);
    this.unprogram(map.physBase);
    this.allocator.free(map.physBase, map.mapSize);
  }

  // ---- the pre-6.13 layer, for the legacy and epf-align strategies ----

  /** `pci_epc_mem_alloc_addr()`. */
  memAllocAddr(size: number): number | null {
    return this.allocator.alloc(size);
  }

  /** `pci_epc_mem_free_addr()`. */
  memFreeAddr(physAddr: number, size: number): void {
    this.allocator.free(physAddr, size);
  }

  /** `pci_epc_map_addr()`: program a translation for window memory the caller allocated. */
  mapAddr(physAddr: number, pciAddr: bigint, size: number): AtuSlot | EpcError {
    this.counters.mapAddrCalls++;
    const request = { op: 'mapAddr', pciAddr, size } as const;
    if (!rangeFits(pciAddr, size))
      return new EpcError('ERANGE', `range ${hex(pciAddr)}+${hex(size)} wraps past 2^64`, { request });
    const slot = this.program(physAddr, pciAddr, size);
    return slot instanceof EpcError ? slot.answering(request) : slot;
  }

  /** `pci_epc_unmap_addr()`. */
  unmapAddr(physAddr: number): void {
    this.unprogram(physAddr);
  }

  /** Reads or writes host memory at a CPU address inside a programmed slot (the raw layer). */
  slotRead(slot: AtuSlot, physAddr: number, dst: Uint8Array): BusFault | null {
    return this.countBus(this.bus.read(Atu.translate(slot, physAddr), dst), dst.length, 'from');
  }

  slotWrite(slot: AtuSlot, physAddr: number, src: Uint8Array): BusFault | null {
    return this.countBus(this.bus.write(Atu.translate(slot, physAddr), src), src.length, 'to');
  }

  // ---- an eDMA-like channel: reaches host memory with no window ----

  dmaRead(pciAddr: bigint, dst: Uint8Array): BusFault | null {
    this.counters.dmaTransfers++;
    return this.countBus(this.bus.read(pciAddr, dst), dst.length, 'from');
  }

  dmaWrite(pciAddr: bigint, src: Uint8Array): BusFault | null {
    this.counters.dmaTransfers++;
    return this.countBus(this.bus.write(pciAddr, src), src.length, 'to');
  }

  // ---- contract checks ----

  /** Maps still live: a function that has finished all its work must have none. */
  get liveMaps(): readonly EpcMap[] {
    return this.live.filter((m) => m.isLive);
  }

  /** Translation slots that can hold data mappings (Infinity when unlimited). */
  get slotCapacity(): number {
    return this.atu.capacity;
  }

  /**
   * Whether `memMap(pciAddr, size)` would find window memory and a slot now. A driver
   * that holds several maps knows its controller's windows; this spares it a failing call.
   */
  canMap(pciAddr: bigint, size: number): boolean {
    return this.atu.free > 0 && this.allocator.canAlloc(this.alignAddr(pciAddr, size).mapSize);
  }

  /** Records a leak for every live map outside `allowed`; returns how many. */
  checkLeaks(allowed: ReadonlySet<EpcMap> = new Set()): number {
    let leaks = 0;
    for (const map of this.live) {
      if (!map.isLive) continue;
      if (allowed.has(map)) continue;
      leaks++;
      this.checker.violation('leak', `map of ${hex(map.pciAddr)}+${hex(map.pciSize)} is still live`);
    }
    return leaks;
  }

  // ---- inbound BARs ----

  /** `pci_epc_set_bar()`: a BAR of at least `size` bytes, rounded to a power of two and the profile's alignment. */
  setBar(index: number, size: number): InboundBar {
    const bar = new InboundBar(index, 2 ** Math.ceil(Math.log2(Math.max(size, this.profile.barAlign, MIN_BAR_SIZE))));
    this.bars[index] = bar;
    return bar;
  }

  bar(index: number): InboundBar {
    const bar = this.bars[index];
    if (bar === undefined) throw new RangeError(`BAR${index} is not set`);
    return bar;
  }

  barSize(index: number): number {
    return this.bars[index]?.size ?? 0;
  }

  mmioRead32(bar: number, offset: number): number {
    return this.bar(bar).read32(offset);
  }

  mmioWrite32(bar: number, offset: number, value: number): void {
    this.bar(bar).write32(offset, value);
  }

  mmioRead64(bar: number, offset: number): bigint {
    return this.bar(bar).read64(offset);
  }

  mmioWrite64(bar: number, offset: number, value: bigint): void {
    this.bar(bar).write64(offset, value);
  }

  // ---- interrupts ----

  /** `pci_epc_set_msi()`: offer `vectors` MSI vectors. */
  setMsi(vectors: number): void {
    this.config.msiCapable = vectors;
  }

  /** `pci_epc_set_msix()`: offer `vectors` MSI-X vectors with table and PBA in `bar`. */
  setMsix(vectors: number, bar: number, tableOffset: number, pbaOffset: number): void {
    Object.assign(this.config, {
      msixCapable: vectors,
      msixBar: bar,
      msixTableOffset: tableOffset,
      msixPbaOffset: pbaOffset,
    });
  }

  onIntx(handler: (asserted: boolean) => void): void {
    this.intxHandler = handler;
  }

  /** Drives the INTx pin; the host handler sees only level changes. */
  setIntx(asserted: boolean): void {
    const level = asserted && !this.config.intxDisabled;
    if (level === this.intxLevel) return;
    this.intxLevel = level;
    if (level) this.counters.irqsRaised++;
    this.intxHandler?.(level);
  }

  /**
   * `pci_epc_raise_irq()` for MSI or MSI-X `vector` (0-based). A masked MSI-X vector
   * sets its pending bit and returns EPERM; {@link deliverPendingMsix} sends it later.
   */
  raiseIrq(type: 'msi' | 'msix', vector: number): EpcError | null {
    const m = this.messages;
    const refused = type === 'msi' ? m.msi(vector) : m.msix(vector);
    if (refused !== null) return refused;
    this.counters.irqsRaised++;
    return this.sendMessage(m.address, m.data, type === 'msix' && this.faults.msixUnmapBeforeFlush);
  }

  /** Sends every pending MSI-X message whose vector the host has unmasked since; returns how many. */
  deliverPendingMsix(): number {
    const pending = this.messages.pending;
    if (pending.size === 0) return 0;
    let sent = 0;
    for (const vector of [...pending]) {
      if (this.messages.masked(vector)) continue;
      pending.delete(vector);
      if (this.raiseIrq('msix', vector) === null) sent++;
    }
    return sent;
  }

  // ---- internals ----

  /**
   * Writes an interrupt message the way the profile's controller does (docs/epc-mapping.md §6).
   * `unflushed` is the msix-unmap-before-flush fault: a transient map is torn down under the write.
   */
  private sendMessage(address: bigint, data: number, unflushed: boolean): EpcError | null {
    // Message Address bits 1:0 are reserved (PCI Local Bus 3.0 §6.8.1.4): the host programmed garbage.
    if (
      address !== this.messageAddressChecked &&
      ((address & MESSAGE_ADDRESS_RESERVED) !== 0n || address + BigInt(IRQ_MESSAGE_SIZE) > PCI_ADDR_LIMIT)
    ) {
      return new EpcError('EINVAL', `interrupt message address ${hex(address)} is not a dword in the 64-bit space`);
    }
    this.messageAddressChecked = address;
    // One message buffer, reused: the bus copies it before returning.
    const payload = this.irqPayload;
    this.irqPayloadView.setUint32(0, data, true);
    const mapping = this.profile.irq.mapping;
    if (mapping === 'direct' || mapping === 'register') {
      const fault = this.bus.write(address, payload);
      return fault === null
        ? null
        : new EpcError('EFAULT', `interrupt write to ${hex(address)} failed (${fault.reason})`);
    }
    if (mapping === 'transient') {
      this.counters.irqMaps++;
      const map = this.memMap(address, IRQ_MESSAGE_SIZE);
      if (map instanceof EpcError) return map;
      if (unflushed) return this.sendUnflushed(map, payload);
      // A simulated write completes before it returns, so this is the flushed write of DWC commit
      // c22533c66cca ("Flush MSI-X write before unmapping its ATU entry").
      const fault = map.write(0, payload);
      this.memUnmap(map);
      return fault === null
        ? null
        : new EpcError('EFAULT', `interrupt write to ${hex(address)} failed (${fault.reason})`);
    }
    return this.sendThroughReserved(address, payload);
  }

  /**
   * The msix-unmap-before-flush fault: before DWC commit c22533c66cca, dw_pcie_ep_raise_msix_irq()
   * wrote the message through a transient map and unmapped it at once, with the posted write still
   * in flight; the iATU entry was gone when the write left, so it went out with the outbound CPU
   * address itself as its PCI address (RK3588 hosts saw SMMU translation faults). Modelled on every
   * such message, deterministically: the write reaches physAddr untranslated, and the raise reports
   * success, as the driver could not know.
   */
  private sendUnflushed(map: EpcMap, payload: Uint8Array): EpcError | null {
    const untranslated = BigInt(map.physAddr);
    this.memUnmap(map);
    this.countBus(this.bus.write(untranslated, payload), payload.length, 'to');
    return null;
  }

  /** The reserved interrupt chunk is reprogrammed only when the aligned address changes (RK3399). */
  private sendThroughReserved(address: bigint, payload: Uint8Array): EpcError | null {
    const reserved = this.irqReserved!;
    const aligned = this.alignAddr(address, payload.length);
    if (reserved.slot === null || reserved.slot.pciBase !== aligned.mapPciAddr) {
      if (reserved.slot !== null) this.unprogram(reserved.phys);
      this.counters.irqMaps++;
      const slot = this.program(reserved.phys, aligned.mapPciAddr, Math.min(aligned.mapSize, reserved.size), true);
      if (slot instanceof EpcError) return slot;
      reserved.slot = slot;
    }
    const fault = this.slotWrite(reserved.slot, reserved.phys + aligned.offset, payload);
    return fault === null
      ? null
      : new EpcError('EFAULT', `interrupt write to ${hex(address)} failed (${fault.reason})`);
  }

  private program(physAddr: number, pciAddr: bigint, size: number, reserved = false): AtuSlot | EpcError {
    const slot = this.atu.program(physAddr, pciAddr, size, reserved);
    if (slot instanceof EpcError) return slot;
    this.counters.atuPrograms++;
    this.counters.slotsInUse++;
    if (this.counters.slotsInUse > this.counters.slotsHighWater)
      this.counters.slotsHighWater = this.counters.slotsInUse;
    return slot;
  }

  private unprogram(physAddr: number): void {
    if (this.atu.release(physAddr)) this.counters.slotsInUse--;
  }

  private checkRange(pciAddr: bigint, size: number): EpcError | null {
    if (!Number.isSafeInteger(size) || size <= 0) return new EpcError('EINVAL', `invalid map size ${size}`);
    if (pciAddr < 0n || pciAddr >= PCI_ADDR_LIMIT)
      return new EpcError('EINVAL', `PCI address ${hex(pciAddr)} is not 64-bit`);
    // pciAddr is a 64-bit address here, so rangeFits() reduces to its end check, which a
    // safe-integer size can fail only from 2^63 on.
    if (pciAddr >= HALF_SPACE && pciAddr + BigInt(size) > PCI_ADDR_LIMIT)
      return new EpcError('ERANGE', `range ${hex(pciAddr)}+${hex(size)} wraps past 2^64`);
    return null;
  }

  private mapFailed(error: EpcError, pciAddr: bigint, size: number): EpcError {
    this.counters.memMapFailures++;
    return error.answering({ op: 'memMap', pciAddr, size });
  }

  /** ENOMEM from the allocator, with the window limit that made it fail (pci_epc_mem_alloc_addr()). */
  noWindow(size: number): EpcError {
    return new EpcError('ENOMEM', `no outbound window can hold ${hex(size)} bytes`, {
      limit: this.allocator.shortfall(size),
    });
  }

  private countBus(fault: BusFault | null, size: number, direction: 'from' | 'to'): BusFault | null {
    if (fault !== null) this.counters.busFaults++;
    else if (direction === 'from') this.counters.bytesFromHost += size;
    else this.counters.bytesToHost += size;
    return fault;
  }
}

/**
 * Creates an endpoint controller of `profile` whose outbound accesses reach `bus`; an
 * {@link EpcConfigError} for a profile the simulator cannot honour.
 */
export function createEpc(profile: EpcProfile, bus: HostBus, options?: EpcOptions): Epc {
  return new Epc(profile, bus, options);
}

/** True when the EPC counting into `counters` made `map` (each EPC has its own counters object). */
function madeBy(map: EpcMap, counters: EpcCounters): boolean {
  return (map as unknown as { readonly counters: EpcCounters }).counters === counters;
}
