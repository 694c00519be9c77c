/**
 * Fault doorbell-values-unchecked (the Linux function does not validate doorbell values): invalid
 * SQ tails and CQ heads are used as written and raise no asynchronous event; a doorbell of a queue
 * that does not exist is ignored. Correct: the write is ignored and an Error event is posted, info
 * 01h Invalid Doorbell Write Value (the SQ is then no longer fetched) or 00h.
 */
import {
  AdminOpcode,
  AsyncEventInfoError,
  AsyncEventType,
  cqHeadDoorbell,
  encodeAsyncEvent,
  Lid,
  NvmOpcode,
  Status,
  sqTailDoorbell,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'doorbell-values-unchecked';
const QID = 1;
const SQ_SIZE = 4;
/** A queue id with no queue. */
const NO_QUEUE = 5;
const POLLS = 10;
/** A CQ head of 2 with nothing posted: it consumes entries that do not exist. */
const HEAD_PAST_TAIL = 2;
/** Polls allowed for an event that should not come. */
const FEW_POLLS = 5;
const INVALID_VALUE = encodeAsyncEvent(
  AsyncEventType.ERROR,
  AsyncEventInfoError.INVALID_DOORBELL_WRITE_VALUE,
  Lid.ERROR_INFORMATION,
);
const NO_QUEUE_EVENT = encodeAsyncEvent(
  AsyncEventType.ERROR,
  AsyncEventInfoError.WRITE_TO_INVALID_DOORBELL,
  Lid.ERROR_INFORMATION,
);

/** An enabled function with I/O pair 1 (4 entries) and one Asynchronous Event Request waiting. */
function setup(faults: readonly FunctionFaultName[]) {
  const h = new ScriptedHost({ config: { faults } });
  h.enable();
  h.createPair(QID, SQ_SIZE);
  const aer = h.submit(0, { opcode: AdminOpcode.ASYNC_EVENT_REQUEST });
  h.ring(0);
  h.fn.poll();
  return { h, aer };
}

/** Writes the SQ 1 tail doorbell and returns the completions SQ 1 then produces, as [CID, status]. */
function writeTail(h: ScriptedHost, tail: number): [number, number][] {
  h.setReg32(sqTailDoorbell(QID, h.dstrd), tail);
  for (let i = 0; i < POLLS; i++) h.fn.poll();
  return h.reap(QID).map((c) => [c.cid, c.status]);
}

describe('fault doorbell-values-unchecked', () => {
  it('off: an SQ tail beyond the ring is ignored, raises 01h, and the SQ stops being fetched', () => {
    const { h, aer } = setup([]);
    expect(writeTail(h, SQ_SIZE + 1)).toEqual([]);
    expect(h.wait(0, aer)?.dw0).toBe(INVALID_VALUE);
    h.submit(QID, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    h.ring(QID);
    for (let i = 0; i < POLLS; i++) h.fn.poll();
    expect(h.reap(QID)).toEqual([]);
  });

  it('on: an SQ tail beyond the ring is used modulo the size, with no event: the empty slot 0 runs', () => {
    const { h, aer } = setup([FAULT]);
    // Tail 5 on a 4-entry SQ is 1: slot 0, all zeros, is fetched as a Flush of NSID 0 with CID 0.
    expect(writeTail(h, SQ_SIZE + 1)).toEqual([[0, Status.INVALID_NS]]);
    expect(h.wait(0, aer, FEW_POLLS)).toBeUndefined();
    expect(h.fn.stats.invalidDoorbellWrites).toBe(0);
  });

  it('off: a CQ head past the tail raises 01h', () => {
    const { h, aer } = setup([]);
    h.ringCq(QID, HEAD_PAST_TAIL);
    expect(h.wait(0, aer)?.dw0).toBe(INVALID_VALUE);
  });

  it('on: a CQ head past the tail raises nothing', () => {
    const { h, aer } = setup([FAULT]);
    h.ringCq(QID, HEAD_PAST_TAIL);
    expect(h.wait(0, aer, FEW_POLLS)).toBeUndefined();
  });

  it('off: a doorbell of a queue that does not exist raises 00h', () => {
    const { h, aer } = setup([]);
    h.setReg32(cqHeadDoorbell(NO_QUEUE, h.dstrd), 1);
    expect(h.wait(0, aer)?.dw0).toBe(NO_QUEUE_EVENT);
  });

  it('on: a doorbell of a queue that does not exist is ignored', () => {
    const { h, aer } = setup([FAULT]);
    h.setReg32(cqHeadDoorbell(NO_QUEUE, h.dstrd), 1);
    h.setReg32(sqTailDoorbell(NO_QUEUE, h.dstrd), 1);
    expect(h.wait(0, aer, FEW_POLLS)).toBeUndefined();
  });
});
