/** Invalid doorbell writes and the asynchronous events they raise. */
import {
  AdminOpcode,
  AsyncEventInfoError,
  AsyncEventType,
  cqHeadDoorbell,
  encodeAsyncEvent,
  encodeGetLogPage,
  Lid,
  NvmOpcode,
  Status,
  sqTailDoorbell,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { PAGE, ScriptedHost } from '../helpers/scripted-host.js';

const INVALID_VALUE = encodeAsyncEvent(
  AsyncEventType.ERROR,
  AsyncEventInfoError.INVALID_DOORBELL_WRITE_VALUE,
  Lid.ERROR_INFORMATION,
);
const NO_QUEUE = encodeAsyncEvent(
  AsyncEventType.ERROR,
  AsyncEventInfoError.WRITE_TO_INVALID_DOORBELL,
  Lid.ERROR_INFORMATION,
);

function setup(dstrd = 0) {
  const h = new ScriptedHost({ config: { dstrd } });
  h.enable();
  h.createPair(1, 4);
  const aer = h.submit(0, { opcode: AdminOpcode.ASYNC_EVENT_REQUEST });
  h.ring(0);
  h.fn.poll();
  return { h, aer };
}

function readErrorLog(h: ScriptedHost, rae = false) {
  const buf = h.alloc(PAGE);
  return h.admin({
    opcode: AdminOpcode.GET_LOG_PAGE,
    nsid: 0xffffffff,
    prp1: buf,
    ...encodeGetLogPage({ lid: Lid.ERROR_INFORMATION, length: 64, rae }),
  });
}

describe('SQ tail doorbell (Q-3)', () => {
  it.each([4, 5, 0xffff, 0x10000])('tail %i on a 4-entry SQ is ignored and raises AER 0x00010100', (tail) => {
    const { h, aer } = setup();
    h.setReg32(sqTailDoorbell(1, 0), tail);
    const c = h.wait(0, aer);
    expect(c?.status).toBe(0);
    expect(c?.dw0).toBe(INVALID_VALUE);
    expect(h.fn.stats.invalidDoorbellWrites).toBe(1);
    // No more commands are fetched from that SQ.
    h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    h.ring(1);
    for (let i = 0; i < 5; i++) h.fn.poll();
    expect(h.reap(1)).toEqual([]);
  });

  it('a tail that adds more entries than are free is invalid', () => {
    const { h, aer } = setup();
    // Arbitration burst 1: one command per round, so one stays in the ring.
    h.admin({ opcode: AdminOpcode.SET_FEATURES, cdw10: 1, cdw11: 0 });
    h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    h.ring(1);
    h.fn.poll();
    // head 1, tail 2: one pending, two free. Tail 1 would add three.
    h.setReg32(sqTailDoorbell(1, 0), 1);
    expect(h.wait(0, aer)?.dw0).toBe(INVALID_VALUE);
    expect(h.fn.trace.some((e) => e.kind === 'invalid-doorbell-value' && e.qid === 1)).toBe(true);
  });

  it('the event waits in a queue until an AER arrives', () => {
    const h = new ScriptedHost();
    h.enable();
    h.createPair(1, 4);
    h.setReg32(sqTailDoorbell(1, 0), 9);
    h.fn.poll();
    const c = h.admin({ opcode: AdminOpcode.ASYNC_EVENT_REQUEST });
    expect(c.dw0).toBe(INVALID_VALUE);
  });
});

describe('CQ head doorbell (Q-4)', () => {
  it('a head at or beyond the CQ size raises the event and is ignored', () => {
    const { h, aer } = setup();
    h.ringCq(1, 4);
    expect(h.wait(0, aer)?.dw0).toBe(INVALID_VALUE);
    // The CQ still works.
    expect(h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 }).status).toBe(0);
  });

  it('a head that passes the tail (consumes from an empty CQ) raises the event', () => {
    const { h, aer } = setup();
    h.ringCq(1, 2);
    expect(h.wait(0, aer)?.dw0).toBe(INVALID_VALUE);
  });
});

describe('doorbell of a queue that does not exist (Q-4)', () => {
  it.each([0, 2])('with DSTRD %i: SQ and CQ doorbells of queue 5 raise info 00h', (dstrd) => {
    const { h, aer } = setup(dstrd);
    h.setReg32(sqTailDoorbell(5, dstrd), 1);
    expect(h.wait(0, aer)?.dw0).toBe(NO_QUEUE);
    // The Error event type is masked until the Error Information log is read with RAE = 0.
    const aer2 = h.submit(0, { opcode: AdminOpcode.ASYNC_EVENT_REQUEST });
    h.ring(0);
    h.setReg32(cqHeadDoorbell(5, dstrd), 1);
    for (let i = 0; i < 5; i++) h.fn.poll();
    expect(h.wait(0, aer2, 2)).toBeUndefined();
    expect(readErrorLog(h, true).status).toBe(0);
    expect(h.wait(0, aer2, 2)).toBeUndefined();
    expect(readErrorLog(h, false).status).toBe(0);
    expect(h.wait(0, aer2)?.dw0).toBe(NO_QUEUE);
  });
});

describe('Asynchronous Event Request limit (Q-11)', () => {
  it('AERL + 1 = 4 may wait; the fifth gives 1/05h', () => {
    const h = new ScriptedHost();
    h.enable();
    const cids = [0, 1, 2, 3].map(() => h.submit(0, { opcode: AdminOpcode.ASYNC_EVENT_REQUEST }));
    h.ring(0);
    h.fn.poll();
    expect(h.reap(0)).toEqual([]);
    const fifth = h.admin({ opcode: AdminOpcode.ASYNC_EVENT_REQUEST });
    expect(fifth.status).toBe(Status.ASYNC_LIMIT);
    expect(cids).toHaveLength(4);
  });

  it('a reset drops waiting AERs without a completion', () => {
    const h = new ScriptedHost();
    h.enable();
    h.submit(0, { opcode: AdminOpcode.ASYNC_EVENT_REQUEST });
    h.ring(0);
    h.fn.poll();
    h.disable();
    expect(h.fn.stats.commandsDropped).toBe(1);
    expect(h.fn.stats.commandsFetched).toBe(h.fn.stats.commandsCompleted + 1);
  });
});
