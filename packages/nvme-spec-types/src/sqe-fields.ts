/**
 * What each admin and NVM command puts in its SQE, as pure functions returning SQE fields
 * (NVMe Base 1.4 §5 admin commands, §6 NVM commands). The one set of SQE builders: the host
 * driver, case files, the differential corpus and the tests all build their commands here, so a
 * field lives in one place. No data pointer: PRP1/PRP2 or SGL1 are the caller's (a placement
 * policy's, or a case file's), except for queue creation, whose PRP1 is the ring's base.
 */
import { packFields, splitU64 } from './bits.js';
import {
  ABORT,
  CREATE_IO_CQ,
  CREATE_IO_SQ,
  DATASET_MANAGEMENT,
  DELETE_IO_QUEUE,
  IDENTIFY,
  READ_WRITE,
  WRITE_ZEROES,
} from './commands.js';
import { FEATURE_DW11, FeatureId, GET_FEATURES_CDW10, SET_FEATURES_CDW10 } from './features.js';
import { encodeGetLogPage, type GetLogPageArgs } from './log-pages.js';
import { AdminOpcode, NvmOpcode } from './opcodes.js';
import type { Sqe } from './sqe.js';

/** Some fields of an SQE; the rest are zero (see `sqe()`). */
export type SqeFields = Partial<Sqe>;

/** Queue sizes are 0's based 16-bit fields (QSIZE, NLB): `count − 1` wrapped to 16 bits. */
const U16_MASK = 0xffff;

function zeroBased(count: number): number {
  return (count - 1) & U16_MASK;
}

/** Create I/O Completion Queue (05h; Q-7): a ring of `size` entries at `base`. */
export interface CreateIoCqArgs {
  readonly qid: number;
  /** Entries (QSIZE + 1). */
  readonly size: number;
  /** PRP1: the ring's base (PC = 1) or a PRP list of its pages (PC = 0). */
  readonly base: bigint;
  /** Interrupts Enabled; default true. */
  readonly ien?: boolean;
  /** Interrupt Vector; default 0. */
  readonly iv?: number;
  /** Physically Contiguous; default true. */
  readonly pc?: boolean;
}

export function createIoCqFields(a: CreateIoCqArgs): SqeFields {
  return {
    opcode: AdminOpcode.CREATE_IO_CQ,
    prp1: a.base,
    cdw10: packFields(CREATE_IO_CQ.CDW10, { QID: a.qid, QSIZE: zeroBased(a.size) }),
    cdw11: packFields(CREATE_IO_CQ.CDW11, {
      PC: (a.pc ?? true) ? 1 : 0,
      IEN: (a.ien ?? true) ? 1 : 0,
      IV: a.iv ?? 0,
    }),
  };
}

/** Create I/O Submission Queue (01h; Q-8): a ring of `size` entries at `base`, completing to `cqid`. */
export interface CreateIoSqArgs {
  readonly qid: number;
  readonly size: number;
  readonly base: bigint;
  readonly cqid: number;
  readonly pc?: boolean;
  /** Queue priority (weighted round robin only); default 0. */
  readonly qprio?: number;
  readonly nvmsetid?: number;
}

export function createIoSqFields(a: CreateIoSqArgs): SqeFields {
  return {
    opcode: AdminOpcode.CREATE_IO_SQ,
    prp1: a.base,
    cdw10: packFields(CREATE_IO_SQ.CDW10, { QID: a.qid, QSIZE: zeroBased(a.size) }),
    cdw11: packFields(CREATE_IO_SQ.CDW11, { PC: (a.pc ?? true) ? 1 : 0, QPRIO: a.qprio ?? 0, CQID: a.cqid }),
    cdw12: packFields(CREATE_IO_SQ.CDW12, { NVMSETID: a.nvmsetid ?? 0 }),
  };
}

/** Delete I/O Submission Queue (00h; Q-9). */
export function deleteIoSqFields(qid: number): SqeFields {
  return { opcode: AdminOpcode.DELETE_IO_SQ, cdw10: packFields(DELETE_IO_QUEUE.CDW10, { QID: qid }) };
}

/** Delete I/O Completion Queue (04h; Q-9). */
export function deleteIoCqFields(qid: number): SqeFields {
  return { opcode: AdminOpcode.DELETE_IO_CQ, cdw10: packFields(DELETE_IO_QUEUE.CDW10, { QID: qid }) };
}

/** Identify (06h; C-A1): 4096 bytes to the host. */
export function identifyFields(cns: number, options: { nsid?: number; cntid?: number; csi?: number } = {}): SqeFields {
  return {
    opcode: AdminOpcode.IDENTIFY,
    nsid: options.nsid ?? 0,
    cdw10: packFields(IDENTIFY.CDW10, { CNS: cns, CNTID: options.cntid ?? 0 }),
    cdw11: packFields(IDENTIFY.CDW11, { CNSSID: 0, CSI: options.csi ?? 0 }),
  };
}

