/**
 * Abort (08h; NVMe Base 1.4 §5.1, rule Q-10), best effort. Execution is synchronous, so the only
 * commands that can still be aborted are a waiting Asynchronous Event Request, a command whose
 * work runs over polls (it completes with 0/07h at once), and commands submitted (tail doorbell
 * rung) but not yet fetched: those are marked and complete with 0/07h when their turn comes. DW0 bit 0 = 0 means aborted, 1 not aborted. Marked commands not yet
 * completed count as outstanding aborts: more than ACL + 1 gives 1/03h. An SQID that does not
 * exist is "not aborted" (the specification makes Abort best effort; QEMU answers 0/02h).
 */
import { ABORT, getBits, type NvmeStatus, packFields, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import type { AdminContext } from '../command/context.js';
import type { Request } from '../command/request.js';

/** Identify ACL (0's based): four aborts may be outstanding. */
export const ACL = 3;

const NOT_ABORTED = packFields(ABORT.DW0, { NOT_ABORTED: 1 });
const ABORTED = packFields(ABORT.DW0, { NOT_ABORTED: 0 });

function outstandingAborts(ctx: AdminContext): number {
  let n = 0;
  for (const sq of ctx.queues.sqs) n += sq?.abortCids?.size ?? 0;
  return n;
}

/** Abort (08h). */
export function abort(ctx: AdminContext, req: Request): NvmeStatus {
  const cdw10 = req.cdw(10);
  const sqid = getBits(cdw10, ABORT.CDW10.SQID);
  const cid = getBits(cdw10, ABORT.CDW10.CID);
  if (outstandingAborts(ctx) > ACL) return Status.ABORT_LIMIT;
  req.dw0 = NOT_ABORTED;
  const sq = sqid < ctx.queues.sqs.length ? ctx.queues.sqs[sqid] : undefined;
  if (sq === undefined) return STATUS_SUCCESS;
  if (sqid === 0 && ctx.aer.abort(cid)) {
    ctx.completer.complete(sq, cid, Status.ABORT_REQ, 0);
    req.dw0 = ABORTED;
    return STATUS_SUCCESS;
  }
  // A command running over polls (a large transfer) is aborted where it stands.
  if (ctx.queues.abortInProgress(sq, cid)) {
    req.dw0 = ABORTED;
    return STATUS_SUCCESS;
  }
  if (sq.abortCids?.has(cid) || !ctx.queues.findQueued(sq, cid)) return STATUS_SUCCESS;
  sq.abortCids ??= new Set();
  sq.abortCids.add(cid);
  req.dw0 = ABORTED;
  return STATUS_SUCCESS;
}
