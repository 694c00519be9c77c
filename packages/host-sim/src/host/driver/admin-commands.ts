/**
 * Admin commands as {@link CommandSpec}s (NVMe Base 1.4 §5): the command dwords of each, ready for
 * `NvmeDriver.submit`. Data transfers are described by length; a placement policy places them.
 */
import {
  abortFields,
  createIoCqFields,
  createIoSqFields,
  deleteIoCqFields,
  deleteIoSqFields,
  type GetLogPageArgs,
  getFeaturesFields,
  getLogPageFields,
  IDENTIFY_DATA_SIZE,
  identifyFields,
  numberOfQueuesFields,
  setFeaturesFields,
} from '@epfsim/nvme-spec-types';
import type { CommandLayout, PlacementPolicy } from '../placement/layout.js';
import { commandSpec } from './command-spec.js';
import type { CommandSpec } from './driver-types.js';

/** `{ placement }` when one is given: absent properties stay absent. */
function placed(placement: PlacementPolicy | undefined): { placement?: PlacementPolicy } {
  return placement === undefined ? {} : { placement };
}

/** Identify (06h): CNS, CNTID; always 4096 bytes to the host (C-A1). */
export function identifyCommand(cns: number, nsid = 0, cntid = 0, placement?: PlacementPolicy): CommandSpec {
  return {
    ...commandSpec(identifyFields(cns, { nsid, cntid })),
    data: { length: IDENTIFY_DATA_SIZE, ...placed(placement) },
  };
}

/** Get Log Page (02h): `args.length` bytes (a multiple of 4) to the host (C-A2). */
export function getLogPageCommand(
  args: Partial<GetLogPageArgs> & Pick<GetLogPageArgs, 'lid' | 'length'>,
  nsid: number,
  placement?: PlacementPolicy,
): CommandSpec {
  return { ...commandSpec(getLogPageFields(args, nsid)), data: { length: args.length, ...placed(placement) } };
}

/** Get Features (0Ah): FID and SEL; the value comes back in completion DW0 (C-A3). */
export function getFeaturesCommand(
  fid: number,
  options: { sel?: number; nsid?: number; cdw11?: number } = {},
): CommandSpec {
  return commandSpec(getFeaturesFields(fid, options));
}

/** Set Features (09h): FID, SV and the feature's Dword 11 (C-A3). */
export function setFeaturesCommand(
  fid: number,
  value: number,
  options: { save?: boolean; nsid?: number } = {},
): CommandSpec {
  return commandSpec(setFeaturesFields(fid, value, options));
}

/** Set Features Number of Queues asking for `pairs` I/O SQs and CQs (0's based fields). */
export function numberOfQueuesCommand(pairs: number): CommandSpec {
  return commandSpec(numberOfQueuesFields(pairs, pairs));
}

/** Abort (08h) of `cid` on `sqid`. */
export function abortCommand(sqid: number, cid: number): CommandSpec {
  return commandSpec(abortFields(sqid, cid));
}

/** Create I/O CQ (05h), physically contiguous; interrupts on `vector`, or none when undefined. */
export function createIoCqCommand(
  qid: number,
  depth: number,
  vector: number | undefined,
  queue: CommandLayout,
): CommandSpec {
  const { prp1: _base, ...fields } = createIoCqFields({
    qid,
    size: depth,
    base: 0n,
    ien: vector !== undefined,
    iv: vector ?? 0,
  });
  return { ...commandSpec(fields), layout: queue };
}

/** Create I/O SQ (01h), physically contiguous, on CQ `cqid`. */
export function createIoSqCommand(qid: number, depth: number, cqid: number, queue: CommandLayout): CommandSpec {
  const { prp1: _base, ...fields } = createIoSqFields({ qid, size: depth, base: 0n, cqid });
  return { ...commandSpec(fields), layout: queue };
}

/** Delete I/O SQ (00h). */
export function deleteIoSqCommand(qid: number): CommandSpec {
  return commandSpec(deleteIoSqFields(qid));
}

/** Delete I/O CQ (04h). */
export function deleteIoCqCommand(qid: number): CommandSpec {
  return commandSpec(deleteIoCqFields(qid));
}
