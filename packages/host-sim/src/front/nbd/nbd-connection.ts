/**
 * One NBD client connection: the fixed newstyle handshake, then the transmission phase with
 * simple replies (proto.md "Transmission", "Request message", "Simple reply message").
 *
 * The {@link Handshake} negotiates; {@link RequestInput} parses requests; a WRITE payload that lies
 * whole in one chunk goes to the device as a view of that chunk, and only a payload split over
 * chunks is copied, once. Requests run concurrently up to `maxInFlight` requests and
 * `maxInFlightBytes` of data, and while the server-wide {@link MemoryBudget} has room; beyond
 * that, or while replies pile up unread, the socket is paused. A connection must finish the
 * handshake within `handshakeTimeoutMs` (as qemu-nbd's handshake limit) or it is closed.
 *
 * A misbehaving client never throws here: a bad request gets an error reply, and what cannot be
 * answered safely (bad magic, an oversize WRITE, a truncated stream) ends the connection after
 * the requests already accepted have completed. EOF, ECONNRESET and EPIPE are ordinary ends:
 * fio never sends NBD_CMD_DISC (reference §1).
 */
import type { Socket } from 'node:net';
import { type BlockDevice, nbdErrnoOf } from './block-device.js';
import { checkRequest } from './check-request.js';
import { runOnDevice } from './device-request.js';
import { type ExportInfo, exportInfoOf } from './export-info.js';
import { Handshake } from './handshake.js';
import type { BudgetHolder, MemoryBudget } from './memory-budget.js';
import {
  greeting,
  NBD_CMD_DISC,
  NBD_CMD_READ,
  NBD_CMD_WRITE,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
} from './protocol.js';
import { ReplyWriter } from './reply-writer.js';
import { countRequest, decodeRequest, type NbdRequest, type PendingWrite } from './request.js';
import { RequestInput } from './request-input.js';
import type { NbdStats } from './stats.js';

export interface NbdConnectionOptions {
  readonly exportName: string;
  readonly multiConn: boolean;
  readonly maxInFlight: number;
  readonly maxInFlightBytes: number;
  readonly stats: NbdStats;
  /** Request data of every connection of the server (shared). */
  readonly budget: MemoryBudget;
  /** Options one connection may send before the server closes it. */
  readonly maxOptions: number;
  /** Time from accept to the end of the handshake before the server closes the connection. */
  readonly handshakeTimeoutMs: number;
  readonly onError: (error: unknown) => void;
}

/** Stop reading requests while this much reply data waits in the socket (a client not reading). */
const MIN_OUTPUT_LIMIT = 4 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

type Phase = 'handshake' | 'transmission' | 'draining' | 'closed';

export class NbdConnection implements BudgetHolder {
  /** Settles when the socket is closed and no request is in flight (never rejects). */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  private readonly socket: Socket;
  private readonly opts: NbdConnectionOptions;
  private phase: Phase = 'handshake';
  private device: BlockDevice | null = null;
  private info: ExportInfo | null = null;

  private readonly handshake: Handshake;
  private readonly input: RequestInput;
  private pendingWrite: PendingWrite | null = null;
  private inFlight = 0;
  /** READ and WRITE bytes of the requests in flight: bounds the buffers a connection pins. */
  private inFlightBytes = 0;
  private awaitingDrain = false;
  private outputLimit = MIN_OUTPUT_LIMIT;
  private readonly replies: ReplyWriter;
  private socketClosed = false;

  // Bounds (the server-wide budget, the handshake limits).
  budgetHeld = 0;
  lastProgress = performance.now();
  private heldRequest: NbdRequest | null = null;
  /** The WRITE payload being read waits for room in the budget: reading is stopped. */
  private payloadWaiting = false;
  private handshakePaused = false;
  private handshakeTimer: ReturnType<typeof setTimeout> | null;

