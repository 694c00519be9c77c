/**
 * Fault cq-full-check-misses-wrap (the Linux function's CQ full test, head == tail + 1): with
 * tail = size - 1 and head = 0 it posts into a full CQ. Correct: full when (tail + 1) mod size
 * equals head.
 */
import { CQE_SIZE, decodeCqe, NvmOpcode } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'cq-full-check-misses-wrap';
const QID = 1;
const CQ_SIZE = 4;
const SQ_SIZE = 16;
const SETTLE_POLLS = 10;

/** Submits `n` Flushes to a 4-entry CQ the host does not consume; returns the host, the CIDs and the ring as written. */
function fill(faults: readonly FunctionFaultName[], n: number) {
  const h = new ScriptedHost({ config: { faults } });
  h.enable();
  h.createCq(QID, CQ_SIZE, { iv: QID });
  h.createSq(QID, SQ_SIZE, QID);
  const cids = Array.from({ length: n }, () => h.submit(QID, { opcode: NvmOpcode.FLUSH, nsid: 1 }));
  h.ring(QID);
  for (let i = 0; i < SETTLE_POLLS; i++) h.fn.poll();
  const base = h.cq(QID)!.base;
  const ring = Array.from({ length: CQ_SIZE }, (_, i) => decodeCqe(h.read(base + BigInt(i * CQE_SIZE), CQE_SIZE)));
  return { h, cids, ring };
}

describe('fault cq-full-check-misses-wrap', () => {
  it('off: a 4-entry CQ holds 3 entries; the others wait for the head doorbell', () => {
    const { h, cids, ring } = fill([], CQ_SIZE);
    expect(h.reap(QID, false).map((c) => c.cid)).toEqual(cids.slice(0, CQ_SIZE - 1));
    expect(ring[CQ_SIZE - 1]!.phase).toBe(0);
    expect(h.fn.pendingCompletions).toBe(1);
  });

  it('on: a 4-entry CQ holds 4 entries', () => {
    const { h, cids } = fill([FAULT], CQ_SIZE);
    expect(h.reap(QID, false).map((c) => c.cid)).toEqual(cids);
    expect(h.fn.pendingCompletions).toBe(0);
  });

  it('off: with one more command nothing is overwritten; every CQE arrives once the host consumes', () => {
    const { h, cids } = fill([], CQ_SIZE + 1);
    const seen = h.reap(QID);
    h.pollUntil(() => {
      seen.push(...h.reap(QID));
      return seen.length === cids.length;
    }, SETTLE_POLLS);
    expect(seen.map((c) => c.cid)).toEqual(cids);
  });

  it('on: with one more command the unconsumed entry at the head is overwritten; the host sees none', () => {
    const { h, cids, ring } = fill([FAULT], CQ_SIZE + 1);
    // Slot 0 held the first completion (phase 1); the fifth, posted after the wrap (phase 0), replaced it.
    expect(ring.map((c) => [c.cid, c.phase])).toEqual([
      [cids[CQ_SIZE], 0],
      [cids[1], 1],
      [cids[2], 1],
      [cids[3], 1],
    ]);
    expect(h.reap(QID, false)).toEqual([]);
    // The function believes all five were delivered.
    expect(h.fn.pendingCompletions).toBe(0);
  });
});
