import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  AQA,
  CAP,
  CAP_CSS,
  CC,
  CC_SHN,
  CSTS,
  CSTS_SHST,
  cqHeadDoorbell,
  decodeCap,
  decodeCc,
  decodeDoorbell,
  decodeVs,
  encodeCap,
  encodeCc,
  encodeVs,
  getBits,
  mpsToPageSize,
  NVME_NSSR_RESET,
  NVME_REG_ACQ,
  NVME_REG_ASQ,
  NVME_REG_CAP,
  NVME_REG_CC,
  NVME_REG_CSTS,
  NVME_REG_DBS,
  NVME_REGS,
  NVME_VS_1_4,
  NVME_VS_2_0,
  packFields,
  sqTailDoorbell,
  VS,
} from '../src/index.js';
import { expectBitFields, expectBitsDisjointWithin, expectLayout } from './spec-table.js';

describe('BAR0 register map (NVMe Base 1.4 §3.1)', () => {
  it('matches the spec offsets and widths', () => {
    expectLayout(NVME_REGS, [
      ['CAP', 0x00, 8],
      ['VS', 0x08, 4],
      ['INTMS', 0x0c, 4],
      ['INTMC', 0x10, 4],
      ['CC', 0x14, 4],
      ['CSTS', 0x1c, 4],
      ['NSSR', 0x20, 4],
      ['AQA', 0x24, 4],
      ['ASQ', 0x28, 8],
      ['ACQ', 0x30, 8],
      ['CMBLOC', 0x38, 4],
      ['CMBSZ', 0x3c, 4],
    ]);
    expect([NVME_REG_CAP, NVME_REG_CC, NVME_REG_CSTS, NVME_REG_ASQ, NVME_REG_ACQ, NVME_REG_DBS]).toEqual([
      0x00, 0x14, 0x1c, 0x28, 0x30, 0x1000,
    ]);
  });

  it('NSSR reset value spells "NVMe"', () => {
    const ascii = [24, 16, 8, 0].map((shift) => String.fromCharCode((NVME_NSSR_RESET >>> shift) & 0xff)).join('');
    expect(ascii).toBe('NVMe');
    expect(NVME_NSSR_RESET).toBe(0x4e564d65);
  });
});

describe('register fields', () => {
  it('CAP', () => {
    expectBitFields(CAP, [
      ['MQES', 15, 0],
      ['CQR', 16, 16],
      ['AMS', 18, 17],
      ['TO', 31, 24],
      ['DSTRD', 35, 32],
      ['NSSRS', 36, 36],
      ['CSS', 44, 37],
      ['BPS', 45, 45],
      ['CPS', 47, 46],
      ['MPSMIN', 51, 48],
      ['MPSMAX', 55, 52],
      ['PMRS', 56, 56],
      ['CMBS', 57, 57],
      ['NSSS', 58, 58],
      ['CRMS', 60, 59],
    ]);
    expectBitsDisjointWithin(CAP, 64);
  });

  it('CC', () => {
    expectBitFields(CC, [
      ['EN', 0, 0],
      ['CSS', 6, 4],
      ['MPS', 10, 7],
      ['AMS', 13, 11],
      ['SHN', 15, 14],
      ['IOSQES', 19, 16],
      ['IOCQES', 23, 20],
      ['CRIME', 24, 24],
    ]);
    expectBitsDisjointWithin(CC, 32);
  });

  it('CSTS, AQA, VS', () => {
    expectBitFields(CSTS, [
      ['RDY', 0, 0],
      ['CFS', 1, 1],
      ['SHST', 3, 2],
      ['NSSRO', 4, 4],
      ['PP', 5, 5],
    ]);
    expectBitFields(AQA, [
      ['ASQS', 11, 0],
      ['ACQS', 27, 16],
    ]);
    expectBitFields(VS, [
      ['TER', 7, 0],
      ['MNR', 15, 8],
      ['MJR', 31, 16],
    ]);
  });

  it('named values', () => {
    expect(CC_SHN).toEqual({ NONE: 0, NORMAL: 1, ABRUPT: 2 });
    expect(CSTS_SHST).toEqual({ NORMAL: 0, OCCURRING: 1, COMPLETE: 2 });
    // CAP.CSS bit 0 is CAP bit 37 (NVM command set), bit 7 is CAP bit 44 (admin only).
    expect(encodeCap({ CSS: CAP_CSS.NVM })).toBe(1n << 37n);
    expect(encodeCap({ CSS: CAP_CSS.ADMIN_ONLY })).toBe(1n << 44n);
  });
});

