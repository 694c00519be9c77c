import { spawn } from 'node:child_process';
import { lstatSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  isNbdServerError,
  NBD_CMD_READ,
  NBD_CMD_WRITE,
  NBD_OPT_GO,
  NBD_REP_ACK,
  type NbdServerError,
  startNbdServer,
} from '../../../src/front/nbd/index.js';
import { pattern } from './fixture.js';
import { MemoryBlockDevice } from './memory-device.js';
import { RawClient, tempSocket } from './raw-client.js';

async function rejection(p: Promise<unknown>): Promise<NbdServerError> {
  try {
    await p;
  } catch (e) {
    if (isNbdServerError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('NBD server lifecycle', () => {
  it('serves over TCP on an ephemeral port and builds nbd:// URIs', async () => {
    const device = new MemoryBlockDevice({ size: 65536 });
    device.data.set(pattern(512, 1), 512);
    const server = await startNbdServer({ device, tcp: { host: '127.0.0.1', port: 0 }, exportName: 'a b' });
    const port = Number(server.address.split(':')[1]);
    expect(server.address).toBe(`127.0.0.1:${port}`);
    expect(server.uri).toBe(`nbd://127.0.0.1:${port}/a%20b`);
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const c = RawClient.fromSocket(socket);
    await c.handshake();
    expect((await c.infoOrGo(NBD_OPT_GO, 'a b')).at(-1)!.type).toBe(NBD_REP_ACK);
    c.sendRequest({ type: NBD_CMD_READ, handle: 1n, offset: 512, length: 512 });
    expect((await c.readReply(() => 512)).data.equals(pattern(512, 1))).toBe(true);
    c.destroy();
    await server.close();
  });

  it('gives a Unix socket URI, replaces a stale socket, and refuses to clobber a regular file', async () => {
    const sock = tempSocket();
    // A crashed server leaves its socket file behind: listen in a child and SIGKILL it.
    const child = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(sock.path)}, () => console.log('up'))`,
    ]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(lstatSync(sock.path).isSocket()).toBe(true);
    const device = new MemoryBlockDevice({ size: 65536 });
    const server = await startNbdServer({ device, unixSocket: sock.path });
    expect(server.address).toBe(sock.path);
    expect(server.uri).toBe(`nbd+unix:///?socket=${sock.path}`);
    await server.close();

    const file = `${sock.path}.file`;
    writeFileSync(file, 'keep me');
    const e = await rejection(startNbdServer({ device, unixSocket: file }));
    expect(e.code).toBe('LISTEN');
    sock.cleanup();
  });

  it('rejects impossible options and devices with NbdServerError', async () => {
    const device = new MemoryBlockDevice({ size: 65536 });
    const sock = tempSocket();
    expect(
      (await rejection(startNbdServer({ device, unixSocket: sock.path, tcp: { host: '127.0.0.1', port: 0 } }))).code,
    ).toBe('BAD_OPTION');
    expect(await rejection(startNbdServer({ unixSocket: sock.path }))).toMatchObject({ code: 'BAD_OPTION' });
    expect((await rejection(startNbdServer({ device, unixSocket: `/tmp/${'x'.repeat(120)}` }))).code).toBe(
      'BAD_OPTION',
    );
    expect((await rejection(startNbdServer({ device, unixSocket: sock.path, maxInFlight: 0 }))).code).toBe(
      'BAD_OPTION',
    );
    const odd = new MemoryBlockDevice({ size: 1000, blockSize: 512 });
    expect((await rejection(startNbdServer({ device: odd, unixSocket: sock.path }))).code).toBe('BAD_DEVICE');
    const badBs = new MemoryBlockDevice({ size: 3000 * 3, blockSize: 3000 });
    expect((await rejection(startNbdServer({ device: badBs, unixSocket: sock.path }))).code).toBe('BAD_DEVICE');
    sock.cleanup();
  });

  it('makes a device per connection with deviceFactory, and survives a failing factory', async () => {
    const sock = tempSocket();
    const made: MemoryBlockDevice[] = [];
    const errors: unknown[] = [];
    const server = await startNbdServer({
      unixSocket: sock.path,
      deviceFactory: async ({ id }) => {
        if (id === 2) throw new Error('no device for you');
        const d = new MemoryBlockDevice({ size: 65536 });
        d.data.fill(id, 0, 512);
        made.push(d);
        return d;
      },
      onConnectionError: (e) => errors.push(e),
    });
    const a = await RawClient.connect(sock.path);
    await a.connectGo();
    const b = await RawClient.connect(sock.path);
    expect(await b.closesWithin()).toBe(true);
    const c = await RawClient.connect(sock.path);
    await c.connectGo();
    for (const [client, id] of [
      [a, 1],
      [c, 3],
    ] as const) {
      client.sendRequest({ type: NBD_CMD_READ, handle: 1n, offset: 0, length: 512 });
      expect((await client.readReply(() => 512)).data.every((x) => x === id)).toBe(true);
    }
    expect(made.length).toBe(2);
    expect(errors.length).toBe(1);
    expect(server.stats.connections).toBe(3);
    a.destroy();
    c.destroy();
    await server.close();
    sock.cleanup();
  });

  it('close() lets accepted requests finish, replies to them, then closes every connection', async () => {
    const sock = tempSocket();
    const device = new MemoryBlockDevice({ size: 65536 });
    device.delayMs = () => 50;
    const server = await startNbdServer({ device, unixSocket: sock.path });
    const c = await RawClient.connect(sock.path);
    await c.connectGo();
    const idle = await RawClient.connect(sock.path); // still in the handshake
    c.sendRequest({ type: NBD_CMD_WRITE, handle: 9n, offset: 4096, payload: pattern(4096, 2) });
    await new Promise((r) => setTimeout(r, 10));
    const closing = server.close();
    expect(server.close()).toBe(closing);
    expect(await c.readReply()).toMatchObject({ error: 0, handle: 9n });
    await closing;
    expect(await c.closesWithin()).toBe(true);
    expect(await idle.closesWithin()).toBe(true);
    expect(device.data.subarray(4096, 8192).equals(pattern(4096, 2))).toBe(true);
    expect(server.stats.activeConnections).toBe(0);
    await expect(RawClient.connect(sock.path)).rejects.toThrow();
    sock.cleanup();
  });
});