  constructor(socket: Socket, device: Promise<BlockDevice>, opts: NbdConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.handshake = new Handshake(opts.stats, opts.maxOptions);
    this.input = new RequestInput({
      accepting: () => this.phase === 'transmission',
      blocked: () => this.blocked(),
      payloadPending: () => this.pendingWrite !== null,
      takePayload: (chunk, pos) => this.takePayload(this.pendingWrite!, chunk, pos),
      onRequest: (b, base) => this.onRequest(b, base),
    });
    this.replies = new ReplyWriter(socket, opts.stats, (bytes) => {
      // A READ payload left for the kernel: its bytes leave the budget.
      this.lastProgress = performance.now();
      opts.budget.release(this, bytes);
    });
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.onDrain());
    // ECONNRESET, EPIPE, write-after-end: the peer is gone, which 'close' handles.
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
    this.handshakeTimer = setTimeout(() => this.guard(() => this.onHandshakeTimeout()), opts.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    device.then(
      (d) => this.guard(() => this.onDevice(d)),
      (e: unknown) => this.fail(e),
    );
  }

  /** Last line of defence: a bug here costs one connection, never the process (a throw in a socket handler is uncaught). */
  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Bytes were released in the server's budget: a request that waited for room may go on. */
  wake(): void {
    this.payloadWaiting = false;
    this.guard(() => this.pump());
  }

  /** Closed by the server: it held budget others waited for and made no progress. */
  evict(): void {
    this.opts.stats.limitClosures++;
    // onClose drops the half-received WRITE and releases what the connection held.
    this.socket.destroy();
  }

  /** Stops taking requests, lets the accepted ones finish, then closes. */
  shutdown(): Promise<void> {
    if (this.phase === 'handshake') this.socket.destroy();
    else this.beginDrain();
    return this.done;
  }

  // Handshake (proto.md "Newstyle negotiation", "Fixed newstyle negotiation")

