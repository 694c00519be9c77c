/**
 * Asynchronous Event Request (opcode 0Ch; NVMe Base 1.4 §5.2, rule Q-11): AERs wait on the admin
 * queue until an event happens, at most AERL + 1 of them (one more gives 1/05h). An event that
 * finds no AER waits in a queue. Once an event of a type is reported, further events of that type
 * stay masked until the host reads the log page the event named with RAE = 0 (§5.2.1).
 */
import { encodeAsyncEvent, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import { DEFERRED, type HandlerResult } from '../command/command.js';

/** Identify AERL (0's based): four AERs may wait at once. */
export const AERL = 3;
/** Events kept while no AER waits; duplicates of a waiting event are not queued twice. */
const EVENT_QUEUE_LIMIT = 64;

/** A pending event. */
interface AsyncEvent {
  readonly type: number;
  readonly info: number;
  readonly logPage: number;
}

/** Posts the completion of the AER `cid` on the admin queue. */
export type AerCompleter = (cid: number, status: number, dw0: number) => void;

export class AsyncEvents {
  readonly #complete: AerCompleter;
  /** CIDs of the AERs waiting, oldest first. */
  readonly #waiting: number[] = [];
  readonly #queued: AsyncEvent[] = [];
  /** Event type → the log page whose read (RAE = 0) unmasks it. */
  readonly #masked = new Map<number, number>();

  constructor(complete: AerCompleter) {
    this.#complete = complete;
  }

  /** AERs outstanding now. */
  get outstanding(): number {
    return this.#waiting.length;
  }

  /** Events waiting for an AER. */
  get queuedEvents(): number {
    return this.#queued.length;
  }

  /** A new AER: waits (DEFERRED), is answered at once by a queued event, or exceeds the limit (1/05h). */
  request(cid: number): HandlerResult {
    if (this.#waiting.length > AERL) return Status.ASYNC_LIMIT;
    this.#waiting.push(cid);
    this.#deliver();
    return DEFERRED;
  }

  /** An event happened. */
  notify(type: number, info: number, logPage: number): void {
    const duplicate = this.#queued.some((e) => e.type === type && e.info === info && e.logPage === logPage);
    if (!duplicate && this.#queued.length < EVENT_QUEUE_LIMIT) this.#queued.push({ type, info, logPage });
    this.#deliver();
  }

  /** The host read log page `lid`; with RAE = 0 the event types that named it are unmasked. */
  logRead(lid: number, retainEvent: boolean): void {
    if (retainEvent) return;
    for (const [type, logPage] of this.#masked) if (logPage === lid) this.#masked.delete(type);
    this.#deliver();
  }

  /** Abort of a waiting AER: true when `cid` was waiting; it no longer is. */
  abort(cid: number): boolean {
    const index = this.#waiting.indexOf(cid);
    if (index < 0) return false;
    this.#waiting.splice(index, 1);
    return true;
  }

  /** Controller reset: waiting AERs end without completion and queued events are dropped. Returns the AERs dropped. */
  reset(): number {
    const dropped = this.#waiting.length;
    this.#waiting.length = 0;
    this.#queued.length = 0;
    this.#masked.clear();
    return dropped;
  }

  #deliver(): void {
    while (this.#waiting.length > 0) {
      const index = this.#queued.findIndex((e) => !this.#masked.has(e.type));
      if (index < 0) return;
      const event = this.#queued.splice(index, 1)[0]!;
      const cid = this.#waiting.shift()!;
      this.#masked.set(event.type, event.logPage);
      this.#complete(cid, STATUS_SUCCESS, encodeAsyncEvent(event.type, event.info, event.logPage));
    }
  }
}
