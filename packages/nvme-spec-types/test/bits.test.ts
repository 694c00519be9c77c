import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  getBits,
  getBits64,
  joinU64,
  packFields,
  packFields64,
  setBits,
  setBits64,
  splitU64,
  unpackFields,
  unpackFields64,
} from '../src/index.js';

const u32 = fc.nat({ max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const field32 = fc
  .integer({ min: 1, max: 32 })
  .chain((len) => fc.record({ bit: fc.integer({ min: 0, max: 32 - len }), len: fc.constant(len) }));
const field64 = fc
  .integer({ min: 1, max: 53 })
  .chain((len) => fc.record({ bit: fc.integer({ min: 0, max: 64 - len }), len: fc.constant(len) }));

describe('32-bit fields', () => {
  it('reads known fields', () => {
    expect(getBits(0x0046_0001, { bit: 16, len: 4 })).toBe(6);
    expect(getBits(0x0046_0001, { bit: 20, len: 4 })).toBe(4);
    expect(getBits(0x8000_0000, { bit: 31, len: 1 })).toBe(1);
    expect(getBits(0xffff_ffff, { bit: 0, len: 32 })).toBe(0xffff_ffff);
  });

  it('writes known fields and stays unsigned', () => {
    expect(setBits(0, { bit: 31, len: 1 }, 1)).toBe(0x8000_0000);
    expect(setBits(0, { bit: 0, len: 32 }, 0xffff_ffff)).toBe(0xffff_ffff);
    expect(setBits(0xffff_ffff, { bit: 4, len: 4 }, 0)).toBe(0xffff_ff0f);
    expect(setBits(0, { bit: 8, len: 4 }, 0x1f)).toBe(0x0f00);
  });

  test.prop([u32, field32, u32])('setBits then getBits gives the value masked to the field', (v, f, x) => {
    const out = setBits(v, f, x);
    expect(getBits(out, f)).toBe(Number(BigInt(x) & ((1n << BigInt(f.len)) - 1n)));
    const mask = Number(((1n << BigInt(f.len)) - 1n) << BigInt(f.bit));
    expect((out & ~mask) >>> 0).toBe((v & ~mask) >>> 0);
    expect(out).toBeGreaterThanOrEqual(0);
  });

  test.prop([u64, field64, u64])('64-bit setBits64 then getBits64 gives the masked value', (v, f, x) => {
    const out = setBits64(v, f, x);
    const mask = (1n << BigInt(f.len)) - 1n;
    expect(getBits64(out, f)).toBe(Number(x & mask));
    expect(out & ~(mask << BigInt(f.bit))).toBe(v & ~(mask << BigInt(f.bit)));
    expect(out >> 64n).toBe(0n);
  });
});

describe('field tables', () => {
  const table = { A: { bit: 0, len: 4 }, B: { bit: 4, len: 12 }, C: { bit: 31, len: 1 } } as const;

  test.prop([fc.nat({ max: 15 }), fc.nat({ max: 0xfff }), fc.nat({ max: 1 })])(
    'pack and unpack are inverse',
    (A, B, C) => {
      expect(unpackFields(table, packFields(table, { A, B, C }))).toEqual({ A, B, C });
      expect(unpackFields64(table, packFields64(table, { A, B, C }))).toEqual({ A, B, C });
    },
  );

  it('absent fields are zero', () => {
    expect(packFields(table, { C: 1 })).toBe(0x8000_0000);
    expect(packFields64({ HI: { bit: 60, len: 4 } }, { HI: 0xf })).toBe(0xf000_0000_0000_0000n);
  });
});

describe('u64 halves', () => {
  it('joins CDW10/CDW11 like SLBA', () => {
    expect(joinU64(0x89ab_cdef, 0x0123_4567)).toBe(0x0123_4567_89ab_cdefn);
    expect(splitU64(0xffff_ffff_0000_0001n)).toEqual({ lo: 1, hi: 0xffff_ffff });
  });

  test.prop([u64])('split then join is the identity', (v) => {
    const { lo, hi } = splitU64(v);
    expect(joinU64(lo, hi)).toBe(v);
  });
});
