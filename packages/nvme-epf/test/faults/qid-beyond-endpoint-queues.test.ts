/**
 * Fault qid-beyond-endpoint-queues (Linux "nvmet-pci: validate queue IDs against endpoint
 * queues"): queue ids were checked against a limit larger than the queues the function allocated.
 * Correct: 1/01h for a queue id above the allocation.
 */
import { AdminOpcode, FEATURE_DW11, FeatureId, NvmOpcode, packFields, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'qid-beyond-endpoint-queues';
/** The function offers 4 I/O queue pairs, so its queue arrays hold ids 0..4. */
const MAX_IO_QUEUES = 4;
const QUEUE_SIZE = 16;
/** Number of Queues asks for one pair (0's based). */
const ONE_PAIR = 0;
/** Above the allocation, inside the function's arrays. */
const ABOVE_ALLOCATION = 2;
const QID_MAX = 0xffff;

/** Enables and allocates one I/O queue pair with Set Features Number of Queues. */
function onePairAllocated(faults: readonly FunctionFaultName[]): ScriptedHost {
  const h = new ScriptedHost({ config: { faults, maxIoQueues: MAX_IO_QUEUES } });
  h.enable();
  const c = h.admin({
    opcode: AdminOpcode.SET_FEATURES,
    cdw10: FeatureId.NUMBER_OF_QUEUES,
    cdw11: packFields(FEATURE_DW11.NUMBER_OF_QUEUES, { NSQR: ONE_PAIR, NCQR: ONE_PAIR }),
  });
  expect(c.dw0).toBe(packFields(FEATURE_DW11.NUMBER_OF_QUEUES, { NSQR: ONE_PAIR, NCQR: ONE_PAIR }));
  return h;
}

describe('fault qid-beyond-endpoint-queues', () => {
  it('off: Create I/O CQ and SQ with a queue id above the allocation give 1/01h', () => {
    const h = onePairAllocated([]);
    expect(h.createCq(ABOVE_ALLOCATION, QUEUE_SIZE).status).toBe(Status.QID_INVALID);
    expect(h.createCq(1, QUEUE_SIZE).status).toBe(0);
    expect(h.createSq(ABOVE_ALLOCATION, QUEUE_SIZE, 1).status).toBe(Status.QID_INVALID);
  });

  it('on: a queue pair above the allocation is created and carries I/O', () => {
    const h = onePairAllocated([FAULT]);
    expect(h.createCq(ABOVE_ALLOCATION, QUEUE_SIZE).status).toBe(0);
    expect(h.createSq(ABOVE_ALLOCATION, QUEUE_SIZE, ABOVE_ALLOCATION).status).toBe(0);
    expect(h.run(ABOVE_ALLOCATION, { opcode: NvmOpcode.FLUSH, nsid: 1 }).status).toBe(0);
  });

  it.each([MAX_IO_QUEUES + 1, QID_MAX])(
    'on: queue id %i, beyond the function’s own queues, still gives 1/01h',
    (qid) => {
      const h = onePairAllocated([FAULT]);
      expect(h.createCq(qid, QUEUE_SIZE).status).toBe(Status.QID_INVALID);
      expect(h.createCq(MAX_IO_QUEUES, QUEUE_SIZE).status).toBe(0);
    },
  );
});
