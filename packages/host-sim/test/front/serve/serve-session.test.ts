/**
 * A serve session in process, driven by raw NBD bytes: connections spread over I/O queues,
 * malformed and truncated requests cost one connection at most (never the server, never data
 * written before), and stopping flushes, shuts the controller down and reports the run checks.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openTestbed, resolveTestbedFlags } from '../../../src/front/cli/common-options.js';
import {
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_WRITE,
  NBD_EINVAL,
  NBD_REQUEST_MAGIC,
} from '../../../src/front/nbd/index.js';
import { type ServeSession, startServeSession } from '../../../src/front/serve/serve-session.js';
import type { CommandSpec } from '../../../src/host/driver/driver-types.js';
import { pattern } from '../nbd/fixture.js';
import { RawClient, tempSocket } from '../nbd/raw-client.js';

const KiB = 1024;
const KEEP_OFFSET = 64 * KiB;
const KEEP = pattern(16 * KiB, 42);

interface Served {
  readonly session: ServeSession;
  readonly path: string;
  /** Queue of every command the driver was given, by starting LBA. */
  readonly queueOfLba: Map<number, number>;
  /** Most commands outstanding on one queue right after a submission. */
  readonly most: { outstanding: number };
  connect(): Promise<RawClient>;
  cleanup(): Promise<void>;
}

let served: Served | undefined;

afterEach(async () => {
  await served?.cleanup();
  served = undefined;
  vi.restoreAllMocks();
});

async function serve(queues: number): Promise<Served> {
  const choice = resolveTestbedFlags({ profile: 'rk3399', 'ns-size': '4m', placement: 'adversarial' });
  const bed = openTestbed(choice, { ioQueues: queues, ioQueueDepth: 33 });
  const queueOfLba = new Map<number, number>();
  const most = { outstanding: 0 };
  const submit = bed.driver.submit.bind(bed.driver);
  vi.spyOn(bed.driver, 'submit').mockImplementation((qid: number, spec: CommandSpec) => {
    if (spec.cdw10 !== undefined) queueOfLba.set(spec.cdw10, qid);
    const cmd = submit(qid, spec);
    most.outstanding = Math.max(most.outstanding, bed.driver.queue(qid)?.outstanding ?? 0);
    return cmd;
  });
  const sock = tempSocket();
  const session = await startServeSession(bed, { unixSocket: sock.path, seed: choice.seed });
  const clients: RawClient[] = [];
  const s: Served = {
    session,
    path: sock.path,
    queueOfLba,
    most,
    async connect() {
      const c = await RawClient.connect(sock.path);
      clients.push(c);
      await c.connectGo();
      return c;
    },
    async cleanup() {
      for (const c of clients) c.destroy();
      await session.stop('cleanup');
      sock.cleanup();
    },
  };
  served = s;
  return s;
}

async function write(c: RawClient, offset: number, payload: Uint8Array, handle = 1n): Promise<number> {
  c.sendRequest({ type: NBD_CMD_WRITE, handle, offset, payload });
  return (await c.readReply()).error;
}

async function read(c: RawClient, offset: number, length: number): Promise<Buffer> {
  c.sendRequest({ type: NBD_CMD_READ, handle: 2n, offset, length });
  const r = await c.readReply(() => length);
  expect(r.error).toBe(0);
  return r.data;
}

