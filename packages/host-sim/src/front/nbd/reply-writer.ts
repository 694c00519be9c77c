/**
 * Simple replies of one connection (proto.md "Simple reply message"), corked so that the replies
 * produced together leave in one write, with each READ payload tracked until it has left for the
 * kernel: its bytes count against the server's memory budget until then, so that replies a client
 * does not read count too.
 */
import type { Socket } from 'node:net';
import { NBD_SIMPLE_REPLY_MAGIC, SIMPLE_REPLY } from './protocol.js';
import type { NbdStats } from './stats.js';

export class ReplyWriter {
  private readonly socket: Socket;
  private readonly stats: NbdStats;
  private readonly onPayloadFlushed: (bytes: number) => void;
  private corked = false;
  /** Lengths of READ payloads written and not yet flushed to the kernel, in write order. */
  private readonly flushing: number[] = [];
  private flushHead = 0;

  constructor(socket: Socket, stats: NbdStats, onPayloadFlushed: (bytes: number) => void) {
    this.socket = socket;
    this.stats = stats;
    this.onPayloadFlushed = onPayloadFlushed;
  }

  /** Sends a simple reply; true when a payload was written (`onPayloadFlushed` will follow for it). */
  send(errno: number, handleHi: number, handleLo: number, payload: Uint8Array | null): boolean {
    if (errno !== 0) this.stats.errorReplies++;
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
    if (payload === null) return false;
    this.flushing.push(payload.length);
    socket.write(payload, this.payloadFlushed);
    return true;
  }

  /** A READ payload reached the kernel (or the socket died). */
  private readonly payloadFlushed = (): void => {
    const n = this.flushing[this.flushHead++] ?? 0;
    if (this.flushHead === this.flushing.length) {
      this.flushing.length = 0;
      this.flushHead = 0;
    }
    this.onPayloadFlushed(n);
  };

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
}
