/** Host RAM as sparse pages: regions with holes, page-crossing copies, zero-fill, the top of the 64-bit space. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { PCI_ADDR_LIMIT } from '../src/address.js';
import { EpcConfigError } from '../src/errors.js';
import { HOST_PAGE_SIZE, SparseMemory } from '../src/sparse-memory.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('SparseMemory', () => {
  it('reads unwritten RAM as zeroes, and exactly what was written across page boundaries', () => {
    const m = new SparseMemory();
    m.addRegion(0n, 1 << 20);
    const out = new Uint8Array(3 * HOST_PAGE_SIZE);
    m.read(0x1000n, out);
    expect(out.every((b) => b === 0)).toBe(true);
    const data = bytes(2 * HOST_PAGE_SIZE + 100, 5);
    m.write(BigInt(HOST_PAGE_SIZE - 50), data);
    const back = new Uint8Array(data.length);
    m.read(BigInt(HOST_PAGE_SIZE - 50), back);
    expect(back).toEqual(data);
    // The bytes just around it were not touched.
    const edge = new Uint8Array(2);
    m.read(BigInt(HOST_PAGE_SIZE - 51), edge.subarray(0, 1));
    m.read(BigInt(HOST_PAGE_SIZE - 50 + data.length), edge.subarray(1));
    expect(edge).toEqual(new Uint8Array(2));
  });

  it('release() empties a memory, and the next memory reusing its pages reads zero where it did not write', () => {
    const old = new SparseMemory();
    old.addRegion(0n, 1 << 20);
    old.write(0n, new Uint8Array(64 * HOST_PAGE_SIZE).fill(0xa5));
    old.release();
    expect(old.residentBytes).toBe(0);
    expect(old.covers(0n, 1)).toBe(false);
    const m = new SparseMemory();
    m.addRegion(0n, 1 << 20);
    // Partial writes into 64 fresh pages, each of which may be one the old memory held.
    for (let p = 0; p < 64; p++) m.write(BigInt(p * HOST_PAGE_SIZE + 100), bytes(10, p));
    const page = new Uint8Array(HOST_PAGE_SIZE);
    for (let p = 0; p < 64; p++) {
      m.read(BigInt(p * HOST_PAGE_SIZE), page);
      const want = new Uint8Array(HOST_PAGE_SIZE);
      want.set(bytes(10, p), 100);
      expect(Buffer.from(page).equals(want)).toBe(true);
    }
  });

  it('pages scattered over more 1 MiB chunks than are kept empty: removed ones read back as zero wherever their chunks are reused', () => {
    const m = new SparseMemory();
    const MiB = 1 << 20;
    const chunks = 3000;
    const at = (c: number, page: number) => BigInt(c) * BigInt(MiB) * 7n + BigInt(page * HOST_PAGE_SIZE);
    for (let c = 0; c < chunks; c++) {
      m.addRegion(at(c, 200), HOST_PAGE_SIZE);
      m.write(at(c, 200), bytes(HOST_PAGE_SIZE, c));
    }
    for (let c = 0; c < chunks; c++) m.removeRegion(at(c, 200), HOST_PAGE_SIZE);
    expect(m.residentBytes).toBe(0);
    // New pages elsewhere in each chunk, and again the old page, unwritten: only the new bytes show.
    const page = new Uint8Array(HOST_PAGE_SIZE);
    for (let c = chunks; c < 2 * chunks; c++) {
      m.addRegion(at(c, 0), 2 * HOST_PAGE_SIZE);
      m.write(at(c, 1), bytes(HOST_PAGE_SIZE, c));
      m.addRegion(at(c, 200), HOST_PAGE_SIZE);
    }
    for (let c = chunks; c < 2 * chunks; c++) {
      m.read(at(c, 200), page);
      expect(page.every((b) => b === 0)).toBe(true);
      m.read(at(c, 1), page);
      expect(Buffer.from(page).equals(bytes(HOST_PAGE_SIZE, c))).toBe(true);
    }
    expect(m.residentBytes).toBe(chunks * HOST_PAGE_SIZE);
  });

  it('zero() clears a range: whole pages and partial ones', () => {
    const m = new SparseMemory();
    m.addRegion(0n, 1 << 20);
    m.write(0n, new Uint8Array(4 * HOST_PAGE_SIZE).fill(0xff));
    m.zero(100n, 2 * HOST_PAGE_SIZE);
    const out = new Uint8Array(4 * HOST_PAGE_SIZE);
    m.read(0n, out);
    expect(out.subarray(0, 100).every((b) => b === 0xff)).toBe(true);
    expect(out.subarray(100, 100 + 2 * HOST_PAGE_SIZE).every((b) => b === 0)).toBe(true);
    expect(out.subarray(100 + 2 * HOST_PAGE_SIZE).every((b) => b === 0xff)).toBe(true);
  });

  it('covers only its regions: holes between them and ranges running off an end are not RAM', () => {
    const m = new SparseMemory();
    m.addRegion(0x1000n, 0x1000);
    m.addRegion(0x3000n, 0x1000);
    expect(m.covers(0x1000n, 0x1000)).toBe(true);
    expect(m.covers(0x1fffn, 2)).toBe(false);
    expect(m.covers(0x2000n, 1)).toBe(false);
    expect(m.covers(0x3800n, 0x800)).toBe(true);
    m.removeRegion(0x3000n, 0x1000);
    expect(m.covers(0x3800n, 1)).toBe(false);
  });

  it('works at the top of the 64-bit space, and refuses a region past it', () => {
    const m = new SparseMemory();
    const top = PCI_ADDR_LIMIT - BigInt(2 * HOST_PAGE_SIZE);
    m.addRegion(top, 2 * HOST_PAGE_SIZE);
    const data = bytes(HOST_PAGE_SIZE + 10, 9);
    m.write(top + 5n, data);
    const back = new Uint8Array(data.length);
    m.read(top + 5n, back);
    expect(back).toEqual(data);
    expect(() => m.addRegion(PCI_ADDR_LIMIT - 16n, 32)).toThrow(EpcConfigError);
  });

  test.prop([fc.nat({ max: 5 * HOST_PAGE_SIZE }), fc.integer({ min: 1, max: 3 * HOST_PAGE_SIZE }), fc.nat(255)])(
    'a write then a read at any offset and length gives the bytes back (below and above 2^53)',
    (offset, length, seed) => {
      for (const base of [0n, 1n << 60n]) {
        const m = new SparseMemory();
        m.addRegion(base, 16 * HOST_PAGE_SIZE);
        const data = bytes(length, seed);
        m.write(base + BigInt(offset), data);
        const back = new Uint8Array(length);
        m.read(base + BigInt(offset), back);
        expect(back).toEqual(data);
      }
    },
  );
});
