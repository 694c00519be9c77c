/**
 * The LBA range of Read, Write, Compare, Verify and Write Zeroes: SLBA in CDW11:CDW10 and NLB
 * (0's based) in CDW12 15:0 (NVMe Base 1.4 §6.9, §6.15). Checks in QEMU's nvme_read() order
 * (C-2): MDTS first (0/02h) for commands that move data, then bounds (0/80h).
 */
import { commandSlba, type NvmeStatus, READ_WRITE, SQE, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import type { Request } from '../command/request.js';
import type { Namespace } from '../namespace/namespace.js';
import type { MdtsLimit } from '../transfer/command-data.js';

const CDW10_BYTE = SQE.CDW10.off;
const CDW12_BYTE = SQE.CDW12.off;

const NLB_MASK = 2 ** READ_WRITE.CDW12.NLB.len - 1;

/** A command's LBA range; SLBA is kept as its two dwords and made a bigint only when asked for. */
export class LbaRange {
  /** Blocks, 1's based. */
  blocks = 0;
  /** Byte offset in the namespace and byte count. */
  offset = 0;
  bytes = 0;
  #lo = 0;
  #hi = 0;
  #slba: bigint | undefined = 0n;

  get slba(): bigint {
    this.#slba ??= commandSlba(this.#lo, this.#hi);
    return this.#slba;
  }

  /** Sets SLBA from CDW10 (low) and CDW11 (high). */
  setSlba(lo: number, hi: number): void {
    this.#lo = lo;
    this.#hi = hi;
    this.#slba = undefined;
  }
}

/**
 * Decodes and checks the range of `req` into `req.range`; `movesData` applies MDTS. Returns
 * STATUS_SUCCESS or the failure (0/02h for MDTS, 0/80h out of range).
 */
export function checkRange(data: MdtsLimit, req: Request, ns: Namespace, movesData: boolean): NvmeStatus {
  const range = req.range;
  const lo = req.cdw(10);
  const hi = req.cdw(11);
  range.setSlba(lo, hi);
  range.blocks = (req.cdw(12) & NLB_MASK) + 1;
  range.bytes = range.blocks * ns.blockSize;
  if (movesData && data.exceedsMdts(range.bytes)) return req.failDataBuffer(Status.INVALID_FIELD, CDW12_BYTE);
  // SLBA below 2^32 (the common case) is checked in exact number arithmetic.
  if (hi === 0 ? lo + range.blocks > ns.blocks : !ns.inRange(range.slba, range.blocks)) {
    req.errorLba = range.slba;
    return req.fail(Status.LBA_RANGE, CDW10_BYTE);
  }
  range.offset = (hi === 0 ? lo : Number(range.slba)) * ns.blockSize;
  return STATUS_SUCCESS;
}
