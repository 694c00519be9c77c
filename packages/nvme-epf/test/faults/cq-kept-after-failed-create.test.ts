/**
 * Fault cq-kept-after-failed-create (Linux "put CQ ref on create_cq mapping failure"): a Create
 * I/O CQ that failed after the queue was set up left the core's reference, so its queue id stayed
 * taken. Correct: a failed create leaves no trace.
 */
import { NvmOpcode, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'cq-kept-after-failed-create';
const QID = 1;
const QUEUE_SIZE = 16;
/** PC = 0 (a PRP list of queue pages) with CAP.CQR = 1. */
const NOT_CONTIGUOUS = 0;

const FAILED_CREATES = [
  {
    why: 'an interrupt vector the host did not enable',
    opts: (h: ScriptedHost) => ({ iv: h.epc.config.msixCapable }),
    status: Status.INVALID_VECTOR,
  },
  { why: 'PC = 0', opts: () => ({ pc: NOT_CONTIGUOUS }), status: Status.INVALID_FIELD },
] as const;

function failedCreate(faults: readonly FunctionFaultName[], failure: (typeof FAILED_CREATES)[number]): ScriptedHost {
  const h = new ScriptedHost({ config: { faults } });
  h.enable();
  expect(h.createCq(QID, QUEUE_SIZE, failure.opts(h)).status).toBe(failure.status);
  return h;
}

describe('fault cq-kept-after-failed-create', () => {
  it.each(FAILED_CREATES)('off: after a create failing on $why, the queue id is free', (failure) => {
    const h = failedCreate([], failure);
    expect(h.deleteCq(QID).status).toBe(Status.QID_INVALID);
    expect(h.createCq(QID, QUEUE_SIZE).status).toBe(0);
    expect(h.createSq(QID, QUEUE_SIZE, QID).status).toBe(0);
    expect(h.run(QID, { opcode: NvmOpcode.FLUSH, nsid: 1 }).status).toBe(0);
  });

  it.each(FAILED_CREATES)('on: after a create failing on $why, the queue id stays taken', (failure) => {
    const h = failedCreate([FAULT], failure);
    expect(h.createCq(QID, QUEUE_SIZE).status).toBe(Status.QID_INVALID);
    // Deleting the queue that was never created succeeds, and releases the id.
    expect(h.deleteCq(QID).status).toBe(0);
    expect(h.createCq(QID, QUEUE_SIZE).status).toBe(0);
  });

  it('on: the id stays taken across a controller reset', () => {
    const h = failedCreate([FAULT], FAILED_CREATES[1]);
    h.disable();
    h.enable();
    expect(h.createCq(QID, QUEUE_SIZE).status).toBe(Status.QID_INVALID);
  });
});
