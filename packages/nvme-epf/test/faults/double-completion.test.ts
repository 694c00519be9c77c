/**
 * Fault double-completion (Linux "Do not complete commands twice if nvmet_req_init() fails"): a
 * command rejected before execution got its error CQE from the core and a second one from the
 * transport. Correct: exactly one CQE per command.
 */
import { AdminOpcode, type Cqe, Fuse, NvmOpcode, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { PAGE, ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'double-completion';
/** An opcode neither command set implements. */
const UNSUPPORTED_OPCODE = 0x7f;
/** A log page identifier the function does not support. */
const UNSUPPORTED_LOG_PAGE = 0x7f;
/** An NSID no namespace has (the function has one). */
const INACTIVE_NSID = 99;
/** Polls enough for every completion of one submitted batch to be posted. */
const SETTLE_POLLS = 10;

function host(faults: readonly FunctionFaultName[]): ScriptedHost {
  const h = new ScriptedHost({ config: { faults } });
  h.enable();
  h.createPair(1, 16);
  return h;
}

/** Submits one command on `qid`, lets the function settle, and returns every CQE reaped from that queue's CQ. */
function cqesFor(h: ScriptedHost, qid: number, fields: Parameters<ScriptedHost['submit']>[1]): Cqe[] {
  const before = h.reaped.length;
  h.submit(qid, fields);
  h.ring(qid);
  for (let i = 0; i < SETTLE_POLLS; i++) {
    h.fn.poll();
    h.reap(qid);
  }
  return h.reaped.slice(before);
}

const REJECTED_BEFORE_EXECUTION = [
  {
    what: 'an unsupported I/O opcode',
    qid: 1,
    fields: { opcode: UNSUPPORTED_OPCODE, nsid: 1 },
    status: Status.INVALID_OPCODE,
  },
  {
    what: 'an inactive NSID',
    qid: 1,
    fields: { opcode: NvmOpcode.FLUSH, nsid: INACTIVE_NSID },
    status: Status.INVALID_NS,
  },
  {
    what: 'a fused I/O command',
    qid: 1,
    fields: { opcode: NvmOpcode.FLUSH, nsid: 1, fuse: Fuse.FIRST },
    status: Status.INVALID_FIELD,
  },
  {
    what: 'an unsupported admin opcode',
    qid: 0,
    fields: { opcode: UNSUPPORTED_OPCODE },
    status: Status.INVALID_OPCODE,
  },
] as const;

describe('fault double-completion', () => {
  it.each(REJECTED_BEFORE_EXECUTION)('off: $what gets exactly one CQE', ({ qid, fields, status }) => {
    const h = host([]);
    const cqes = cqesFor(h, qid, fields);
    expect(cqes.map((c) => c.status)).toEqual([status]);
  });

  it.each(REJECTED_BEFORE_EXECUTION)(
    'on: $what gets a second CQE with the same SQID, CID and status',
    ({ qid, fields, status }) => {
      const h = host([FAULT]);
      const cqes = cqesFor(h, qid, fields);
      expect(cqes).toHaveLength(2);
      const [first, second] = cqes as [Cqe, Cqe];
      expect(second.cid).toBe(first.cid);
      expect(second.sqid).toBe(qid);
      expect([first.status, second.status]).toEqual([status, status]);
      expect(h.fn.stats.commandsCompleted).toBeGreaterThan(h.fn.stats.commandsFetched);
    },
  );

  it('on: a command that fails during execution still gets one CQE', () => {
    const h = host([FAULT]);
    // Get Log Page of a log page that does not exist fails in the handler, not in the parse.
    const cqes = cqesFor(h, 0, { opcode: AdminOpcode.GET_LOG_PAGE, cdw10: UNSUPPORTED_LOG_PAGE, prp1: h.alloc(PAGE) });
    expect(cqes.map((c) => c.status)).toEqual([Status.INVALID_LOG_PAGE]);
  });

  it('on: a good command gets one CQE', () => {
    const h = host([FAULT]);
    expect(cqesFor(h, 1, { opcode: NvmOpcode.FLUSH, nsid: 1 }).map((c) => c.status)).toEqual([0]);
  });
});
