/**
 * Soak (issue 15): hostile NBD clients against `epfsim serve` (the built CLI in a child process),
 * and a hostile host against one controller, each beside a good client whose data is verified at
 * the end. The server must stay alive with bounded RSS, and the controller must answer every
 * command once without an exception. Bounded in time: about 20 s in all.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSgl, NvmOpcode, Psdt, SglType, sglDescriptor } from '@epfsim/nvme-spec-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawHost } from '../packages/host-sim/src/front/bench/raw-host.js';
import { NBD_CMD_READ, NBD_CMD_WRITE, NBD_OPT_LIST } from '../packages/host-sim/src/front/nbd/index.js';
import { pattern } from '../packages/host-sim/test/front/nbd/fixture.js';
import { RawClient } from '../packages/host-sim/test/front/nbd/raw-client.js';

const CLI = fileURLToPath(new URL('../packages/host-sim/dist/front/cli/main.js', import.meta.url));
const KiB = 1024;
const MiB = 1024 * KiB;
const LISTEN_TIMEOUT_MS = 20_000;
/** The server's own bounds (nbd-server.ts defaults), which the hostile clients push against. */
const SERVER_BUDGET = 128 * MiB;
const MAX_BLOCK = 32 * MiB;
/**
 * Peak RSS allowed: the idle server, the request-data budget twice (serve copies each request into
 * the simulated host's memory), and room for the allocator and GC.
 */
const RSS_BOUND_MIB = 256 + (2 * SERVER_BUDGET) / MiB;
const NBD_OPTS_MAGIC = 0x49484156454f5054n;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function option(type: number, dataLength: number): Buffer {
  const b = Buffer.alloc(16 + dataLength);
  b.writeBigUInt64BE(NBD_OPTS_MAGIC, 0);
  b.writeUInt32BE(type, 8);
  b.writeUInt32BE(dataLength, 12);
  return b;
}

/** Peak and current RSS of a process, in MiB, from /proc. */
function rssMiB(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / KiB;
  return { peak: field('VmHWM'), now: field('VmRSS') };
}

/** Writes `chunk` until `bytes` have reached the kernel or a write waits 500 ms (the peer stopped reading). */
async function pushUntilStalled(socket: import('node:net').Socket, chunk: Buffer, bytes: number): Promise<number> {
  let sent = 0;
  while (sent < bytes && !socket.destroyed) {
    const ok = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 500);
      socket.write(chunk, (e) => {
        clearTimeout(t);
        resolve(e == null);
      });
    });
    if (!ok) break;
    sent += chunk.length;
  }
  return sent;
}

