/**
 * Small builders for the corpus: raw SQEs (NVMe Base 1.4 §4.2), PRP lists (§4.3) and SGL
 * segments (§4.4) as bytes, data patterns, and a valid set-up Write through the staging area.
 */
import {
  AdminOpcode,
  createIoCqFields,
  createIoSqFields,
  deleteIoCqFields,
  deleteIoSqFields,
  encodeSgl,
  encodeSqe,
  getFeaturesFields,
  lbaFields as lbaSqeFields,
  NvmOpcode,
  numberOfQueuesFields,
  Psdt,
  SGL_DESCRIPTOR_SIZE,
  type SglDescriptor,
  SglSubtype,
  SglType,
  SQE,
  type Sqe,
  sqe,
} from '@epfsim/nvme-spec-types';
import type { HostRange } from '../../host/memory/host-range.js';
import type { CaseCommand, CaseSpace, MemoryWrite } from './case.js';

/** The memory page of every command here: the driver programs CC.MPS = 0. */
export const PAGE = 4096;
const PRP_ENTRY = 8;
/** Namespace 1 of the differential targets. */
export const NSID = 1;
/** The I/O queue the corpus submits on (queue 4 is kept for queue-management cases). */
export const IO_QID = 1;

/** Address of page `n` of the case's own host memory, plus `offset`. */
export function page(space: CaseSpace, n: number, offset = 0): bigint {
  const addr = space.host + BigInt(n * PAGE + offset);
  if (n < 0 || (n + 1) * PAGE > space.hostBytes) throw new RangeError(`case page ${n} is outside the case's memory`);
  return addr;
}

/** Whole pages `[from, from + count)` of the case's memory, as one range. */
export function pages(space: CaseSpace, from: number, count = 1): HostRange {
  return { addr: page(space, from), size: count * PAGE };
}

/** 64-bit little-endian entries (a PRP list page, or part of one). */
export function u64s(values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * PRP_ENTRY);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setBigUint64(i * PRP_ENTRY, BigInt.asUintN(64, v), true);
  });
  return out;
}

/** SGL descriptors packed as a segment. */
export function segment(descriptors: readonly SglDescriptor[]): Uint8Array {
  const out = new Uint8Array(descriptors.length * SGL_DESCRIPTOR_SIZE);
  descriptors.forEach((d, i) => {
    encodeSgl(d, out, i * SGL_DESCRIPTOR_SIZE);
  });
  return out;
}

/** An SGL descriptor of any type (subtype 0, Address, unless given). */
export function sgl(
  type: number,
  address: bigint,
  length: number,
  subtype: number = SglSubtype.ADDRESS,
): SglDescriptor {
  return { type, subtype, address, length };
}

/** Data Block descriptor. */
export function dataBlock(address: bigint, length: number): SglDescriptor {
  return sgl(SglType.DATA_BLOCK, address, length);
}

/** Segment descriptor pointing to `count` descriptors at `address`. */
export function segmentDescriptor(address: bigint, count: number): SglDescriptor {
  return sgl(SglType.SEGMENT, address, count * SGL_DESCRIPTOR_SIZE);
}

/** Last Segment descriptor pointing to `count` descriptors at `address`. */
export function lastSegment(address: bigint, count: number): SglDescriptor {
  return sgl(SglType.LAST_SEGMENT, address, count * SGL_DESCRIPTOR_SIZE);
}

/** The data pointer of a command: PRP1/PRP2, or SGL1 with a PSDT. */
export type DataPointer =
  | { readonly prp1: bigint; readonly prp2?: bigint }
  | { readonly sgl1: SglDescriptor; readonly psdt?: Psdt };

/** SQE bytes from fields and a data pointer. */
export function sqeBytes(fields: Partial<Sqe>, dptr?: DataPointer): Uint8Array {
  if (dptr === undefined || 'prp1' in dptr) {
    return encodeSqe(
      sqe({ ...fields, ...(dptr === undefined ? {} : { prp1: dptr.prp1, prp2: dptr.prp2 ?? 0n }), psdt: Psdt.PRP }),
    );
  }
  const bytes = encodeSqe(sqe({ ...fields, psdt: dptr.psdt ?? Psdt.SGL_MPTR_CONTIG }));
  encodeSgl(dptr.sgl1, bytes, SQE.SGL1.off);
  return bytes;
}

