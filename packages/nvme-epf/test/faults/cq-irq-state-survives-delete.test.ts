/**
 * Fault cq-irq-state-survives-delete (Linux 85adf2094abb, "clear completion queue IRQ flag on
 * delete"): the IRQ-enabled state of a queue id outlived its CQ, so a polled CQ re-created on that
 * id still raised interrupts. Correct: a CQ created with IEN=0 never interrupts.
 */
import { NvmOpcode } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'cq-irq-state-survives-delete';
const QID = 1;
/** The vector of the first, interrupt-driven CQ. */
const OLD_VECTOR = 3;
const QUEUE_SIZE = 16;
const FLUSHES = 4;

/** Interrupt-driven CQ 1 on vector 3, one Flush, then CQ 1 deleted (or the controller reset) and re-created polled. */
function recreatePolled(faults: readonly FunctionFaultName[], via: 'delete' | 'reset'): ScriptedHost {
  const h = new ScriptedHost({ config: { faults } });
  h.enable();
  expect(h.createCq(QID, QUEUE_SIZE, { iv: OLD_VECTOR, ien: true }).status).toBe(0);
  expect(h.createSq(QID, QUEUE_SIZE, QID).status).toBe(0);
  h.run(QID, { opcode: NvmOpcode.FLUSH, nsid: 1 });
  expect(h.irqCount(OLD_VECTOR)).toBe(1);
  if (via === 'delete') {
    expect(h.deleteSq(QID).status).toBe(0);
    expect(h.deleteCq(QID).status).toBe(0);
  } else {
    h.disable();
    h.enable();
  }
  expect(h.createCq(QID, QUEUE_SIZE, { iv: 0, ien: false }).status).toBe(0);
  expect(h.createSq(QID, QUEUE_SIZE, QID).status).toBe(0);
  for (let i = 0; i < FLUSHES; i++) h.run(QID, { opcode: NvmOpcode.FLUSH, nsid: 1 });
  return h;
}

describe('fault cq-irq-state-survives-delete', () => {
  it.each(['delete', 'reset'] as const)('off: after a %s, the polled CQ raises no interrupt', (via) => {
    const h = recreatePolled([], via);
    expect(h.irqCount(OLD_VECTOR)).toBe(1);
  });

  it.each(['delete', 'reset'] as const)('on: after a %s, the polled CQ interrupts on the old vector', (via) => {
    const h = recreatePolled([FAULT], via);
    expect(h.irqCount(OLD_VECTOR)).toBe(1 + FLUSHES);
  });
});
