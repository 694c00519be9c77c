/**
 * Admin commands as {@link CommandSpec}s (NVMe Base 1.4 §5): the command dwords of each, ready for
 * `NvmeDriver.submit`. Data transfers are described by length; a placement policy places them.
 */
import {
  ABORT,
  AdminOpcode,
  CREATE_IO_CQ,
  CREATE_IO_SQ,
  DELETE_IO_QUEUE,
  encodeGetLogPage,
  FEATURE_DW11,
  FeatureId,
  GET_FEATURES_CDW10,
  type GetLogPageArgs,
  IDENTIFY,
  IDENTIFY_DATA_SIZE,
  packFields,
  SET_FEATURES_CDW10,
} from '@epfsim/nvme-spec-types';
import type { CommandLayout, PlacementPolicy } from '../placement/layout.js';
import type { CommandSpec } from './driver-types.js';

/** `{ placement }` when one is given: absent properties stay absent. */
function placed(placement: PlacementPolicy | undefined): { placement?: PlacementPolicy } {
  return placement === undefined ? {} : { placement };
}

/** Identify (06h): CNS, CNTID; always 4096 bytes to the host (C-A1). */
export function identifyCommand(cns: number, nsid = 0, cntid = 0, placement?: PlacementPolicy): CommandSpec {
  return {
    opcode: AdminOpcode.IDENTIFY,
    nsid,
    cdw10: packFields(IDENTIFY.CDW10, { CNS: cns, CNTID: cntid }),
    data: { length: IDENTIFY_DATA_SIZE, ...placed(placement) },
  };
}

/** Get Log Page (02h): `args.length` bytes (a multiple of 4) to the host (C-A2). */
export function getLogPageCommand(
  args: Partial<GetLogPageArgs> & Pick<GetLogPageArgs, 'lid' | 'length'>,
  nsid: number,
  placement?: PlacementPolicy,
): CommandSpec {
  return {
    opcode: AdminOpcode.GET_LOG_PAGE,
    nsid,
    ...encodeGetLogPage(args),
    data: { length: args.length, ...placed(placement) },
  };
}

/** Get Features (0Ah): FID and SEL; the value comes back in completion DW0 (C-A3). */
export function getFeaturesCommand(
  fid: number,
  options: { sel?: number; nsid?: number; cdw11?: number } = {},
): CommandSpec {
  return {
    opcode: AdminOpcode.GET_FEATURES,
    nsid: options.nsid ?? 0,
    cdw10: packFields(GET_FEATURES_CDW10, { FID: fid, SEL: options.sel ?? 0 }),
    cdw11: options.cdw11 ?? 0,
  };
}

/** Set Features (09h): FID, SV and the feature's Dword 11 (C-A3). */
export function setFeaturesCommand(
  fid: number,
  value: number,
  options: { save?: boolean; nsid?: number } = {},
): CommandSpec {
  return {
    opcode: AdminOpcode.SET_FEATURES,
    nsid: options.nsid ?? 0,
    cdw10: packFields(SET_FEATURES_CDW10, { FID: fid, SV: options.save ? 1 : 0 }),
    cdw11: value,
  };
}

/** Set Features Number of Queues asking for `pairs` I/O SQs and CQs (0's based fields). */
export function numberOfQueuesCommand(pairs: number): CommandSpec {
  return setFeaturesCommand(
    FeatureId.NUMBER_OF_QUEUES,
    packFields(FEATURE_DW11.NUMBER_OF_QUEUES, { NSQR: pairs - 1, NCQR: pairs - 1 }),
  );
}

/** Abort (08h) of `cid` on `sqid`. */
export function abortCommand(sqid: number, cid: number): CommandSpec {
  return { opcode: AdminOpcode.ABORT, cdw10: packFields(ABORT.CDW10, { SQID: sqid, CID: cid }) };
}

/** Create I/O CQ (05h), physically contiguous; interrupts on `vector`, or none when undefined. */
export function createIoCqCommand(
  qid: number,
  depth: number,
  vector: number | undefined,
  queue: CommandLayout,
): CommandSpec {
  return {
    opcode: AdminOpcode.CREATE_IO_CQ,
    cdw10: packFields(CREATE_IO_CQ.CDW10, { QID: qid, QSIZE: depth - 1 }),
    cdw11: packFields(CREATE_IO_CQ.CDW11, { PC: 1, IEN: vector === undefined ? 0 : 1, IV: vector ?? 0 }),
    layout: queue,
  };
}

/** Create I/O SQ (01h), physically contiguous, on CQ `cqid`. */
export function createIoSqCommand(qid: number, depth: number, cqid: number, queue: CommandLayout): CommandSpec {
  return {
    opcode: AdminOpcode.CREATE_IO_SQ,
    cdw10: packFields(CREATE_IO_SQ.CDW10, { QID: qid, QSIZE: depth - 1 }),
    cdw11: packFields(CREATE_IO_SQ.CDW11, { PC: 1, QPRIO: 0, CQID: cqid }),
    layout: queue,
  };
}

/** Delete I/O SQ (00h). */
export function deleteIoSqCommand(qid: number): CommandSpec {
  return { opcode: AdminOpcode.DELETE_IO_SQ, cdw10: packFields(DELETE_IO_QUEUE.CDW10, { QID: qid }) };
}

/** Delete I/O CQ (04h). */
export function deleteIoCqCommand(qid: number): CommandSpec {
  return { opcode: AdminOpcode.DELETE_IO_CQ, cdw10: packFields(DELETE_IO_QUEUE.CDW10, { QID: qid }) };
}
