/**
 * PCI addresses are 64-bit and exact: bigint at every API. Lengths and offsets inside a
 * map or a page are plain numbers. These helpers are the only places that convert.
 */

/** 2^64: one past the last PCI address. A range may end exactly here. */
export const PCI_ADDR_LIMIT = 1n << 64n;
export const PCI_ADDR_MAX = PCI_ADDR_LIMIT - 1n;

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** True when [addr, addr + size) lies inside the 64-bit PCI space (it may end at 2^64). */
export function rangeFits(addr: bigint, size: number): boolean {
  return addr >= 0n && addr <= PCI_ADDR_MAX && addr + BigInt(size) <= PCI_ADDR_LIMIT;
}

/** Formats a PCI address the way kernel logs do (0x-prefixed hex). */
export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

/** Round `value` up to a multiple of `align` (a power of two), like the kernel's ALIGN(). */
export function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

export function isPowerOfTwo(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0 && 2 ** Math.round(Math.log2(value)) === value;
}

const U32_N = 0x1_0000_0000n;

/** fls64(): index (1-based) of the most significant set bit; 0 for 0. */
export function fls64(value: bigint): number {
  if (value < 0n) throw new RangeError(`fls64 of negative ${value}`);
  // Two 32-bit halves through Math.clz32: no string per call (align_addr calls this per map).
  if (value < U32_N) return 32 - Math.clz32(Number(value));
  if (value < U32_N * U32_N) return 64 - Math.clz32(Number(value >> 32n));
  return value.toString(2).length;
}

/** ceil(log2(value)) for a positive integer. */
export function ceilLog2(value: number): number {
  let bits = 0;
  while (2 ** bits < value) bits++;
  return bits;
}
