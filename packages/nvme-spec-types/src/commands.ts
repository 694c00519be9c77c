/**
 * Command dword fields of the admin queue-management, Abort and Identify commands and of the NVM
 * I/O commands (NVMe Base 1.4 §5 admin commands, §6 NVM commands), plus the Dataset Management range.
 * Get Log Page lives in log-pages.ts and Set/Get Features in features.ts.
 */
import { joinU64 } from './bits.js';
import { defineStruct, type FieldLayout, type StructInit, type StructValues } from './struct.js';

/** CDW10 of Create I/O CQ and Create I/O SQ: queue id and 0's based size. */
const QUEUE_CDW10 = {
  QID: { bit: 0, len: 16 },
  QSIZE: { bit: 16, len: 16 },
} as const;

/** Create I/O Completion Queue, opcode 05h (NVMe Base 1.4, "Create I/O Completion Queue"). */
export const CREATE_IO_CQ = {
  CDW10: QUEUE_CDW10,
  CDW11: {
    PC: { bit: 0, len: 1 },
    IEN: { bit: 1, len: 1 },
    IV: { bit: 16, len: 16 },
  },
} as const;

/** Create I/O Submission Queue, opcode 01h (NVMe Base 1.4, "Create I/O Submission Queue"). */
export const CREATE_IO_SQ = {
  CDW10: QUEUE_CDW10,
  CDW11: {
    PC: { bit: 0, len: 1 },
    QPRIO: { bit: 1, len: 2 },
    CQID: { bit: 16, len: 16 },
  },
  CDW12: {
    NVMSETID: { bit: 0, len: 16 },
  },
} as const;

/** Create I/O SQ QPRIO values, used with weighted round robin (NVMe Base 1.4, "Create I/O Submission Queue"). */
export const QueuePriority = { URGENT: 0, HIGH: 1, MEDIUM: 2, LOW: 3 } as const;
export type QueuePriority = (typeof QueuePriority)[keyof typeof QueuePriority];

/** Delete I/O Submission Queue (00h) and Delete I/O Completion Queue (04h): CDW10 QID. */
export const DELETE_IO_QUEUE = {
  CDW10: {
    QID: { bit: 0, len: 16 },
  },
} as const;

/** Abort, opcode 08h: CDW10 SQID and CID; completion DW0 bit 0 set means "not aborted" (NVMe Base 1.4, "Abort"). */
export const ABORT = {
  CDW10: {
    SQID: { bit: 0, len: 16 },
    CID: { bit: 16, len: 16 },
  },
  DW0: {
    NOT_ABORTED: { bit: 0, len: 1 },
  },
} as const;

/** Identify, opcode 06h (NVMe Base 1.4 / 2.0, "Identify – Command Dword 10/11"). */
export const IDENTIFY = {
  CDW10: {
    CNS: { bit: 0, len: 8 },
    CNTID: { bit: 16, len: 16 },
  },
  CDW11: {
    CNSSID: { bit: 0, len: 16 },
    CSI: { bit: 24, len: 8 },
  },
} as const;

/** PRINFO (4 bits) of Read/Write/Compare/Verify/Write Zeroes: PRCHK reference/application/guard, PRACT. */
export const PRINFO = {
  PRCHK_REF: { bit: 0, len: 1 },
  PRCHK_APP: { bit: 1, len: 1 },
  PRCHK_GUARD: { bit: 2, len: 1 },
  PRACT: { bit: 3, len: 1 },
} as const;

/**
 * Read 02h, Write 01h, Compare 05h, Verify 0Ch (NVMe Base 1.4, "Read command"): SLBA in CDW11:CDW10,
 * NLB 0's based. DTYPE/DSPEC apply to Write only; DSM to Read and Write.
 */
export const READ_WRITE = {
  CDW12: {
    NLB: { bit: 0, len: 16 },
    DTYPE: { bit: 20, len: 4 },
    PRINFO: { bit: 26, len: 4 },
    FUA: { bit: 30, len: 1 },
    LR: { bit: 31, len: 1 },
  },
  CDW13: {
    DSM: { bit: 0, len: 8 },
    DSPEC: { bit: 16, len: 16 },
  },
} as const;

/** Write Zeroes, opcode 08h (NVMe Base 1.4, "Write Zeroes command"): SLBA in CDW11:CDW10. */
export const WRITE_ZEROES = {
  CDW12: {
    NLB: { bit: 0, len: 16 },
    DEAC: { bit: 25, len: 1 },
    PRINFO: { bit: 26, len: 4 },
    FUA: { bit: 30, len: 1 },
    LR: { bit: 31, len: 1 },
  },
} as const;

/** Dataset Management, opcode 09h (NVMe Base 1.4, "Dataset Management command"): NR 0's based; attributes. */
export const DATASET_MANAGEMENT = {
  CDW10: {
    NR: { bit: 0, len: 8 },
  },
  CDW11: {
    IDR: { bit: 0, len: 1 },
    IDW: { bit: 1, len: 1 },
    AD: { bit: 2, len: 1 },
  },
} as const;

/** Size of one Dataset Management range. */
export const DSM_RANGE_SIZE = 16;
/** Most ranges in one Dataset Management command (NR is 8 bits, 0's based; Linux `NVME_DSM_MAX_RANGES`). */
export const DSM_MAX_RANGES = 256;

/** Dataset Management range (NVMe Base 1.4, "Dataset Management – Range Definition"). NLB is not 0's based. */
export const DSM_RANGE = {
  CATTR: { off: 0, size: 4 },
  NLB: { off: 4, size: 4 },
  SLBA: { off: 8, size: 8 },
} as const satisfies Record<string, FieldLayout>;

/** A Dataset Management range in object form. */
export type DsmRange = StructValues<typeof DSM_RANGE>;

const DSM_RANGE_CODEC = defineStruct(DSM_RANGE_SIZE, DSM_RANGE);

/** Encodes Dataset Management ranges back to back (at most 256). */
export function encodeDsmRanges(ranges: readonly StructInit<typeof DSM_RANGE>[]): Uint8Array {
  if (ranges.length > DSM_MAX_RANGES) throw new RangeError(`${ranges.length} DSM ranges, at most ${DSM_MAX_RANGES}`);
  return DSM_RANGE_CODEC.encodeMany(ranges);
}

/** Decodes `count` Dataset Management ranges (NR + 1) from `bytes`. */
export const decodeDsmRanges: (bytes: Uint8Array, count?: number) => DsmRange[] = DSM_RANGE_CODEC.decodeMany;

/** Starting LBA of an NVM I/O command: CDW10 (low) and CDW11 (high). */
export function commandSlba(cdw10: number, cdw11: number): bigint {
  return joinU64(cdw10, cdw11);
}
