/**
 * Malformed and truncated requests: each gets an error reply or a closed connection, and in every
 * case the server keeps serving other connections and the data written before is intact.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOSPC,
  NBD_SIMPLE_REPLY_MAGIC,
} from '../../../src/front/nbd/index.js';
import { FIXTURE_MAX_REQUEST, FIXTURE_SIZE, type Fixture, pattern, startFixture, waitFor } from './fixture.js';
import { RawClient, type RequestSpec } from './raw-client.js';

/** Written before each case over its own connection; must survive every case. */
const KEEP_OFFSET = 128 * 1024;
const KEEP = pattern(32 * 1024, 42);

let fx: Fixture;
let unhandled: unknown[];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeEach(async () => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
  fx = await startFixture();
  const c = await fx.connect();
  c.sendRequest({ type: NBD_CMD_WRITE, handle: 1n, offset: KEEP_OFFSET, payload: KEEP });
  expect((await c.readReply()).error).toBe(0);
  c.destroy();
});

afterEach(async () => {
  // The server still serves a new connection, and the data is intact.
  expect((await fx.readViaNewConnection(KEEP_OFFSET, KEEP.length)).equals(KEEP)).toBe(true);
  expect(fx.device.data.subarray(KEEP_OFFSET, KEEP_OFFSET + KEEP.length).equals(KEEP)).toBe(true);
  await fx.close();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** Sends a bad request, expects `errno` for it, then proves the same connection still works. */
async function expectErrorThenContinue(req: RequestSpec, errno: number): Promise<void> {
  const c = await fx.connect();
  c.sendRequest(req);
  const r = await c.readReply();
  expect(r).toMatchObject({ magic: NBD_SIMPLE_REPLY_MAGIC, error: errno, handle: req.handle });
  c.sendRequest({ type: NBD_CMD_READ, handle: 0x5555n, offset: KEEP_OFFSET, length: 4096 });
  const ok = await c.readReply(() => 4096);
  expect(ok.handle).toBe(0x5555n);
  expect(ok.data.equals(KEEP.subarray(0, 4096))).toBe(true);
  c.destroy();
}

describe('NBD malformed requests get an error reply and the connection continues', () => {
  it('unknown command type → EINVAL', async () => {
    await expectErrorThenContinue({ type: 42, handle: 7n, offset: 0, length: 512 }, NBD_EINVAL);
    expect(fx.server.stats.requests.other).toBe(1);
  });

  it('READ beyond the export → EINVAL; READ crossing the end → EINVAL', async () => {
    await expectErrorThenContinue({ type: NBD_CMD_READ, handle: 7n, offset: FIXTURE_SIZE, length: 512 }, NBD_EINVAL);
    await expectErrorThenContinue(
      { type: NBD_CMD_READ, handle: 8n, offset: FIXTURE_SIZE - 512, length: 1024 },
      NBD_EINVAL,
    );
  });

  it('READ at an offset beyond 2^53 → EINVAL', async () => {
    const c = await fx.connect();
    const req = RawClient.encodeRequest({ type: NBD_CMD_READ, handle: 9n, offset: 0, length: 512 });
    req.writeBigUInt64BE(0xffff_ffff_ffff_fe00n, 16);
    c.write(req);
    expect((await c.readReply()).error).toBe(NBD_EINVAL);
  });

  it('WRITE beyond the export → ENOSPC, its payload consumed so the stream stays in sync', async () => {
    await expectErrorThenContinue(
      { type: NBD_CMD_WRITE, handle: 7n, offset: FIXTURE_SIZE - 512, payload: pattern(4096, 1) },
      NBD_ENOSPC,
    );
    expect(fx.device.data.subarray(FIXTURE_SIZE - 512).every((x) => x === 0)).toBe(true);
  });

  it('TRIM beyond the export → EINVAL; WRITE_ZEROES beyond → ENOSPC', async () => {
    await expectErrorThenContinue({ type: NBD_CMD_TRIM, handle: 7n, offset: FIXTURE_SIZE, length: 4096 }, NBD_EINVAL);
    await expectErrorThenContinue(
      { type: NBD_CMD_WRITE_ZEROES, handle: 8n, offset: KEEP_OFFSET, length: FIXTURE_SIZE },
      NBD_ENOSPC,
    );
  });

  it('length 0 → EINVAL for READ, WRITE (no payload follows), TRIM and WRITE_ZEROES', async () => {
    for (const type of [NBD_CMD_READ, NBD_CMD_WRITE, NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES])
      await expectErrorThenContinue({ type, handle: BigInt(type), offset: 0, length: 0 }, NBD_EINVAL);
  });

  it('READ longer than the maximum block size → EINVAL', async () => {
    await expectErrorThenContinue(
      { type: NBD_CMD_READ, handle: 7n, offset: 0, length: FIXTURE_MAX_REQUEST + 512 },
      NBD_EINVAL,
    );
  });

  it('offset or length not a multiple of the block size → EINVAL (WRITE payload consumed)', async () => {
    await expectErrorThenContinue({ type: NBD_CMD_READ, handle: 7n, offset: 100, length: 512 }, NBD_EINVAL);
    await expectErrorThenContinue({ type: NBD_CMD_READ, handle: 8n, offset: 0, length: 100 }, NBD_EINVAL);
    await expectErrorThenContinue(
      { type: NBD_CMD_WRITE, handle: 9n, offset: KEEP_OFFSET + 1, payload: pattern(1000, 2) },
      NBD_EINVAL,
    );
  });

  it('unknown command flags and FLUSH with a length → EINVAL', async () => {
    await expectErrorThenContinue(
      { type: NBD_CMD_READ, handle: 7n, flags: 1 << 9, offset: 0, length: 512 },
      NBD_EINVAL,
    );
    await expectErrorThenContinue(
      { type: NBD_CMD_WRITE, handle: 8n, flags: 1 << 1, offset: KEEP_OFFSET, payload: pattern(512, 3) },
      NBD_EINVAL,
    );
    await expectErrorThenContinue({ type: NBD_CMD_FLUSH, handle: 9n, length: 512 }, NBD_EINVAL);
    // FUA is accepted on every command (proto.md): a FLUSH with FUA is fine.
    await expectErrorThenContinue({ type: NBD_CMD_FLUSH, handle: 10n, flags: NBD_CMD_FLAG_FUA }, 0);
    expect(fx.server.stats.protocolErrors).toBe(3);
  });
});

describe('NBD requests that cannot be answered safely close the connection', () => {
  it('bad request magic: earlier requests complete, then the connection closes', async () => {
    const c = await fx.connect();
    c.write(
      Buffer.concat([
        RawClient.encodeRequest({ type: NBD_CMD_WRITE, handle: 1n, offset: 0, payload: pattern(4096, 4) }),
        RawClient.encodeRequest({ type: NBD_CMD_READ, handle: 2n, offset: 0, length: 512, magic: 0xdeadbeef }),
        RawClient.encodeRequest({ type: NBD_CMD_WRITE, handle: 3n, offset: KEEP_OFFSET, payload: pattern(4096, 5) }),
      ]),
    );
    expect(await c.readReply()).toMatchObject({ error: 0, handle: 1n });
    expect(await c.closesWithin()).toBe(true);
    expect(c.pendingBytes).toBe(0);
    expect(fx.device.data.subarray(0, 4096).equals(pattern(4096, 4))).toBe(true);
    expect(fx.server.stats.protocolErrors).toBe(1);
  });

  it('WRITE longer than the maximum block size: the length cannot be trusted, so the connection closes', async () => {
    const c = await fx.connect();
    c.write(
      RawClient.encodeRequest({
        type: NBD_CMD_WRITE,
        handle: 1n,
        offset: KEEP_OFFSET,
        length: FIXTURE_MAX_REQUEST * 4,
      }),
    );
    c.write(pattern(8192, 6));
    expect(await c.closesWithin()).toBe(true);
    expect(c.pendingBytes).toBe(0);
  });

  it('truncated header: the client sends part of a header and goes away', async () => {
    const c = await fx.connect();
    c.write(RawClient.encodeRequest({ type: NBD_CMD_READ, handle: 1n, offset: 0, length: 512 }).subarray(0, 13));
    c.end();
    expect(await c.closesWithin()).toBe(true);
    expect(c.pendingBytes).toBe(0);
  });

  it('a WRITE whose payload never arrives is dropped, never half-applied (half-close and reset)', async () => {
    for (const ending of ['end', 'destroy'] as const) {
      const c = await fx.connect();
      const req = RawClient.encodeRequest({
        type: NBD_CMD_WRITE,
        handle: 1n,
        offset: KEEP_OFFSET,
        payload: pattern(8192, 7),
      });
      c.write(req.subarray(0, 28 + 3000));
      await new Promise((r) => setTimeout(r, 10));
      if (ending === 'end') {
        c.end();
        expect(await c.closesWithin()).toBe(true);
        expect(c.pendingBytes).toBe(0);
      } else {
        c.destroy();
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(fx.device.calls.filter((x) => x.op === 'write' && x.offset === KEEP_OFFSET).length).toBe(1);
  });

  it('a client half-closing after its requests still gets every reply', async () => {
    fx.device.delayMs = () => 15;
    const c = await fx.connect();
    c.write(
      Buffer.concat([
        RawClient.encodeRequest({ type: NBD_CMD_WRITE, handle: 1n, offset: 0, payload: pattern(4096, 8) }),
        RawClient.encodeRequest({ type: NBD_CMD_READ, handle: 2n, offset: KEEP_OFFSET, length: 4096 }),
      ]),
    );
    c.end();
    const replies = [await c.readReply((h) => (h === 2n ? 4096 : 0)), await c.readReply((h) => (h === 2n ? 4096 : 0))];
    expect(replies.map((r) => r.error)).toEqual([0, 0]);
    expect(await c.closesWithin()).toBe(true);
  });

  it('a client resetting with many reads in flight costs nothing but its connection', async () => {
    fx.device.delayMs = () => 10;
    for (let k = 0; k < 3; k++) {
      const c = await fx.connect();
      const reqs = [];
      for (let i = 0; i < 64; i++)
        reqs.push(RawClient.encodeRequest({ type: NBD_CMD_READ, handle: BigInt(i), offset: i * 4096, length: 4096 }));
      c.write(Buffer.concat(reqs));
      await new Promise((r) => setTimeout(r, 3));
      c.destroy();
    }
    await waitFor(() => fx.server.stats.activeConnections === 0);
  });

  it('random garbage after the handshake never crashes the server', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const c = await fx.connect();
      c.write(pattern(200 + seed * 37, seed));
      c.end();
      await c.closesWithin(2000);
      c.destroy();
    }
  });
});