/** Get Log Page (02h; C-A2): `args.length` bytes, a multiple of 4. */
export function getLogPageFields(
  args: Partial<GetLogPageArgs> & Pick<GetLogPageArgs, 'lid' | 'length'>,
  nsid: number,
): SqeFields {
  return { opcode: AdminOpcode.GET_LOG_PAGE, nsid, ...encodeGetLogPage(args) };
}

/** Get Features (0Ah; C-A3): the value comes back in completion DW0. */
export function getFeaturesFields(
  fid: number,
  options: { sel?: number; nsid?: number; cdw11?: number } = {},
): SqeFields {
  return {
    opcode: AdminOpcode.GET_FEATURES,
    nsid: options.nsid ?? 0,
    cdw10: packFields(GET_FEATURES_CDW10, { FID: fid, SEL: options.sel ?? 0 }),
    cdw11: options.cdw11 ?? 0,
  };
}

/** Set Features (09h; C-A3): FID, SV and the feature's Dword 11. */
export function setFeaturesFields(
  fid: number,
  value: number,
  options: { save?: boolean; nsid?: number } = {},
): SqeFields {
  return {
    opcode: AdminOpcode.SET_FEATURES,
    nsid: options.nsid ?? 0,
    cdw10: packFields(SET_FEATURES_CDW10, { FID: fid, SV: options.save ? 1 : 0 }),
    cdw11: value >>> 0,
  };
}

/** Set Features Number of Queues (07h): `sqs` I/O SQs and `cqs` I/O CQs requested (0's based fields). */
export function numberOfQueuesFields(sqs: number, cqs: number = sqs): SqeFields {
  return setFeaturesFields(
    FeatureId.NUMBER_OF_QUEUES,
    packFields(FEATURE_DW11.NUMBER_OF_QUEUES, { NSQR: zeroBased(sqs), NCQR: zeroBased(cqs) }),
  );
}

/** Abort (08h; Q-10) of `cid` on `sqid`. */
export function abortFields(sqid: number, cid: number): SqeFields {
  return { opcode: AdminOpcode.ABORT, cdw10: packFields(ABORT.CDW10, { SQID: sqid, CID: cid }) };
}

/** Asynchronous Event Request (0Ch; Q-11): completes when an event occurs. */
export function asyncEventRequestFields(): SqeFields {
  return { opcode: AdminOpcode.ASYNC_EVENT_REQUEST };
}

/** An LBA range command: SLBA in CDW11:10, `nlb` blocks (NLB 0's based in CDW12; C-2). */
export interface LbaArgs {
  readonly nsid: number;
  readonly slba: bigint;
  /** Blocks (1's based here). */
  readonly nlb: number;
  /** Force Unit Access. */
  readonly fua?: boolean;
}

/** Read 02h, Write 01h, Compare 05h, Verify 0Ch: the SLBA/NLB fields (C-2). */
export function lbaFields(opcode: number, a: LbaArgs): SqeFields {
  const { lo, hi } = splitU64(BigInt.asUintN(64, a.slba));
  return {
    opcode,
    nsid: a.nsid,
    cdw10: lo,
    cdw11: hi,
    cdw12: packFields(READ_WRITE.CDW12, { NLB: zeroBased(a.nlb), FUA: a.fua ? 1 : 0 }),
  };
}

/** Flush (00h; C-1). */
export function flushFields(nsid: number): SqeFields {
  return { opcode: NvmOpcode.FLUSH, nsid };
}

/** Write Zeroes (08h; C-6) of `nlb` blocks, optionally deallocating. */
export function writeZeroesFields(a: LbaArgs & { readonly deallocate?: boolean }): SqeFields {
  const { lo, hi } = splitU64(BigInt.asUintN(64, a.slba));
  return {
    opcode: NvmOpcode.WRITE_ZEROES,
    nsid: a.nsid,
    cdw10: lo,
    cdw11: hi,
    cdw12: packFields(WRITE_ZEROES.CDW12, { NLB: zeroBased(a.nlb), DEAC: a.deallocate ? 1 : 0, FUA: a.fua ? 1 : 0 }),
  };
}

/** Dataset Management (09h; C-7): `ranges` ranges (1..256) with attributes IDR/IDW/AD. */
export function datasetManagementFields(
  nsid: number,
  ranges: number,
  attributes: { idr?: boolean; idw?: boolean; ad?: boolean } = {},
): SqeFields {
  return {
    opcode: NvmOpcode.DATASET_MANAGEMENT,
    nsid,
    cdw10: packFields(DATASET_MANAGEMENT.CDW10, { NR: ranges - 1 }),
    cdw11: packFields(DATASET_MANAGEMENT.CDW11, {
      IDR: attributes.idr ? 1 : 0,
      IDW: attributes.idw ? 1 : 0,
      AD: attributes.ad ? 1 : 0,
    }),
  };
}
