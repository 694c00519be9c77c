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
import type { Command } from '../command/command.js';
import type { NvmeController } from '../controller.js';

const CDW10_BYTE = SQE.CDW10.off;
/** QSIZE is CDW10 bits 31:16: byte 2 of CDW10. */
const QSIZE_BYTE = SQE.CDW10.off + 2;
const CDW11_BYTE = SQE.CDW11.off;
/** IV and CQID are CDW11 bits 31:16: byte 2 of CDW11. */
const CDW11_HIGH_BYTE = SQE.CDW11.off + 2;
const PRP1_BYTE = SQE.PRP1.off;

/** QID in 1..allocated (Number of Queues) and not in use, else 1/01h. */
function checkNewQid(c: NvmeController, qid: number, allocated: number, inUse: boolean, cmd: Command): NvmeStatus {
  // Fault qid-beyond-endpoint-queues: before Linux "validate queue IDs against endpoint queues"
  // a qid was checked against the subsystem's limit, not the queues the function allocated; here
  // the limit becomes the function's own queue arrays, so the simulator itself never overflows.
  const highest = c.faults.qidBeyondEndpointQueues ? c.cqs.length - 1 : allocated + 1;
  if (qid === 0 || qid > highest || inUse) return cmd.fail(Status.QID_INVALID, CDW10_BYTE);
  return STATUS_SUCCESS;
}

/**
 * A Create I/O CQ failing after the queue was set up. Fault cq-kept-after-failed-create: before the
 * Linux fix "put CQ ref on create_cq mapping failure" the core's reference to the CQ stayed, so the
 * queue id remained taken (until the function is recreated).
 */
function failAfterSetup(c: NvmeController, qid: number, status: NvmeStatus): NvmeStatus {
  if (c.faults.cqKeptAfterFailedCreate) c.leakedCqIds[qid] = 1;
  return status;
}

/** Whether a failed create left `qid` taken (fault cq-kept-after-failed-create; never otherwise). */
function leakedCq(c: NvmeController, qid: number): boolean {
  return c.faults.cqKeptAfterFailedCreate && c.leakedCqIds[qid] === 1;
}

/** Fault unchecked-entry-sizes: CC.IOSQES/IOCQES are not checked at queue creation (Linux before its fix). */
function wrongEntrySize(c: NvmeController, field: BitField, required: number): boolean {
  return !c.faults.uncheckedEntrySizes && getBits(c.regs.ccSeen, field) !== required;
}

/** QSIZE 0's based: 0 or above MQES is 1/02h (Q-2). */
function checkQsize(c: NvmeController, qsize: number, cmd: Command): NvmeStatus {
  if (qsize === 0 || qsize > c.config.mqes) return cmd.fail(Status.QUEUE_SIZE, QSIZE_BYTE);
  return STATUS_SUCCESS;
}

/** PRP1 is the queue base: offset 0 in the memory page (P-14). */
function checkBase(c: NvmeController, cmd: Command): NvmeStatus {
  if (prpOffset(cmd.prp1, c.pageSize) !== 0) return cmd.fail(Status.PRP_INVALID_OFFSET, PRP1_BYTE);
  return STATUS_SUCCESS;
}

/** PC must be 1: queues are physically contiguous (CAP.CQR = 1). */
function checkContiguous(cmd: Command, pc: number): NvmeStatus {
  if (pc === 0) return cmd.fail(Status.INVALID_FIELD, CDW11_BYTE);
  return STATUS_SUCCESS;
}

