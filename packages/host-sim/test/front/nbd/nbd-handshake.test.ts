import { afterEach, describe, expect, it } from 'vitest';
import {
  NBD_CMD_READ,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_CAN_MULTI_CONN,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_NO_ZEROES,
  NBD_FLAG_SEND_FLUSH,
  NBD_FLAG_SEND_FUA,
  NBD_FLAG_SEND_TRIM,
  NBD_FLAG_SEND_WRITE_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_EXPORT,
  NBD_INFO_NAME,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_OPT_SET_META_CONTEXT,
  NBD_OPT_STARTTLS,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_TOO_BIG,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
  NBD_REP_MAGIC,
  NBD_REP_SERVER,
  NBD_SIMPLE_REPLY_MAGIC,
} from '../../../src/front/nbd/index.js';
import { FIXTURE_MAX_REQUEST, FIXTURE_SIZE, type Fixture, pattern, startFixture } from './fixture.js';
import type { OptionReplyMsg, RawClient } from './raw-client.js';

const BASE_FLAGS =
  NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES;

let fx: Fixture;
afterEach(async () => {
  await fx.close();
});

function infoExport(r: OptionReplyMsg): { size: bigint; flags: number } {
  expect(r.type).toBe(NBD_REP_INFO);
  expect(r.data.length).toBe(12);
  expect(r.data.readUInt16BE(0)).toBe(NBD_INFO_EXPORT);
  return { size: r.data.readBigUInt64BE(2), flags: r.data.readUInt16BE(10) };
}

async function readWorks(c: RawClient, offset = 0, length = 4096): Promise<Buffer> {
  c.sendRequest({ type: NBD_CMD_READ, handle: 0xabcdef0123456789n, offset, length });
  const r = await c.readReply(() => length);
  expect(r.magic).toBe(NBD_SIMPLE_REPLY_MAGIC);
  expect(r.error).toBe(0);
  expect(r.handle).toBe(0xabcdef0123456789n);
  return r.data;
}

