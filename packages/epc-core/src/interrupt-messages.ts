import { EpcError } from './errors.js';
import type { InboundBar } from './inbound-bar.js';
import type { PciConfig } from './pci-config.js';

/** MSI-X table entry layout (PCI Local Bus 3.0 §6.8.2): 16 bytes per vector. */
const MSIX_ENTRY = { size: 16, addrLo: 0, addrHi: 4, data: 8, vectorControl: 12 } as const;
const MSIX_VECTOR_MASKED = 1;
const BITS_PER_BYTE_SHIFT = 3;
const BIT_IN_BYTE_MASK = 7;

/**
 * The MSI and MSI-X messages the controller sends, built from what the host programmed: the MSI
 * capability's address and data (Multiple Message: the vector in the low data bits), or the MSI-X
 * table entry, with per-vector masking and the Pending Bit Array (§6.8.2.3: a masked vector's
 * message waits as a pending bit and goes out once unmasked).
 */
export class InterruptMessages {
  /** The message {@link msi} or {@link msix} last built. */
  address = 0n;
  data = 0;
  /** MSI-X vectors with their pending bit set. */
  readonly pending = new Set<number>();
  readonly #config: PciConfig;
  readonly #bar: (index: number) => InboundBar;
  /** The last MSI-X message address read from the table, as dwords and as a bigint. */
  #lo = 0;
  #hi = 0;
  #cached = 0n;

  constructor(config: PciConfig, bar: (index: number) => InboundBar) {
    this.#config = config;
    this.#bar = bar;
  }

  /** Builds the message of MSI `vector`, or returns why it cannot be sent. */
  msi(vector: number): EpcError | null {
    const c = this.#config;
    if (!c.msiEnabled) return new EpcError('EINVAL', 'MSI is not enabled by the host');
    if (vector < 0 || vector >= c.msiVectors) return new EpcError('EINVAL', `MSI vector ${vector} not enabled`);
    this.address = c.msiAddress;
    this.data = (c.msiData | vector) >>> 0;
    return null;
  }

  /** Builds the message of MSI-X table entry `vector`; a masked vector becomes pending (EPERM). */
  msix(vector: number): EpcError | null {
    const c = this.#config;
    if (!c.msixEnabled) return new EpcError('EINVAL', 'MSI-X is not enabled by the host');
    if (vector < 0 || vector >= c.msixCapable) return new EpcError('EINVAL', `MSI-X vector ${vector} out of range`);
    if (this.masked(vector)) {
      this.#setPending(vector, true);
      return new EpcError('EPERM', `MSI-X vector ${vector} is masked`);
    }
    this.#setPending(vector, false);
    const bar = this.#bar(c.msixBar);
    const entry = c.msixTableOffset + vector * MSIX_ENTRY.size;
    const lo = bar.read32(entry + MSIX_ENTRY.addrLo);
    const hi = bar.read32(entry + MSIX_ENTRY.addrHi);
    // Every vector usually has the same message address: build the bigint only when it changes.
    if (lo !== this.#lo || hi !== this.#hi) {
      this.#lo = lo;
      this.#hi = hi;
      this.#cached = (BigInt(hi) << 32n) | BigInt(lo);
    }
    this.address = this.#cached;
    this.data = bar.read32(entry + MSIX_ENTRY.data);
    return null;
  }

  /** The function mask, or the vector's own mask bit in its table entry. */
  masked(vector: number): boolean {
    const c = this.#config;
    const bar = this.#bar(c.msixBar);
    const control = bar.read32(c.msixTableOffset + vector * MSIX_ENTRY.size + MSIX_ENTRY.vectorControl);
    return c.msixFunctionMask || (control & MSIX_VECTOR_MASKED) !== 0;
  }

  #setPending(vector: number, pending: boolean): void {
    const c = this.#config;
    const bar = this.#bar(c.msixBar);
    const byte = c.msixPbaOffset + (vector >> BITS_PER_BYTE_SHIFT);
    const bit = 1 << (vector & BIT_IN_BYTE_MASK);
    bar.bytes[byte] = pending ? bar.bytes[byte]! | bit : bar.bytes[byte]! & ~bit;
    if (pending) this.pending.add(vector);
    else this.pending.delete(vector);
  }
}
