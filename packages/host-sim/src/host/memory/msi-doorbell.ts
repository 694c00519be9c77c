/**
 * The host's MSI doorbell: a range of MMIO (like the x86 local APIC window at 0xFEE00000) that
 * turns MSI and MSI-X message writes into interrupt counts per vector. The host programs every
 * message with data = vector number, so the count index is the message data.
 */
import { hex } from '@epfsim/epc-core';
import type { SimulatedHostMemory } from './host-memory.js';

/** x86 MSI address window base (Intel SDM vol. 3, "Message Address Register Format"). */
export const MSI_DOORBELL_BASE = 0xfee0_0000n;
/** Size of the window: 1 MiB. */
export const MSI_DOORBELL_SIZE = 0x10_0000;
/** An MSI / MSI-X message is one dword (PCI Local Bus 3.0 §6.8). */
export const MSI_MESSAGE_SIZE = 4;
/** Highest vector count this doorbell tracks: the MSI-X table maximum (2048 entries). */
export const MSI_MAX_VECTORS = 2048;

/** Interrupt counts per vector, as the host driver sees them. */
export interface InterruptCounter {
  /** Interrupts received on `vector` since creation. */
  count(vector: number): number;
  /** Interrupts received on all vectors. */
  readonly total: number;
}

/** A message that was not one dword with a known vector: the function wrote garbage to the doorbell. */
export interface MalformedMessage {
  readonly addr: bigint;
  readonly size: number;
  readonly data: number;
}

/** Counts interrupt messages per vector. */
export class MsiDoorbell implements InterruptCounter {
  readonly base: bigint;
  readonly size: number;
  readonly malformed: MalformedMessage[] = [];
  private readonly counts = new Uint32Array(MSI_MAX_VECTORS);
  private sum = 0;

  constructor(base: bigint = MSI_DOORBELL_BASE, size: number = MSI_DOORBELL_SIZE) {
    this.base = base;
    this.size = size;
  }

  /** Reserves the window in host memory and routes device writes there to this doorbell. */
  install(memory: SimulatedHostMemory): void {
    memory.reserve(this.base, this.size, 'msi-doorbell');
    memory.space.addMmioRegion({
      start: this.base,
      size: this.size,
      onWrite: (addr, data) => this.onWrite(addr, data),
    });
  }

  count(vector: number): number {
    return this.counts[vector] ?? 0;
  }

  get total(): number {
    return this.sum;
  }

  /** Counts one interrupt on `vector` (used for INTx edges too, as vector 0). */
  record(vector: number): void {
    if (vector < 0 || vector >= MSI_MAX_VECTORS) throw new RangeError(`interrupt vector ${vector}`);
    this.counts[vector] = (this.counts[vector] ?? 0) + 1;
    this.sum++;
  }

  private onWrite(addr: bigint, data: Uint8Array): void {
    const value =
      data.length >= MSI_MESSAGE_SIZE
        ? ((data[0] as number) |
            ((data[1] as number) << 8) |
            ((data[2] as number) << 16) |
            ((data[3] as number) << 24)) >>>
          0
        : -1;
    if (data.length !== MSI_MESSAGE_SIZE || value < 0 || value >= MSI_MAX_VECTORS) {
      this.malformed.push({ addr, size: data.length, data: value });
      return;
    }
    this.record(value);
  }

  toString(): string {
    return `MSI doorbell at ${hex(this.base)}: ${this.sum} interrupts`;
  }
}
