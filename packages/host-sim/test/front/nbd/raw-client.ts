/**
 * A raw NBD client over node:net for protocol tests: byte-exact control of what is sent, and a
 * buffered reader for what comes back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_OPT_GO,
  NBD_OPTS_MAGIC,
  NBD_REQUEST_MAGIC,
} from '../../../src/front/nbd/index.js';

export function tempSocket(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'epfsim-nbd-'));
  return { path: join(dir, 'nbd.sock'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface OptionReplyMsg {
  readonly magic: bigint;
  readonly option: number;
  readonly type: number;
  readonly data: Buffer;
}

export interface SimpleReplyMsg {
  readonly magic: number;
  readonly error: number;
  readonly handle: bigint;
  readonly data: Buffer;
}

export interface RequestSpec {
  readonly type: number;
  readonly handle: bigint;
  readonly offset?: number;
  readonly length?: number;
  readonly flags?: number;
  /** WRITE payload; defaults to none. */
  readonly payload?: Uint8Array;
  /** Override the request magic (malformed-request tests). */
  readonly magic?: number;
}

export class RawClient {
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | null = null;
  readonly closed: Promise<void>;

  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      this.wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  /** Wraps an already connected socket (TCP tests). */
  static fromSocket(socket: Socket): RawClient {
    return new RawClient(socket);
  }

  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Exactly n bytes; rejects with 'EOF' if the server closes first, or on timeout. */
  async read(n: number, timeoutMs = 3000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < n) {
      if (this.ended) throw new Error(`EOF after ${this.buffered.length} of ${n} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${n} bytes (have ${this.buffered.length})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  /** True when the server closed the connection (EOF) within the time, with no further bytes. */
  async closesWithin(timeoutMs = 3000): Promise<boolean> {
    const t = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs));
    const r = await Promise.race([this.closed.then(() => 'closed' as const), t]);
    return r === 'closed' || this.ended;
  }

  get pendingBytes(): number {
    return this.buffered.length;
  }

  write(b: Uint8Array): void {
    this.socket.write(b);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Reads the greeting and sends client flags; returns the handshake flags. */
  async handshake(clientFlags = NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES): Promise<{ flags: number }> {
    const g = await this.read(18);
    if (g.toString('latin1', 0, 8) !== 'NBDMAGIC' || g.toString('latin1', 8, 16) !== 'IHAVEOPT')
      throw new Error('bad greeting');
    const f = Buffer.alloc(4);
    f.writeUInt32BE(clientFlags);
    this.write(f);
    return { flags: g.readUInt16BE(16) };
  }

  sendOption(option: number, data: Uint8Array = Buffer.alloc(0), magic = NBD_OPTS_MAGIC): void {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(magic, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(data.length, 12);
    this.write(Buffer.concat([h, data]));
  }

  async readOptionReply(): Promise<OptionReplyMsg> {
    const h = await this.read(20);
    const len = h.readUInt32BE(16);
    return {
      magic: h.readBigUInt64BE(0),
      option: h.readUInt32BE(8),
      type: h.readUInt32BE(12),
      data: await this.read(len),
    };
  }

  /** Sends GO/INFO and collects replies up to and including the final (ACK or error) one. */
  async infoOrGo(
    option: number,
    name = '',
    infos: readonly number[] = [NBD_INFO_BLOCK_SIZE],
  ): Promise<OptionReplyMsg[]> {
    const n = Buffer.from(name);
    const d = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
    d.writeUInt32BE(n.length, 0);
    n.copy(d, 4);
    d.writeUInt16BE(infos.length, 4 + n.length);
    for (const [i, t] of infos.entries()) d.writeUInt16BE(t, 4 + n.length + 2 + 2 * i);
    this.sendOption(option, d);
    const replies: OptionReplyMsg[] = [];
    for (;;) {
      const r = await this.readOptionReply();
      replies.push(r);
      if (r.type !== 3 /* NBD_REP_INFO */) return replies;
    }
  }

  /** Full fixed newstyle handshake ending with NBD_OPT_GO; resolves once in transmission. */
  async connectGo(name = ''): Promise<OptionReplyMsg[]> {
    await this.handshake();
    return this.infoOrGo(NBD_OPT_GO, name);
  }

  static encodeRequest(r: RequestSpec): Buffer {
    const payload = r.payload ?? new Uint8Array(0);
    const b = Buffer.alloc(28 + payload.length);
    b.writeUInt32BE(r.magic ?? NBD_REQUEST_MAGIC, 0);
    b.writeUInt16BE(r.flags ?? 0, 4);
    b.writeUInt16BE(r.type, 6);
    b.writeBigUInt64BE(r.handle, 8);
    b.writeBigUInt64BE(BigInt(r.offset ?? 0), 16);
    b.writeUInt32BE(r.length ?? payload.length, 24);
    b.set(payload, 28);
    return b;
  }

  sendRequest(r: RequestSpec): void {
    this.write(RawClient.encodeRequest(r));
  }

  /** Reads one simple reply; `dataLength(handle)` says how many data bytes follow a success. */
  async readReply(dataLength: (handle: bigint) => number = () => 0, timeoutMs?: number): Promise<SimpleReplyMsg> {
    const h = await this.read(16, timeoutMs);
    const magic = h.readUInt32BE(0);
    const error = h.readUInt32BE(4);
    const handle = h.readBigUInt64BE(8);
    const data = error === 0 ? await this.read(dataLength(handle), timeoutMs) : Buffer.alloc(0);
    return { magic, error, handle, data };
  }
}
