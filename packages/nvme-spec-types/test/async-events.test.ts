import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  AER_DW0,
  AsyncEventInfoError,
  AsyncEventInfoNotice,
  AsyncEventInfoSmart,
  AsyncEventType,
  decodeAsyncEvent,
  encodeAsyncEvent,
  Lid,
} from '../src/index.js';
import { expectBitFields } from './spec-table.js';

describe('Asynchronous Event Request completion DW0 (NVMe Base 1.4 §5.2)', () => {
  it('fields: type 2:0, info 15:8, log page 23:16', () => {
    expectBitFields(AER_DW0, [
      ['TYPE', 2, 0],
      ['INFO', 15, 8],
      ['LOG_PAGE', 23, 16],
    ]);
  });

  it('type and information values', () => {
    expect(AsyncEventType).toEqual({ ERROR: 0, SMART: 1, NOTICE: 2, IO_COMMAND_SET: 6, VENDOR: 7 });
    expect(AsyncEventInfoError).toMatchObject({
      WRITE_TO_INVALID_DOORBELL: 0x00,
      INVALID_DOORBELL_WRITE_VALUE: 0x01,
      DIAGNOSTIC_FAILURE: 0x02,
      PERSISTENT_INTERNAL_ERROR: 0x03,
      TRANSIENT_INTERNAL_ERROR: 0x04,
      FIRMWARE_IMAGE_LOAD_ERROR: 0x05,
    });
    expect(AsyncEventInfoNotice).toMatchObject({
      NAMESPACE_ATTRIBUTE_CHANGED: 0x00,
      FIRMWARE_ACTIVATION_STARTING: 0x01,
    });
    expect(AsyncEventInfoSmart).toMatchObject({
      NVM_SUBSYSTEM_RELIABILITY: 0,
      TEMPERATURE_THRESHOLD: 1,
      SPARE_BELOW_THRESHOLD: 2,
    });
  });

  it('Invalid Doorbell Write Value with log 01h is 0x00010100 (docs/nvme-rules.md Q-3)', () => {
    const dw0 = encodeAsyncEvent(
      AsyncEventType.ERROR,
      AsyncEventInfoError.INVALID_DOORBELL_WRITE_VALUE,
      Lid.ERROR_INFORMATION,
    );
    expect(dw0).toBe(0x0001_0100);
    expect(decodeAsyncEvent(0x0004_0002)).toEqual({
      type: AsyncEventType.NOTICE,
      info: AsyncEventInfoNotice.NAMESPACE_ATTRIBUTE_CHANGED,
      logPage: Lid.CHANGED_NAMESPACE_LIST,
    });
  });

  test.prop([fc.nat({ max: 7 }), fc.nat({ max: 0xff }), fc.nat({ max: 0xff })])(
    'encode/decode round-trip',
    (type, info, logPage) => {
      expect(decodeAsyncEvent(encodeAsyncEvent(type, info, logPage))).toEqual({ type, info, logPage });
    },
  );
});
