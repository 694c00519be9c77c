/**
 * Bit fields inside 32-bit registers and dwords (as numbers) and 64-bit registers (as bigints).
 * A field is `{ bit, len }`: the lowest bit index and the width, as the spec writes "bits 23:20" → `{ bit: 20, len: 4 }`.
 */

/** A bit field: `bit` is the least significant bit, `len` the width in bits. */
export interface BitField {
  readonly bit: number;
  readonly len: number;
}

/** A table of named bit fields within one register or dword. */
export type BitFields = Readonly<Record<string, BitField>>;

/** Decoded values of every field of a table, by field name. */
export type FieldValues<T extends BitFields> = { -readonly [K in keyof T]: number };

/** Width of a register or dword handled by the 32-bit helpers. */
export const U32_BITS = 32;
/** All 32 bits set. */
export const U32_MASK = 0xffff_ffff;
/** Width of a 64-bit register or address. */
export const U64_BITS = 64n;
/** All 64 bits set. */
export const U64_MASK = (1n << U64_BITS) - 1n;

/** Mask of the low `len` bits (len 0..32), as an unsigned 32-bit number. */
function lowMask(len: number): number {
  // Integer shifts, not 2 ** len: this sits under every register and SQE field read.
  return len >= U32_BITS ? U32_MASK : ((1 << len) >>> 0) - 1;
}

/** Reads field `f` of the 32-bit `value`. */
export function getBits(value: number, f: BitField): number {
  return ((value >>> f.bit) & lowMask(f.len)) >>> 0;
}

/** Returns `value` with field `f` replaced by `x` (masked to the field width), as an unsigned 32-bit number. */
export function setBits(value: number, f: BitField, x: number): number {
  const mask = lowMask(f.len);
  return ((value & ~(mask << f.bit)) | ((x & mask) << f.bit)) >>> 0;
}

/** Reads field `f` (at most 53 bits wide, so the result is exact) of the 64-bit `value`. */
export function getBits64(value: bigint, f: BitField): number {
  return Number((value >> BigInt(f.bit)) & ((1n << BigInt(f.len)) - 1n));
}

/** Returns the 64-bit `value` with field `f` replaced by `x` (masked to the field width). */
export function setBits64(value: bigint, f: BitField, x: number | bigint): bigint {
  const mask = (1n << BigInt(f.len)) - 1n;
  const shift = BigInt(f.bit);
  return ((value & ~(mask << shift)) | ((BigInt(x) & mask) << shift)) & U64_MASK;
}

/** Packs named field values into a 32-bit value; absent fields are 0. */
export function packFields<T extends BitFields>(table: T, values: Partial<FieldValues<T>>): number {
  let out = 0;
  for (const [name, f] of Object.entries(table)) {
    const x = values[name as keyof T];
    if (x !== undefined) out = setBits(out, f, x);
  }
  return out;
}

/** Unpacks every field of `table` from a 32-bit value. */
export function unpackFields<T extends BitFields>(table: T, value: number): FieldValues<T> {
  const out: Record<string, number> = {};
  for (const [name, f] of Object.entries(table)) out[name] = getBits(value, f);
  return out as FieldValues<T>;
}

/** Packs named field values into a 64-bit value; absent fields are 0. */
export function packFields64<T extends BitFields>(table: T, values: Partial<FieldValues<T>>): bigint {
  let out = 0n;
  for (const [name, f] of Object.entries(table)) {
    const x = values[name as keyof T];
    if (x !== undefined) out = setBits64(out, f, x);
  }
  return out;
}

/** Unpacks every field of `table` from a 64-bit value. */
export function unpackFields64<T extends BitFields>(table: T, value: bigint): FieldValues<T> {
  const out: Record<string, number> = {};
  for (const [name, f] of Object.entries(table)) out[name] = getBits64(value, f);
  return out as FieldValues<T>;
}

/** Joins two dwords (low, high) into a 64-bit value, as SLBA = CDW10 | CDW11 << 32. */
export function joinU64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << BigInt(U32_BITS)) | BigInt(lo >>> 0);
}

/** Splits a 64-bit value into its low and high dwords. */
export function splitU64(value: bigint): { lo: number; hi: number } {
  return { lo: Number(value & BigInt(U32_MASK)), hi: Number((value >> BigInt(U32_BITS)) & BigInt(U32_MASK)) };
}