describe('serve session', () => {
  it('connection i uses I/O queue ((i - 1) mod queues) + 1', async () => {
    const s = await serve(2);
    expect(s.session.config.ioQueues).toEqual([1, 2]);
    const conns = [await s.connect(), await s.connect(), await s.connect()];
    for (const [i, c] of conns.entries()) expect(await write(c, i * 4 * KiB, pattern(4 * KiB, i))).toBe(0);
    // 512-byte blocks: the writes start at LBA 0, 8 and 16.
    expect([0, 8, 16].map((lba) => s.queueOfLba.get(lba))).toEqual([1, 2, 1]);
  });

  it('requests a client pipelines are NVMe commands in flight together, up to the queue depth', async () => {
    const s = await serve(1);
    const c = await s.connect();
    expect(await write(c, 0, pattern(256 * KiB, 3))).toBe(0);
    s.most.outstanding = 0;
    const count = 48;
    for (let i = 0; i < count; i++)
      c.sendRequest({ type: NBD_CMD_READ, handle: BigInt(i), offset: (i % 64) * 4 * KiB, length: 4 * KiB });
    const replies = [];
    for (let i = 0; i < count; i++) replies.push(await c.readReply(() => 4 * KiB));
    expect(replies.every((r) => r.error === 0)).toBe(true);
    expect(new Set(replies.map((r) => r.handle)).size).toBe(count);
    // The queue has 33 entries: 32 commands at most, and the pipelined reads filled it.
    expect(s.most.outstanding).toBe(32);
  });

  it('malformed and truncated requests get an error or a closed connection; others keep being served, data intact', async () => {
    const s = await serve(2);
    const keeper = await s.connect();
    expect(await write(keeper, KEEP_OFFSET, KEEP)).toBe(0);

    // Unknown command: an EINVAL reply, and the same connection carries on.
    const odd = await s.connect();
    odd.sendRequest({ type: 42, handle: 7n, offset: 0, length: 512 });
    expect((await odd.readReply()).error).toBe(NBD_EINVAL);
    expect((await read(odd, KEEP_OFFSET, 4 * KiB)).equals(KEEP.subarray(0, 4 * KiB))).toBe(true);

    // Bad request magic: the stream cannot be trusted; the connection is closed.
    const bad = await s.connect();
    bad.sendRequest({ type: NBD_CMD_READ, handle: 8n, offset: 0, length: 512, magic: 0x12345678 });
    expect(await bad.closesWithin()).toBe(true);

    // A WRITE over the kept data whose payload never fully arrives: dropped, never half-applied.
    const cut = await s.connect();
    const header = RawClient.encodeRequest({ type: NBD_CMD_WRITE, handle: 9n, offset: KEEP_OFFSET, length: 8 * KiB });
    cut.write(Buffer.concat([header.subarray(0, 28), Buffer.alloc(100, 0xee)]));
    cut.end();
    expect(await cut.closesWithin()).toBe(true);

    // A header cut short.
    const short = await s.connect();
    const h = Buffer.alloc(10);
    h.writeUInt32BE(NBD_REQUEST_MAGIC, 0);
    short.write(h);
    short.end();
    expect(await short.closesWithin()).toBe(true);

    // The first connection and a new one still work, and see the data written before.
    expect((await read(keeper, KEEP_OFFSET, KEEP.length)).equals(KEEP)).toBe(true);
    expect((await read(await s.connect(), KEEP_OFFSET, KEEP.length)).equals(KEEP)).toBe(true);
    expect(s.session.server.stats.protocolErrors).toBeGreaterThanOrEqual(3);

    const report = await s.session.stop('test');
    expect(report.checks.passed).toBe(true);
    expect(report.nbd.protocolErrors).toBe(s.session.server.stats.protocolErrors);
    expect(report.nvme.failed).toBe(0);
  });

  it('stop flushes, shuts the controller down, reports every run check, and removes the socket', async () => {
    const s = await serve(1);
    const c = await s.connect();
    expect(await write(c, 0, pattern(64 * KiB, 5))).toBe(0);
    c.sendRequest({ type: NBD_CMD_FLUSH, handle: 3n });
    expect((await c.readReply()).error).toBe(0);
    const report = await s.session.stop('SIGTERM');
    expect(report.stoppedBy).toBe('SIGTERM');
    // The client's Flush, then the session's own before shutdown.
    expect(report.nvme.commands.flush).toBe(2);
    expect(report.nvme.bytes.write).toBe(64 * KiB);
    expect(report.checks.list.map((x) => x.name)).toEqual([
      'completed',
      'verify',
      'io-errors',
      'isolation',
      'bus-faults',
      'protocol',
      'timeouts',
      'epc-contract',
      'leaks',
      'maps-after-shutdown',
    ]);
    expect(report.checks.passed).toBe(true);
    expect(report.checks.list[0]!.detail).toMatch(
      /NBD requests on 1 connections as \d+ NVMe commands, stopped by SIGTERM/,
    );
    expect(report.counters.epc.memMapCalls).toBeGreaterThan(0);
    expect(report.counters.driver.completed).toBe(report.counters.driver.submitted);
    expect(s.session.driver.state).toBe('shutdown');
    expect(existsSync(s.path)).toBe(false);
    // Stopping again gives the same report.
    expect(await s.session.stop('again')).toBe(report);
  });

  it('serves on a loopback TCP port', async () => {
    const choice = resolveTestbedFlags({ profile: 'generic', 'ns-size': '1m' });
    const session = await startServeSession(openTestbed(choice, { ioQueues: 1 }), {
      tcp: { host: '127.0.0.1', port: 0 },
      seed: 1,
    });
    try {
      expect(session.config.uri).toMatch(/^nbd:\/\/127\.0\.0\.1:\d+\/$/);
      const port = Number(/:(\d+)\//.exec(session.config.uri)![1]);
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const c = RawClient.fromSocket(socket);
      await c.connectGo();
      expect(await write(c, 512, pattern(1024, 6))).toBe(0);
      expect((await read(c, 512, 1024)).equals(pattern(1024, 6))).toBe(true);
      c.destroy();
    } finally {
      expect((await session.stop('test')).checks.passed).toBe(true);
    }
  });

  it('refuses to listen where it cannot, and closes the testbed', async () => {
    const choice = resolveTestbedFlags({ profile: 'generic', 'ns-size': '1m' });
    const bed = openTestbed(choice, { ioQueues: 1 });
    const close = vi.spyOn(bed.testbed, 'close');
    await expect(startServeSession(bed, { unixSocket: `/tmp/${'x'.repeat(120)}.sock`, seed: 1 })).rejects.toThrow(
      /Unix socket path is \d+ bytes/,
    );
    expect(close).toHaveBeenCalledOnce();
  });
});
