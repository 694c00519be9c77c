import { describe, expect, it } from 'vitest';
import {
  AdminOpcode,
  adminOpcodeName,
  DataDirection,
  NvmOpcode,
  nvmOpcodeName,
  OPCODE_FIELDS,
  opcodeDataDirection,
} from '../src/index.js';
import { expectBitFields } from './spec-table.js';

describe('opcodes (NVMe Base 1.4 §5 admin, §6 NVM)', () => {
  it('admin opcodes', () => {
    expect(Object.entries(AdminOpcode)).toEqual([
      ['DELETE_IO_SQ', 0x00],
      ['CREATE_IO_SQ', 0x01],
      ['GET_LOG_PAGE', 0x02],
      ['DELETE_IO_CQ', 0x04],
      ['CREATE_IO_CQ', 0x05],
      ['IDENTIFY', 0x06],
      ['ABORT', 0x08],
      ['SET_FEATURES', 0x09],
      ['GET_FEATURES', 0x0a],
      ['ASYNC_EVENT_REQUEST', 0x0c],
      ['NAMESPACE_MANAGEMENT', 0x0d],
      ['FIRMWARE_COMMIT', 0x10],
      ['FIRMWARE_DOWNLOAD', 0x11],
      ['DEVICE_SELF_TEST', 0x14],
      ['NAMESPACE_ATTACHMENT', 0x15],
      ['KEEP_ALIVE', 0x18],
      ['DIRECTIVE_SEND', 0x19],
      ['DIRECTIVE_RECEIVE', 0x1a],
      ['VIRTUALIZATION_MANAGEMENT', 0x1c],
      ['NVME_MI_SEND', 0x1d],
      ['NVME_MI_RECEIVE', 0x1e],
      ['DOORBELL_BUFFER_CONFIG', 0x7c],
      ['FORMAT_NVM', 0x80],
      ['SECURITY_SEND', 0x81],
      ['SECURITY_RECEIVE', 0x82],
      ['SANITIZE', 0x84],
      ['GET_LBA_STATUS', 0x86],
    ]);
  });

  it('NVM opcodes', () => {
    expect(Object.entries(NvmOpcode)).toEqual([
      ['FLUSH', 0x00],
      ['WRITE', 0x01],
      ['READ', 0x02],
      ['WRITE_UNCORRECTABLE', 0x04],
      ['COMPARE', 0x05],
      ['WRITE_ZEROES', 0x08],
      ['DATASET_MANAGEMENT', 0x09],
      ['VERIFY', 0x0c],
      ['RESERVATION_REGISTER', 0x0d],
      ['RESERVATION_REPORT', 0x0e],
      ['RESERVATION_ACQUIRE', 0x11],
      ['RESERVATION_RELEASE', 0x15],
      ['COPY', 0x19],
    ]);
  });

  it('names', () => {
    expect(adminOpcodeName(0x06)).toBe('IDENTIFY');
    expect(adminOpcodeName(0x7c)).toBe('DOORBELL_BUFFER_CONFIG');
    expect(adminOpcodeName(0x03)).toBeUndefined();
    expect(nvmOpcodeName(0x02)).toBe('READ');
    expect(nvmOpcodeName(0xff)).toBeUndefined();
  });

  it('data direction from opcode bits 1:0', () => {
    expectBitFields(OPCODE_FIELDS, [
      ['DATA_TRANSFER', 1, 0],
      ['FUNCTION', 6, 2],
      ['GENERIC', 7, 7],
    ]);
    expect(opcodeDataDirection(NvmOpcode.FLUSH)).toBe(DataDirection.NONE);
    expect(opcodeDataDirection(NvmOpcode.WRITE)).toBe(DataDirection.HOST_TO_CONTROLLER);
    expect(opcodeDataDirection(NvmOpcode.READ)).toBe(DataDirection.CONTROLLER_TO_HOST);
    expect(opcodeDataDirection(NvmOpcode.COMPARE)).toBe(DataDirection.HOST_TO_CONTROLLER);
    expect(opcodeDataDirection(NvmOpcode.WRITE_ZEROES)).toBe(DataDirection.NONE);
    expect(opcodeDataDirection(NvmOpcode.DATASET_MANAGEMENT)).toBe(DataDirection.HOST_TO_CONTROLLER);
    expect(opcodeDataDirection(AdminOpcode.IDENTIFY)).toBe(DataDirection.CONTROLLER_TO_HOST);
    expect(opcodeDataDirection(AdminOpcode.GET_LOG_PAGE)).toBe(DataDirection.CONTROLLER_TO_HOST);
    expect(opcodeDataDirection(AdminOpcode.SET_FEATURES)).toBe(DataDirection.HOST_TO_CONTROLLER);
    expect(opcodeDataDirection(AdminOpcode.GET_FEATURES)).toBe(DataDirection.CONTROLLER_TO_HOST);
    expect(opcodeDataDirection(AdminOpcode.ABORT)).toBe(DataDirection.NONE);
    expect(opcodeDataDirection(0x03)).toBe(DataDirection.BIDIRECTIONAL);
  });
});
