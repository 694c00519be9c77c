import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  CMD_EFFECTS,
  CMD_EFFECTS_LOG,
  CMD_EFFECTS_LOG_SIZE,
  CQE_STATUS,
  decodeCommandEffectsLog,
  decodeErrorInformation,
  decodeFirmwareSlotLog,
  decodeGetLogPage,
  decodeSmartLog,
  ERROR_INFO,
  ERROR_INFO_SIZE,
  ERROR_PARAM_LOCATION,
  encodeCommandEffectsLog,
  encodeErrorInformation,
  encodeFirmwareSlotLog,
  encodeGetLogPage,
  encodeSmartLog,
  FW_SLOT_AFI,
  FW_SLOT_LOG,
  FW_SLOT_LOG_SIZE,
  GET_LOG_PAGE,
  getBits,
  Lid,
  logPageName,
  NvmOpcode,
  packFields,
  SMART_CRITICAL_WARNING,
  SMART_LOG,
  SMART_LOG_SIZE,
  Status,
  setBits,
  viewOf,
} from '../src/index.js';
import { layoutArb } from './arbitraries.js';
import { expectBitFields, expectLayout } from './spec-table.js';

describe('log page identifiers', () => {
  it('values and names', () => {
    expect(Lid).toMatchObject({
      SUPPORTED_LOGS: 0x00,
      ERROR_INFORMATION: 0x01,
      SMART_HEALTH: 0x02,
      FIRMWARE_SLOT: 0x03,
      CHANGED_NAMESPACE_LIST: 0x04,
      COMMANDS_SUPPORTED_EFFECTS: 0x05,
      DEVICE_SELF_TEST: 0x06,
      TELEMETRY_HOST: 0x07,
      TELEMETRY_CONTROLLER: 0x08,
      RESERVATION_NOTIFICATION: 0x80,
      SANITIZE_STATUS: 0x81,
    });
    expect(logPageName(0x02)).toBe('SMART_HEALTH');
    expect(logPageName(0x7f)).toBeUndefined();
  });
});

describe('Get Log Page command dwords', () => {
  it('fields', () => {
    expectBitFields(GET_LOG_PAGE.CDW10, [
      ['LID', 7, 0],
      ['LSP', 11, 8],
      ['RAE', 15, 15],
      ['NUMDL', 31, 16],
    ]);
    expectBitFields(GET_LOG_PAGE.CDW11, [
      ['NUMDU', 15, 0],
      ['LSI', 31, 16],
    ]);
  });

  it('SMART log of 512 bytes: NUMD = 127', () => {
    const d = encodeGetLogPage({ lid: Lid.SMART_HEALTH, length: 512 });
    expect(d).toEqual({ cdw10: (127 << 16) | 0x02, cdw11: 0, cdw12: 0, cdw13: 0 });
  });

  it('a large read at a 64-bit offset splits NUMD and the offset', () => {
    const d = encodeGetLogPage({ lid: Lid.TELEMETRY_HOST, length: 0x4_0000 * 4, offset: 0x1_0000_0200n, rae: true });
    expect(getBits(d.cdw10, GET_LOG_PAGE.CDW10.NUMDL)).toBe(0xffff);
    expect(getBits(d.cdw11, GET_LOG_PAGE.CDW11.NUMDU)).toBe(3);
    expect([d.cdw12, d.cdw13]).toEqual([0x200, 1]);
    expect(getBits(d.cdw10, GET_LOG_PAGE.CDW10.RAE)).toBe(1);
  });

  it('rejects a length that is not a positive multiple of 4', () => {
    expect(() => encodeGetLogPage({ lid: 1, length: 0 })).toThrow(RangeError);
    expect(() => encodeGetLogPage({ lid: 1, length: 6 })).toThrow(RangeError);
  });

  test.prop([
    fc.record({
      lid: fc.nat({ max: 0xff }),
      length: fc.integer({ min: 1, max: 2 ** 32 }).map((dwords) => dwords * 4),
      offset: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      lsp: fc.nat({ max: 0xf }),
      rae: fc.boolean(),
      lsi: fc.nat({ max: 0xffff }),
    }),
  ])('encode/decode round-trip over the full NUMD range', (args) => {
    expect(decodeGetLogPage(encodeGetLogPage(args))).toEqual(args);
  });
});

