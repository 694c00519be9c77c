/**
 * Doorbells (NVMe Base 1.4 §3.1.24; rules ). BAR0 is memory the function polls, so a
 * doorbell write is seen as a changed value. A value outside the ring, or a write to the doorbell
 * of a queue that does not exist, is host misbehaviour: an error asynchronous event (type 0) with
 * an Error Information log entry and a trace event, never an exception.
 */
import {
  AsyncEventInfoError,
  AsyncEventType,
  cqHeadDoorbell,
  Lid,
  STATUS_SUCCESS,
  sqTailDoorbell,
} from '@epfsim/nvme-spec-types';
import type { AsyncEvents } from '../admin/async-events.js';
import type { FunctionFaultFlags } from '../faults/catalogue.js';
import { ERROR_NO_COMMAND, type ErrorLog } from '../health/error-log.js';
import type { CompletionQueue } from '../queues/completion-queue.js';
import type { SubmissionQueue } from '../queues/submission-queue.js';
import { type Bar0Layout, DOORBELLS_PER_QID } from '../registers/bar0-layout.js';
import type { RegisterFile } from '../registers/register-file.js';
import type { FunctionStats } from '../stats.js';
import type { TraceRing } from '../trace.js';

const SQ_TAIL = 0;
const CQ_HEAD = 1;

export interface DoorbellDeps {
  readonly regs: RegisterFile;
  readonly layout: Bar0Layout;
  readonly dstrd: number;
  readonly faults: FunctionFaultFlags;
  readonly errorLog: ErrorLog;
  readonly aer: AsyncEvents;
  readonly stats: FunctionStats;
  readonly trace: TraceRing;
}

export class Doorbells {
  readonly #d: DoorbellDeps;
  readonly #view: DataView;
  /** Last value seen in each doorbell of a queue that does not exist (index 2 × qid + 0/1). */
  readonly #stray: Uint32Array;

  constructor(deps: DoorbellDeps) {
    this.#d = deps;
    this.#view = deps.regs.bar.view;
    this.#stray = new Uint32Array(deps.layout.queuePairs * DOORBELLS_PER_QID);
  }

  /** Zeroes the SQ tail doorbell of a queue created or deleted. */
  zeroSqTail(qid: number): void {
    this.#view.setUint32(sqTailDoorbell(qid, this.#d.dstrd), 0, true);
    this.#stray[qid * DOORBELLS_PER_QID + SQ_TAIL] = 0;
  }

  /** Zeroes the CQ head doorbell of a queue created or deleted. */
  zeroCqHead(qid: number): void {
    this.#view.setUint32(cqHeadDoorbell(qid, this.#d.dstrd), 0, true);
    this.#stray[qid * DOORBELLS_PER_QID + CQ_HEAD] = 0;
  }

  /** Enable and reset: every doorbell reads 0. */
  zeroAll(): void {
    this.#d.regs.bar.bytes.fill(0, sqTailDoorbell(0, this.#d.dstrd), this.#d.layout.doorbellEnd);
    this.#stray.fill(0);
  }