describe('soak: hostile NBD clients beside a good one, against epfsim serve', () => {
  let dir: string;
  let child: ChildProcess;
  let socketPath: string;
  let exitCode: Promise<number | null>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'epfsim-soak-'));
    socketPath = join(dir, 'nbd.sock');
    child = spawn(process.execPath, [CLI, 'serve', '--socket', socketPath, '--ns-size', '64m', '--queues', '4'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exitCode = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr!.resume();
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    while (!/listening on/.test(out)) {
      if (Date.now() > deadline) throw new Error('epfsim serve did not start listening');
      await sleep(50);
    }
  });

  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('stays alive with bounded RSS; the good client keeps its data', async () => {
    const pid = child.pid!;
    const idle = rssMiB(pid).now;
    const good = await RawClient.connect(socketPath);
    await good.connectGo();
    const region = 8 * MiB;
    const piece = 256 * KiB;
    let handle = 0n;
    const writeGood = async (round: number) => {
      for (let off = 0; off < region; off += piece) {
        good.sendRequest({
          type: NBD_CMD_WRITE,
          handle: handle++,
          offset: off,
          payload: pattern(piece, round * 1000 + off / piece),
        });
        expect((await good.readReply(() => 0, 60_000)).error).toBe(0);
      }
    };
    await writeGood(1);

    const hostile: Promise<unknown>[] = [];
    const sockets: import('node:net').Socket[] = [];
    const raw = async () => {
      const c = await RawClient.connect(socketPath);
      sockets.push(c.socket);
      return c;
    };
    // 1. NBD_OPT_LIST options, never reading the replies.
    hostile.push(
      (async () => {
        const c = await raw();
        await c.handshake();
        c.socket.pause();
        return pushUntilStalled(
          c.socket,
          Buffer.concat(Array.from({ length: 4096 }, () => option(NBD_OPT_LIST, 0))),
          320 * MiB,
        );
      })(),
    );
    // 2. 320 MiB of 64 KiB options it does not know, replies read, reconnecting when closed at the option limit.
    const floodBytes = 320 * MiB;
    let flooded = 0;
    hostile.push(
      (async () => {
        const unknown = option(0x7777, 64 * KiB - 16);
        while (flooded < floodBytes) {
          const c = await raw();
          await c.handshake();
          const n = await pushUntilStalled(c.socket, unknown, floodBytes - flooded);
          flooded += n;
          c.destroy();
          if (n === 0) break;
        }
      })(),
    );
    // 3. 24 WRITEs of 32 MiB whose payload stops half way: 384 MiB offered, three times the budget.
    const half = Buffer.alloc(MAX_BLOCK / 2, 0xee);
    for (let i = 0; i < 24; i++) {
      hostile.push(
        (async () => {
          const c = await raw();
          await c.connectGo();
          const header = RawClient.encodeRequest({ type: NBD_CMD_WRITE, handle: 1n, offset: 0, length: MAX_BLOCK });
          c.write(header.subarray(0, 28));
          c.write(half);
        })(),
      );
    }
    // 4. READs of 32 MiB whose replies are never read.
    hostile.push(
      (async () => {
        const c = await raw();
        await c.connectGo();
        c.socket.pause();
        for (let r = 0; r < 4; r++)
          c.sendRequest({ type: NBD_CMD_READ, handle: BigInt(r), offset: 0, length: MAX_BLOCK });
      })(),
    );
    // 5. Garbage after the handshake, and a client that never finishes it.
    hostile.push(
      (async () => {
        const c = await raw();
        await c.connectGo();
        c.write(pattern(64 * KiB, 99));
        await raw();
      })(),
    );
    // 6. A storm of 200 connects at once.
    const storm = Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<string>((resolve) => {
            const s = connect(socketPath);
            s.once('connect', () => {
              s.destroy();
              resolve('ok');
            });
            s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          }),
      ),
    );
    expect((await storm).filter((r) => r !== 'ok')).toEqual([]);
    await Promise.all(hostile);
    expect(flooded).toBe(floodBytes);

    // The good client goes on: its writes wait for room until the stalled holders are closed.
    await writeGood(2);
    const rss = rssMiB(pid);
    console.log(
      `soak: epfsim serve RSS ${idle.toFixed(0)} MiB idle, ${rss.now.toFixed(0)} MiB now, ${rss.peak.toFixed(0)} MiB peak (bound ${RSS_BOUND_MIB} MiB) after a ${floodBytes / MiB} MiB option flood, 24 WRITEs of 32 MiB stalled half way, unread 32 MiB READs and a 200-connect storm`,
    );
    expect(rss.peak).toBeLessThan(RSS_BOUND_MIB);
    for (const s of sockets) s.destroy();

    // Every byte of the good client's region, over a new connection.
    const check = await RawClient.connect(socketPath);
    await check.connectGo();
    for (let off = 0; off < region; off += piece) {
      check.sendRequest({ type: NBD_CMD_READ, handle: 7n, offset: off, length: piece });
      const r = await check.readReply(() => piece, 30_000);
      expect(r.error).toBe(0);
      expect(r.data.equals(pattern(piece, 2000 + off / piece)), `data at ${off}`).toBe(true);
    }
    check.destroy();
    good.destroy();
    // Alive, and it shuts down cleanly: every check of the exit report passes.
    child.kill('SIGINT');
    expect(await exitCode).toBe(0);
  });
});

