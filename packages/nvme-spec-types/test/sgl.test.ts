import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  decodeSgl,
  encodeSgl,
  encodeSqe,
  SGL,
  SGL_DESCRIPTOR_SIZE,
  SGL_ID,
  SGL_KEYED,
  type SglDescriptor,
  SglSubtype,
  SglType,
  SQE,
  sglAddress,
  sglDescriptor,
  sglIdentifier,
  sglKey,
  sglKeyedLength,
  sglLength,
  sglSubtype,
  sglType,
  sqe,
  viewOf,
} from '../src/index.js';
import { bytes, expectBitFields, expectLayout } from './spec-table.js';

const sglArb: fc.Arbitrary<SglDescriptor> = fc.record({
  address: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  length: fc.nat({ max: 0xffff_ffff }),
  type: fc.nat({ max: 0xf }),
  subtype: fc.nat({ max: 0xf }),
});

describe('SGL descriptor layout (NVMe Base 1.4 §4.4)', () => {
  it('generic and keyed forms', () => {
    expect(SGL_DESCRIPTOR_SIZE).toBe(16);
    expectLayout(SGL, [
      ['ADDRESS', 0, 8],
      ['LENGTH', 8, 4],
      ['ID', 15, 1],
    ]);
    expectLayout(SGL_KEYED, [
      ['ADDRESS', 0, 8],
      ['LENGTH', 8, 3],
      ['KEY', 11, 4],
      ['ID', 15, 1],
    ]);
    expectBitFields(SGL_ID, [
      ['SUBTYPE', 3, 0],
      ['TYPE', 7, 4],
    ]);
  });

  it('type and sub type values', () => {
    expect(SglType).toEqual({
      DATA_BLOCK: 0x0,
      BIT_BUCKET: 0x1,
      SEGMENT: 0x2,
      LAST_SEGMENT: 0x3,
      KEYED_DATA_BLOCK: 0x4,
      TRANSPORT_DATA_BLOCK: 0x5,
      VENDOR: 0xf,
    });
    expect(SglSubtype).toEqual({ ADDRESS: 0x0, OFFSET: 0x1, TRANSPORT: 0xa });
    expect(sglIdentifier(SglType.LAST_SEGMENT, SglSubtype.ADDRESS)).toBe(0x30);
    expect(sglIdentifier(SglType.KEYED_DATA_BLOCK, SglSubtype.TRANSPORT)).toBe(0x4a);
  });
});

describe('SGL descriptor vectors', () => {
  it('Linux Last Segment of 3 Data Blocks (length 48) at 0x12345000', () => {
    const raw = bytes('00 50 34 12 00 00 00 00  30 00 00 00  00 00 00 30');
    const view = viewOf(raw);
    expect(sglAddress(view, 0)).toBe(0x1234_5000n);
    expect(sglLength(view, 0)).toBe(48);
    expect(sglType(view, 0)).toBe(SglType.LAST_SEGMENT);
    expect(sglSubtype(view, 0)).toBe(SglSubtype.ADDRESS);
    expect(encodeSgl(sglDescriptor({ address: 0x1234_5000n, length: 48, type: SglType.LAST_SEGMENT }))).toEqual(raw);
  });

  it('keyed data block: 24-bit length and 32-bit key', () => {
    const raw = bytes('00 10 00 00 00 00 00 00  00 10 00  ef be ad de  40');
    const view = viewOf(raw);
    expect(sglKeyedLength(view, 0)).toBe(0x1000);
    expect(sglKey(view, 0)).toBe(0xdead_beef);
    expect(sglType(view, 0)).toBe(SglType.KEYED_DATA_BLOCK);
  });

  it('SGL1 sits in the SQE DPTR', () => {
    const raw = encodeSqe(sqe({ opcode: 0x02 }));
    encodeSgl(sglDescriptor({ address: 0x8000n, length: 4096 }), raw, SQE.SGL1.off);
    expect(decodeSgl(raw, SQE.SGL1.off)).toEqual({ address: 0x8000n, length: 4096, type: 0, subtype: 0 });
    expect(viewOf(raw).getBigUint64(SQE.PRP1.off, true)).toBe(0x8000n);
  });
});

describe('SGL codec', () => {
  test.prop([sglArb])('object → bytes → object is the identity', (d) => {
    expect(decodeSgl(encodeSgl(d))).toEqual(d);
  });

  test.prop([fc.uint8Array({ minLength: 16, maxLength: 16 })])(
    'bytes → object → bytes is byte-exact (reserved bytes 14:12 clear)',
    (raw) => {
      raw.fill(0, SGL.LENGTH.off + SGL.LENGTH.size, SGL.ID.off);
      expect(encodeSgl(decodeSgl(raw))).toEqual(raw);
    },
  );

  test.prop([sglArb])('encoding clears reserved bytes of a reused buffer', (d) => {
    const buf = new Uint8Array(SGL_DESCRIPTOR_SIZE).fill(0xff);
    encodeSgl(d, buf);
    expect(Array.from(buf.subarray(12, 15))).toEqual([0, 0, 0]);
  });
});