describe('Error Information log (LID 01h)', () => {
  it('entry layout', () => {
    expect(ERROR_INFO_SIZE).toBe(64);
    expectLayout(ERROR_INFO, [
      ['ERROR_COUNT', 0, 8],
      ['SQID', 8, 2],
      ['CID', 10, 2],
      ['STATUS', 12, 2],
      ['PARAM_ERROR_LOCATION', 14, 2],
      ['LBA', 16, 8],
      ['NSID', 24, 4],
      ['VS', 28, 1],
      ['TRTYPE', 29, 1],
      ['COMMAND_SPECIFIC', 32, 8],
      ['TRTYPE_SPECIFIC', 40, 2],
    ]);
    expectBitFields(ERROR_PARAM_LOCATION, [
      ['BYTE', 7, 0],
      ['BIT', 10, 8],
    ]);
  });

  it('records a PRP Offset Invalid in PRP1 (SQE byte 24) with the CQE status layout', () => {
    const status = setBits(setBits(0, CQE_STATUS.SF, Status.PRP_INVALID_OFFSET), CQE_STATUS.P, 1);
    const bytes = encodeErrorInformation([
      {
        errorCount: 1n,
        sqid: 1,
        cid: 9,
        status,
        paramErrorLocation: packFields(ERROR_PARAM_LOCATION, { BYTE: 24, BIT: 0 }),
        nsid: 1,
      },
    ]);
    const view = viewOf(bytes);
    expect(bytes.length).toBe(64);
    expect(view.getUint16(12, true)).toBe(0x8027);
    expect(view.getUint16(14, true)).toBe(24);
    const [entry] = decodeErrorInformation(bytes);
    expect(getBits(entry?.status ?? 0, CQE_STATUS.SF)).toBe(Status.PRP_INVALID_OFFSET);
  });

  test.prop([fc.array(layoutArb(ERROR_INFO), { maxLength: 4 })])('entries round-trip', (entries) => {
    expect(decodeErrorInformation(encodeErrorInformation(entries))).toEqual(entries);
  });
});

describe('SMART / Health Information log (LID 02h)', () => {
  it('layout', () => {
    expect(SMART_LOG_SIZE).toBe(512);
    expectLayout(SMART_LOG, [
      ['CRITICAL_WARNING', 0, 1],
      ['COMPOSITE_TEMPERATURE', 1, 2],
      ['AVAILABLE_SPARE', 3, 1],
      ['AVAILABLE_SPARE_THRESHOLD', 4, 1],
      ['PERCENTAGE_USED', 5, 1],
      ['ENDURANCE_GROUP_CRITICAL_WARNING', 6, 1],
      ['DATA_UNITS_READ', 32, 16],
      ['DATA_UNITS_WRITTEN', 48, 16],
      ['HOST_READ_COMMANDS', 64, 16],
      ['HOST_WRITE_COMMANDS', 80, 16],
      ['CONTROLLER_BUSY_TIME', 96, 16],
      ['POWER_CYCLES', 112, 16],
      ['POWER_ON_HOURS', 128, 16],
      ['UNSAFE_SHUTDOWNS', 144, 16],
      ['MEDIA_ERRORS', 160, 16],
      ['NUM_ERROR_LOG_ENTRIES', 176, 16],
      ['WARNING_TEMP_TIME', 192, 4],
      ['CRITICAL_TEMP_TIME', 196, 4],
      ['TEMP_SENSOR', 200, 2],
      ['TMT1_TRANSITION_COUNT', 216, 4],
      ['TMT2_TRANSITION_COUNT', 220, 4],
      ['TMT1_TOTAL_TIME', 224, 4],
      ['TMT2_TOTAL_TIME', 228, 4],
    ]);
    expect(SMART_LOG.TEMP_SENSOR.count).toBe(8);
    expectBitFields(SMART_CRITICAL_WARNING, [
      ['AVAILABLE_SPARE', 0, 0],
      ['TEMPERATURE', 1, 1],
      ['RELIABILITY', 2, 2],
      ['READ_ONLY', 3, 3],
      ['VOLATILE_BACKUP', 4, 4],
      ['PMR_READ_ONLY', 5, 5],
    ]);
  });

  it('encodes 128-bit counters little endian and temperatures in Kelvin', () => {
    const bytes = encodeSmartLog({
      compositeTemperature: 273 + 40,
      availableSpare: 100,
      dataUnitsRead: (1n << 64n) + 5n,
      tempSensor: [313, 314],
    });
    const view = viewOf(bytes);
    expect(view.getUint16(1, true)).toBe(313);
    expect(view.getBigUint64(32, true)).toBe(5n);
    expect(view.getBigUint64(40, true)).toBe(1n);
    expect([view.getUint16(200, true), view.getUint16(202, true), view.getUint16(204, true)]).toEqual([313, 314, 0]);
    expect(decodeSmartLog(bytes).dataUnitsRead).toBe((1n << 64n) + 5n);
  });

  test.prop([layoutArb(SMART_LOG)])('round-trips', (log) => {
    expect(decodeSmartLog(encodeSmartLog(log))).toEqual(log);
  });
});

