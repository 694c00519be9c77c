/**
 * One NBD client connection: the fixed newstyle handshake, then the transmission phase with
 * simple replies (proto.md "Transmission", "Request message", "Simple reply message").
 *
 * Input is parsed in one pass over each `data` chunk. A request header is read in place when it
 * lies whole in the chunk, otherwise assembled in a reused 28-byte buffer. A WRITE payload that
 * lies whole in one chunk goes to the device as a view of that chunk; only a payload split over
 * chunks is copied, once, into a buffer of its own. Requests run concurrently up to
 * `maxInFlight` requests and `maxInFlightBytes` of data, and while the server-wide
 * {@link MemoryBudget} has room; beyond that, or while replies pile up unread, the socket is
 * paused. Replies go out as each request completes, corked so that the replies produced together
 * leave in one write.
 *
 * Memory is bounded in every phase. In the handshake, option data is at most 64 KiB (more is
 * skipped and refused), options stop being read while 64 KiB of their replies wait unsent, a
 * connection may send `maxOptions` options and must finish the handshake within
 * `handshakeTimeoutMs` (as qemu-nbd's handshake limit), or it is closed.
 *
 * A misbehaving client never throws here: a bad request gets an error reply, and what cannot be
 * answered safely (bad magic, an oversize WRITE, a truncated stream) ends the connection after
 * the requests already accepted have completed. EOF, ECONNRESET and EPIPE are ordinary ends:
 * fio never sends NBD_CMD_DISC (reference §1).
 */
import type { Socket } from 'node:net';
import { type BlockDevice, BlockDeviceError, nbdErrnoOf } from './block-device.js';
import { checkRequest } from './check-request.js';
import { type ExportInfo, exportInfoOf } from './export-info.js';
import type { BudgetHolder, MemoryBudget } from './memory-budget.js';
import { negotiateOption } from './negotiate-option.js';
import {
  CLIENT_FLAGS,
  greeting,
  NBD_CMD_DISC,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
  NBD_OPTS_MAGIC,
  NBD_REP_ERR_TOO_BIG,
  NBD_REQUEST_MAGIC,
  NBD_SIMPLE_REPLY_MAGIC,
  OPTION_HEADER,
  optionReply,
  REQUEST,
  requestOffset,
  SIMPLE_REPLY,
} from './protocol.js';
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

/** Option data larger than this is skipped and refused with NBD_REP_ERR_TOO_BIG. */
const MAX_OPTION_DATA = 64 * 1024;
/** Stop reading requests while this much reply data waits in the socket (a client not reading). */
const MIN_OUTPUT_LIMIT = 4 * 1024 * 1024;
/** Stop reading options while this much of their replies waits in the socket (a client not reading). */
const HANDSHAKE_OUTPUT_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);

type Phase = 'handshake' | 'transmission' | 'draining' | 'closed';

/** A WRITE whose header has been read and whose payload is still arriving. */
interface PendingWrite {
  readonly flags: number;
  readonly handleHi: number;
  readonly handleLo: number;
  readonly offset: number;
  readonly length: number;
  /** Non-zero: the request is refused; the payload is read and dropped to stay in sync. */
  readonly errno: number;
  buffer: Buffer | null;
  filled: number;
  /** Payload bytes taken from the server's budget so far (as they arrive). */
  acquired: number;
}

/** A READ accepted but waiting for room in the server's memory budget. */
interface HeldRequest {
  readonly type: number;
  readonly flags: number;
  readonly handleHi: number;
  readonly handleLo: number;
  readonly offset: number;
  readonly length: number;
}

export class NbdConnection implements BudgetHolder {
  /** Settles when the socket is closed and no request is in flight (never rejects). */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  private readonly socket: Socket;
  private readonly opts: NbdConnectionOptions;
  private phase: Phase = 'handshake';
  private device: BlockDevice | null = null;
  private info: ExportInfo | null = null;

  // Handshake input, accumulated (small and rare: not worth a streaming parser).
  private handshakeInput: Buffer = EMPTY;
  private clientFlagsRead = false;
  private fixedNewstyle = false;
  private noZeroes = false;
  private discardOption = 0;
  private discardRemaining = 0;

  // Transmission input.
  private readonly header = Buffer.allocUnsafe(REQUEST.size);
  private headerFill = 0;
  private pendingWrite: PendingWrite | null = null;
  private readonly queue: Buffer[] = [];
  private queueOffset = 0;
  private consuming = false;
  private inFlight = 0;
  /** READ and WRITE bytes of the requests in flight: bounds the buffers a connection pins. */
  private inFlightBytes = 0;
  private awaitingDrain = false;
  private outputLimit = MIN_OUTPUT_LIMIT;
  private corked = false;
  private socketClosed = false;

