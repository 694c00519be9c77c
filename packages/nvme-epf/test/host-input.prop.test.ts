/**
 * Property: arbitrary 64-byte SQEs, doorbell writes and register writes never throw out of the
 * controller, every fetched command ends in exactly one completion (or waits as an AER / for CQ
 * room, or is dropped by a reset), no CQE is posted twice, and no mapping is left after a reset.
 *
 * "No (SQID, CID) completes twice" holds while the host has only submitted well-formed entries:
 * a raw doorbell or register write may legitimately make the controller fetch an old slot again
 * (or reset it). Every run therefore starts with a clean phase (submissions, rings, polls and
 * reaps only, with a Flush so that something completes) whose completions are checked, and the
 * whole run is checked too when it stays clean. The number of runs checked is counted and must
 * be every run.
 */

import { AdminOpcode, cqHeadDoorbell, NVME_REG_CC, NvmOpcode, SQE, sqTailDoorbell } from '@epfsim/nvme-spec-types';
import { fc, test } from '@fast-check/vitest';
import { afterAll, expect } from 'vitest';
import { RAM_BASE, ScriptedHost } from './helpers/scripted-host.js';

const KNOWN_OPCODES = [...Object.values(AdminOpcode), ...Object.values(NvmOpcode)];

/** An SQE: random bytes, often with a known opcode, NSID 1 and data pointers into host RAM. */
const sqeBytes = fc
  .record({
    bytes: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    opcode: fc.option(fc.constantFrom(...KNOWN_OPCODES), { freq: 2 }),
    nsid1: fc.boolean(),
    prpInRam: fc.option(fc.integer({ min: 0, max: 0x3fffff }), { freq: 2 }),
    smallCdw12: fc.boolean(),
    flags: fc.option(fc.constantFrom(0, 0x40, 0x80, 0xc0, 1), { freq: 2 }),
  })
  .map(({ bytes, opcode, nsid1, prpInRam, smallCdw12, flags }) => {
    const b = bytes.slice();
    const v = new DataView(b.buffer);
    if (opcode !== null) b[SQE.OPC.off] = opcode;
    if (flags !== null) b[SQE.FLAGS.off] = flags;
    if (nsid1) v.setUint32(SQE.NSID.off, 1, true);
    if (prpInRam !== null) v.setBigUint64(SQE.PRP1.off, RAM_BASE + BigInt(prpInRam), true);
    if (smallCdw12) v.setUint32(SQE.CDW12.off, v.getUint32(SQE.CDW12.off, true) & 0xff, true);
    return b;
  });

const sqeAction = fc.record({
  kind: fc.constant('sqe' as const),
  qid: fc.constantFrom(0, 1, 2),
  bytes: sqeBytes,
  ring: fc.boolean(),
});
const ringAction = fc.record({ kind: fc.constant('ring' as const), qid: fc.constantFrom(0, 1, 2) });
const pollAction = fc.record({ kind: fc.constant('poll' as const), times: fc.integer({ min: 1, max: 4 }) });
const reapAction = fc.record({ kind: fc.constant('reap' as const) });

/** What a well-behaved host does: submit, ring, wait, reap. */
const cleanAction = fc.oneof(
  { weight: 8, arbitrary: sqeAction },
  { weight: 2, arbitrary: ringAction },
  { weight: 3, arbitrary: pollAction },
  { weight: 2, arbitrary: reapAction },
);

const action = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('sqe' as const),
      qid: fc.constantFrom(0, 1, 2),
      bytes: sqeBytes,
      ring: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ring' as const), qid: fc.constantFrom(0, 1, 2) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('doorbell' as const),
      qid: fc.integer({ min: 0, max: 8 }),
      cq: fc.boolean(),
      value: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.nat(), fc.constant(0xffff_ffff)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('register' as const),
      offset: fc.oneof(
        fc.integer({ min: 0, max: 0x3f }).map((d) => d * 4),
        fc.integer({ min: 0x1000, max: 0x1fff }).map((d) => d & ~3),
      ),
      value: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 0x00460001, 0x00464001, 0x00468001)),
    }),
  },
  { weight: 3, arbitrary: pollAction },
  { weight: 2, arbitrary: reapAction },
);

