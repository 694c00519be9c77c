/**
 * The LBA range of Read, Write, Compare, Verify and Write Zeroes: SLBA in CDW11:CDW10 and NLB
 * (0's based) in CDW12 15:0 (NVMe Base 1.4 §6.9, §6.15). Checks in QEMU's nvme_read() order
 * (C-2): MDTS first (0/02h) for commands that move data, then bounds (0/80h).
 */
import {
  commandSlba,
  getBits,
  type NvmeStatus,
  READ_WRITE,
  SQE,
  STATUS_SUCCESS,
  Status,
} from '@epfsim/nvme-spec-types';
import type { Command } from '../command/command.js';
import type { NvmeController } from '../controller.js';
import type { Namespace } from '../namespace/namespace.js';

const CDW10_BYTE = SQE.CDW10.off;
const CDW12_BYTE = SQE.CDW12.off;

/** The decoded range of the command being executed (reused, like the command). */
export interface LbaRange {
  slba: bigint;
  /** Blocks, 1's based. */
  blocks: number;
  /** Byte offset in the namespace and byte count. */
  offset: number;
  bytes: number;
}

const range: LbaRange = { slba: 0n, blocks: 0, offset: 0, bytes: 0 };

/**
 * Decodes and checks the range; `movesData` applies MDTS. On success returns STATUS_SUCCESS and
 * fills {@link LbaRange} (valid until the next command).
 */
export function checkRange(c: NvmeController, cmd: Command, ns: Namespace, movesData: boolean): NvmeStatus {
  range.slba = commandSlba(cmd.cdw(10), cmd.cdw(11));
  range.blocks = getBits(cmd.cdw(12), READ_WRITE.CDW12.NLB) + 1;
  range.bytes = range.blocks * ns.blockSize;
  if (movesData && c.exceedsMdts(range.bytes)) return cmd.fail(Status.INVALID_FIELD, CDW12_BYTE);
  if (!ns.inRange(range.slba, range.blocks)) {
    cmd.errorLba = range.slba;
    return cmd.fail(Status.LBA_RANGE, CDW10_BYTE);
  }
  range.offset = Number(range.slba) * ns.blockSize;
  return STATUS_SUCCESS;
}

/** The range checked by the last successful {@link checkRange}. */
export function currentRange(): Readonly<LbaRange> {
  return range;
}
