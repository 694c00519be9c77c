/**
 * An inbound BAR: memory of the function that the host reaches by MMIO. The function
 * sees host writes only by reading this memory (it polls), as on real controllers.
 * 64-bit registers are two 32-bit accesses, low word first, little-endian.
 */
export class InboundBar {
  readonly index: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(index: number, size: number) {
    this.index = index;
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  get size(): number {
    return this.bytes.length;
  }

  read32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  write32(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0, true);
  }

  read64(offset: number): bigint {
    return this.view.getBigUint64(offset, true);
  }

  write64(offset: number, value: bigint): void {
    this.view.setBigUint64(offset, BigInt.asUintN(64, value), true);
  }
}
