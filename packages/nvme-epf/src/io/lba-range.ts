/**
 * The LBA range of Read, Write, Compare, Verify and Write Zeroes: SLBA in CDW11:CDW10 and NLB
 * (0's based) in CDW12 15:0 (NVMe Base 1.4 §6.9, §6.15). Checks in QEMU's nvme_read() order
 * (C-2): MDTS first (0/02h) for commands that move data, then bounds (0/80h).
 */
import { commandSlba, type NvmeStatus, READ_WRITE, SQE, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
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

const NLB_MASK = 2 ** READ_WRITE.CDW12.NLB.len - 1;

/** The one {@link LbaRange}: SLBA is kept as its two dwords and made a bigint only when asked for. */
class CurrentRange implements LbaRange {
  blocks = 0;
  offset = 0;
  bytes = 0;
  lo = 0;
  hi = 0;
  #slba: bigint | undefined = 0n;

  get slba(): bigint {
    this.#slba ??= commandSlba(this.lo, this.hi);
    return this.#slba;
  }

  set slba(value: bigint) {
    this.#slba = value;
  }

  /** Sets SLBA from CDW10 (low) and CDW11 (high). */
  setSlba(lo: number, hi: number): void {
    this.lo = lo;
    this.hi = hi;
    this.#slba = undefined;
  }
}

const range = new CurrentRange();

/**
 * Decodes and checks the range; `movesData` applies MDTS. On success returns STATUS_SUCCESS and
 * fills {@link LbaRange} (valid until the next command).
 */
export function checkRange(c: NvmeController, cmd: Command, ns: Namespace, movesData: boolean): NvmeStatus {
  const lo = cmd.cdw(10);
  const hi = cmd.cdw(11);
  range.setSlba(lo, hi);
  range.blocks = (cmd.cdw(12) & NLB_MASK) + 1;
  range.bytes = range.blocks * ns.blockSize;
  if (movesData && c.exceedsMdts(range.bytes)) return cmd.failDataBuffer(Status.INVALID_FIELD, CDW12_BYTE);
  // SLBA below 2^32 (the common case) is checked in exact number arithmetic.
  if (hi === 0 ? lo + range.blocks > ns.blocks : !ns.inRange(range.slba, range.blocks)) {
    cmd.errorLba = range.slba;
    return cmd.fail(Status.LBA_RANGE, CDW10_BYTE);
  }
  range.offset = (hi === 0 ? lo : Number(range.slba)) * ns.blockSize;
  return STATUS_SUCCESS;
}

/** The range checked by the last successful {@link checkRange}. */
export function currentRange(): Readonly<LbaRange> {
  return range;
}