  private onDevice(device: BlockDevice): void {
    if (this.socketClosed) return;
    try {
      this.info = exportInfoOf(device, this.opts.exportName, this.opts.multiConn);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.device = device;
    this.outputLimit = Math.max(MIN_OUTPUT_LIMIT, 2 * this.info.maxBlock);
    this.socket.write(greeting(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES));
    this.runHandshake();
  }

  private fail(error: unknown): void {
    this.phase = 'closed';
    this.socket.destroy();
    try {
      this.opts.onError(error);
    } catch {
      // a failing error hook must not take the server down either
    }
  }

  private runHandshake(): void {
    const info = this.info;
    if (info === null || this.phase !== 'handshake') return; // no greeting sent yet, or over
    const step = this.handshake.run(info, this.socket);
    switch (step.kind) {
      case 'more':
        return;
      case 'paused':
        this.handshakePaused = true;
        this.socket.pause();
        return;
      case 'too-many-options':
        this.opts.stats.limitClosures++;
        this.protocolClose();
        return;
      case 'protocol-error':
        this.protocolClose();
        return;
      case 'close':
        this.phase = 'closed';
        this.socket.end(() => this.socket.destroy());
        return;
      case 'transmission':
        this.phase = 'transmission';
        this.endHandshakeTimer();
        // Anything the client pipelined after GO/EXPORT_NAME is the first request bytes.
        if (step.rest.length > 0) this.onData(step.rest);
        return;
    }
  }

  private onHandshakeTimeout(): void {
    this.handshakeTimer = null;
    if (this.phase !== 'handshake') return;
    this.opts.stats.limitClosures++;
    this.phase = 'closed';
    this.socket.destroy();
  }

  private endHandshakeTimer(): void {
    if (this.handshakeTimer === null) return;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  private protocolClose(): void {
    this.opts.stats.protocolErrors++;
    this.phase = 'closed';
    this.socket.destroy();
  }

  // Input dispatch

  private onData(chunk: Buffer): void {
    this.lastProgress = performance.now();
    switch (this.phase) {
      case 'handshake':
        this.handshake.feed(chunk);
        this.runHandshake();
        return;
      case 'transmission':
        if (this.input.push(chunk)) this.socket.pause();
        return;
      default:
        // Draining or closed: a client MUST NOT send anything after NBD_CMD_DISC; drop it.
        return;
    }
  }

  private blocked(): boolean {
    return (
      this.inFlight >= this.opts.maxInFlight ||
      this.inFlightBytes >= this.opts.maxInFlightBytes ||
      this.awaitingDrain ||
      this.heldRequest !== null ||
      this.payloadWaiting
    );
  }

  /** Feeds queued input while not blocked; resumes the socket once the queue is empty. */
  private pump(): void {
    if (this.input.busy) return; // the running parse loop picks up where it is
    if (this.heldRequest !== null && !this.startHeld()) return;
    if (this.input.pump() && this.phase === 'transmission') this.socket.resume();
  }

  private takePayload(w: PendingWrite, chunk: Buffer, pos: number): number {
    const available = chunk.length - pos;
    // The budget counts the payload as it arrives: a client that declares 32 MiB and sends 1 MiB
    // holds 1 MiB. A refused WRITE's payload is dropped, so it holds nothing.
    const arriving = w.errno === 0 ? Math.min(w.length - w.filled, available) : 0;
    if (arriving > 0) {
      if (!this.opts.budget.tryAcquire(this, arriving)) {
        this.payloadWaiting = true;
        this.opts.budget.wait(this);
        return pos;
      }
      w.acquired += arriving;
    }
    if (w.filled === 0 && available >= w.length) {
      // The whole payload is in this chunk: hand the device a view, no copy.
      this.pendingWrite = null;
      this.writeArrived(w, chunk.subarray(pos, pos + w.length));
      return pos + w.length;
    }
    const n = Math.min(w.length - w.filled, available);
    if (w.errno === 0) {
      w.buffer ??= Buffer.allocUnsafe(w.length);
      chunk.copy(w.buffer, w.filled, pos, pos + n);
    }
    w.filled += n;
    if (w.filled === w.length) {
      this.pendingWrite = null;
      this.writeArrived(w, w.buffer ?? EMPTY);
    }
    return pos + n;
  }

  // Requests (proto.md "Request types")

  private onRequest(b: Buffer, base: number): void {
    const stats = this.opts.stats;
    const info = this.info!;
    const r = decodeRequest(b, base);
    if (r === null) {
      // The stream is out of sync: nothing after this can be parsed. Finish what was accepted, close.
      stats.protocolErrors++;
      this.beginDrain();
      return;
    }
    countRequest(stats, r.type);
    if (r.type === NBD_CMD_DISC) {
      // No reply; "the server MUST handle all outstanding requests" and close.
      this.beginDrain();
      return;
    }
    if (r.type === NBD_CMD_WRITE && r.length > info.maxBlock) {
      // The payload length cannot be trusted: a hard disconnect is the only safe answer.
      stats.protocolErrors++;
      this.beginDrain();
      return;
    }
    const errno = checkRequest(r.type, r.flags, r.offset, r.length, info);
    if (r.type === NBD_CMD_WRITE && r.length > 0) {
      // Counted in flight from the header on, so that the per-connection limit bounds payload
      // buffers; a refused WRITE's payload is read and dropped (no buffer), only to stay in sync.
      this.inFlight++;
      this.inFlightBytes += r.length;
      this.pendingWrite = { ...r, errno, buffer: null, filled: 0, acquired: 0 };
      return;
    }
    if (errno !== 0 || r.type === NBD_CMD_WRITE) {
      stats.protocolErrors++;
      this.sendReply(errno, r.handleHi, r.handleLo, null);
      return;
    }
    if (r.type === NBD_CMD_READ) {
      this.accept(r);
      return;
    }
    this.inFlight++;
    void this.execute(r, EMPTY);
  }

  /** A READ takes its bytes from the server's budget, or waits for them with reading stopped. */
  private accept(r: NbdRequest): void {
    if (!this.opts.budget.tryAcquire(this, r.length)) {
      this.heldRequest = r;
      this.opts.budget.wait(this);
      return;
    }
    this.inFlight++;
    this.inFlightBytes += r.length;
    void this.execute(r, EMPTY);
  }

  /** Retries the request that waited for budget; false while it still waits. */
  private startHeld(): boolean {
    const r = this.heldRequest;
    if (r === null) return true;
    if (this.phase !== 'transmission') {
      this.heldRequest = null;
      return false;
    }
    this.heldRequest = null;
    this.accept(r);
    return this.heldRequest === null;
  }

  private writeArrived(w: PendingWrite, data: Uint8Array): void {
    if (w.errno !== 0) {
      this.opts.stats.protocolErrors++;
      this.inFlight--;
      this.inFlightBytes -= w.length;
      this.sendReply(w.errno, w.handleHi, w.handleLo, null);
      return;
    }
    void this.execute(w, data);
  }

  /** Runs one accepted request on the device; never rejects. */
  private async execute(r: NbdRequest, data: Uint8Array): Promise<void> {
    let errno = 0;
    let payload: Uint8Array | null = null;
    try {
      payload = await runOnDevice(this.device!, r.type, r.flags, r.offset, r.length, data);
    } catch (e) {
      errno = nbdErrnoOf(e);
      this.opts.stats.deviceErrors++;
    }
    this.complete(r.type, errno, r.handleHi, r.handleLo, r.length, payload);
  }

  private complete(
    type: number,
    errno: number,
    handleHi: number,
    handleLo: number,
    length: number,
    payload: Uint8Array | null,
  ): void {
    this.inFlight--;
    this.lastProgress = performance.now();
    if (type === NBD_CMD_READ || type === NBD_CMD_WRITE) this.inFlightBytes -= length;
    if (errno === 0) {
      if (type === NBD_CMD_READ) this.opts.stats.bytesRead += length;
      else if (type === NBD_CMD_WRITE) this.opts.stats.bytesWritten += length;
    }
    // A WRITE's payload is the device's now; a READ's bytes stay held until its reply payload has
    // left for the kernel (payloadFlushed), so that replies a client does not read count too.
    if (type === NBD_CMD_WRITE) this.opts.budget.release(this, length);
    const flushing = this.sendReply(errno, handleHi, handleLo, payload);
    if (type === NBD_CMD_READ && !flushing) this.opts.budget.release(this, length);
    if (this.phase === 'transmission') this.pump();
    else this.settle();
  }

  // Replies

  /** Sends a simple reply; true when a payload was written (its bytes leave the budget once flushed). */
  private sendReply(errno: number, handleHi: number, handleLo: number, payload: Uint8Array | null): boolean {
    const flushing = this.replies.send(errno, handleHi, handleLo, payload);
    if (this.socket.writableLength > this.outputLimit) this.awaitingDrain = true;
    return flushing;
  }

  private onDrain(): void {
    this.lastProgress = performance.now();
    if (this.handshakePaused) {
      this.handshakePaused = false;
      this.socket.resume();
      this.guard(() => this.runHandshake());
      return;
    }
    if (!this.awaitingDrain) return;
    this.awaitingDrain = false;
    if (this.phase === 'transmission') this.pump();
  }

  // Ending

  /** Stops reading requests; closes once every accepted request has completed. */
  private beginDrain(): void {
    if (this.phase !== 'transmission') return;
    this.phase = 'draining';
    this.input.clear();
    if (this.pendingWrite !== null) {
      // A WRITE whose payload never fully arrived is dropped, never half-applied.
      this.inFlight--;
      this.inFlightBytes -= this.pendingWrite.length;
      this.opts.budget.release(this, this.pendingWrite.acquired);
      this.pendingWrite = null;
    }
    this.heldRequest = null;
    this.socket.resume(); // keep reading so that the peer's close is seen; input is dropped
    this.settle();
  }

  private onEnd(): void {
    if (this.phase === 'handshake') {
      this.phase = 'closed';
      this.socket.destroy();
      return;
    }
    // A half-received header or payload is a truncated request.
    if (this.phase === 'transmission' && (this.input.partialHeader || this.pendingWrite !== null))
      this.opts.stats.protocolErrors++;
    this.beginDrain();
  }

  private onClose(): void {
    this.socketClosed = true;
    this.endHandshakeTimer();
    if (this.pendingWrite !== null) {
      this.inFlight--;
      this.inFlightBytes -= this.pendingWrite.length;
      this.pendingWrite = null;
    }
    this.phase = 'closed';
    this.input.clear();
    this.heldRequest = null;
    this.handshake.clear();
    // Whatever it held (payload buffers, unsent replies, requests still on the device) is free for others.
    this.opts.budget.releaseAll(this);
    this.settle();
  }

  /** Closes the socket once draining is over; resolves `done` once it is closed and idle. */
  private settle(): void {
    if (this.inFlight > 0) return;
    if (this.socketClosed) {
      this.resolveDone();
      return;
    }
    if (this.phase === 'draining') {
      this.phase = 'closed';
      // end() uncorks and flushes the last replies; then nothing more is expected.
      this.socket.end(() => this.socket.destroy());
    }
  }
}