const NUM_RUNS = process.env.FC_NUM_RUNS === undefined ? 200 : Number(process.env.FC_NUM_RUNS);
/** Runs, and runs in which "no (SQID, CID) completes twice" was checked on at least one completion. */
let runs = 0;
let uniquenessChecked = 0;

/** No (SQID, CID) among `cqes` twice (CIDs are unique per submission). */
function expectEachCompletedOnce(cqes: readonly { sqid: number; cid: number }[]): void {
  const keys = cqes.map((c) => `${c.sqid}:${c.cid}`);
  expect(new Set(keys).size).toBe(keys.length);
}

test.prop(
  {
    profile: fc.constantFrom('generic', 'dwc', 'stress', 'rk3399', 'rcar'),
    strategy: fc.constantFrom('mem-map' as const, 'multi-window' as const, 'dma' as const),
    clean: fc.array(cleanAction, { minLength: 1, maxLength: 20, size: 'max' }),
    actions: fc.array(action, { minLength: 4, maxLength: 60, size: 'max' }),
  },
  { numRuns: NUM_RUNS },
)(
  'host input never throws, completes each command once, and leaks no mapping',
  ({ profile, strategy, clean, actions }) => {
    runs++;
    const h = new ScriptedHost({ profile, config: { strategy, maxIoQueues: 4, mqes: 63 } });
    h.enable();
    h.createPair(1, 16);
    h.createPair(2, 8);
    const check = () => {
      const s = h.fn.stats;
      expect(s.commandsFetched).toBe(s.commandsCompleted + s.commandsDropped + h.fn.pendingCompletions);
      expect(h.epc.checkLeaks(h.fn.persistentMaps())).toBe(0);
    };
    // The clean phase: a Flush that must complete, then well-formed host actions only.
    h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1, cid: h.nextCid() });
    h.ring(1);
    for (const a of [...clean, ...actions]) {
      if (a === actions[0]) {
        // End of the clean phase: every command submitted so far is fetched, completed and reaped.
        for (const qid of [0, 1, 2]) h.ring(qid);
        for (let i = 0; i < 4; i++) h.fn.poll();
        check();
        h.reapAll();
        expect(h.reaped.length).toBeGreaterThan(0);
        expectEachCompletedOnce(h.reaped);
        uniquenessChecked++;
      }
      switch (a.kind) {
        case 'sqe': {
          // Unique CIDs, so a completion posted twice would show as a repeated (SQID, CID).
          const bytes = a.bytes.slice();
          new DataView(bytes.buffer).setUint16(SQE.CID.off, h.nextCid(), true);
          h.submitRaw(a.qid, bytes);
          if (a.ring) h.ring(a.qid);
          break;
        }
        case 'ring':
          h.ring(a.qid);
          break;
        case 'doorbell':
          h.setReg32(a.cq ? cqHeadDoorbell(a.qid, 0) : sqTailDoorbell(a.qid, 0), a.value);
          break;
        case 'register':
          if (a.offset < h.epc.barSize(0)) h.setReg32(a.offset, a.value);
          break;
        case 'poll':
          for (let i = 0; i < a.times; i++) h.fn.poll();
          check();
          break;
        case 'reap':
          h.reapAll();
          break;
      }
    }
    for (let i = 0; i < 4; i++) h.fn.poll();
    check();
    h.reapAll();
    const s0 = h.fn.stats;
    const raw = actions.some((a) => a.kind === 'doorbell' || a.kind === 'register');
    // A run that stayed clean to the end: no (SQID, CID) completes twice over the whole run.
    if (!raw && s0.enables === 1 && s0.resets === 0 && s0.shutdowns === 0) expectEachCompletedOnce(h.reaped);
    if (process.env.NVME_EPF_PROP_DEBUG) console.log(JSON.stringify({ ...s0, trace: h.fn.trace.length }));
    h.setReg32(NVME_REG_CC, 0);
    h.fn.poll();
    expect(h.epc.liveMaps.length).toBe(0);
    const s = h.fn.stats;
    expect(s.commandsFetched).toBe(s.commandsCompleted + s.commandsDropped);
    h.fn.close();
    expect(h.epc.liveMaps.length).toBe(0);
  },
);

afterAll(() => {
  // Shrinking after a failure adds runs; a passing property has run exactly NUM_RUNS times.
  expect(runs).toBeGreaterThanOrEqual(NUM_RUNS);
  expect(uniquenessChecked).toBe(runs);
});
