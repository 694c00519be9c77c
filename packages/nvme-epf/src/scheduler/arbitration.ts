/**
 * Arbitration and execution (NVMe Base 1.4 §4.13, round robin only; rule Q-12). Each round visits
 * every SQ once: up to the arbitration burst of commands, fetched in one read, executed
 * synchronously and completed through the CQ logic. The round is bounded in work as well as in
 * commands (POLL_WORK_BUDGET): once a poll has spent it, the round resumes at the next SQ
 * on the next poll, and a command whose work exceeds a bounce buffer runs over polls.
 */
import { SQE_SIZE, Status } from '@epfsim/nvme-spec-types';
import { executeAdmin } from '../admin/dispatch.js';
import type { FeatureState } from '../admin/features.js';
import { DEFERRED, EarlyFailure } from '../command/command.js';
import type { AdminContext, IoContext } from '../command/context.js';
import type { RequestPool } from '../command/request.js';
import type { FunctionFaultFlags } from '../faults/catalogue.js';
import { executeIo } from '../io/dispatch.js';
import type { QueueManager } from '../queues/queue-manager.js';
import type { SubmissionQueue } from '../queues/submission-queue.js';
import type { FunctionStats } from '../stats.js';
import type { HostPort } from '../transfer/host-port.js';
import type { Completions } from './completions.js';
import type { Doorbells } from './doorbells.js';
import type { ResumableRunner } from './resumable-runner.js';
import type { RunState } from './run-state.js';
import { COMMAND_WORK, type WorkBudget } from './work-budget.js';

/** SQEs fetched in one read at most: the largest finite Arbitration Burst, 2^6 (AB = 110b). */
export const FETCH_ENTRIES = 64;

export interface ArbitrationDeps {
  readonly queues: QueueManager;
  readonly doorbells: Doorbells;
  readonly features: FeatureState;
  readonly work: WorkBudget;
  readonly port: HostPort;
  readonly run: RunState;
  readonly stats: FunctionStats;
  readonly faults: FunctionFaultFlags;
  readonly resumables: ResumableRunner;
  readonly completions: Completions;
  readonly requests: RequestPool;
  readonly admin: AdminContext;
  readonly io: IoContext;
  /** The fetch buffer: SQEs are read here, a burst at a time. */
  readonly fetch: Uint8Array;
}

export class Arbitration {
  readonly #d: ArbitrationDeps;
  readonly #fetchView: DataView;
  readonly #fetchViews: (Uint8Array | undefined)[] = [];
  /** The SQ the next arbitration round starts at: after the one that spent the last poll's budget. */
  #roundNext = 0;

  constructor(deps: ArbitrationDeps) {
    this.#d = deps;
    this.#fetchView = new DataView(deps.fetch.buffer, deps.fetch.byteOffset, deps.fetch.length);
  }

  /** A reset: the next round starts at the admin SQ. */
  reset(): void {
    this.#roundNext = 0;
  }

  /** One round over the SQs; returns the work done. */
  serviceSqs(): number {
    const d = this.#d;
    // The Arbitration feature cannot change inside one round.
    const burst = d.features.arbitrationBurst;
    const sqs = d.queues.sqs;
    const count = sqs.length;
    const start = this.#roundNext;
    let work = 0;
    for (let k = 0; k < count; k++) {
      const qid = start + k < count ? start + k : start + k - count;
      const sq = sqs[qid];
      if (sq === undefined) continue;
      d.doorbells.refreshTail(sq);
      work += this.#serviceSq(sq, burst);
      if (!d.run.ready) break;
      if (d.work.workLeft <= 0) {
        // The next round starts at the next SQ: a queue that spends the budget cannot starve the others.
        this.#roundNext = qid + 1 < count ? qid + 1 : 0;
        break;
      }
    }
    return work;
  }

