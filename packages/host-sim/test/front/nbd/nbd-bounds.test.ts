/**
 * Issue 15: one NBD client, or many, cannot exhaust the server. Options stop being read while
 * their replies wait unsent; option counts, the handshake time and open connections are bounded;
 * request data of all connections together is bounded, and a connection that stalls while holding
 * it is closed so that the others go on; a connect storm is accepted. Every offender loses its
 * connection, never the server, and a good client's data stays intact.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NBD_CMD_READ,
  NBD_CMD_WRITE,
  NBD_OPT_GO,
  NBD_OPT_LIST,
  NBD_REP_ERR_UNSUP,
} from '../../../src/front/nbd/index.js';
import { FIXTURE_MAX_REQUEST, type Fixture, pattern, startFixture } from './fixture.js';
import { RawClient } from './raw-client.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** One NBD_OPT_LIST option header, no data: 16 bytes that earn about 40 bytes of replies. */
const LIST = (() => {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(0x49484156454f5054n, 0);
  b.writeUInt32BE(NBD_OPT_LIST, 8);
  return b;
})();

let fx: Fixture;
afterEach(async () => {
  await fx.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A 64 KiB block of LIST options. */
const LIST_BLOCK = Buffer.concat(Array.from({ length: 4096 }, () => LIST));

/**
 * Sends up to `bytes` of LIST options one 64 KiB block at a time, each once the last reached the
 * kernel; stops when a block has not for `stallMs` (the server stopped reading). Returns bytes sent.
 */
async function sendUntilStalled(c: RawClient, bytes: number, stallMs = 300): Promise<number> {
  let sent = 0;
  while (sent < bytes) {
    const written = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), stallMs);
      c.socket.write(LIST_BLOCK, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!written) return sent;
    sent += LIST_BLOCK.length;
  }
  return sent;
}

/** Writes and reads back `length` bytes at `offset` over one connection; returns whether the data came back intact. */
async function goodRoundTrip(c: RawClient, offset: number, length: number, seed: number): Promise<boolean> {
  const data = pattern(length, seed);
  c.sendRequest({ type: NBD_CMD_WRITE, handle: 1n, offset, payload: data });
  const w = await c.readReply(() => 0);
  if (w.error !== 0) return false;
  c.sendRequest({ type: NBD_CMD_READ, handle: 2n, offset, length });
  const r = await c.readReply(() => length);
  return r.error === 0 && r.data.equals(data);
}

