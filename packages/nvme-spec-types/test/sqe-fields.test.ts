/**
 * The SQE builders against dwords worked out by hand from the specification's figures (NVMe Base
 * 1.4 §5.3–§5.6 queue management, §5.1 Abort, §5.15 Identify, §5.21 Features, §6.9 Read).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  AdminOpcode,
  abortFields,
  asyncEventRequestFields,
  createIoCqFields,
  createIoSqFields,
  datasetManagementFields,
  decodeSqe,
  deleteIoCqFields,
  deleteIoSqFields,
  encodeSqe,
  FeatureId,
  flushFields,
  getFeaturesFields,
  getLogPageFields,
  identifyFields,
  lbaFields,
  NvmOpcode,
  numberOfQueuesFields,
  setFeaturesFields,
  sqe,
  writeZeroesFields,
} from '../src/index.js';

describe('queue management', () => {
  it('Create I/O CQ: CDW10 QSIZE 31:16 | QID 15:0, CDW11 IV 31:16 | IEN bit 1 | PC bit 0, PRP1 the base', () => {
    expect(createIoCqFields({ qid: 3, size: 16, base: 0x1000n, iv: 2 })).toEqual({
      opcode: 0x05,
      prp1: 0x1000n,
      cdw10: 0x000f_0003,
      cdw11: 0x0002_0003,
    });
    expect(createIoCqFields({ qid: 1, size: 2, base: 0n, ien: false, pc: false }).cdw11).toBe(0);
  });

  it('a size of 1 or 65537 wraps to QSIZE 0, the invalid value a fuzzer wants to send', () => {
    expect(createIoCqFields({ qid: 1, size: 1, base: 0n }).cdw10).toBe(0x0000_0001);
    expect(createIoSqFields({ qid: 1, size: 0x10001, base: 0n, cqid: 1 }).cdw10).toBe(0x0000_0001);
    expect(createIoSqFields({ qid: 1, size: 0x10000, base: 0n, cqid: 1 }).cdw10).toBe(0xffff_0001);
  });

  it('Create I/O SQ: CDW11 CQID 31:16 | QPRIO 2:1 | PC bit 0, CDW12 NVMSETID', () => {
    expect(createIoSqFields({ qid: 4, size: 64, base: 0x2000n, cqid: 7, qprio: 2, nvmsetid: 9 })).toEqual({
      opcode: 0x01,
      prp1: 0x2000n,
      cdw10: 0x003f_0004,
      cdw11: 0x0007_0005,
      cdw12: 9,
    });
  });

  it('Delete I/O SQ 00h and CQ 04h carry the QID in CDW10 15:0', () => {
    expect(deleteIoSqFields(5)).toEqual({ opcode: 0x00, cdw10: 5 });
    expect(deleteIoCqFields(0xffff)).toEqual({ opcode: 0x04, cdw10: 0xffff });
  });
});

describe('other admin commands', () => {
  it('Abort: CDW10 CID 31:16 | SQID 15:0', () => {
    expect(abortFields(2, 0x1234)).toEqual({ opcode: 0x08, cdw10: 0x1234_0002 });
  });

  it('Identify: CDW10 CNTID 31:16 | CNS 7:0, CDW11 CSI 31:24', () => {
    expect(identifyFields(0x01)).toMatchObject({ opcode: 0x06, nsid: 0, cdw10: 1, cdw11: 0 });
    expect(identifyFields(0x05, { nsid: 1, cntid: 3, csi: 2 })).toMatchObject({
      nsid: 1,
      cdw10: 0x0003_0005,
      cdw11: 0x0200_0000,
    });
  });

  it('Features: Set carries SV in CDW10 bit 31, Get SEL in 10:8; Number of Queues is 0s based in both halves', () => {
    expect(setFeaturesFields(FeatureId.ARBITRATION, 3, { save: true })).toMatchObject({
      opcode: 0x09,
      cdw10: 0x8000_0001,
      cdw11: 3,
    });
    expect(getFeaturesFields(FeatureId.TEMPERATURE_THRESHOLD, { sel: 3 })).toMatchObject({ cdw10: 0x304 });
    expect(numberOfQueuesFields(4, 2)).toMatchObject({ cdw10: 0x07, cdw11: 0x0001_0003 });
  });

  it('Get Log Page: NUMDL is (length / 4) − 1', () => {
    expect(getLogPageFields({ lid: 2, length: 512 }, 0xffff_ffff)).toMatchObject({
      opcode: 0x02,
      nsid: 0xffff_ffff,
      cdw10: (127 << 16) | 2,
    });
  });

  it('Asynchronous Event Request has no fields but its opcode', () => {
    expect(asyncEventRequestFields()).toEqual({ opcode: AdminOpcode.ASYNC_EVENT_REQUEST });
  });
});

describe('NVM commands', () => {
  it('Read: SLBA in CDW11:10, NLB 0s based in CDW12 15:0, FUA bit 30', () => {
    expect(lbaFields(NvmOpcode.READ, { nsid: 1, slba: 0x1_0000_0002n, nlb: 8, fua: true })).toEqual({
      opcode: 0x02,
      nsid: 1,
      cdw10: 2,
      cdw11: 1,
      cdw12: 0x4000_0007,
    });
  });

  it('Write Zeroes: DEAC bit 25; Flush has only the NSID; DSM: NR 0s based, AD bit 2', () => {
    expect(writeZeroesFields({ nsid: 1, slba: 0n, nlb: 1, deallocate: true }).cdw12).toBe(0x0200_0000);
    expect(flushFields(1)).toEqual({ opcode: 0x00, nsid: 1 });
    expect(datasetManagementFields(1, 256, { ad: true })).toMatchObject({ opcode: 0x09, cdw10: 0xff, cdw11: 4 });
  });

  test.prop([fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 1, max: 0x10000 })])(
    'an LBA command round-trips through the SQE bytes',
    (slba, nlb) => {
      const s = decodeSqe(encodeSqe(sqe(lbaFields(NvmOpcode.WRITE, { nsid: 7, slba, nlb }))));
      expect(BigInt(s.cdw10) | (BigInt(s.cdw11) << 32n)).toBe(slba);
      expect((s.cdw12 & 0xffff) + 1).toBe(nlb);
    },
  );
});
