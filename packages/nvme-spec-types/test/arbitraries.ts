/** fast-check arbitraries derived from this package's layout tables, for round-trip properties. */
import { fc } from '@fast-check/vitest';
import type { FieldLayout, Layout, StructValues } from '../src/index.js';
import { camelCase } from '../src/struct.js';

const BYTE_BITS = 8;
const MAX_NUMBER_BYTES = 6;

/** Printable ASCII without trailing spaces: what a space-padded field reads back unchanged. */
export function asciiText(maxLength: number): fc.Arbitrary<string> {
  const char = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
  return fc.string({ unit: char, maxLength }).map((s) => s.trimEnd());
}

function scalarArb(f: FieldLayout): fc.Arbitrary<unknown> {
  switch (f.kind ?? 'uint') {
    case 'ascii':
      return asciiText(f.size);
    case 'nqn':
      return asciiText(f.size - 1);
    case 'bytes':
      return fc.uint8Array({ minLength: f.size, maxLength: f.size });
    default:
      return f.size > MAX_NUMBER_BYTES
        ? fc.bigInt({ min: 0n, max: (1n << BigInt(BYTE_BITS * f.size)) - 1n })
        : fc.nat({ max: 2 ** (BYTE_BITS * f.size) - 1 });
  }
}

/** Any value of the object form of a layout, every field present and in range. */
export function layoutArb<L extends Layout>(layout: L): fc.Arbitrary<StructValues<L>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, f] of Object.entries(layout)) {
    const one = scalarArb(f);
    model[camelCase(name)] = f.count === undefined ? one : fc.array(one, { minLength: f.count, maxLength: f.count });
  }
  return fc.record(model) as unknown as fc.Arbitrary<StructValues<L>>;
}
