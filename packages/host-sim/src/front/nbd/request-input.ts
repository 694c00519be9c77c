/**
 * The transmission phase's input of one connection, parsed in one pass over each `data` chunk. A
 * request header is read in place when it lies whole in the chunk, otherwise assembled in a
 * reused 28-byte buffer. Input that arrives while the connection is blocked (too much in flight,
 * replies unread, no room in the memory budget) is queued, and the socket is paused, until
 * {@link RequestInput.pump} finds the connection open again.
 */
import { REQUEST } from './protocol.js';

/** The connection, as the parser sees it. */
export interface RequestSink {
  /** False once the connection stops taking requests (draining, closed). */
  accepting(): boolean;
  /** No request may start now. */
  blocked(): boolean;
  /** A WRITE's payload is being read. */
  payloadPending(): boolean;
  /** Takes payload bytes from `chunk` at `pos`; returns the new position (the same while it waits for budget). */
  takePayload(chunk: Buffer, pos: number): number;
  /** A whole request header at `b[base..]`. */
  onRequest(b: Buffer, base: number): void;
}

export class RequestInput {
  private readonly sink: RequestSink;
  private readonly header = Buffer.allocUnsafe(REQUEST.size);
  private headerFill = 0;
  private readonly queue: Buffer[] = [];
  private queueOffset = 0;
  /** A parse loop is running: a pump from inside it (a request completing at once) leaves the work to it. */
  busy = false;

  constructor(sink: RequestSink) {
    this.sink = sink;
  }

  /** Part of a header has arrived (a truncated request if the stream ends here). */
  get partialHeader(): boolean {
    return this.headerFill > 0;
  }

  /** New input: parsed now unless the connection is blocked or earlier input waits. True: pause the socket. */
  push(chunk: Buffer): boolean {
    if (this.queue.length > 0 || this.sink.blocked()) {
      this.queue.push(chunk);
      return true;
    }
    const pos = this.parse(chunk, 0);
    if (pos === chunk.length || !this.sink.accepting()) return false;
    this.queue.push(chunk);
    this.queueOffset = pos;
    return true;
  }

  /** Parses queued input while the connection is open; true once the queue is empty (resume the socket). */
  pump(): boolean {
    while (this.queue.length > 0) {
      if (!this.sink.accepting() || this.sink.blocked()) return false;
      const chunk = this.queue[0]!;
      const pos = this.parse(chunk, this.queueOffset);
      if (pos < chunk.length) {
        this.queueOffset = pos;
        return false;
      }
      this.queue.shift();
      this.queueOffset = 0;
    }
    return true;
  }

  /** Drops queued input (the connection stops reading). */
  clear(): void {
    this.queue.length = 0;
  }

  /** Parses requests from `chunk` starting at `start`; returns where it stopped (blocked). */
  private parse(chunk: Buffer, start: number): number {
    const sink = this.sink;
    const end = chunk.length;
    let pos = start;
    this.busy = true;
    try {
      while (pos < end) {
        if (!sink.accepting()) return end;
        if (sink.payloadPending()) {
          const next = sink.takePayload(chunk, pos);
          if (next === pos) return pos; // waiting for room in the budget
          pos = next;
          continue;
        }
        if (sink.blocked()) return pos;
        if (this.headerFill === 0 && end - pos >= REQUEST.size) {
          pos += REQUEST.size;
          sink.onRequest(chunk, pos - REQUEST.size);
        } else {
          const n = Math.min(REQUEST.size - this.headerFill, end - pos);
          chunk.copy(this.header, this.headerFill, pos, pos + n);
          this.headerFill += n;
          pos += n;
          if (this.headerFill === REQUEST.size) {
            this.headerFill = 0;
            sink.onRequest(this.header, 0);
          }
        }
      }
      return pos;
    } finally {
      this.busy = false;
    }
  }
}
