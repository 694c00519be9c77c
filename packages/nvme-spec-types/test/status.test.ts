import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  formatStatus,
  isSuccess,
  makeStatus,
  parseStatus,
  SC,
  Sct,
  STATUS_FIELD,
  STATUS_SUCCESS,
  Status,
  statusCrd,
  statusDnr,
  statusMore,
  statusName,
  statusSc,
  statusSct,
  withDnr,
} from '../src/index.js';
import { expectBitFields } from './spec-table.js';

/** NVMe Base 1.4 §4.6.1.2 (Generic, Command Specific, Media and Data Integrity status values). */
const SPEC_STATUS: readonly (readonly [sct: number, sc: number, name: string])[] = [
  [0, 0x00, 'Successful Completion'],
  [0, 0x01, 'Invalid Command Opcode'],
  [0, 0x02, 'Invalid Field in Command'],
  [0, 0x03, 'Command ID Conflict'],
  [0, 0x04, 'Data Transfer Error'],
  [0, 0x05, 'Commands Aborted due to Power Loss Notification'],
  [0, 0x06, 'Internal Error'],
  [0, 0x07, 'Command Abort Requested'],
  [0, 0x08, 'Command Aborted due to SQ Deletion'],
  [0, 0x09, 'Command Aborted due to Failed Fused Command'],
  [0, 0x0a, 'Command Aborted due to Missing Fused Command'],
  [0, 0x0b, 'Invalid Namespace or Format'],
  [0, 0x0c, 'Command Sequence Error'],
  [0, 0x0d, 'Invalid SGL Segment Descriptor'],
  [0, 0x0e, 'Invalid Number of SGL Descriptors'],
  [0, 0x0f, 'Data SGL Length Invalid'],
  [0, 0x10, 'Metadata SGL Length Invalid'],
  [0, 0x11, 'SGL Descriptor Type Invalid'],
  [0, 0x12, 'Invalid Use of Controller Memory Buffer'],
  [0, 0x13, 'PRP Offset Invalid'],
  [0, 0x14, 'Atomic Write Unit Exceeded'],
  [0, 0x15, 'Operation Denied'],
  [0, 0x16, 'SGL Offset Invalid'],
  [0, 0x18, 'Host Identifier Inconsistent Format'],
  [0, 0x19, 'Keep Alive Timer Expired'],
  [0, 0x1a, 'Keep Alive Timeout Invalid'],
  [0, 0x1b, 'Command Aborted due to Preempt and Abort'],
  [0, 0x1c, 'Sanitize Failed'],
  [0, 0x1d, 'Sanitize In Progress'],
  [0, 0x1e, 'SGL Data Block Granularity Invalid'],
  [0, 0x1f, 'Command Not Supported for Queue in CMB'],
  [0, 0x20, 'Namespace is Write Protected'],
  [0, 0x21, 'Command Interrupted'],
  [0, 0x22, 'Transient Transport Error'],
  [0, 0x80, 'LBA Out of Range'],
  [0, 0x81, 'Capacity Exceeded'],
  [0, 0x82, 'Namespace Not Ready'],
  [0, 0x83, 'Reservation Conflict'],
  [0, 0x84, 'Format In Progress'],
  [1, 0x00, 'Completion Queue Invalid'],
  [1, 0x01, 'Invalid Queue Identifier'],
  [1, 0x02, 'Invalid Queue Size'],
  [1, 0x03, 'Abort Command Limit Exceeded'],
  [1, 0x05, 'Asynchronous Event Request Limit Exceeded'],
  [1, 0x06, 'Invalid Firmware Slot'],
  [1, 0x07, 'Invalid Firmware Image'],
  [1, 0x08, 'Invalid Interrupt Vector'],
  [1, 0x09, 'Invalid Log Page'],
  [1, 0x0a, 'Invalid Format'],
  [1, 0x0b, 'Firmware Activation Requires Conventional Reset'],
  [1, 0x0c, 'Invalid Queue Deletion'],
  [1, 0x0d, 'Feature Identifier Not Saveable'],
  [1, 0x0e, 'Feature Not Changeable'],
  [1, 0x0f, 'Feature Not Namespace Specific'],
  [1, 0x80, 'Conflicting Attributes'],
  [1, 0x81, 'Invalid Protection Information'],
  [1, 0x82, 'Attempted Write to Read Only Range'],
  [2, 0x80, 'Write Fault'],
  [2, 0x81, 'Unrecovered Read Error'],
  [2, 0x82, 'End-to-end Guard Check Error'],
  [2, 0x83, 'End-to-end Application Tag Check Error'],
  [2, 0x84, 'End-to-end Reference Tag Check Error'],
  [2, 0x85, 'Compare Failure'],
  [2, 0x86, 'Access Denied'],
  [2, 0x87, 'Deallocated or Unwritten Logical Block'],
  // Path Related Status (NVMe 1.4 Figure 130).
  [3, 0x00, 'Internal Path Error'],
  [3, 0x01, 'Asymmetric Access Persistent Loss'],
  [3, 0x02, 'Asymmetric Access Inaccessible'],
  [3, 0x03, 'Asymmetric Access Transition'],
  [3, 0x60, 'Controller Pathing Error'],
  [3, 0x70, 'Host Pathing Error'],
  [3, 0x71, 'Command Aborted By Host'],
];

