/**
 * NVM command set I/O commands as {@link CommandSpec}s (NVMe Base 1.4 §6; rules C-1..C-7): the
 * command dwords of each, with the data transfer described by length and LBA context.
 */
import {
  DSM_RANGE_SIZE,
  type DsmRange,
  datasetManagementFields,
  encodeDsmRanges,
  flushFields,
  READ_WRITE,
  writeZeroesFields,
} from '@epfsim/nvme-spec-types';
import type { CommandContext, PlacementPolicy } from '../placement/layout.js';
import { commandSpec } from './command-spec.js';
import type { CommandSpec, IoOptions } from './driver-types.js';

/** NLB's field of CDW12 (bits 15:0), for the per-command fast path. */
const NLB_FIELD = READ_WRITE.CDW12.NLB;
const NLB_MASK = 2 ** NLB_FIELD.len - 1;
const U32_MASK_N = 0xffff_ffffn;

/**
 * Read, Write, Compare (and other SLBA/NLB commands with data): SLBA in CDW11:10, NLB 0's based (C-2).
 * Every field is always present (absent ones undefined), so the driver sees one object shape for
 * every I/O: a conditional spread here made each spec a slow-mode object, a third of a 4 KiB read's time.
 */
export function lbaCommand(
  opcode: number,
  context: CommandContext,
  payload?: Uint8Array,
  io: Pick<IoOptions, 'placement' | 'timeoutMs' | 'discardData'> = {},
): CommandSpec {
  // As splitU64 and packFields(READ_WRITE.CDW12, { NLB }) compute them, without their allocations.
  const slba = context.slba;
  const small = slba >= 0n && slba <= U32_MASK_N;
  return {
    opcode,
    nsid: context.nsid,
    cdw10: small ? Number(slba) : Number(slba & U32_MASK_N),
    cdw11: small ? 0 : Number((slba >> 32n) & U32_MASK_N),
    cdw12: (((context.nlb - 1) & NLB_MASK) << NLB_FIELD.bit) >>> 0,
    data: { length: context.nlb * context.blockSize, payload, placement: io.placement, command: context },
    timeoutMs: io.timeoutMs,
    discardData: io.discardData,
  };
}

/** Flush (00h) (C-1). */
export function flushCommand(nsid: number): CommandSpec {
  return commandSpec(flushFields(nsid));
}

/** Write Zeroes (08h) of `nlb` blocks, optionally deallocating (C-6). */
export function writeZeroesCommand(nsid: number, slba: bigint, nlb: number, deallocate = false): CommandSpec {
  return commandSpec(writeZeroesFields({ nsid, slba, nlb, deallocate }));
}

/** Dataset Management (09h) over `ranges` (at most 256) with attributes IDR/IDW/AD (C-7). */
export function dsmCommand(
  nsid: number,
  ranges: readonly DsmRange[],
  attributes: { idr?: boolean; idw?: boolean; ad?: boolean },
  placement?: PlacementPolicy,
): CommandSpec {
  return {
    ...commandSpec(datasetManagementFields(nsid, ranges.length, attributes)),
    data: {
      length: ranges.length * DSM_RANGE_SIZE,
      payload: encodeDsmRanges(ranges),
      ...(placement === undefined ? {} : { placement }),
    },
  };
}
