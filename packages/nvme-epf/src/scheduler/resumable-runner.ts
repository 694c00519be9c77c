/**
 * Commands whose work runs over polls ({@link ResumableCommand}): the SQ holds the command and
 * fetches nothing more until it completes; each poll steps it while the budget lasts. The command
 * runs on its own pooled {@link Request} (a copy of its SQE), since the one it came in on goes back
 * to the pool when its handler returns.
 */
import { type NvmeStatus, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import { DEFERRED, type HandlerResult } from '../command/command.js';
import type { Request, RequestPool } from '../command/request.js';
import { RESUMABLE_TRANSFER_SLOTS, type ResumableCommand } from '../command/resumable-command.js';
import type { SubmissionQueue } from '../queues/submission-queue.js';
import type { Completer } from './completions.js';

/** What handlers use to run a command over polls. */
export interface ResumableStarter {
  /**
   * Runs the work `make` builds on a copy of `req`: its first step now, the rest over the next
   * polls while its SQ waits. The completion is posted when the work is done.
   */
  startResumable(req: Request, make: (held: Request) => ResumableCommand): HandlerResult;
  /** Takes one of the {@link RESUMABLE_TRANSFER_SLOTS} (false: all are held; try again next step). */
  takeTransferSlot(): boolean;
  giveTransferSlot(): void;
}

export class ResumableRunner implements ResumableStarter {
  readonly #pool: RequestPool;
  readonly #completer: Completer;
  /** Resumable transfers holding a slot. */
  #transfers = 0;

  constructor(pool: RequestPool, completer: Completer) {
    this.#pool = pool;
    this.#completer = completer;
  }

  startResumable(req: Request, make: (held: Request) => ResumableCommand): HandlerResult {
    const sq = req.sq;
    if (sq === null) throw new RangeError('a resumable command needs its SQ');
    const held = this.#pool.acquire();
    held.loadCopyOf(req);
    sq.inProgress = make(held);
    this.resume(sq);
    return DEFERRED;
  }

  takeTransferSlot(): boolean {
    if (this.#transfers >= RESUMABLE_TRANSFER_SLOTS) return false;
    this.#transfers++;
    return true;
  }

  giveTransferSlot(): void {
    this.#transfers--;
  }

  /** Steps the command `sq` is waiting for; true when it completed (the SQ may fetch again). */
  resume(sq: SubmissionQueue): boolean {
    const work = sq.inProgress as ResumableCommand;
    const result = work.step();
    if (result === DEFERRED) return false;
    this.finish(sq, result);
    return true;
  }

  /** Completes the command `sq` holds with `status` and gives back what it holds. */
  finish(sq: SubmissionQueue, status: NvmeStatus): void {
    const work = sq.inProgress as ResumableCommand;
    sq.inProgress = null;
    work.release();
    this.#completer.complete(sq, work.origin.cid, status, status === STATUS_SUCCESS ? work.origin.dw0 : 0, work.origin);
    this.#pool.release(work.origin);
  }

  /** Abort of the command `sq` is working on over polls: it completes with 0/07h. */
  abortInProgress(sq: SubmissionQueue, cid: number): boolean {
    if (sq.inProgress?.origin.cid !== cid) return false;
    this.finish(sq, Status.ABORT_REQ);
    return true;
  }

  /** A reset drops the command `sq` holds without a completion; true when there was one. */
  drop(sq: SubmissionQueue): boolean {
    const work = sq.inProgress;
    if (work === null) return false;
    sq.inProgress = null;
    work.release();
    this.#pool.release(work.origin);
    return true;
  }
}