  /** Fetches and executes up to the burst from `sq`, a contiguous run of entries per read. */
  #serviceSq(sq: SubmissionQueue, burst: number): number {
    const d = this.#d;
    if (d.faults.uncheckedEntrySizes && sq.entrySize !== SQE_SIZE) return this.#serviceSizedSq(sq, burst);
    let budget = burst;
    let work = 0;
    if (sq.inProgress !== null) {
      work++;
      if (!d.resumables.resume(sq) || d.work.workLeft <= 0) return work;
    }
    while (budget > 0 && !sq.stalled && sq.head !== sq.tail && sq.cq.deferred.length === 0) {
      const run = sq.tail > sq.head ? sq.tail - sq.head : sq.size - sq.head;
      const n = Math.min(budget, run, FETCH_ENTRIES);
      const dst = this.#fetchEntries(n);
      if (!d.port.read(sq.entryAddress(sq.head), dst)) {
        const epc = d.port.lastError;
        d.run.fatal(`SQ ${sq.qid}: fetching entry ${sq.head} failed (${epc?.toString() ?? ''})`, sq.qid, epc);
        return work;
      }
      for (let i = 0; i < n; i++) {
        // Stop when a command ended the controller's run, deleted this SQ, or filled its CQ.
        if (!d.run.ready || d.queues.sqs[sq.qid] !== sq || sq.cq.deferred.length > 0) return work;
        sq.head = (sq.head + 1) % sq.size;
        d.stats.commandsFetched++;
        this.#execute(i * SQE_SIZE, sq);
        work++;
        budget--;
        // A command that runs over polls holds its SQ; a spent budget ends the round.
        if (sq.inProgress !== null || d.work.workLeft <= 0) return work;
      }
    }
    return work;
  }

  /**
   * Fault unchecked-entry-sizes: an SQ whose entries are 2^IOSQES bytes apart, fetched one entry
   * at a time as the Linux function did before its fix: the command is the first 64 bytes of a
   * longer entry (Linux copied the rest over the memory after its 64-byte command buffer), and a
   * shorter entry leaves the rest of the 64 bytes as the previous command fetched them.
   */
  #serviceSizedSq(sq: SubmissionQueue, burst: number): number {
    const d = this.#d;
    let work = 0;
    for (
      let budget = burst;
      budget > 0 && !sq.stalled && sq.head !== sq.tail && sq.cq.deferred.length === 0;
      budget--
    ) {
      const at = sq.entryAddress(sq.head);
      const ok =
        sq.entrySize < SQE_SIZE
          ? d.port.read(at, d.fetch.subarray(0, sq.entrySize))
          : this.#fetchLongEntry(at, sq.entrySize);
      if (!ok) {
        d.run.fatal(`SQ ${sq.qid}: fetching entry ${sq.head} failed (${d.port.lastError?.toString() ?? ''})`, sq.qid);
        return work;
      }
      sq.head = (sq.head + 1) % sq.size;
      d.stats.commandsFetched++;
      this.#execute(0, sq);
      work++;
      if (!d.run.ready || d.queues.sqs[sq.qid] !== sq) break;
    }
    return work;
  }

  /** Reads a `size`-byte SQ entry (size > 64) and keeps its first 64 bytes as the command. */
  #fetchLongEntry(at: bigint, size: number): boolean {
    const entry = new Uint8Array(size);
    if (!this.#d.port.read(at, entry)) return false;
    this.#d.fetch.set(entry.subarray(0, SQE_SIZE));
    return true;
  }

  /** The first `n` entries of the fetch buffer (views kept per count, so a fetch allocates nothing). */
  #fetchEntries(n: number): Uint8Array {
    let view = this.#fetchViews[n];
    if (view === undefined) {
      view = this.#d.fetch.subarray(0, n * SQE_SIZE);
      this.#fetchViews[n] = view;
    }
    return view;
  }

  /** Runs the command at `base` in the fetch buffer on a pooled request, and completes it unless it waits. */
  #execute(base: number, sq: SubmissionQueue): void {
    const d = this.#d;
    d.work.chargeWork(COMMAND_WORK);
    const req = d.requests.acquire();
    req.load(this.#fetchView, base, sq);
    // A refused access names this command's EPC error only if it happened while it ran.
    d.port.lastError = null;
    let result: number;
    if (sq.abortCids?.delete(req.cid)) {
      result = Status.ABORT_REQ;
    } else {
      result = sq.qid === 0 ? executeAdmin(d.admin, req) : executeIo(d.io, req);
    }
    if (result !== DEFERRED) {
      d.completions.complete(sq, req.cid, result, req.dw0, req);
      if (d.faults.doubleCompletion && req.earlyFailure === EarlyFailure.PARSE) {
        // Before Linux "Do not complete commands twice if nvmet_req_init() fails", the core completed
        // a command its parse rejected, and nvmet_pci_epf_exec_iod_work() then completed it again.
        d.completions.complete(sq, req.cid, result, req.dw0, req);
      }
    }
    d.requests.release(req);
  }
}
