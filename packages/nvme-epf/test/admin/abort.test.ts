/** Abort: best effort, DW0 bit 0, 0/07h for the aborted command, the ACL limit. */
import { ABORT, AdminOpcode, FeatureId, NvmOpcode, packFields, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { ScriptedHost } from '../helpers/scripted-host.js';

function up() {
  const h = new ScriptedHost();
  h.enable();
  h.createPair(1, 64);
  // Arbitration burst 1, so submitted I/O stays in the ring while the admin queue is served.
  h.admin({ opcode: AdminOpcode.SET_FEATURES, cdw10: FeatureId.ARBITRATION, cdw11: 0 });
  return h;
}

const abortCmd = (sqid: number, cid: number) => ({
  opcode: AdminOpcode.ABORT,
  cdw10: packFields(ABORT.CDW10, { SQID: sqid, CID: cid }),
});

describe('Abort', () => {
  it('a command still waiting in the SQ completes with 0/07h; the Abort says "aborted" (DW0 bit 0 = 0)', () => {
    const h = up();
    const cids = [0, 1, 2, 3].map(() => h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1 }));
    h.ring(1);
    const a = h.submit(0, abortCmd(1, cids[3]!));
    h.ring(0);
    const ac = h.wait(0, a)!;
    expect(ac.status).toBe(0);
    expect(ac.dw0 & 1).toBe(0);
    for (const cid of cids) h.wait(1, cid);
    const statuses = h.reaped.filter((c) => c.sqid === 1).map((c) => c.status);
    expect(statuses).toEqual([0, 0, 0, Status.ABORT_REQ]);
  });

  it('a command not found (already completed, or never submitted) is "not aborted"', () => {
    const h = up();
    const done = h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    expect(h.admin(abortCmd(1, done.cid)).dw0 & 1).toBe(1);
    expect(h.admin(abortCmd(1, 0xbeef)).dw0 & 1).toBe(1);
    expect(h.admin(abortCmd(9, 1)).dw0 & 1).toBe(1);
  });

  it('a waiting Asynchronous Event Request can be aborted', () => {
    const h = up();
    const aer = h.submit(0, { opcode: AdminOpcode.ASYNC_EVENT_REQUEST });
    h.ring(0);
    h.fn.poll();
    const ac = h.admin(abortCmd(0, aer));
    expect(ac.dw0 & 1).toBe(0);
    expect(h.reaped.find((c) => c.cid === aer)?.status).toBe(Status.ABORT_REQ);
  });

  it('more than ACL + 1 (4) outstanding aborts → 1/03h', () => {
    const h = up();
    const cids = Array.from({ length: 10 }, () => h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1 }));
    h.ring(1);
    const aborts = cids.slice(5, 10).map((cid) => h.submit(0, abortCmd(1, cid)));
    h.ring(0);
    h.fn.poll();
    h.reap(0);
    const results = aborts.map((a) => h.wait(0, a)!);
    expect(results.map((r) => r.status)).toEqual([0, 0, 0, 0, Status.ABORT_LIMIT]);
    for (const cid of cids) h.wait(1, cid);
    expect(h.reaped.filter((c) => c.sqid === 1 && c.status === Status.ABORT_REQ)).toHaveLength(4);
  });
});
