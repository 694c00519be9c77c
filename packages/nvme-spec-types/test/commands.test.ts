import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  ABORT,
  Cns,
  CREATE_IO_CQ,
  CREATE_IO_SQ,
  commandSlba,
  DATASET_MANAGEMENT,
  DELETE_IO_QUEUE,
  DSM_MAX_RANGES,
  DSM_RANGE,
  DSM_RANGE_SIZE,
  decodeDsmRanges,
  encodeDsmRanges,
  IDENTIFY,
  PRINFO,
  packFields,
  QueuePriority,
  READ_WRITE,
  unpackFields,
  viewOf,
  WRITE_ZEROES,
} from '../src/index.js';
import { layoutArb } from './arbitraries.js';
import { expectBitFields, expectLayout } from './spec-table.js';

describe('queue management commands', () => {
  it('Create I/O CQ', () => {
    expectBitFields(CREATE_IO_CQ.CDW10, [
      ['QID', 15, 0],
      ['QSIZE', 31, 16],
    ]);
    expectBitFields(CREATE_IO_CQ.CDW11, [
      ['PC', 0, 0],
      ['IEN', 1, 1],
      ['IV', 31, 16],
    ]);
  });

  it('Create I/O SQ', () => {
    expectBitFields(CREATE_IO_SQ.CDW10, [
      ['QID', 15, 0],
      ['QSIZE', 31, 16],
    ]);
    expectBitFields(CREATE_IO_SQ.CDW11, [
      ['PC', 0, 0],
      ['QPRIO', 2, 1],
      ['CQID', 31, 16],
    ]);
    expectBitFields(CREATE_IO_SQ.CDW12, [['NVMSETID', 15, 0]]);
    expect(QueuePriority).toEqual({ URGENT: 0, HIGH: 1, MEDIUM: 2, LOW: 3 });
  });

  it('Linux creates CQ 1 with 1024 entries, PC|IEN, vector 1, then SQ 1 on it', () => {
    expect(packFields(CREATE_IO_CQ.CDW10, { QID: 1, QSIZE: 1023 })).toBe(0x03ff_0001);
    expect(packFields(CREATE_IO_CQ.CDW11, { PC: 1, IEN: 1, IV: 1 })).toBe(0x0001_0003);
    expect(packFields(CREATE_IO_SQ.CDW11, { PC: 1, CQID: 1, QPRIO: QueuePriority.MEDIUM })).toBe(0x0001_0005);
  });

  it('Delete I/O queue and Abort', () => {
    expectBitFields(DELETE_IO_QUEUE.CDW10, [['QID', 15, 0]]);
    expectBitFields(ABORT.CDW10, [
      ['SQID', 15, 0],
      ['CID', 31, 16],
    ]);
    expectBitFields(ABORT.DW0, [['NOT_ABORTED', 0, 0]]);
    expect(unpackFields(ABORT.CDW10, 0x0012_0003)).toEqual({ SQID: 3, CID: 0x12 });
  });

  it('Identify', () => {
    expectBitFields(IDENTIFY.CDW10, [
      ['CNS', 7, 0],
      ['CNTID', 31, 16],
    ]);
    expectBitFields(IDENTIFY.CDW11, [
      ['CNSSID', 15, 0],
      ['CSI', 31, 24],
    ]);
    expect(packFields(IDENTIFY.CDW10, { CNS: Cns.CONTROLLER })).toBe(1);
  });
});

describe('NVM commands', () => {
  it('Read/Write/Compare/Verify', () => {
    expectBitFields(READ_WRITE.CDW12, [
      ['NLB', 15, 0],
      ['DTYPE', 23, 20],
      ['PRINFO', 29, 26],
      ['FUA', 30, 30],
      ['LR', 31, 31],
    ]);
    expectBitFields(READ_WRITE.CDW13, [
      ['DSM', 7, 0],
      ['DSPEC', 31, 16],
    ]);
    expectBitFields(PRINFO, [
      ['PRCHK_REF', 0, 0],
      ['PRCHK_APP', 1, 1],
      ['PRCHK_GUARD', 2, 2],
      ['PRACT', 3, 3],
    ]);
    expect(commandSlba(0x89ab_cdef, 0x0000_0001)).toBe(0x1_89ab_cdefn);
    expect(packFields(READ_WRITE.CDW12, { NLB: 7, FUA: 1 })).toBe(0x4000_0007);
  });

  it('Write Zeroes', () => {
    expectBitFields(WRITE_ZEROES.CDW12, [
      ['NLB', 15, 0],
      ['DEAC', 25, 25],
      ['PRINFO', 29, 26],
      ['FUA', 30, 30],
      ['LR', 31, 31],
    ]);
  });

  it('Dataset Management dwords and range', () => {
    expectBitFields(DATASET_MANAGEMENT.CDW10, [['NR', 7, 0]]);
    expectBitFields(DATASET_MANAGEMENT.CDW11, [
      ['IDR', 0, 0],
      ['IDW', 1, 1],
      ['AD', 2, 2],
    ]);
    expect(DSM_RANGE_SIZE).toBe(16);
    expectLayout(DSM_RANGE, [
      ['CATTR', 0, 4],
      ['NLB', 4, 4],
      ['SLBA', 8, 8],
    ]);
  });

  it('encodes a deallocate range', () => {
    const bytes = encodeDsmRanges([{ nlb: 8, slba: 0x1000n }]);
    const view = viewOf(bytes);
    expect([view.getUint32(0, true), view.getUint32(4, true), view.getBigUint64(8, true)]).toEqual([0, 8, 0x1000n]);
    expect(() => encodeDsmRanges(Array.from({ length: DSM_MAX_RANGES + 1 }, () => ({})))).toThrow(RangeError);
  });

  test.prop([fc.array(layoutArb(DSM_RANGE), { minLength: 1, maxLength: DSM_MAX_RANGES })])(
    'ranges round-trip',
    (ranges) => {
      expect(decodeDsmRanges(encodeDsmRanges(ranges), ranges.length)).toEqual(ranges);
    },
  );
});