describe('NBD server bounds', () => {
  it('a client that floods NBD_OPT_LIST and never reads: the server stops reading; others are served', async () => {
    fx = await startFixture({}, { maxOptions: 10_000_000 });
    const flood = await fx.raw();
    await flood.handshake();
    // The client stops reading replies at the socket: they fill the kernel buffers, then the server's.
    flood.socket.pause();
    const accepted = await sendUntilStalled(flood, 32 * MiB);
    // The server took a few socket buffers' worth of options, not the 32 MiB offered.
    expect(accepted).toBeLessThan(4 * MiB);
    const good = await fx.connect();
    expect(await goodRoundTrip(good, 0, 64 * KiB, 5)).toBe(true);
    // Once the flooder reads its replies, the server reads its options again.
    flood.socket.resume();
    expect(await sendUntilStalled(flood, 1 * MiB, 5000)).toBe(1 * MiB);
  });

  it('an option flood that does read its replies ends at maxOptions with the connection closed', async () => {
    fx = await startFixture({}, { maxOptions: 100 });
    const c = await fx.raw();
    await c.handshake();
    for (let i = 0; i < 101; i++) c.write(LIST);
    // 100 LIST options are answered (server + ACK each), the 101st closes the connection.
    for (let i = 0; i < 200; i++) await c.readOptionReply();
    expect(await c.closesWithin()).toBe(true);
    expect(fx.server.stats.limitClosures).toBe(1);
    expect(await fx.readViaNewConnection(0, 4096)).toHaveLength(4096);
  });

  it('an option counts once however many pieces its data arrives in', async () => {
    fx = await startFixture({}, { maxOptions: 2 });
    const c = await fx.raw();
    await c.handshake();
    const unknown = Buffer.alloc(16 + 60 * KiB);
    unknown.writeBigUInt64BE(0x49484156454f5054n, 0);
    unknown.writeUInt32BE(0x7777, 8);
    unknown.writeUInt32BE(60 * KiB, 12);
    for (let at = 0; at < unknown.length; at += 4 * KiB) {
      c.write(unknown.subarray(at, at + 4 * KiB));
      await sleep(2);
    }
    expect((await c.readOptionReply()).type).toBe(NBD_REP_ERR_UNSUP);
    // The second option of two: GO, then transmission.
    await c.infoOrGo(NBD_OPT_GO);
    expect(await goodRoundTrip(c, 0, 4096, 11)).toBe(true);
    expect(fx.server.stats.limitClosures).toBe(0);
  });

  it('a connection that never finishes the handshake is closed after the handshake timeout', async () => {
    fx = await startFixture({}, { handshakeTimeoutMs: 200 });
    const silent = await fx.raw();
    const slow = await fx.raw();
    await slow.handshake();
    expect(await silent.closesWithin(2000)).toBe(true);
    expect(await slow.closesWithin(2000)).toBe(true);
    expect(fx.server.stats.limitClosures).toBe(2);
    // A client that completes the handshake in time is not affected later.
    const good = await fx.connect();
    await sleep(400);
    expect(await goodRoundTrip(good, 4096, 4096, 6)).toBe(true);
  });

  it('beyond maxConnections a connection is closed at once; a freed slot is reused', async () => {
    fx = await startFixture({}, { maxConnections: 3 });
    const open = [await fx.connect(), await fx.connect(), await fx.connect()];
    const extra = await fx.raw();
    expect(await extra.closesWithin()).toBe(true);
    expect(fx.server.stats.connectionsRefused).toBe(1);
    open[0]!.destroy();
    await sleep(100);
    expect(await fx.readViaNewConnection(0, 512)).toHaveLength(512);
    expect(await goodRoundTrip(open[1]!, 0, 4096, 7)).toBe(true);
  });

  it('WRITE payloads that stall fill the global budget: the stalled connections are closed, a good client goes on', async () => {
    const request = FIXTURE_MAX_REQUEST;
    fx = await startFixture({}, { maxTotalInFlightBytes: 3 * request, stallTimeoutMs: 300 });
    const stalled: RawClient[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await fx.connect();
      // The header and 7/8 of the payload, then nothing: five of them would hold more than the budget.
      const whole = RawClient.encodeRequest({
        type: NBD_CMD_WRITE,
        handle: 9n,
        offset: i * request,
        payload: pattern(request, i),
      });
      c.write(whole.subarray(0, whole.length - request / 8));
      stalled.push(c);
    }
    await sleep(100);
    const good = await fx.connect();
    const ok = goodRoundTrip(good, 0, 64 * KiB, 8);
    // The good client waits for room, then the stalled holders are closed and it is served.
    expect(await ok).toBe(true);
    expect(fx.server.stats.limitClosures).toBeGreaterThanOrEqual(1);
    const closed = await Promise.all(stalled.map((c) => c.closesWithin(2000)));
    expect(closed.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    // A half-received WRITE is never applied.
    expect(fx.device.data.subarray(request, 2 * request).every((b) => b === 0)).toBe(true);
  });

  it('a client that sends READs and never reads the replies is closed when others need the memory', async () => {
    fx = await startFixture({}, { maxTotalInFlightBytes: 2 * MiB, stallTimeoutMs: 300 });
    const deaf = await fx.connect();
    // Far more reply data than socket buffers hold; none of it is read.
    for (let i = 0; i < 64; i++)
      deaf.sendRequest({ type: NBD_CMD_READ, handle: BigInt(i), offset: 0, length: FIXTURE_MAX_REQUEST });
    await sleep(200);
    const good = await fx.connect();
    expect(await goodRoundTrip(good, 8192, FIXTURE_MAX_REQUEST, 9)).toBe(true);
    expect(await deaf.closesWithin(3000)).toBe(true);
    expect(fx.server.stats.limitClosures).toBe(1);
  });

  it('a storm of 200 parallel connects during an option flood is accepted', async () => {
    fx = await startFixture({}, { maxConnections: 512, maxOptions: 10_000_000 });
    const flood = await fx.raw();
    await flood.handshake();
    flood.socket.pause();
    for (let sent = 0; sent < 8 * MiB; sent += LIST_BLOCK.length) flood.write(LIST_BLOCK);
    const results = await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<string>((resolve) => {
            const s = connect(fx.path);
            s.once('connect', () => {
              s.destroy();
              resolve('ok');
            });
            s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          }),
      ),
    );
    expect(results.filter((r) => r !== 'ok')).toEqual([]);
    expect(await fx.readViaNewConnection(0, 4096)).toHaveLength(4096);
  });
});