describe('known register values', () => {
  it("decodes QEMU's CAP 0x004018200f0107ff", () => {
    const cap = decodeCap(0x0040_1820_0f01_07ffn);
    expect(cap).toMatchObject({ MQES: 2047, CQR: 1, AMS: 0, TO: 15, DSTRD: 0, NSSRS: 0, CSS: 0xc1, MPSMIN: 0 });
    expect(cap.MPSMAX).toBe(4);
    expect(cap.CSS & CAP_CSS.NVM).toBe(CAP_CSS.NVM);
    expect(encodeCap(cap)).toBe(0x0040_1820_0f01_07ffn);
  });

  it('decodes the Linux enable value CC = 0x00460001', () => {
    expect(decodeCc(0x0046_0001)).toEqual({
      EN: 1,
      CSS: 0,
      MPS: 0,
      AMS: 0,
      SHN: 0,
      IOSQES: 6,
      IOCQES: 4,
      CRIME: 0,
    });
    expect(encodeCc({ EN: 1, IOSQES: 6, IOCQES: 4 })).toBe(0x0046_0001);
    expect(encodeCc({ SHN: CC_SHN.NORMAL })).toBe(0x4000);
  });

  it('Linux admin queue of 32 entries: AQA = 0x001F001F', () => {
    expect(packFields(AQA, { ASQS: 31, ACQS: 31 })).toBe(0x001f_001f);
  });

  it('CSTS shutdown complete with RDY', () => {
    expect(packFields(CSTS, { RDY: 1, SHST: CSTS_SHST.COMPLETE })).toBe(0b1001);
    expect(getBits(0b1001, CSTS.SHST)).toBe(CSTS_SHST.COMPLETE);
  });

  it('VS', () => {
    expect(encodeVs(1, 4, 0)).toBe(0x0001_0400);
    expect(NVME_VS_1_4).toBe(0x0001_0400);
    expect(NVME_VS_2_0).toBe(0x0002_0000);
    expect(decodeVs(0x0001_0302)).toEqual({ MJR: 1, MNR: 3, TER: 2 });
  });

  it('memory page size from MPS', () => {
    expect(mpsToPageSize(0)).toBe(4096);
    expect(mpsToPageSize(1)).toBe(8192);
    expect(mpsToPageSize(4)).toBe(65536);
  });

  test.prop([
    fc.record({
      MQES: fc.nat({ max: 0xffff }),
      CQR: fc.nat({ max: 1 }),
      TO: fc.nat({ max: 0xff }),
      DSTRD: fc.nat({ max: 0xf }),
      CSS: fc.nat({ max: 0xff }),
      MPSMAX: fc.nat({ max: 0xf }),
      CRMS: fc.nat({ max: 3 }),
    }),
  ])('CAP encode/decode round-trips', (fields) => {
    expect(decodeCap(encodeCap(fields))).toMatchObject(fields);
  });
});

describe('doorbells (NVMe Base 1.4 §3.1.24/§3.1.25)', () => {
  it('DSTRD 0: qid 0 at 0x1000/0x1004, qid 1 at 0x1008/0x100C', () => {
    expect(sqTailDoorbell(0, 0)).toBe(0x1000);
    expect(cqHeadDoorbell(0, 0)).toBe(0x1004);
    expect(sqTailDoorbell(1, 0)).toBe(0x1008);
    expect(cqHeadDoorbell(1, 0)).toBe(0x100c);
  });

  it('DSTRD 2 (16-byte stride): qid 3 SQ at 0x1000 + 6*16, CQ one stride later', () => {
    expect(sqTailDoorbell(3, 2)).toBe(0x1000 + 6 * 16);
    expect(cqHeadDoorbell(3, 2)).toBe(0x1000 + 7 * 16);
  });

  test.prop([fc.nat({ max: 0xffff }), fc.nat({ max: 6 }), fc.boolean()])(
    'decodeDoorbell inverts the formula',
    (qid, dstrd, cq) => {
      const off = cq ? cqHeadDoorbell(qid, dstrd) : sqTailDoorbell(qid, dstrd);
      expect(decodeDoorbell(off, dstrd)).toEqual({ qid, cq });
    },
  );

  it('decodeDoorbell rejects offsets between doorbells and below 0x1000', () => {
    expect(decodeDoorbell(0x1002, 0)).toBeUndefined();
    expect(decodeDoorbell(0x1004, 2)).toBeUndefined();
    expect(decodeDoorbell(0x0ffc, 0)).toBeUndefined();
  });
});