describe('NBD handshake (fixed newstyle)', () => {
  it('greets with FIXED_NEWSTYLE | NO_ZEROES and answers GO with INFO_EXPORT, INFO_BLOCK_SIZE, ACK', async () => {
    fx = await startFixture();
    fx.device.data.set(pattern(4096, 1), 0);
    const c = await fx.raw();
    const { flags } = await c.handshake();
    expect(flags).toBe(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
    const replies = await c.infoOrGo(NBD_OPT_GO, '', [NBD_INFO_BLOCK_SIZE]);
    expect(replies.map((r) => r.type)).toEqual([NBD_REP_INFO, NBD_REP_INFO, NBD_REP_ACK]);
    for (const r of replies) {
      expect(r.magic).toBe(NBD_REP_MAGIC);
      expect(r.option).toBe(NBD_OPT_GO);
    }
    const exp = infoExport(replies[0]!);
    expect(exp.size).toBe(BigInt(FIXTURE_SIZE));
    expect(exp.flags).toBe(BASE_FLAGS);
    const bs = replies[1]!.data;
    expect(bs.readUInt16BE(0)).toBe(NBD_INFO_BLOCK_SIZE);
    expect([bs.readUInt32BE(2), bs.readUInt32BE(6), bs.readUInt32BE(10)]).toEqual([512, 4096, FIXTURE_MAX_REQUEST]);
    expect(await readWorks(c)).toEqual(pattern(4096, 1));
  });

  it('sends INFO_EXPORT even when not asked, and INFO_NAME when asked', async () => {
    fx = await startFixture({}, { exportName: 'disk0' });
    const c = await fx.raw();
    await c.handshake();
    const replies = await c.infoOrGo(NBD_OPT_INFO, 'disk0', [NBD_INFO_NAME]);
    expect(replies.map((r) => r.type)).toEqual([NBD_REP_INFO, NBD_REP_INFO, NBD_REP_INFO, NBD_REP_ACK]);
    infoExport(replies[0]!);
    const name = replies[2]!.data;
    expect(name.readUInt16BE(0)).toBe(NBD_INFO_NAME);
    expect(name.toString('utf8', 2)).toBe('disk0');
    // INFO does not end negotiation: GO follows on the same connection.
    const go = await c.infoOrGo(NBD_OPT_GO, 'disk0', []);
    expect(go.at(-1)!.type).toBe(NBD_REP_ACK);
    await readWorks(c);
  });

  it('advertises CAN_MULTI_CONN only when asked', async () => {
    fx = await startFixture({}, { multiConn: true });
    const c = await fx.raw();
    await c.handshake();
    const replies = await c.infoOrGo(NBD_OPT_GO);
    expect(infoExport(replies[0]!).flags).toBe(BASE_FLAGS | NBD_FLAG_CAN_MULTI_CONN);
  });

  it('enters transmission with the NBD_OPT_EXPORT_NAME fallback (10 bytes with NO_ZEROES, 134 without)', async () => {
    fx = await startFixture({ blockSize: 4096 });
    fx.device.data.set(pattern(4096, 2), 4096);
    const a = await fx.raw();
    await a.handshake();
    a.sendOption(NBD_OPT_EXPORT_NAME);
    const reply = await a.read(10);
    expect(reply.readBigUInt64BE(0)).toBe(BigInt(FIXTURE_SIZE));
    expect(reply.readUInt16BE(8)).toBe(BASE_FLAGS);
    expect(await readWorks(a, 4096)).toEqual(pattern(4096, 2));

    const b = await fx.raw();
    await b.handshake(NBD_FLAG_C_FIXED_NEWSTYLE);
    b.sendOption(NBD_OPT_EXPORT_NAME);
    const withZeroes = await b.read(134);
    expect(withZeroes.subarray(10).every((x) => x === 0)).toBe(true);
    expect(await readWorks(b, 4096)).toEqual(pattern(4096, 2));
  });

  it('lists the export with NBD_OPT_LIST and refuses LIST with data', async () => {
    fx = await startFixture({}, { exportName: 'nvme0n1' });
    const c = await fx.raw();
    await c.handshake();
    c.sendOption(NBD_OPT_LIST);
    const server = await c.readOptionReply();
    expect(server.type).toBe(NBD_REP_SERVER);
    expect(server.data.readUInt32BE(0)).toBe(7);
    expect(server.data.toString('utf8', 4)).toBe('nvme0n1');
    expect((await c.readOptionReply()).type).toBe(NBD_REP_ACK);
    c.sendOption(NBD_OPT_LIST, Buffer.from('x'));
    expect((await c.readOptionReply()).type).toBe(NBD_REP_ERR_INVALID);
    expect((await c.infoOrGo(NBD_OPT_GO, 'nvme0n1')).at(-1)!.type).toBe(NBD_REP_ACK);
  });

  it('answers ERR_UNSUP to structured replies, meta contexts, TLS and unknown options, then still does GO', async () => {
    fx = await startFixture();
    const c = await fx.raw();
    await c.handshake();
    for (const opt of [NBD_OPT_STRUCTURED_REPLY, NBD_OPT_SET_META_CONTEXT, NBD_OPT_STARTTLS, 99, 0x7fff_ffff]) {
      c.sendOption(opt, opt === NBD_OPT_SET_META_CONTEXT ? Buffer.alloc(8) : undefined);
      const r = await c.readOptionReply();
      expect(r.option).toBe(opt);
      expect(r.type).toBe(NBD_REP_ERR_UNSUP);
    }
    expect((await c.infoOrGo(NBD_OPT_GO)).at(-1)!.type).toBe(NBD_REP_ACK);
    await readWorks(c);
  });

  it('answers ERR_UNKNOWN for an unknown export in GO, and closes on an unknown EXPORT_NAME', async () => {
    fx = await startFixture();
    const c = await fx.raw();
    await c.handshake();
    const r = await c.infoOrGo(NBD_OPT_GO, 'nope');
    expect(r.map((x) => x.type)).toEqual([NBD_REP_ERR_UNKNOWN]);
    c.sendOption(NBD_OPT_EXPORT_NAME, Buffer.from('nope'));
    expect(await c.closesWithin()).toBe(true);
    await fx.readViaNewConnection(0, 512);
  });

  it('answers ERR_INVALID to GO data whose lengths do not add up', async () => {
    fx = await startFixture();
    const c = await fx.raw();
    await c.handshake();
    const d = Buffer.alloc(4 + 0 + 2 + 2);
    d.writeUInt16BE(5, 4); // claims 5 info requests, carries 1
    c.sendOption(NBD_OPT_GO, d);
    expect((await c.readOptionReply()).type).toBe(NBD_REP_ERR_INVALID);
    c.sendOption(NBD_OPT_GO, Buffer.alloc(3));
    expect((await c.readOptionReply()).type).toBe(NBD_REP_ERR_INVALID);
    expect((await c.infoOrGo(NBD_OPT_GO)).at(-1)!.type).toBe(NBD_REP_ACK);
  });

  it('skips oversized option data with ERR_TOO_BIG and stays in sync', async () => {
    fx = await startFixture();
    const c = await fx.raw();
    await c.handshake();
    c.sendOption(NBD_OPT_INFO, Buffer.alloc(100_000));
    expect((await c.readOptionReply()).type).toBe(NBD_REP_ERR_TOO_BIG);
    expect((await c.infoOrGo(NBD_OPT_GO)).at(-1)!.type).toBe(NBD_REP_ACK);
    expect(fx.server.stats.protocolErrors).toBe(1);
  });

  it('acknowledges NBD_OPT_ABORT and closes', async () => {
    fx = await startFixture();
    const c = await fx.raw();
    await c.handshake();
    c.sendOption(NBD_OPT_ABORT);
    expect((await c.readOptionReply()).type).toBe(NBD_REP_ACK);
    expect(await c.closesWithin()).toBe(true);
  });

  it('survives a client that closes right after ABORT without reading (EPIPE), as nbdinfo --list does', async () => {
    fx = await startFixture();
    for (let i = 0; i < 5; i++) {
      const c = await fx.raw();
      await c.handshake();
      c.sendOption(NBD_OPT_LIST);
      c.sendOption(NBD_OPT_ABORT);
      c.destroy();
    }
    await fx.readViaNewConnection(0, 512);
  });

  it('closes on unknown client flags, on a bad option magic, and on a non-fixed client sending GO', async () => {
    fx = await startFixture();
    const a = await fx.raw();
    await a.handshake(0x80);
    expect(await a.closesWithin()).toBe(true);

    const b = await fx.raw();
    await b.handshake();
    b.sendOption(NBD_OPT_GO, Buffer.alloc(6), 0x1234n);
    expect(await b.closesWithin()).toBe(true);

    const c = await fx.raw();
    await c.handshake(0);
    c.sendOption(NBD_OPT_LIST);
    expect(await c.closesWithin()).toBe(true);
    expect(c.pendingBytes).toBe(0);

    const d = await fx.raw();
    d.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(await d.closesWithin()).toBe(true);

    expect(fx.server.stats.protocolErrors).toBe(4);
    await fx.readViaNewConnection(0, 512);
  });
});
