import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  CQE,
  CQE_SIZE,
  CQE_STATUS,
  type Cqe,
  cqe,
  cqeCid,
  cqePhase,
  cqeSetStatus,
  cqeSqhd,
  cqeSqid,
  cqeStatus,
  decodeCqe,
  encodeCqe,
  STATUS_FIELD,
  Status,
  statusDnr,
  statusSc,
  statusSct,
  viewOf,
} from '../src/index.js';
import { bytes, expectBitFields, expectLayout } from './spec-table.js';

const cqeArb: fc.Arbitrary<Cqe> = fc.record({
  dw0: fc.nat({ max: 0xffff_ffff }),
  dw1: fc.nat({ max: 0xffff_ffff }),
  sqhd: fc.nat({ max: 0xffff }),
  sqid: fc.nat({ max: 0xffff }),
  cid: fc.nat({ max: 0xffff }),
  status: fc.nat({ max: 0x7fff }),
  phase: fc.constantFrom(0 as const, 1 as const),
});

describe('CQE layout (NVMe Base 1.4 §4.6)', () => {
  it('is 16 bytes with the spec offsets', () => {
    expect(CQE_SIZE).toBe(16);
    expectLayout(CQE, [
      ['DW0', 0, 4],
      ['DW1', 4, 4],
      ['DW2', 8, 4],
      ['DW3', 12, 4],
      ['SQHD', 8, 2],
      ['SQID', 10, 2],
      ['CID', 12, 2],
      ['STATUS', 14, 2],
    ]);
  });

  it('status halfword = DW3 bits 31:16: P 16, SC 24:17, SCT 27:25, CRD 29:28, M 30, DNR 31', () => {
    const dw3Bit = 16;
    const inDw3 = Object.fromEntries(
      Object.entries(CQE_STATUS).map(([name, f]) => [name, { bit: f.bit + dw3Bit, len: f.len }]),
    );
    expectBitFields(inDw3, [
      ['P', 16, 16],
      ['SF', 31, 17],
      ['SC', 24, 17],
      ['SCT', 27, 25],
      ['CRD', 29, 28],
      ['M', 30, 30],
      ['DNR', 31, 31],
    ]);
  });

  it('the status halfword without P is the 15-bit NvmeStatus', () => {
    for (const name of ['SC', 'SCT', 'CRD', 'M', 'DNR'] as const) {
      expect(CQE_STATUS[name].bit - CQE_STATUS.SF.bit).toBe(STATUS_FIELD[name].bit);
      expect(CQE_STATUS[name].len).toBe(STATUS_FIELD[name].len);
    }
  });
});

describe('CQE vectors', () => {
  it('DW3 = 0x8005_0007: CID 7, phase 1, Invalid Field in Command with DNR (status 0x4002)', () => {
    const raw = bytes('00000000 00000000 0500 0100 0700 0580');
    const view = viewOf(raw);
    expect(view.getUint32(CQE.DW3.off, true)).toBe(0x8005_0007);
    expect(cqeCid(view, 0)).toBe(7);
    expect(cqePhase(view, 0)).toBe(1);
    expect(cqeStatus(view, 0)).toBe(0x4002);
    expect(cqeStatus(view, 0)).toBe(Status.INVALID_FIELD);
    expect(cqeSqhd(view, 0)).toBe(5);
    expect(cqeSqid(view, 0)).toBe(1);
    expect(decodeCqe(raw)).toEqual({ dw0: 0, dw1: 0, sqhd: 5, sqid: 1, cid: 7, status: 0x4002, phase: 1 });
  });

  it('DW3 = 0x4002_0001: CID 1, phase 0, SC 01h with the More bit, no DNR', () => {
    const raw = encodeCqe(cqe({ cid: 1, status: 0x4002 >>> 1 }));
    const view = viewOf(raw);
    expect(view.getUint32(CQE.DW3.off, true)).toBe(0x4002_0001);
    const s = cqeStatus(view, 0);
    expect([statusSct(s), statusSc(s), statusDnr(s), cqePhase(view, 0)]).toEqual([0, 1, false, 0]);
    expect(s).toBe(0x2001);
  });

  it('PRP Offset Invalid with DNR and phase 1: DW3 high half 0x8027', () => {
    const raw = new Uint8Array(CQE_SIZE);
    cqeSetStatus(viewOf(raw), 0, Status.PRP_INVALID_OFFSET, 1);
    expect(viewOf(raw).getUint16(CQE.STATUS.off, true)).toBe(0x8027);
  });
});

describe('CQE codec', () => {
  test.prop([cqeArb])('object → bytes → object is the identity', (c) => {
    expect(decodeCqe(encodeCqe(c))).toEqual(c);
  });

  test.prop([fc.uint8Array({ minLength: CQE_SIZE, maxLength: CQE_SIZE })])(
    'bytes → object → bytes is byte-exact',
    (raw) => {
      expect(encodeCqe(decodeCqe(raw))).toEqual(raw);
    },
  );

  test.prop([cqeArb, fc.nat({ max: 15 })])('encodes in place in a CQ ring', (c, slot) => {
    const ring = new Uint8Array(16 * CQE_SIZE);
    encodeCqe(c, ring, slot * CQE_SIZE);
    expect(decodeCqe(ring, slot * CQE_SIZE)).toEqual(c);
    expect(ring.filter((b) => b !== 0).length).toBe(encodeCqe(c).filter((b) => b !== 0).length);
  });
});