  // Bounds (the server-wide budget, the handshake limits).
  budgetHeld = 0;
  lastProgress = performance.now();
  private heldRequest: HeldRequest | null = null;
  /** The WRITE payload being read waits for room in the budget: reading is stopped. */
  private payloadWaiting = false;
  /** Lengths of READ payloads written and not yet flushed to the kernel, in write order. */
  private readonly flushing: number[] = [];
  private flushHead = 0;
  private optionsSeen = 0;
  private handshakePaused = false;
  private handshakeTimer: ReturnType<typeof setTimeout> | null;

  constructor(socket: Socket, device: Promise<BlockDevice>, opts: NbdConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
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

  /**
   * Last line of defence: a bug here must cost one connection, never the process (an exception
   * in a socket event handler would be uncaught).
   */
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

  // -------------------------------------------------------------------------------------------
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

  private takeHandshake(n: number): Buffer {
    const b = this.handshakeInput.subarray(0, n);
    this.handshakeInput = this.handshakeInput.subarray(n);
    return b;
  }

  private runHandshake(): void {
    const info = this.info;
    if (info === null) return; // the greeting has not been sent yet
    while (this.phase === 'handshake') {
      // A client that sends options and never reads the replies: stop reading until it does.
      if (this.socket.writableLength > HANDSHAKE_OUTPUT_LIMIT) {
        this.handshakePaused = true;
        this.socket.pause();
        return;
      }
      if (this.discardRemaining > 0) {
        const n = Math.min(this.discardRemaining, this.handshakeInput.length);
        this.takeHandshake(n);
        this.discardRemaining -= n;
        if (this.discardRemaining > 0) return;
        this.socket.write(optionReply(this.discardOption, NBD_REP_ERR_TOO_BIG, Buffer.from('option data too large')));
        continue;
      }
      if (!this.clientFlagsRead) {
        if (this.handshakeInput.length < CLIENT_FLAGS.size) return;
        const flags = this.takeHandshake(CLIENT_FLAGS.size).readUInt32BE(CLIENT_FLAGS.FLAGS);
        // "the server MUST drop the TCP connection if the client sets an unknown flag".
        if ((flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) !== 0) {
          this.protocolClose();
          return;
        }
        this.clientFlagsRead = true;
        this.fixedNewstyle = (flags & NBD_FLAG_C_FIXED_NEWSTYLE) !== 0;
        this.noZeroes = (flags & NBD_FLAG_C_NO_ZEROES) !== 0;
        continue;
      }
      if (this.handshakeInput.length < OPTION_HEADER.size) return;
      const h = this.handshakeInput;
      // A bad option magic means the stream cannot be trusted any more.
      if (h.readBigUInt64BE(OPTION_HEADER.MAGIC) !== NBD_OPTS_MAGIC) {
        this.protocolClose();
        return;
      }
      const option = h.readUInt32BE(OPTION_HEADER.OPTION);
      const length = h.readUInt32BE(OPTION_HEADER.LENGTH);
      // Counted once the option is whole (or skipped): real clients send a handful, and
      // negotiating forever only costs the server.
      const whole = length > MAX_OPTION_DATA || h.length >= OPTION_HEADER.size + length;
      if (whole && ++this.optionsSeen > this.opts.maxOptions) {
        this.opts.stats.limitClosures++;
        this.protocolClose();
        return;
      }
      if (length > MAX_OPTION_DATA) {
        this.opts.stats.protocolErrors++;
        this.takeHandshake(OPTION_HEADER.size);
        this.discardOption = option;
        this.discardRemaining = length;
        continue;
      }
      if (h.length < OPTION_HEADER.size + length) return;
      this.takeHandshake(OPTION_HEADER.size);
      const data = this.takeHandshake(length);
      const outcome = negotiateOption(option, data, {
        info,
        fixedNewstyle: this.fixedNewstyle,
        noZeroes: this.noZeroes,
      });
      if (outcome.malformed) this.opts.stats.protocolErrors++;
      for (const b of outcome.out) this.socket.write(b);
      if (outcome.next === 'close') {
        this.phase = 'closed';
        this.socket.end(() => this.socket.destroy());
        return;
      }
      if (outcome.next === 'transmission') {
        this.phase = 'transmission';
        this.endHandshakeTimer();
        // Anything the client pipelined after GO/EXPORT_NAME is the first request bytes.
        const rest = this.handshakeInput;
        this.handshakeInput = EMPTY;
        if (rest.length > 0) this.onData(rest);
        return;
      }
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

  // -------------------------------------------------------------------------------------------
  // Input dispatch

  private onData(chunk: Buffer): void {
    this.lastProgress = performance.now();
    switch (this.phase) {
      case 'handshake':
        this.handshakeInput = this.handshakeInput.length === 0 ? chunk : Buffer.concat([this.handshakeInput, chunk]);
        this.runHandshake();
        return;
      case 'transmission':
        if (this.queue.length === 0 && !this.blocked()) {
          const pos = this.consume(chunk, 0);
          if (pos < chunk.length && this.phase === 'transmission') {
            this.queue.push(chunk);
            this.queueOffset = pos;
            this.socket.pause();
          }
        } else {
          this.queue.push(chunk);
          this.socket.pause();
        }
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
    if (this.consuming) return; // the running consume() loop picks up where it is
    if (this.heldRequest !== null && !this.startHeld()) return;
    while (this.queue.length > 0) {
      if (this.phase !== 'transmission' || this.blocked()) return;
      const chunk = this.queue[0]!;
      const pos = this.consume(chunk, this.queueOffset);
      if (pos < chunk.length) {
        this.queueOffset = pos;
        return;
      }
      this.queue.shift();
      this.queueOffset = 0;
    }
    if (this.phase === 'transmission') this.socket.resume();
  }

  /** Parses requests from `chunk` starting at `start`; returns where it stopped (blocked). */
  private consume(chunk: Buffer, start: number): number {
    const end = chunk.length;
    let pos = start;
    this.consuming = true;
    try {
      while (pos < end) {
        if (this.phase !== 'transmission') return end;
        if (this.pendingWrite !== null) {
          pos = this.consumePayload(this.pendingWrite, chunk, pos);
          if (this.payloadWaiting) return pos;
          continue;
        }
        if (this.blocked()) return pos;
        if (this.headerFill === 0 && end - pos >= REQUEST.size) {
          pos += REQUEST.size;
          this.onRequest(chunk, pos - REQUEST.size);
        } else {
          const n = Math.min(REQUEST.size - this.headerFill, end - pos);
          chunk.copy(this.header, this.headerFill, pos, pos + n);
          this.headerFill += n;
          pos += n;
          if (this.headerFill === REQUEST.size) {
            this.headerFill = 0;
            this.onRequest(this.header, 0);
          }
        }
      }
      return pos;
    } finally {
      this.consuming = false;
    }
  }

  private consumePayload(w: PendingWrite, chunk: Buffer, pos: number): number {
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

  // -------------------------------------------------------------------------------------------
  // Requests (proto.md "Request types")

  private onRequest(b: Buffer, base: number): void {
    const stats = this.opts.stats;
    const info = this.info!;
    if (b.readUInt32BE(base + REQUEST.MAGIC) !== NBD_REQUEST_MAGIC) {
      // The stream is out of sync: nothing after this can be parsed. Finish what was accepted, close.
      stats.protocolErrors++;
      this.beginDrain();
      return;
    }
    const flags = b.readUInt16BE(base + REQUEST.FLAGS);
    const type = b.readUInt16BE(base + REQUEST.TYPE);
    const handleHi = b.readUInt32BE(base + REQUEST.HANDLE);
    const handleLo = b.readUInt32BE(base + REQUEST.HANDLE + 4);
    const offset = requestOffset(b, base);
    const length = b.readUInt32BE(base + REQUEST.LENGTH);
    switch (type) {
      case NBD_CMD_READ:
        stats.requests.read++;
        break;
      case NBD_CMD_WRITE: {
        stats.requests.write++;
        if (length > info.maxBlock) {
          // The payload length cannot be trusted: a hard disconnect is the only safe answer.
          stats.protocolErrors++;
          this.beginDrain();
          return;
        }
        const errno = checkRequest(type, flags, offset, length, info);
        if (length === 0) {
          stats.protocolErrors++;
          this.sendReply(errno, handleHi, handleLo, null);
          return;
        }
        // Counted in flight from the header on, so that the per-connection limit bounds payload
        // buffers; a refused WRITE's payload is read and dropped (no buffer), only to stay in sync.
        this.inFlight++;
        this.inFlightBytes += length;
        this.pendingWrite = { flags, handleHi, handleLo, offset, length, errno, buffer: null, filled: 0, acquired: 0 };
        return;
      }
      case NBD_CMD_DISC:
        // No reply; "the server MUST handle all outstanding requests" and close.
        stats.requests.disc++;
        this.beginDrain();
        return;
      case NBD_CMD_FLUSH:
        stats.requests.flush++;
        break;
      case NBD_CMD_TRIM:
        stats.requests.trim++;
        break;
      case NBD_CMD_WRITE_ZEROES:
        stats.requests.writeZeroes++;
        break;
      default:
        stats.requests.other++;
        break;
    }
    const errno = checkRequest(type, flags, offset, length, info);
    if (errno !== 0) {
      stats.protocolErrors++;
      this.sendReply(errno, handleHi, handleLo, null);
      return;
    }
    if (type === NBD_CMD_READ) {
      this.accept({ type, flags, handleHi, handleLo, offset, length });
      return;
    }
    this.inFlight++;
    void this.execute(type, flags, handleHi, handleLo, offset, length, EMPTY);
  }

  /** A READ takes its bytes from the server's budget, or waits for them with reading stopped. */
  private accept(r: HeldRequest): void {
    if (!this.opts.budget.tryAcquire(this, r.length)) {
      this.heldRequest = r;
      this.opts.budget.wait(this);
      return;
    }
    this.inFlight++;
    this.inFlightBytes += r.length;
    void this.execute(r.type, r.flags, r.handleHi, r.handleLo, r.offset, r.length, EMPTY);
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
    void this.execute(NBD_CMD_WRITE, w.flags, w.handleHi, w.handleLo, w.offset, w.length, data);
  }

  /** Runs one accepted request on the device; never rejects. */
  private async execute(
    type: number,
    flags: number,
    handleHi: number,
    handleLo: number,
    offset: number,
    length: number,
    data: Uint8Array,
  ): Promise<void> {
    const device = this.device!;
    const fua = (flags & NBD_CMD_FLAG_FUA) !== 0;
    let errno = 0;
    let payload: Uint8Array | null = null;
    try {
      switch (type) {
        case NBD_CMD_READ: {
          const d = await device.read(offset, length);
          // A short or long buffer would desynchronise the client: refuse it as an I/O error.
          if (d.length !== length)
            throw new BlockDeviceError('EIO', `device returned ${d.length} bytes for a ${length}-byte read`);
          payload = d;
          break;
        }
        case NBD_CMD_WRITE:
          await device.write(offset, data, fua);
          break;
        case NBD_CMD_FLUSH:
          await device.flush();
          break;
        case NBD_CMD_TRIM:
          await device.trim(offset, length);
          // FUA on TRIM: the discard must be persistent before the reply (proto.md "Command flags").
          if (fua) await device.flush();
          break;
        case NBD_CMD_WRITE_ZEROES:
          // NO_HOLE needs nothing: the device does not punch holes for writeZeroes.
          await device.writeZeroes(offset, length, fua);
          break;
      }
    } catch (e) {
      errno = nbdErrnoOf(e);
      this.opts.stats.deviceErrors++;
    }
    this.complete(type, errno, handleHi, handleLo, length, payload);
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

  // -------------------------------------------------------------------------------------------
  // Replies

  /** Sends a simple reply; true when a payload was written (payloadFlushed will be called for it). */
  private sendReply(errno: number, handleHi: number, handleLo: number, payload: Uint8Array | null): boolean {
    if (errno !== 0) this.opts.stats.errorReplies++;
    const socket = this.socket;
    if (!socket.writable) return false; // the client is gone; the device work is done regardless
    const h = Buffer.allocUnsafe(SIMPLE_REPLY.size);
    h.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, SIMPLE_REPLY.MAGIC);
    h.writeUInt32BE(errno, SIMPLE_REPLY.ERROR);
    h.writeUInt32BE(handleHi, SIMPLE_REPLY.HANDLE);
    h.writeUInt32BE(handleLo, SIMPLE_REPLY.HANDLE + 4);
    if (!this.corked) {
      // Every reply produced in this turn (a chunk's worth of requests, or a burst of device
      // completions in one microtask drain) leaves in one writev.
      this.corked = true;
      socket.cork();
      process.nextTick(this.uncork);
    }
    socket.write(h);
    if (socket.writableLength > this.outputLimit) this.awaitingDrain = true;
    if (payload === null) return false;
    this.flushing.push(payload.length);
    socket.write(payload, this.payloadFlushed);
    if (socket.writableLength > this.outputLimit) this.awaitingDrain = true;
    return true;
  }

  /** A READ payload reached the kernel (or the socket died): its bytes leave the budget. */
  private readonly payloadFlushed = (): void => {
    const n = this.flushing[this.flushHead++] ?? 0;
    if (this.flushHead === this.flushing.length) {
      this.flushing.length = 0;
      this.flushHead = 0;
    }
    this.lastProgress = performance.now();
    this.opts.budget.release(this, n);
  };

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

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

  // -------------------------------------------------------------------------------------------
  // Ending

  /** Stops reading requests; closes once every accepted request has completed. */
  private beginDrain(): void {
    if (this.phase !== 'transmission') return;
    this.phase = 'draining';
    this.queue.length = 0;
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
    if (this.phase === 'transmission' && (this.headerFill > 0 || this.pendingWrite !== null))
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
    this.queue.length = 0;
    this.heldRequest = null;
    this.handshakeInput = EMPTY;
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
