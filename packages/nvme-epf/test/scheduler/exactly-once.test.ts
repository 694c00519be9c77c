/** Every command, good or bad, yields exactly one completion; a full CQ defers without losing any. */
import { AdminOpcode, NvmOpcode, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { PAGE, ScriptedHost } from '../helpers/scripted-host.js';

describe('exactly one completion per command', () => {
  it('a 4-entry CQ behind a 32-entry SQ: completions wait, keep their order, and none is lost', () => {
    const h = new ScriptedHost();
    h.enable();
    h.createCq(1, 4, { iv: 1 });
    h.createSq(1, 32, 1);
    const buf = h.alloc(PAGE);
    const cids: number[] = [];
    for (let i = 0; i < 31; i++) {
      // A mix of good and bad commands.
      const kind = i % 4;
      const fields =
        kind === 0
          ? { opcode: NvmOpcode.FLUSH, nsid: 1 }
          : kind === 1
            ? { opcode: NvmOpcode.READ, nsid: 1, prp1: buf, cdw12: 0 }
            : kind === 2
              ? { opcode: 0x7f, nsid: 1 }
              : { opcode: NvmOpcode.READ, nsid: 1, prp1: buf + 1n, cdw12: 0 };
      cids.push(h.submit(1, fields));
    }
    h.ring(1);
    for (let i = 0; i < 3; i++) h.fn.poll();
    // The CQ holds at most 3 entries until the host consumes.
    expect(h.reap(1, false)).toHaveLength(3);
    expect(h.fn.pendingCompletions).toBeGreaterThan(0);
    const seen = h.reaped.filter((c) => c.sqid === 1);
    h.ringCq(1);
    h.pollUntil(() => {
      seen.push(...h.reap(1));
      return seen.length >= 31;
    });
    for (let i = 0; i < 10; i++) {
      h.fn.poll();
      seen.push(...h.reap(1));
    }
    expect(seen.map((c) => c.cid)).toEqual(cids);
    expect(seen.map((c) => c.status).filter((s) => s === Status.INVALID_OPCODE)).toHaveLength(8);
    // SQHD never goes backwards and ends at the tail.
    expect(seen.at(-1)?.sqhd).toBe(31);
    const s = h.fn.stats;
    expect(s.commandsFetched).toBe(31 + 2);
    expect(s.commandsCompleted).toBe(s.commandsFetched);
    expect(s.deferredCompletions).toBeGreaterThan(0);
    expect(h.fn.pendingCompletions).toBe(0);
  });

  it('admin commands with every opcode but AER: one CQE each', () => {
    const h = new ScriptedHost();
    h.enable();
    for (let op = 0; op < 256; op++) {
      if (op === AdminOpcode.ASYNC_EVENT_REQUEST) continue;
      h.submit(0, { opcode: op, nsid: 0, prp1: h.alloc(PAGE), cdw10: 0 });
      h.ring(0);
      h.pollUntil(() => h.reap(0).length > 0 || h.fn.pendingCompletions > 0, 5);
    }
    for (let i = 0; i < 10; i++) {
      h.fn.poll();
      h.reap(0);
    }
    const keys = h.reaped.map((c) => `${c.sqid}:${c.cid}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(h.reaped).toHaveLength(255);
    expect(h.fn.pendingCompletions).toBe(0);
    expect(h.fn.stats.commandsFetched).toBe(h.fn.stats.commandsCompleted + h.fn.pendingCompletions);
  });
});