describe('Firmware Slot Information log (LID 03h)', () => {
  it('layout: AFI at 0, FRSn at 8 + 8(n-1)', () => {
    expect(FW_SLOT_LOG_SIZE).toBe(512);
    expectLayout(FW_SLOT_LOG, [
      ['AFI', 0, 1],
      ['FRS', 8, 8],
    ]);
    const frsOffsets = Array.from({ length: FW_SLOT_LOG.FRS.count }, (_, i) => FW_SLOT_LOG.FRS.off + i * 8);
    expect(frsOffsets).toEqual([8, 16, 24, 32, 40, 48, 56]);
    expectBitFields(FW_SLOT_AFI, [
      ['ACTIVE', 2, 0],
      ['NEXT', 6, 4],
    ]);
  });

  it('slot 1 active with revision "1.0"', () => {
    const bytes = encodeFirmwareSlotLog({ afi: packFields(FW_SLOT_AFI, { ACTIVE: 1 }), frs: ['1.0'] });
    expect(bytes[0]).toBe(1);
    expect(String.fromCharCode(...bytes.subarray(8, 16))).toBe('1.0     ');
    expect(decodeFirmwareSlotLog(bytes).frs).toEqual(['1.0', '', '', '', '', '', '']);
  });

  test.prop([layoutArb(FW_SLOT_LOG)])('round-trips', (log) => {
    expect(decodeFirmwareSlotLog(encodeFirmwareSlotLog(log))).toEqual(log);
  });
});

describe('Commands Supported and Effects log (LID 05h)', () => {
  it('layout and effect bits', () => {
    expect(CMD_EFFECTS_LOG_SIZE).toBe(4096);
    expectLayout(CMD_EFFECTS_LOG, [
      ['ACS', 0, 4],
      ['IOCS', 1024, 4],
    ]);
    expect([CMD_EFFECTS_LOG.ACS.count, CMD_EFFECTS_LOG.IOCS.count]).toEqual([256, 256]);
    expectBitFields(CMD_EFFECTS, [
      ['CSUPP', 0, 0],
      ['LBCC', 1, 1],
      ['NCC', 2, 2],
      ['NIC', 3, 3],
      ['CCC', 4, 4],
      ['CSE', 18, 16],
      ['UUID_SEL', 19, 19],
    ]);
  });

  it('Write is supported and changes LBA content: IOCS[01h] at byte 1028', () => {
    const iocs = Array.from({ length: 256 }, () => 0);
    iocs[NvmOpcode.WRITE] = packFields(CMD_EFFECTS, { CSUPP: 1, LBCC: 1 });
    const bytes = encodeCommandEffectsLog({ iocs });
    expect(viewOf(bytes).getUint32(1024 + 4 * NvmOpcode.WRITE, true)).toBe(0b11);
    expect(decodeCommandEffectsLog(bytes).iocs[NvmOpcode.WRITE]).toBe(0b11);
  });

  test.prop([layoutArb(CMD_EFFECTS_LOG)], { numRuns: 20 })('round-trips', (log) => {
    expect(decodeCommandEffectsLog(encodeCommandEffectsLog(log))).toEqual(log);
  });
});
