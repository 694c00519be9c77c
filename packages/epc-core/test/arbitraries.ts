import fc from 'fast-check';
import { GiB, KiB, MiB, PCI_ADDR_LIMIT } from '../src/address.js';

/** Edges where mapping bugs live: pages, DWC regions, RK3399 regions, 4 GiB, 2^53, 2^64. */
export const ADDRESS_EDGES: readonly bigint[] = [
  BigInt(4 * KiB),
  BigInt(64 * KiB),
  BigInt(1 * MiB),
  BigInt(4 * GiB),
  1n << 53n,
  PCI_ADDR_LIMIT,
];

/** A host range [addr, addr + size) inside the 64-bit space, biased towards edges. */
export function hostRange(maxSize = 2 * MiB): fc.Arbitrary<{ addr: bigint; size: number }> {
  const size = fc.oneof(
    fc.integer({ min: 1, max: 512 }),
    fc.integer({ min: 1, max: 64 * KiB }),
    fc.integer({ min: 1, max: maxSize }),
    fc.constantFrom(4 * KiB, 64 * KiB, 1 * MiB, maxSize),
  );
  const nearEdge = fc
    .record({
      edge: fc.constantFrom(...ADDRESS_EDGES),
      multiple: fc.bigInt({ min: 1n, max: 1n << 12n }),
      delta: fc.integer({ min: -4 * KiB, max: 4 * KiB }),
    })
    .map(({ edge, multiple, delta }) => {
      const base = edge === PCI_ADDR_LIMIT ? PCI_ADDR_LIMIT : (edge * multiple) % PCI_ADDR_LIMIT;
      return base + BigInt(delta);
    });
  const uniform = fc.bigInt({ min: 0n, max: PCI_ADDR_LIMIT - 1n });
  return fc.record({ addr: fc.oneof(nearEdge, uniform), size }).map(({ addr, size }) => {
    // Clamp into the space so the range ends at or before 2^64.
    let a = addr < 0n ? 0n : addr;
    if (a + BigInt(size) > PCI_ADDR_LIMIT) a = PCI_ADDR_LIMIT - BigInt(size);
    return { addr: a, size };
  });
}

/** Deterministic test bytes for a range, different for every offset. */
export function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}