describe('soak: a hostile host beside a good one, on one controller', () => {
  it('every command completes once, no exception, the good queue keeps its data', () => {
    // Deterministic: the random SQEs come from this seed.
    const seed = 15;
    console.log(`soak: hostile host seed=${seed}`);
    let x = seed;
    const random = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    const h = new RawHost({ profile: 'generic', function: { mdtsBytes: 0 } });
    const queues = 6;
    h.bringUp(queues, 32);
    const good = 1;
    const block = 512;
    const data = pattern(64 * KiB, 1);
    const buf = h.alloc(64 * KiB);
    const back = h.alloc(64 * KiB);
    h.write(buf, data);
    // Hostile: zero-length SGL descriptors, a 32 MiB read with them, a bad pointer, random SQEs.
    const segment = h.alloc(0xffff_fff0);
    const sgl = new DataView(
      encodeSgl(sglDescriptor({ address: segment, length: 0xffff_fff0, type: SglType.LAST_SEGMENT })).buffer,
    );
    const zeroLength = { psdt: Psdt.SGL_MPTR_CONTIG, prp1: sgl.getBigUint64(0, true), prp2: sgl.getBigUint64(8, true) };
    let submitted = 0;
    let completed = 0;
    const outstanding = new Map<number, number>();
    const refill = () => {
      for (let qid = 2; qid <= queues; qid++) {
        const got = h.reap(qid).length;
        completed += got;
        let n = (outstanding.get(qid) ?? 0) - got;
        for (; n < 16; n++, submitted++) {
          const kind = random() % 4;
          if (kind === 0) h.submit(qid, { opcode: NvmOpcode.READ, nsid: 1, ...zeroLength, cdw12: 1023 });
          else if (kind === 1) h.submit(qid, { opcode: NvmOpcode.READ, nsid: 1, ...zeroLength, cdw12: 65535 });
          else if (kind === 2) h.submit(qid, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: 0n, prp2: 0n, cdw12: 65535 });
          else
            h.submit(qid, {
              opcode: random() & 0xff,
              nsid: random() % 3,
              psdt: random() % 4,
              prp1: BigInt(random()) << 12n,
              prp2: BigInt(random()),
              cdw10: random(),
              cdw11: random() % 4,
              cdw12: random(),
              cdw13: random(),
            });
        }
        outstanding.set(qid, n);
        h.ring(qid);
      }
    };
    let verified = 0;
    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      refill();
      const lba = (round % 64) * 128;
      h.submit(good, {
        opcode: NvmOpcode.WRITE,
        nsid: 1,
        prp1: buf,
        prp2: buf + 4096n,
        cdw10: lba,
        cdw12: 8192 / block - 1,
      });
      h.ring(good);
      expect(h.collect([good], 1, 1000).map((c) => c.status)).toEqual([0]);
      h.submit(good, {
        opcode: NvmOpcode.READ,
        nsid: 1,
        prp1: back,
        prp2: back + 4096n,
        cdw10: lba,
        cdw12: 8192 / block - 1,
      });
      h.ring(good);
      expect(h.collect([good], 1, 1000).map((c) => c.status)).toEqual([0]);
      expect(Buffer.from(h.read(back, 8192)).equals(data.subarray(0, 8192))).toBe(true);
      verified++;
    }
    // Drain: every hostile command gets its one completion.
    for (let i = 0; i < 20_000 && completed < submitted; i++) {
      h.poll();
      for (let qid = 2; qid <= queues; qid++) {
        const n = h.reap(qid).length;
        completed += n;
      }
    }
    expect(completed).toBe(submitted);
    expect(verified).toBe(rounds);
    const s = h.bed.fn.stats;
    expect(s.commandsCompleted + s.commandsDropped).toBe(s.commandsFetched);
    expect(h.bed.fn.state).toBe('ready');
    expect(h.bed.leaks()).toBe(0);
    h.close();
  });
});