describe('status encoding', () => {
  it('Status Field bits (CQE DW3 31:17 shifted down by 17)', () => {
    expectBitFields(STATUS_FIELD, [
      ['SC', 7, 0],
      ['SCT', 10, 8],
      ['CRD', 12, 11],
      ['M', 13, 13],
      ['DNR', 14, 14],
    ]);
    expect(Sct).toEqual({ GENERIC: 0, COMMAND_SPECIFIC: 1, MEDIA: 2, PATH: 3, VENDOR: 7 });
  });

  it('0/13h with DNR is 0x4013; Linux NVME_SC values match without DNR', () => {
    expect(makeStatus(0, 0x13)).toBe(0x4013);
    expect(Status.PRP_INVALID_OFFSET).toBe(0x4013);
    expect(SC.PRP_INVALID_OFFSET).toBe(0x13);
    expect(makeStatus(Sct.COMMAND_SPECIFIC, SC.INVALID_QUEUE, false)).toBe(0x10c);
    expect(withDnr(Status.READ_ERROR, false)).toBe(0x281);
    expect(Status.INVALID_FIELD).toBe(0x4002);
    expect(STATUS_SUCCESS).toBe(0);
    expect(Status.SUCCESS).toBe(0);
  });

  it('field accessors', () => {
    const s = 0x7fff;
    expect([statusSct(s), statusSc(s), statusDnr(s), statusMore(s), statusCrd(s)]).toEqual([7, 0xff, true, true, 3]);
    expect([statusDnr(0x0002), statusMore(0x2002), statusCrd(0x0802)]).toEqual([false, true, 1]);
    expect(isSuccess(withDnr(STATUS_SUCCESS, true))).toBe(true);
    expect(isSuccess(Status.CQ_INVALID)).toBe(false);
  });
});

describe('status table', () => {
  it('names every status the specification table lists', () => {
    for (const [sct, sc, name] of SPEC_STATUS) expect(statusName(makeStatus(sct, sc))).toBe(name);
  });

  it('every named constant is in the specification table, with DNR set except for success', () => {
    const specCodes = new Set(SPEC_STATUS.map(([sct, sc]) => makeStatus(sct, sc, false)));
    const entries = Object.entries(Status);
    expect(entries).toHaveLength(SPEC_STATUS.length);
    for (const [key, s] of entries) {
      expect(specCodes.has(withDnr(s, false)), key).toBe(true);
      expect(statusDnr(s), key).toBe(key !== 'SUCCESS');
      expect(statusSc(s), key).toBe(SC[key as keyof typeof SC]);
    }
  });

  it('unknown and vendor codes still have a name', () => {
    expect(statusName(makeStatus(0, 0x17))).toBe('Unknown Status');
    expect(statusName(makeStatus(Sct.VENDOR, 0x42))).toBe('Vendor Specific');
  });
});

describe('format and parse', () => {
  it('formats with the spec name and flags', () => {
    expect(formatStatus(Status.INVALID_FIELD)).toBe('0/02h Invalid Field in Command (DNR)');
    expect(formatStatus(Status.INVALID_QUEUE)).toBe('1/0Ch Invalid Queue Deletion (DNR)');
    expect(formatStatus(STATUS_SUCCESS)).toBe('0/00h Successful Completion');
    expect(formatStatus(makeStatus(0, 0x07, false))).toBe('0/07h Command Abort Requested (no DNR)');
    expect(formatStatus(0x7a81)).toBe('2/81h Unrecovered Read Error (DNR, M, CRD=3)');
  });

  it('parses the short forms with DNR by default', () => {
    expect(parseStatus('0/13h')).toBe(0x4013);
    expect(parseStatus('0x0/0x13')).toBe(0x4013);
    expect(parseStatus('1/0Ch')).toBe(Status.INVALID_QUEUE);
    expect(parseStatus('1/0ch Invalid Queue Deletion')).toBe(Status.INVALID_QUEUE);
    expect(parseStatus(' 00/13 ')).toBe(0x4013);
    expect(parseStatus('0/00h')).toBe(STATUS_SUCCESS);
    expect(parseStatus('0/02h (no DNR)')).toBe(0x0002);
    expect(parseStatus('0/02h Invalid Field in Command (M)')).toBe(0x2002);
    expect(parseStatus('0/02h (dnr, crd 2)')).toBe(0x5002);
  });

  it('rejects what is not a status', () => {
    for (const text of ['', '13h', '8/00h', '0/100h', '0/13h (DNR, X)', '0/13h (CRD=4)', 'x/13h', '0/13hz']) {
      expect(parseStatus(text), text).toBeUndefined();
    }
  });

  it('every 15-bit status round-trips through format/parse', () => {
    for (let s = 0; s <= 0x7fff; s++) expect(parseStatus(formatStatus(s))).toBe(s);
  });

  test.prop([fc.nat({ max: 7 }), fc.nat({ max: 0xff }), fc.boolean()])(
    'makeStatus composes its fields',
    (sct, sc, dnr) => {
      const s = makeStatus(sct, sc, dnr);
      expect([statusSct(s), statusSc(s), statusDnr(s), statusMore(s), statusCrd(s)]).toEqual([sct, sc, dnr, false, 0]);
    },
  );
});
