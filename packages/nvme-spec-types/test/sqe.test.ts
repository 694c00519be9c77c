import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  AdminOpcode,
  decodeSgl,
  decodeSqe,
  encodeSqe,
  Fuse,
  Psdt,
  SGL_DESCRIPTOR_SIZE,
  SglType,
  SQE,
  SQE_CDW0,
  SQE_SIZE,
  type Sqe,
  sqe,
  sqeCdw,
  sqeCid,
  sqeFuse,
  sqeMptr,
  sqeNsid,
  sqeOpcode,
  sqePrp1,
  sqePrp2,
  sqePsdt,
  sqeSetCdw,
  sqeSetCid,
  sqeSetFuse,
  sqeSetOpcode,
  sqeSetPrp2,
  sqeSetPsdt,
  viewOf,
} from '../src/index.js';
import { bytes, expectBitFields, expectLayout } from './spec-table.js';

const u8 = fc.nat({ max: 0xff });
const u16 = fc.nat({ max: 0xffff });
const u32 = fc.nat({ max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const sqeArb: fc.Arbitrary<Sqe> = fc.record({
  opcode: u8,
  fuse: fc.nat({ max: 3 }),
  psdt: fc.nat({ max: 3 }),
  cid: u16,
  nsid: u32,
  cdw2: u32,
  cdw3: u32,
  mptr: u64,
  prp1: u64,
  prp2: u64,
  cdw10: u32,
  cdw11: u32,
  cdw12: u32,
  cdw13: u32,
  cdw14: u32,
  cdw15: u32,
});

describe('SQE layout (NVMe Base 1.4 §4.2, Common Command Format)', () => {
  it('is 64 bytes with the spec offsets', () => {
    expect(SQE_SIZE).toBe(64);
    expectLayout(SQE, [
      ['CDW0', 0, 4],
      ['OPC', 0, 1],
      ['FLAGS', 1, 1],
      ['CID', 2, 2],
      ['NSID', 4, 4],
      ['CDW2', 8, 4],
      ['CDW3', 12, 4],
      ['MPTR', 16, 8],
      ['DPTR', 24, 16],
      ['PRP1', 24, 8],
      ['PRP2', 32, 8],
      ['SGL1', 24, 16],
      ['CDW10', 40, 4],
      ['CDW11', 44, 4],
      ['CDW12', 48, 4],
      ['CDW13', 52, 4],
      ['CDW14', 56, 4],
      ['CDW15', 60, 4],
    ]);
    expect(SQE.SGL1.size).toBe(SGL_DESCRIPTOR_SIZE);
  });

  it('CDW0 fields', () => {
    expectBitFields(SQE_CDW0, [
      ['OPC', 7, 0],
      ['FUSE', 9, 8],
      ['PSDT', 15, 14],
      ['CID', 31, 16],
    ]);
    expect(Psdt).toEqual({ PRP: 0, SGL_MPTR_CONTIG: 1, SGL_MPTR_SGL: 2, RESERVED: 3 });
    expect(Fuse).toEqual({ NORMAL: 0, FIRST: 1, SECOND: 2, RESERVED: 3 });
  });
});

describe('SQE accessors', () => {
  it('decode a Linux Identify Controller command', () => {
    const raw = bytes(`
      06 00 34 12  00 00 00 00  00 00 00 00  00 00 00 00
      00 00 00 00  00 00 00 00  00 30 12 00  01 00 00 00
      00 00 00 00  00 00 00 00  01 00 00 00  00 00 00 00
      00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00`);
    const view = viewOf(raw);
    expect(sqeOpcode(view, 0)).toBe(AdminOpcode.IDENTIFY);
    expect(sqeCid(view, 0)).toBe(0x1234);
    expect(sqeNsid(view, 0)).toBe(0);
    expect(sqePrp1(view, 0)).toBe(0x1_0012_3000n);
    expect(sqePrp2(view, 0)).toBe(0n);
    expect(sqeCdw(view, 0, 10)).toBe(1);
    expect(sqePsdt(view, 0)).toBe(Psdt.PRP);
    expect(decodeSqe(raw)).toEqual(sqe({ opcode: 6, cid: 0x1234, prp1: 0x1_0012_3000n, cdw10: 1 }));
    expect(encodeSqe(decodeSqe(raw))).toEqual(raw);
  });

  it('read FUSE and PSDT from the flags byte (Linux NVME_CMD_SGL_METABUF = bit 6, METASEG = bit 7)', () => {
    const raw = new Uint8Array(SQE_SIZE);
    const view = viewOf(raw);
    raw[SQE.FLAGS.off] = 0x40;
    expect(sqePsdt(view, 0)).toBe(Psdt.SGL_MPTR_CONTIG);
    raw[SQE.FLAGS.off] = 0x80;
    expect(sqePsdt(view, 0)).toBe(Psdt.SGL_MPTR_SGL);
    raw[SQE.FLAGS.off] = 0x02;
    expect(sqeFuse(view, 0)).toBe(Fuse.SECOND);
  });

  it('setters touch only their field', () => {
    const raw = new Uint8Array(2 * SQE_SIZE).fill(0xff);
    const view = viewOf(raw);
    const base = SQE_SIZE;
    sqeSetOpcode(view, base, 0x02);
    sqeSetFuse(view, base, Fuse.NORMAL);
    sqeSetPsdt(view, base, Psdt.SGL_MPTR_CONTIG);
    sqeSetCid(view, base, 7);
    sqeSetPrp2(view, base, 0x2000n);
    sqeSetCdw(view, base, 12, 0x0000_0007);
    expect(raw.subarray(0, SQE_SIZE).every((b) => b === 0xff)).toBe(true);
    expect(Array.from(raw.subarray(base, base + 4))).toEqual([0x02, 0x7c, 0x07, 0x00]);
    expect(sqePrp2(view, base)).toBe(0x2000n);
    expect(sqeCdw(view, base, 12)).toBe(7);
    expect(sqeCdw(view, base, 13)).toBe(0xffff_ffff);
    expect(sqeMptr(view, base)).toBe((1n << 64n) - 1n);
  });

  it('reads DPTR as SGL1 through the SGL codec', () => {
    const raw = encodeSqe(sqe({ psdt: Psdt.SGL_MPTR_CONTIG, prp1: 0xdead_b000n, prp2: 0x3000_0000_0000_1000n }));
    expect(decodeSgl(raw, SQE.SGL1.off)).toEqual({
      address: 0xdead_b000n,
      length: 0x1000,
      type: SglType.LAST_SEGMENT,
      subtype: 0,
    });
  });
});

describe('SQE codec', () => {
  test.prop([sqeArb])('object → bytes → object is the identity', (s) => {
    expect(decodeSqe(encodeSqe(s))).toEqual(s);
  });

  test.prop([fc.uint8Array({ minLength: SQE_SIZE, maxLength: SQE_SIZE })])(
    'bytes → object → bytes is byte-exact (reserved CDW0 bits 13:10 clear)',
    (raw) => {
      raw[SQE.FLAGS.off] = (raw[SQE.FLAGS.off] ?? 0) & 0b1100_0011;
      expect(encodeSqe(decodeSqe(raw))).toEqual(raw);
    },
  );

  test.prop([sqeArb, fc.nat({ max: 7 })])('encodes in place inside a larger queue buffer', (s, slot) => {
    const ring = new Uint8Array(8 * SQE_SIZE);
    const out = encodeSqe(s, ring, slot * SQE_SIZE);
    expect(out).toBe(ring);
    expect(decodeSqe(ring, slot * SQE_SIZE)).toEqual(s);
    expect(ring.subarray(slot * SQE_SIZE, (slot + 1) * SQE_SIZE)).toEqual(encodeSqe(s));
  });

  it('the builder fills zeroes', () => {
    expect(encodeSqe(sqe())).toEqual(new Uint8Array(SQE_SIZE));
    expect(sqe({ opcode: 1 }).prp1).toBe(0n);
  });
});
