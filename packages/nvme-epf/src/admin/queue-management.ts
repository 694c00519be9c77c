/**
 * Create and Delete I/O Submission and Completion Queues (01h, 05h, 00h, 04h; NVMe Base 1.4
 * §5.3–§5.6, rules ), checked in QEMU's order. Queues must be physically
 * contiguous (CAP.CQR = 1). CC.IOSQES/IOCQES may be 0 at enable, but must be 6/4 before an I/O
 * queue is created; otherwise the create fails with 1/02h, as QEMU does.
 */
import {
  type BitField,
  CC,
  CREATE_IO_CQ,
  CREATE_IO_SQ,
  DELETE_IO_QUEUE,
  getBits,
  NVME_NVM_IOCQES,
  NVME_NVM_IOSQES,
  type NvmeStatus,
  prpOffset,
  SQE,
  STATUS_SUCCESS,
  Status,
} from '@epfsim/nvme-spec-types';
import type { AdminContext } from '../command/context.js';
import type { Request } from '../command/request.js';

const CDW10_BYTE = SQE.CDW10.off;
/** QSIZE is CDW10 bits 31:16: byte 2 of CDW10. */
const QSIZE_BYTE = SQE.CDW10.off + 2;
const CDW11_BYTE = SQE.CDW11.off;
/** IV and CQID are CDW11 bits 31:16: byte 2 of CDW11. */
const CDW11_HIGH_BYTE = SQE.CDW11.off + 2;
const PRP1_BYTE = SQE.PRP1.off;

/** QID in 1..allocated (Number of Queues) and not in use, else 1/01h. */
function checkNewQid(ctx: AdminContext, qid: number, allocated: number, inUse: boolean, req: Request): NvmeStatus {
  // Fault qid-beyond-endpoint-queues: before Linux "validate queue IDs against endpoint queues"
  // a qid was checked against the subsystem's limit, not the queues the function allocated; here
  // the limit becomes the function's own queue arrays, so the simulator itself never overflows.
  const highest = ctx.faults.qidBeyondEndpointQueues ? ctx.queues.cqs.length - 1 : allocated + 1;
  if (qid === 0 || qid > highest || inUse) return req.fail(Status.QID_INVALID, CDW10_BYTE);
  return STATUS_SUCCESS;
}

/**
 * A Create I/O CQ failing after the queue was set up. Fault cq-kept-after-failed-create: before the
 * Linux fix "put CQ ref on create_cq mapping failure" the core's reference to the CQ stayed, so the
 * queue id remained taken (until the function is recreated).
 */
function failAfterSetup(ctx: AdminContext, qid: number, status: NvmeStatus): NvmeStatus {
  if (ctx.faults.cqKeptAfterFailedCreate) ctx.queues.setCqIdLeaked(qid, true);
  return status;
}

/** Whether a failed create left `qid` taken (fault cq-kept-after-failed-create; never otherwise). */
function leakedCq(ctx: AdminContext, qid: number): boolean {
  return ctx.faults.cqKeptAfterFailedCreate && ctx.queues.cqIdLeaked(qid);
}

/** Fault unchecked-entry-sizes: CC.IOSQES/IOCQES are not checked at queue creation (Linux before its fix). */
function wrongEntrySize(ctx: AdminContext, field: BitField, required: number): boolean {
  return !ctx.faults.uncheckedEntrySizes && ctx.queues.ccField(field) !== required;
}

/** QSIZE 0's based: 0 or above MQES is 1/02h (Q-2). */
function checkQsize(ctx: AdminContext, qsize: number, req: Request): NvmeStatus {
  if (qsize === 0 || qsize > ctx.config.mqes) return req.fail(Status.QUEUE_SIZE, QSIZE_BYTE);
  return STATUS_SUCCESS;
}

/** PRP1 is the queue base: offset 0 in the memory page (P-14). */
function checkBase(ctx: AdminContext, req: Request): NvmeStatus {
  if (prpOffset(req.prp1, ctx.queues.pageSize) !== 0) return req.fail(Status.PRP_INVALID_OFFSET, PRP1_BYTE);
  return STATUS_SUCCESS;
}

/** PC must be 1: queues are physically contiguous (CAP.CQR = 1). */
function checkContiguous(req: Request, pc: number): NvmeStatus {
  if (pc === 0) return req.fail(Status.INVALID_FIELD, CDW11_BYTE);
  return STATUS_SUCCESS;
}

/** What differs between the two creates' checks: the allocated count and the CC entry size field (Q-7, Q-8). */
// biome-ignore format: one row per queue type
const NEW_QUEUE = {
  cq: { entrySizeField: CC.IOCQES, entrySize: NVME_NVM_IOCQES },
  sq: { entrySizeField: CC.IOSQES, entrySize: NVME_NVM_IOSQES },
} as const;

