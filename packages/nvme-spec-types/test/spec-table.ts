/**
 * Helpers comparing this package's tables with tables transcribed from the specification.
 * Byte layouts are written `[name, offset, size]`; bit fields as the spec writes them, `[name, msb, lsb]`.
 */
import { expect } from 'vitest';
import type { BitFields, FieldLayout } from '../src/index.js';

export type ByteRow = readonly [name: string, off: number, size: number];
export type BitRow = readonly [name: string, msb: number, lsb: number];

/** The layout has exactly these fields, in this order, at these offsets and sizes. */
export function expectLayout(layout: Readonly<Record<string, FieldLayout>>, spec: readonly ByteRow[]): void {
  const actual = Object.entries(layout).map(([name, f]) => [name, f.off, f.size]);
  expect(actual).toEqual(spec.map((row) => [...row]));
}

/** The bit-field table has exactly these fields, in this order, at these bit ranges. */
export function expectBitFields(table: BitFields, spec: readonly BitRow[]): void {
  const actual = Object.entries(table).map(([name, f]) => [name, f.bit + f.len - 1, f.bit]);
  expect(actual).toEqual(spec.map((row) => [...row]));
}

/** Fields of a layout do not overlap and lie inside `size` bytes (arrays counted whole). */
export function expectDisjointWithin(layout: Readonly<Record<string, FieldLayout>>, size: number): void {
  const spans = Object.entries(layout)
    .map(([name, f]) => ({ name, start: f.off, end: f.off + f.size * (f.count ?? 1) }))
    .sort((a, b) => a.start - b.start);
  spans.forEach((span, i) => {
    expect(span.end, `${span.name} ends inside the structure`).toBeLessThanOrEqual(size);
    const next = spans[i + 1];
    if (next) expect(span.end, `${span.name} overlaps ${next.name}`).toBeLessThanOrEqual(next.start);
  });
}

/** Bit fields of a table do not overlap and fit in `width` bits. */
export function expectBitsDisjointWithin(table: BitFields, width: number): void {
  let used = 0n;
  for (const [name, f] of Object.entries(table)) {
    const mask = ((1n << BigInt(f.len)) - 1n) << BigInt(f.bit);
    expect(f.bit + f.len, `${name} fits`).toBeLessThanOrEqual(width);
    expect(used & mask, `${name} overlaps`).toBe(0n);
    used |= mask;
  }
}

/** Hex dump helper for byte vectors: `bytes('01 02 ff')`. */
export function bytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16));
}