/** Fields of an LBA command (Read, Write, Compare, Write Zeroes): SLBA in CDW10–11, NLB (1's based here) in CDW12. */
export function lbaFields(opcode: number, slba: bigint, blocks: number, nsid: number = NSID): Partial<Sqe> {
  return lbaSqeFields(opcode, { nsid, slba, nlb: blocks });
}

/** A Read SQE. */
export function readSqe(slba: bigint, blocks: number, dptr: DataPointer, nsid: number = NSID): Uint8Array {
  return sqeBytes(lbaFields(NvmOpcode.READ, slba, blocks, nsid), dptr);
}

/** A Write SQE. */
export function writeSqe(slba: bigint, blocks: number, dptr: DataPointer, nsid: number = NSID): Uint8Array {
  return sqeBytes(lbaFields(NvmOpcode.WRITE, slba, blocks, nsid), dptr);
}

/** Get Features (0Ah), current value. */
export function getFeaturesSqe(fid: number): Uint8Array {
  return sqeBytes(getFeaturesFields(fid));
}

/** Set Features Number of Queues asking for `pairs` SQs and CQs. */
export function numberOfQueuesSqe(pairs: number): Uint8Array {
  return sqeBytes(numberOfQueuesFields(pairs, pairs));
}

/** Create I/O Completion Queue (05h) with QSIZE `qsize` (0's based, as the field holds it). */
export function createCqSqe(
  qid: number,
  qsize: number,
  base: bigint,
  options: { pc?: boolean; ien?: boolean; iv?: number } = {},
): Uint8Array {
  return sqeBytes(createIoCqFields({ qid, size: qsize + 1, base, ...options }));
}

/** Create I/O Submission Queue (01h) with QSIZE `qsize` (0's based). */
export function createSqSqe(qid: number, qsize: number, base: bigint, cqid: number, pc = true): Uint8Array {
  return sqeBytes(createIoSqFields({ qid, size: qsize + 1, base, cqid, pc }));
}

/** Delete I/O Submission Queue (00h). */
export function deleteSqSqe(qid: number): Uint8Array {
  return sqeBytes(deleteIoSqFields(qid));
}

/** Delete I/O Completion Queue (04h). */
export function deleteCqSqe(qid: number): Uint8Array {
  return sqeBytes(deleteIoCqFields(qid));
}

/** True when the completion DW0 of `opcode` on `qid` is defined (Set/Get Features, Abort). */
export function dw0Meaningful(qid: number, opcode: number): boolean {
  return (
    qid === 0 &&
    (opcode === AdminOpcode.SET_FEATURES || opcode === AdminOpcode.GET_FEATURES || opcode === AdminOpcode.ABORT)
  );
}

/**
 * A valid Write of `data` at `slba` through the staging area, as Linux would lay it out (PRP1 on a
 * page, PRP2 direct or a page-aligned list): puts known data in the namespace before a Read.
 */
export function stageWrite(space: CaseSpace, slba: bigint, data: Uint8Array): CaseCommand {
  const blocks = data.length / space.blockSize;
  if (!Number.isInteger(blocks) || blocks < 1) throw new RangeError(`staged write of ${data.length} bytes`);
  const pagesNeeded = Math.ceil(data.length / PAGE);
  if ((pagesNeeded + 1) * PAGE > space.stagingBytes) throw new RangeError('staged write larger than the staging area');
  const list = space.staging;
  const buffer = space.staging + BigInt(PAGE);
  const memory: MemoryWrite[] = [{ addr: buffer, bytes: data }];
  let prp2 = 0n;
  if (pagesNeeded === 2) prp2 = buffer + BigInt(PAGE);
  if (pagesNeeded > 2) {
    prp2 = list;
    memory.push({
      addr: list,
      bytes: u64s(Array.from({ length: pagesNeeded - 1 }, (_, i) => buffer + BigInt((i + 1) * PAGE))),
    });
  }
  return {
    label: `set-up: Write ${blocks} LBAs at ${slba} (valid PRPs)`,
    qid: IO_QID,
    sqe: writeSqe(slba, blocks, { prp1: buffer, prp2 }),
    memory,
  };
}
