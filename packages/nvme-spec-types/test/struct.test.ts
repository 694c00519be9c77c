import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  CMD_EFFECTS_LOG,
  CMD_EFFECTS_LOG_SIZE,
  DSM_RANGE,
  DSM_RANGE_SIZE,
  defineStruct,
  ERROR_INFO,
  ERROR_INFO_SIZE,
  FW_SLOT_LOG,
  FW_SLOT_LOG_SIZE,
  ID_CTRL,
  ID_NS,
  IDENTIFY_DATA_SIZE,
  PSD,
  readAscii,
  readU128,
  readUint,
  SMART_LOG,
  SMART_LOG_SIZE,
  viewOf,
  writeAscii,
  writeU128,
  writeUint,
} from '../src/index.js';
import { camelCase } from '../src/struct.js';
import { layoutArb } from './arbitraries.js';
import { expectDisjointWithin } from './spec-table.js';

const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

describe('scalar codecs', () => {
  test.prop([u128, fc.nat({ max: 16 })])('u128 round-trips little endian at any offset', (v, off) => {
    const view = viewOf(new Uint8Array(32));
    writeU128(view, off, v);
    expect(readU128(view, off)).toBe(v);
    expect(view.getUint8(off)).toBe(Number(v & 0xffn));
    expect(view.getUint8(off + 15)).toBe(Number(v >> 120n));
  });

  it('u128 rejects values outside [0, 2^128)', () => {
    const view = viewOf(new Uint8Array(16));
    expect(() => writeU128(view, 0, 1n << 128n)).toThrow(RangeError);
    expect(() => writeU128(view, 0, -1n)).toThrow(RangeError);
  });

  test.prop([
    fc.integer({ min: 1, max: 6 }).chain((size) => fc.tuple(fc.constant(size), fc.nat({ max: 2 ** (8 * size) - 1 }))),
  ])('uint of 1..6 bytes round-trips little endian', ([size, value]) => {
    const view = viewOf(new Uint8Array(8));
    writeUint(view, 1, size, value);
    expect(readUint(view, 1, size)).toBe(value);
    expect(view.getUint8(0)).toBe(0);
    expect(view.getUint8(1 + size)).toBe(0);
  });

  it('uint of 3 bytes (the IEEE OUI) is little endian', () => {
    const bytes = new Uint8Array(3);
    writeUint(viewOf(bytes), 0, 3, 0x525400);
    expect(Array.from(bytes)).toEqual([0x00, 0x54, 0x52]);
  });

  it('uint rejects what does not fit', () => {
    const view = viewOf(new Uint8Array(8));
    expect(() => writeUint(view, 0, 1, 256)).toThrow(RangeError);
    expect(() => writeUint(view, 0, 2, -1)).toThrow(RangeError);
    expect(() => writeUint(view, 0, 4, 1.5)).toThrow(RangeError);
    expect(() => readUint(view, 0, 8)).toThrow(RangeError);
  });

  it('ASCII fields are space padded and read back trimmed', () => {
    const bytes = new Uint8Array(8);
    writeAscii(viewOf(bytes), 0, 8, '1.0');
    expect(Array.from(bytes)).toEqual([0x31, 0x2e, 0x30, 0x20, 0x20, 0x20, 0x20, 0x20]);
    expect(readAscii(viewOf(bytes), 0, 8)).toBe('1.0');
    expect(() => writeAscii(viewOf(bytes), 0, 8, '123456789')).toThrow(RangeError);
    expect(() => writeAscii(viewOf(bytes), 0, 8, 'é')).toThrow(RangeError);
    expect(() => writeAscii(viewOf(bytes), 0, 8, 'a\n')).toThrow(RangeError);
  });
});

describe('struct codec', () => {
  const layout = {
    A_B: { off: 0, size: 2 },
    NAME: { off: 2, size: 6, kind: 'ascii' },
    WIDE: { off: 8, size: 8 },
    LIST: { off: 16, size: 2, count: 3 },
    RAW: { off: 22, size: 2, kind: 'bytes' },
  } as const;
  const codec = defineStruct(24, layout);

  it('names properties in camelCase', () => {
    expect(camelCase('TMT1_TOTAL_TIME')).toBe('tmt1TotalTime');
    expect(camelCase('VID')).toBe('vid');
    expect(Object.keys(codec.decode(new Uint8Array(24)))).toEqual(['aB', 'name', 'wide', 'list', 'raw']);
  });

  it('writes absent fields and array tails as zero', () => {
    const out = codec.decode(codec.encode({ aB: 0x0102, list: [7] }));
    expect(out).toEqual({ aB: 0x0102, name: '', wide: 0n, list: [7, 0, 0], raw: new Uint8Array(2) });
  });

  it('rejects values that do not fit', () => {
    expect(() => codec.encode({ list: [1, 2, 3, 4] })).toThrow(RangeError);
    expect(() => codec.encode({ raw: new Uint8Array(3) })).toThrow(RangeError);
    expect(() => codec.encode({ wide: 1n << 64n })).toThrow(RangeError);
    expect(() => codec.encode({ name: 'toolong' })).toThrow(RangeError);
  });

  test.prop([layoutArb(layout)])('round-trips every value', (v) => {
    expect(codec.decode(codec.encode(v))).toEqual(v);
  });

  test.prop([fc.array(layoutArb(layout), { maxLength: 5 })])('arrays of entries round-trip', (list) => {
    const bytes = codec.encodeMany(list);
    expect(bytes.length).toBe(list.length * 24);
    expect(codec.decodeMany(bytes)).toEqual(list);
  });
});

describe('every codec layout is well formed', () => {
  it.each([
    ['ID_CTRL', ID_CTRL, IDENTIFY_DATA_SIZE],
    ['PSD', PSD, 32],
    ['ID_NS', ID_NS, IDENTIFY_DATA_SIZE],
    ['ERROR_INFO', ERROR_INFO, ERROR_INFO_SIZE],
    ['SMART_LOG', SMART_LOG, SMART_LOG_SIZE],
    ['FW_SLOT_LOG', FW_SLOT_LOG, FW_SLOT_LOG_SIZE],
    ['CMD_EFFECTS_LOG', CMD_EFFECTS_LOG, CMD_EFFECTS_LOG_SIZE],
    ['DSM_RANGE', DSM_RANGE, DSM_RANGE_SIZE],
  ] as const)('%s: fields are disjoint and inside the structure', (_, layout, size) => {
    expectDisjointWithin(layout, size);
  });
});