  /**
   * Takes new CQ head values; `onHead` posts what waited for room. Stops when `ready()` turns
   * false (a failed post made the controller fatal).
   */
  serviceCqHeads(
    cqs: readonly (CompletionQueue | undefined)[],
    onHead: (cq: CompletionQueue) => number,
    ready: () => boolean,
  ): number {
    let work = 0;
    const dstrd = this.#d.dstrd;
    for (const cq of cqs) {
      if (cq === undefined) continue;
      const value = this.#view.getUint32(cqHeadDoorbell(cq.qid, dstrd), true);
      if (value === cq.doorbellSeen) continue;
      cq.doorbellSeen = value;
      work++;
      // Fault doorbell-values-unchecked: the Linux function uses any head as written (no event).
      if (!cq.acceptsHead(value) && !this.#d.faults.doorbellValuesUnchecked) {
        this.#errorEvent(
          AsyncEventInfoError.INVALID_DOORBELL_WRITE_VALUE,
          cq.qid,
          `CQ ${cq.qid} head doorbell ${value}: outside the ring (${cq.size}) or past the tail (${cq.tail}, head ${cq.head})`,
        );
        continue;
      }
      cq.head = value;
      work += onHead(cq);
      if (!ready()) return work;
    }
    return work;
  }

  /** a write to the doorbell of a queue that does not exist is an error event (info 00h). */
  serviceStray(sqs: readonly (SubmissionQueue | undefined)[], cqs: readonly (CompletionQueue | undefined)[]): number {
    // Fault doorbell-values-unchecked: the Linux function never looks at such a doorbell.
    if (this.#d.faults.doorbellValuesUnchecked) return 0;
    let work = 0;
    for (let qid = 0; qid < this.#d.layout.queuePairs; qid++) {
      if (sqs[qid] === undefined) work += this.#strayWrite(qid, SQ_TAIL, 'SQ', 'tail');
      if (cqs[qid] === undefined) work += this.#strayWrite(qid, CQ_HEAD, 'CQ', 'head');
    }
    return work;
  }

  /** Reads the SQ tail doorbell; a valid new value moves the tail, an invalid one stalls the queue. */
  refreshTail(sq: SubmissionQueue): void {
    const value = this.#view.getUint32(sqTailDoorbell(sq.qid, this.#d.dstrd), true);
    if (value === sq.doorbellSeen) return;
    sq.doorbellSeen = value;
    if (sq.stalled) return;
    if (sq.acceptsTail(value)) {
      sq.tail = value;
      return;
    }
    if (this.#d.faults.doorbellValuesUnchecked) {
      // Fault doorbell-values-unchecked: the Linux function takes any tail as written. Modulo the
      // size, so that a tail past the ring still ends the fetching (Linux would fetch stale
      // entries forever, a burst per pass).
      sq.tail = value % sq.size;
      return;
    }
    sq.stalled = true;
    this.#errorEvent(
      AsyncEventInfoError.INVALID_DOORBELL_WRITE_VALUE,
      sq.qid,
      `SQ ${sq.qid} tail doorbell ${value}: outside the ring (${sq.size}) or past the head (${sq.head}); no more commands are fetched from it`,
    );
  }

  /** One doorbell of a queue that does not exist: an event when its value changed. */
  #strayWrite(qid: number, which: typeof SQ_TAIL | typeof CQ_HEAD, queue: 'SQ' | 'CQ', name: string): number {
    const off = which === SQ_TAIL ? sqTailDoorbell(qid, this.#d.dstrd) : cqHeadDoorbell(qid, this.#d.dstrd);
    const value = this.#view.getUint32(off, true);
    const index = qid * DOORBELLS_PER_QID + which;
    if (value === this.#stray[index]) return 0;
    this.#stray[index] = value;
    this.#errorEvent(
      AsyncEventInfoError.WRITE_TO_INVALID_DOORBELL,
      qid,
      `${queue} ${qid} ${name} doorbell written (${value}) but the ${queue} does not exist`,
    );
    return 1;
  }

  /** An error asynchronous event (type 0) naming the Error Information log, with a log entry. */
  #errorEvent(info: number, qid: number, message: string): void {
    const d = this.#d;
    d.stats.invalidDoorbellWrites++;
    d.trace.record({
      kind:
        info === AsyncEventInfoError.WRITE_TO_INVALID_DOORBELL ? 'doorbell-without-queue' : 'invalid-doorbell-value',
      message,
      qid,
    });
    d.errorLog.record({
      sqid: qid,
      cid: ERROR_NO_COMMAND,
      status: STATUS_SUCCESS,
      phase: 0,
      location: ERROR_NO_COMMAND,
      lba: 0n,
      nsid: 0,
    });
    d.stats.asyncEventsPosted++;
    d.aer.notify(AsyncEventType.ERROR, info, Lid.ERROR_INFORMATION);
  }
}
