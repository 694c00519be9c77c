/**
 * The command being executed: a view of its 64-byte SQE in the fetch buffer (never copied), the
 * queue it came from, and what the handler answers besides the status: completion DW0 and, for
 * the Error Information log, where in the SQE the error is (parameter error location) and the LBA.
 * {@link Request} adds what else is the command's own; requests are pooled, so none is made per command.
 */
import {
  type BitField,
  NVME_NSID_ALL,
  type NvmeStatus,
  SQE,
  SQE_CDW0,
  type SqeCdwIndex,
  sqeCdw,
  sqeNsid,
  sqePrp1,
  sqePrp2,
} from '@epfsim/nvme-spec-types';
import type { SubmissionQueue } from '../queues/submission-queue.js';

/** A handler's answer that means "no completion now" (an Asynchronous Event Request waits for an event). */
export const DEFERRED = -1;
/** What a handler returns: a status, or {@link DEFERRED}. */
export type HandlerResult = NvmeStatus | typeof DEFERRED;

/**
 * Where a command failed before its handler did any work, in the Linux function's terms: PARSE is
 * what nvmet_req_init() rejects (opcode, NSID, FUSE, PSDT), DATA_BUFFER what the driver's
 * alloc_iod_data_buf() rejects (MDTS, the PRPs or SGL). Two faults depend on it
 * (double-completion, cqe-fields-uninitialized); it costs one store per command otherwise.
 */
export const EarlyFailure = { NONE: 0, PARSE: 1, DATA_BUFFER: 2 } as const;
export type EarlyFailure = (typeof EarlyFailure)[keyof typeof EarlyFailure];

/** Parameter Error Location value when it is not known (NVMe Base 1.4, Error Information log, FFFFh). */
export const NO_ERROR_LOCATION = 0xffff;
/** Bytes in a qword: SGL1 is copied as two. */
const QWORD = 8;
/** Bits per byte, for the Parameter Error Location bit field. */
const BITS_PER_BYTE = 8;
/** CDW0 fields, decoded from one dword read per command. */
const OPC_MASK = 2 ** SQE_CDW0.OPC.len - 1;
const FUSE_MASK = 2 ** SQE_CDW0.FUSE.len - 1;
const PSDT_MASK = 2 ** SQE_CDW0.PSDT.len - 1;
const CID_MASK = 2 ** SQE_CDW0.CID.len - 1;

export class Command {
  #sglView: DataView | undefined;
  view: DataView;
  base = 0;
  sq: SubmissionQueue | null = null;
  opcode = 0;
  cid = 0;
  nsid = 0;
  psdt = 0;
  fuse = 0;
  /** Completion DW0, command specific. */
  dw0 = 0;
  /** Byte offset (7:0) and bit (10:8) in the SQE of the field in error, or {@link NO_ERROR_LOCATION}. */
  errorLocation = NO_ERROR_LOCATION;
  /** The first LBA in error, for the Error Information log. */
  errorLba = 0n;
  /** Set when the command failed before execution (see {@link EarlyFailure}). */
  earlyFailure: EarlyFailure = EarlyFailure.NONE;

  constructor(view: DataView) {
    this.view = view;
  }

  /** Points the command at the SQE at `view[base]` from `sq` and clears the answer fields. */
  load(view: DataView, base: number, sq: SubmissionQueue): void {
    this.view = view;
    this.base = base;
    this.sq = sq;
    const cdw0 = view.getUint32(base + SQE.CDW0.off, true);
    this.opcode = (cdw0 >>> SQE_CDW0.OPC.bit) & OPC_MASK;
    this.cid = (cdw0 >>> SQE_CDW0.CID.bit) & CID_MASK;
    this.nsid = sqeNsid(view, base);
    this.psdt = (cdw0 >>> SQE_CDW0.PSDT.bit) & PSDT_MASK;
    this.fuse = (cdw0 >>> SQE_CDW0.FUSE.bit) & FUSE_MASK;
    this.dw0 = 0;
    this.errorLocation = NO_ERROR_LOCATION;
    this.errorLba = 0n;
    this.earlyFailure = EarlyFailure.NONE;
  }

  get qid(): number {
    return this.sq?.qid ?? 0;
  }

  cdw(n: SqeCdwIndex): number {
    return sqeCdw(this.view, this.base, n);
  }

  get prp1(): bigint {
    return sqePrp1(this.view, this.base);
  }

  get prp2(): bigint {
    return sqePrp2(this.view, this.base);
  }

  /** The 16 bytes of SGL1 (DPTR), copied into `into` (16 bytes) as two qwords, without allocating. */
  copySgl1(into: Uint8Array): Uint8Array {
    const dst =
      this.#sglView?.buffer === into.buffer ? this.#sglView : new DataView(into.buffer, into.byteOffset, into.length);
    this.#sglView = dst;
    const src = this.base + SQE.SGL1.off;
    dst.setBigUint64(0, this.view.getBigUint64(src, true), true);
    dst.setBigUint64(QWORD, this.view.getBigUint64(src + QWORD, true), true);
    return into;
  }

  /** Returns `status` and records that the field at SQE byte `byte`, bit `bit` caused it. */
  fail(status: NvmeStatus, byte: number, bit = 0): NvmeStatus {
    this.errorLocation = byte + bit * 2 ** BITS_PER_BYTE;
    return status;
  }

  /** {@link fail} for a check nvmet_req_init() makes: the command never reaches execution. */
  failParse(status: NvmeStatus, byte: number, bit = 0): NvmeStatus {
    this.earlyFailure = EarlyFailure.PARSE;
    return this.fail(status, byte, bit);
  }

  /** {@link fail} for a check made while setting up the data buffer (MDTS), before execution. */
  failDataBuffer(status: NvmeStatus, byte: number, bit = 0): NvmeStatus {
    this.earlyFailure = EarlyFailure.DATA_BUFFER;
    return this.fail(status, byte, bit);
  }

  /** Returns `status` and records that field `field` of the dword at SQE byte `dword` caused it. */
  failField(status: NvmeStatus, dword: number, field: BitField): NvmeStatus {
    return this.fail(status, dword + Math.floor(field.bit / BITS_PER_BYTE), field.bit % BITS_PER_BYTE);
  }

  /** NSID is a broadcast value (FFFFFFFFh). */
  get nsidIsBroadcast(): boolean {
    return this.nsid === NVME_NSID_ALL;
  }
}
