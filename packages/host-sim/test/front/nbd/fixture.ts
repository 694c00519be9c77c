/** A server on a fresh Unix socket over a MemoryBlockDevice, plus helpers to talk to it. */
import { NBD_CMD_READ, type NbdServer, type NbdServerOptions, startNbdServer } from '../../../src/front/nbd/index.js';
import { patternSlice } from '../../../src/runs/case-file/data-pattern.js';
import { MemoryBlockDevice, type MemoryDeviceOptions } from './memory-device.js';
import { RawClient, tempSocket } from './raw-client.js';

export interface Fixture {
  readonly server: NbdServer;
  readonly device: MemoryBlockDevice;
  readonly path: string;
  /** A new connection already in transmission (handshake done with NBD_OPT_GO). */
  connect(): Promise<RawClient>;
  /** A new raw connection, nothing sent. */
  raw(): Promise<RawClient>;
  /** Reads [offset, offset+length) over a fresh connection: proves the server still serves. */
  readViaNewConnection(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export const FIXTURE_SIZE = 1024 * 1024;
export const FIXTURE_MAX_REQUEST = 256 * 1024;

export async function startFixture(
  device: Partial<MemoryDeviceOptions> = {},
  server: Partial<Omit<NbdServerOptions, 'device' | 'deviceFactory' | 'unixSocket' | 'tcp'>> = {},
): Promise<Fixture> {
  const dev = new MemoryBlockDevice({ size: FIXTURE_SIZE, maxRequest: FIXTURE_MAX_REQUEST, ...device });
  const sock = tempSocket();
  const srv = await startNbdServer({ device: dev, unixSocket: sock.path, ...server });
  const clients: RawClient[] = [];
  const raw = async () => {
    const c = await RawClient.connect(sock.path);
    clients.push(c);
    return c;
  };
  const connect = async () => {
    const c = await raw();
    await c.connectGo(server.exportName ?? '');
    return c;
  };
  return {
    server: srv,
    device: dev,
    path: sock.path,
    raw,
    connect,
    async readViaNewConnection(offset, length) {
      const c = await connect();
      c.sendRequest({ type: NBD_CMD_READ, handle: 0x77n, offset, length });
      const r = await c.readReply(() => length);
      if (r.error !== 0) throw new Error(`read failed with ${r.error}`);
      c.destroy();
      return r.data;
    },
    async close() {
      for (const c of clients) c.destroy();
      await srv.close();
      sock.cleanup();
    },
  };
}

/** Deterministic bytes for a region (the case files' pattern). */
export function pattern(length: number, seed: number): Buffer {
  const bytes = patternSlice(seed, length);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Polls until `cond` holds; fails after `timeoutMs` (keeps timing-based tests robust under load). */
export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
