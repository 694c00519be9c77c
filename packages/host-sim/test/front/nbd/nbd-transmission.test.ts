import { afterEach, describe, expect, it } from 'vitest';
import {
  NBD_CMD_DISC,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_EIO,
  NBD_ENOSPC,
} from '../../../src/front/nbd/index.js';
import { type Fixture, pattern, startFixture, waitFor } from './fixture.js';
import { RawClient } from './raw-client.js';

let fx: Fixture;
afterEach(async () => {
  await fx.close();
});

describe('NBD transmission', () => {
  it('round-trips WRITE then READ, and FLUSH reaches the device', async () => {
    fx = await startFixture();
    const c = await fx.connect();
    const data = pattern(64 * 1024, 3);
    c.sendRequest({ type: NBD_CMD_WRITE, handle: 1n, offset: 8192, payload: data });
    expect(await c.readReply()).toMatchObject({ error: 0, handle: 1n });
    c.sendRequest({ type: NBD_CMD_FLUSH, handle: 2n });
    expect(await c.readReply()).toMatchObject({ error: 0, handle: 2n });
    expect(fx.device.flushes).toBe(1);
    c.sendRequest({ type: NBD_CMD_READ, handle: 3n, offset: 8192, length: data.length });
    const r = await c.readReply(() => data.length);
    expect(r.error).toBe(0);
    expect(r.data.equals(data)).toBe(true);
    expect(fx.device.data.subarray(8192, 8192 + data.length).equals(data)).toBe(true);
    expect(fx.server.stats.requests).toMatchObject({ read: 1, write: 1, flush: 1 });
    expect(fx.server.stats.bytesWritten).toBe(data.length);
    expect(fx.server.stats.bytesRead).toBe(data.length);
  });

  it('passes FUA through on WRITE and WRITE_ZEROES, accepts NO_HOLE, and zeroes', async () => {
    fx = await startFixture();
    fx.device.data.fill(0xee, 0, 16384);
    const c = await fx.connect();
    c.sendRequest({ type: NBD_CMD_WRITE, handle: 1n, flags: NBD_CMD_FLAG_FUA, offset: 0, payload: pattern(512, 4) });
    expect((await c.readReply()).error).toBe(0);
    c.sendRequest({
      type: NBD_CMD_WRITE_ZEROES,
      handle: 2n,
      flags: NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FUA,
      offset: 4096,
      length: 4096,
    });
    expect((await c.readReply()).error).toBe(0);
    c.sendRequest({ type: NBD_CMD_WRITE_ZEROES, handle: 3n, offset: 12288, length: 1024 });
    expect((await c.readReply()).error).toBe(0);
    expect(fx.device.calls).toEqual([
      { op: 'write', offset: 0, length: 512, fua: true },
      { op: 'writeZeroes', offset: 4096, length: 4096, fua: true },
      { op: 'writeZeroes', offset: 12288, length: 1024, fua: false },
    ]);
    expect(fx.device.data.subarray(4096, 8192).every((x) => x === 0)).toBe(true);
    expect(fx.device.data[8192]).toBe(0xee);
    expect(fx.server.stats.requests.writeZeroes).toBe(2);
  });

  it('TRIMs, and FUA on TRIM adds a flush', async () => {
    fx = await startFixture();
    fx.device.data.fill(0x55, 0, 65536);
    const c = await fx.connect();
    c.sendRequest({ type: NBD_CMD_TRIM, handle: 1n, offset: 0, length: 8192 });
    expect((await c.readReply()).error).toBe(0);
    c.sendRequest({ type: NBD_CMD_TRIM, handle: 2n, flags: NBD_CMD_FLAG_FUA, offset: 8192, length: 8192 });
    expect((await c.readReply()).error).toBe(0);
    expect(fx.device.calls.map((x) => x.op)).toEqual(['trim', 'trim', 'flush']);
    expect(fx.server.stats.requests.trim).toBe(2);
    expect(fx.device.data[16384]).toBe(0x55);
  });

  it('keeps several requests in flight and answers each by its handle as it completes', async () => {
    fx = await startFixture();
    fx.device.data.set(pattern(4096, 5), 0);
    fx.device.data.set(pattern(4096, 6), 4096);
    // The first request is slow: replies must come back out of order, matched by handle.
    fx.device.delayMs = (op, offset) => (op === 'read' && offset === 0 ? 60 : 0);
    const c = await fx.connect();
    const lengths = new Map<bigint, number>([
      [0x1111_0000_0000_0001n, 4096],
      [0xffff_ffff_ffff_fffen, 4096],
    ]);
    c.write(
      Buffer.concat([
        RawClient.encodeRequest({ type: NBD_CMD_READ, handle: 0x1111_0000_0000_0001n, offset: 0, length: 4096 }),
        RawClient.encodeRequest({ type: NBD_CMD_READ, handle: 0xffff_ffff_ffff_fffen, offset: 4096, length: 4096 }),
        RawClient.encodeRequest({ type: NBD_CMD_WRITE, handle: 3n, offset: 65536, payload: pattern(8192, 7) }),
        RawClient.encodeRequest({ type: NBD_CMD_FLUSH, handle: 4n }),
      ]),
    );
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await c.readReply((h) => lengths.get(h) ?? 0));
    expect(replies.at(-1)!.handle).toBe(0x1111_0000_0000_0001n);
    expect(new Set(replies.map((r) => r.handle))).toEqual(
      new Set([0x1111_0000_0000_0001n, 0xffff_ffff_ffff_fffen, 3n, 4n]),
    );
    for (const r of replies) expect(r.error).toBe(0);
    expect(replies.find((r) => r.handle === 0x1111_0000_0000_0001n)!.data.equals(pattern(4096, 5))).toBe(true);
    expect(replies.find((r) => r.handle === 0xffff_ffff_ffff_fffen)!.data.equals(pattern(4096, 6))).toBe(true);
    expect(fx.device.maxActive).toBeGreaterThan(1);
  });

  it('bounds the requests in flight per connection and still answers all of them', async () => {
    fx = await startFixture({}, { maxInFlight: 3 });
    fx.device.delayMs = () => 5;
    const c = await fx.connect();
    const reqs = [];
    for (let i = 0; i < 40; i++) {
      reqs.push(
        i % 2 === 0
          ? RawClient.encodeRequest({
              type: NBD_CMD_WRITE,
              handle: BigInt(i),
              offset: i * 4096,
              payload: pattern(4096, i),
            })
          : RawClient.encodeRequest({ type: NBD_CMD_READ, handle: BigInt(i), offset: (i - 1) * 4096, length: 4096 }),
      );
    }
    c.write(Buffer.concat(reqs));
    const seen = new Set<bigint>();
    for (let i = 0; i < 40; i++) {
      const r = await c.readReply((h) => (h % 2n === 1n ? 4096 : 0));
      expect(r.error).toBe(0);
      seen.add(r.handle);
    }
    expect(seen.size).toBe(40);
    expect(fx.device.maxActive).toBeLessThanOrEqual(3);
    for (let i = 0; i < 40; i += 2)
      expect(fx.device.data.subarray(i * 4096, (i + 1) * 4096).equals(pattern(4096, i))).toBe(true);
  });

  it('stops reading requests while a client does not read its replies, and resumes when it does', async () => {
    fx = await startFixture({}, { maxInFlightBytes: 4 * 1024 * 1024 });
    const c = await fx.connect();
    c.socket.pause(); // the client reads nothing for now
    const n = 200;
    const reqs = [];
    for (let i = 0; i < n; i++)
      reqs.push(RawClient.encodeRequest({ type: NBD_CMD_READ, handle: BigInt(i), offset: 0, length: 256 * 1024 }));
    c.write(Buffer.concat(reqs));
    await new Promise((r) => setTimeout(r, 150));
    // 50 MiB of replies requested; the server stops at its in-flight and output limits instead
    // of buffering them all.
    const served = fx.device.calls.length;
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(n / 2);
    c.socket.resume();
    for (let i = 0; i < n; i++) expect((await c.readReply(() => 256 * 1024)).error).toBe(0);
    expect(fx.device.calls.length).toBe(n);
  });

  it('parses requests split at every byte boundary', async () => {
    fx = await startFixture();
    const c = await fx.connect();
    const payload = pattern(1536, 8);
    const stream = Buffer.concat([
      RawClient.encodeRequest({ type: NBD_CMD_WRITE, handle: 1n, offset: 512, payload }),
      RawClient.encodeRequest({ type: NBD_CMD_READ, handle: 2n, offset: 512, length: 1536 }),
    ]);
    for (let i = 0; i < stream.length; i += 7) {
      c.write(stream.subarray(i, i + 7));
      await new Promise((r) => setImmediate(r));
    }
    const a = await c.readReply();
    expect(a).toMatchObject({ error: 0, handle: 1n });
    const b = await c.readReply(() => 1536);
    expect(b.handle).toBe(2n);
    expect(b.data.equals(payload)).toBe(true);
  });

  it('turns device errors into NBD errors and keeps serving', async () => {
    fx = await startFixture();
    fx.device.data.set(pattern(4096, 9), 0);
    const c = await fx.connect();
    fx.device.failRange = { offset: 65536, length: 4096, code: 'EIO' };
    c.sendRequest({ type: NBD_CMD_READ, handle: 1n, offset: 65536, length: 4096 });
    expect(await c.readReply()).toMatchObject({ error: NBD_EIO, handle: 1n, data: Buffer.alloc(0) });
    fx.device.failRange = { offset: 65536, length: 4096, code: 'ENOSPC' };
    c.sendRequest({ type: NBD_CMD_WRITE, handle: 2n, offset: 65536, payload: pattern(4096, 1) });
    expect(await c.readReply()).toMatchObject({ error: NBD_ENOSPC, handle: 2n });
    fx.device.failRange = { offset: 0, length: 512, code: 'EINVAL' };
    c.sendRequest({ type: NBD_CMD_TRIM, handle: 3n, offset: 0, length: 512 });
    expect(await c.readReply()).toMatchObject({ error: NBD_EINVAL, handle: 3n });
    fx.device.failRange = null;
    fx.device.crashOnRead = true; // a plain Error: a device bug, still a well-formed EIO
    c.sendRequest({ type: NBD_CMD_READ, handle: 4n, offset: 0, length: 4096 });
    expect(await c.readReply()).toMatchObject({ error: NBD_EIO, handle: 4n });
    fx.device.crashOnRead = false;
    c.sendRequest({ type: NBD_CMD_READ, handle: 5n, offset: 0, length: 4096 });
    const ok = await c.readReply(() => 4096);
    expect(ok.data.equals(pattern(4096, 9))).toBe(true);
    expect(fx.server.stats.deviceErrors).toBe(4);
    expect(fx.server.stats.errorReplies).toBe(4);
  });

  it('finishes outstanding requests on NBD_CMD_DISC, then closes', async () => {
    fx = await startFixture();
    fx.device.delayMs = (op) => (op === 'write' ? 40 : 0);
    const c = await fx.connect();
    c.write(
      Buffer.concat([
        RawClient.encodeRequest({ type: NBD_CMD_WRITE, handle: 1n, offset: 0, payload: pattern(4096, 10) }),
        RawClient.encodeRequest({ type: NBD_CMD_DISC, handle: 2n }),
        // Anything after DISC is ignored.
        RawClient.encodeRequest({ type: NBD_CMD_WRITE, handle: 3n, offset: 4096, payload: pattern(4096, 11) }),
      ]),
    );
    expect(await c.readReply()).toMatchObject({ error: 0, handle: 1n });
    expect(await c.closesWithin()).toBe(true);
    expect(c.pendingBytes).toBe(0);
    expect(fx.device.data.subarray(0, 4096).equals(pattern(4096, 10))).toBe(true);
    expect(fx.device.data.subarray(4096, 8192).every((x) => x === 0)).toBe(true);
    expect(fx.server.stats.requests.disc).toBe(1);
  });

  it('completes the writes of a client that hard-closes without DISC (as fio does)', async () => {
    fx = await startFixture();
    fx.device.delayMs = (op) => (op === 'write' ? 20 : 0);
    const c = await fx.connect();
    const reqs = [];
    for (let i = 0; i < 8; i++)
      reqs.push(
        RawClient.encodeRequest({
          type: NBD_CMD_WRITE,
          handle: BigInt(i),
          offset: i * 4096,
          payload: pattern(4096, 20 + i),
        }),
      );
    c.write(Buffer.concat(reqs));
    await new Promise((r) => setTimeout(r, 5));
    c.destroy();
    await waitFor(() => fx.server.stats.bytesWritten === 8 * 4096);
    for (let i = 0; i < 8; i++) {
      expect((await fx.readViaNewConnection(i * 4096, 4096)).equals(pattern(4096, 20 + i))).toBe(true);
    }
  });
});