/** Create I/O Completion Queue (05h). */
export function createIoCq(c: NvmeController, cmd: Command): NvmeStatus {
  const cdw10 = cmd.cdw(10);
  const cdw11 = cmd.cdw(11);
  const qid = getBits(cdw10, CREATE_IO_CQ.CDW10.QID);
  const qsize = getBits(cdw10, CREATE_IO_CQ.CDW10.QSIZE);
  const pc = getBits(cdw11, CREATE_IO_CQ.CDW11.PC);
  const ien = getBits(cdw11, CREATE_IO_CQ.CDW11.IEN) === 1;
  const iv = getBits(cdw11, CREATE_IO_CQ.CDW11.IV);
  const inUse = qid < c.cqs.length && (c.cqs[qid] !== undefined || leakedCq(c, qid));
  let s = checkNewQid(c, qid, c.ncqa, inUse, cmd);
  if (s !== STATUS_SUCCESS) return s;
  s = checkQsize(c, qsize, cmd);
  if (s !== STATUS_SUCCESS) return s;
  if (wrongEntrySize(c, CC.IOCQES, NVME_NVM_IOCQES)) return cmd.fail(Status.QUEUE_SIZE, QSIZE_BYTE);
  s = checkBase(c, cmd);
  if (s !== STATUS_SUCCESS) return s;
  // IV must name a vector the host can receive now (0 only, without MSI-X or multi-message MSI).
  if (iv >= c.usableVectors) return failAfterSetup(c, qid, cmd.fail(Status.INVALID_VECTOR, CDW11_HIGH_BYTE));
  s = checkContiguous(cmd, pc);
  if (s !== STATUS_SUCCESS) return failAfterSetup(c, qid, s);
  c.createCq(qid, cmd.prp1, qsize + 1, ien, iv);
  return STATUS_SUCCESS;
}

/** Create I/O Submission Queue (01h). */
export function createIoSq(c: NvmeController, cmd: Command): NvmeStatus {
  const cdw10 = cmd.cdw(10);
  const cdw11 = cmd.cdw(11);
  const qid = getBits(cdw10, CREATE_IO_SQ.CDW10.QID);
  const qsize = getBits(cdw10, CREATE_IO_SQ.CDW10.QSIZE);
  const pc = getBits(cdw11, CREATE_IO_SQ.CDW11.PC);
  const cqid = getBits(cdw11, CREATE_IO_SQ.CDW11.CQID);
  // CQID 0 (the admin CQ) or a CQ that does not exist; QEMU checks it before the SQ's own QID.
  const cq = cqid === 0 || cqid >= c.cqs.length ? undefined : c.cqs[cqid];
  if (cq === undefined) return cmd.fail(Status.CQ_INVALID, CDW11_HIGH_BYTE);
  let s = checkNewQid(c, qid, c.nsqa, qid < c.sqs.length && c.sqs[qid] !== undefined, cmd);
  if (s !== STATUS_SUCCESS) return s;
  s = checkQsize(c, qsize, cmd);
  if (s !== STATUS_SUCCESS) return s;
  if (wrongEntrySize(c, CC.IOSQES, NVME_NVM_IOSQES)) return cmd.fail(Status.QUEUE_SIZE, QSIZE_BYTE);
  s = checkBase(c, cmd);
  if (s !== STATUS_SUCCESS) return s;
  s = checkContiguous(cmd, pc);
  if (s !== STATUS_SUCCESS) return s;
  c.createSq(qid, cmd.prp1, qsize + 1, cq);
  return STATUS_SUCCESS;
}

/** Delete I/O Submission Queue (00h): commands waiting in it complete with 0/08h first. */
export function deleteIoSq(c: NvmeController, cmd: Command): NvmeStatus {
  const qid = getBits(cmd.cdw(10), DELETE_IO_QUEUE.CDW10.QID);
  const sq = qid === 0 || qid >= c.sqs.length ? undefined : c.sqs[qid];
  if (sq === undefined) return cmd.fail(Status.QID_INVALID, CDW10_BYTE);
  c.deleteSq(sq);
  return STATUS_SUCCESS;
}

/** Delete I/O Completion Queue (04h): not while an SQ uses it (1/0Ch). */
export function deleteIoCq(c: NvmeController, cmd: Command): NvmeStatus {
  const qid = getBits(cmd.cdw(10), DELETE_IO_QUEUE.CDW10.QID);
  const cq = qid === 0 || qid >= c.cqs.length ? undefined : c.cqs[qid];
  if (cq === undefined && leakedCq(c, qid)) {
    // Fault cq-kept-after-failed-create: deleting the half-created CQ releases its queue id.
    c.leakedCqIds[qid] = 0;
    return STATUS_SUCCESS;
  }
  if (cq === undefined) {
    // the specification says 1/01h; QEMU answers 1/00h.
    const status = c.config.options.deleteCqInvalidQid === 'qemu' ? Status.CQ_INVALID : Status.QID_INVALID;
    return cmd.fail(status, CDW10_BYTE);
  }
  if (cq.sqCount > 0) return cmd.fail(Status.INVALID_QUEUE, CDW10_BYTE);
  c.deleteCq(cq);
  return STATUS_SUCCESS;
}