/** The checks both creates make, in QEMU's order: QID, QSIZE, CC entry size, then the base (PRP1). */
function checkNewQueue(
  ctx: AdminContext,
  req: Request,
  kind: 'cq' | 'sq',
  qid: number,
  qsize: number,
  inUse: boolean,
): NvmeStatus {
  const allocated = kind === 'cq' ? ctx.queues.allocatedCqs : ctx.queues.allocatedSqs;
  let s = checkNewQid(ctx, qid, allocated, inUse, req);
  if (s !== STATUS_SUCCESS) return s;
  s = checkQsize(ctx, qsize, req);
  if (s !== STATUS_SUCCESS) return s;
  const { entrySizeField, entrySize } = NEW_QUEUE[kind];
  if (wrongEntrySize(ctx, entrySizeField, entrySize)) return req.fail(Status.QUEUE_SIZE, QSIZE_BYTE);
  return checkBase(ctx, req);
}

/** Create I/O Completion Queue (05h). */
export function createIoCq(ctx: AdminContext, req: Request): NvmeStatus {
  const cdw10 = req.cdw(10);
  const cdw11 = req.cdw(11);
  const qid = getBits(cdw10, CREATE_IO_CQ.CDW10.QID);
  const qsize = getBits(cdw10, CREATE_IO_CQ.CDW10.QSIZE);
  const pc = getBits(cdw11, CREATE_IO_CQ.CDW11.PC);
  const ien = getBits(cdw11, CREATE_IO_CQ.CDW11.IEN) === 1;
  const iv = getBits(cdw11, CREATE_IO_CQ.CDW11.IV);
  const inUse = qid < ctx.queues.cqs.length && (ctx.queues.cqs[qid] !== undefined || leakedCq(ctx, qid));
  let s = checkNewQueue(ctx, req, 'cq', qid, qsize, inUse);
  if (s !== STATUS_SUCCESS) return s;
  // IV must name a vector the host can receive now (0 only, without MSI-X or multi-message MSI).
  if (iv >= ctx.interrupts.usableVectors)
    return failAfterSetup(ctx, qid, req.fail(Status.INVALID_VECTOR, CDW11_HIGH_BYTE));
  s = checkContiguous(req, pc);
  if (s !== STATUS_SUCCESS) return failAfterSetup(ctx, qid, s);
  ctx.queues.createCq(qid, req.prp1, qsize + 1, ien, iv);
  return STATUS_SUCCESS;
}

/** Create I/O Submission Queue (01h). */
export function createIoSq(ctx: AdminContext, req: Request): NvmeStatus {
  const cdw10 = req.cdw(10);
  const cdw11 = req.cdw(11);
  const qid = getBits(cdw10, CREATE_IO_SQ.CDW10.QID);
  const qsize = getBits(cdw10, CREATE_IO_SQ.CDW10.QSIZE);
  const pc = getBits(cdw11, CREATE_IO_SQ.CDW11.PC);
  const cqid = getBits(cdw11, CREATE_IO_SQ.CDW11.CQID);
  // CQID 0 (the admin CQ) or a CQ that does not exist; QEMU checks it before the SQ's own QID.
  const cq = cqid === 0 || cqid >= ctx.queues.cqs.length ? undefined : ctx.queues.cqs[cqid];
  if (cq === undefined) return req.fail(Status.CQ_INVALID, CDW11_HIGH_BYTE);
  const inUse = qid < ctx.queues.sqs.length && ctx.queues.sqs[qid] !== undefined;
  let s = checkNewQueue(ctx, req, 'sq', qid, qsize, inUse);
  if (s !== STATUS_SUCCESS) return s;
  s = checkContiguous(req, pc);
  if (s !== STATUS_SUCCESS) return s;
  ctx.queues.createSq(qid, req.prp1, qsize + 1, cq);
  return STATUS_SUCCESS;
}

/** Delete I/O Submission Queue (00h): commands waiting in it complete with 0/08h first. */
export function deleteIoSq(ctx: AdminContext, req: Request): NvmeStatus {
  const qid = getBits(req.cdw(10), DELETE_IO_QUEUE.CDW10.QID);
  const sq = qid === 0 || qid >= ctx.queues.sqs.length ? undefined : ctx.queues.sqs[qid];
  if (sq === undefined) return req.fail(Status.QID_INVALID, CDW10_BYTE);
  ctx.queues.deleteSq(sq);
  return STATUS_SUCCESS;
}

/** Delete I/O Completion Queue (04h): not while an SQ uses it (1/0Ch). */
export function deleteIoCq(ctx: AdminContext, req: Request): NvmeStatus {
  const qid = getBits(req.cdw(10), DELETE_IO_QUEUE.CDW10.QID);
  const cq = qid === 0 || qid >= ctx.queues.cqs.length ? undefined : ctx.queues.cqs[qid];
  if (cq === undefined && leakedCq(ctx, qid)) {
    // Fault cq-kept-after-failed-create: deleting the half-created CQ releases its queue id.
    ctx.queues.setCqIdLeaked(qid, false);
    return STATUS_SUCCESS;
  }
  if (cq === undefined) {
    // the specification says 1/01h; QEMU answers 1/00h.
    const status = ctx.config.options.deleteCqInvalidQid === 'qemu' ? Status.CQ_INVALID : Status.QID_INVALID;
    return req.fail(status, CDW10_BYTE);
  }
  if (cq.sqCount > 0) return req.fail(Status.INVALID_QUEUE, CDW10_BYTE);
  ctx.queues.deleteCq(cq);
  return STATUS_SUCCESS;
}
