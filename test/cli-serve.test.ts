/**
 * `epfsim serve` end to end: the built CLI in a child process, unmodified NBD clients against it
 * (fio's nbd engine with crc32c verify, nbdcopy), raw malformed requests, then a signal: exit 0
 * and the run checks in the exit report. fio and nbdcopy are skipped, with one line saying so,
 * where they are not installed; CI installs them.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NBD_CMD_READ, NBD_CMD_WRITE } from '../packages/host-sim/src/front/nbd/index.js';
import { RawClient } from '../packages/host-sim/test/front/nbd/raw-client.js';
import { epfsim } from './run-cli.js';

const CLI = fileURLToPath(new URL('../packages/host-sim/dist/front/cli/main.js', import.meta.url));
const STACK_FRAME = /\bat .*\.js:\d+/;
/** Every external process is bounded: a hang fails the test instead of stalling CI. */
const CLIENT_TIMEOUT_MS = 60_000;
const LISTEN_TIMEOUT_MS = 20_000;
const MiB = 1024 * 1024;

function installed(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

const hasFio = installed('fio');
const hasNbdcopy = installed('nbdcopy');
if (!hasFio || !hasNbdcopy)
  console.log(
    `epfsim serve e2e: ${[!hasFio && 'fio (apt fio)', !hasNbdcopy && 'nbdcopy (apt libnbd-bin)'].filter(Boolean).join(', ')} not installed: those tests are skipped here; CI installs them.`,
  );

interface Served {
  readonly child: ChildProcess;
  readonly uri: string;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts `epfsim serve ARGS` and resolves once it printed its URI (stdout, or stderr under --json). */
function serve(args: readonly string[]): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within ${LISTEN_TIMEOUT_MS} ms; stderr: ${err}`));
    }, LISTEN_TIMEOUT_MS);
    const look = () => {
      const m = /listening on (\S+)/.exec(out + err);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout!.off('data', look);
      child.stderr!.off('data', look);
      resolve({
        child,
        uri: m[1]!,
        stdout: () => out,
        stderr: () => err,
        stop: (signal) => {
          child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    void exited.then((code) => reject(new Error(`serve exited (${code}) before listening: ${err}`)));
  });
}

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: CLIENT_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * MiB },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe.runIf(hasFio || hasNbdcopy)('epfsim serve on rk3399, adversarial placement, with real clients', () => {
  let dir: string;
  let served: Served;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'epfsim-serve-e2e-'));
    served = await serve([
      '--socket',
      join(dir, 'nbd.sock'),
      '--profile',
      'rk3399',
      '--placement',
      'adversarial',
      '--ns-size',
      '16m',
      '--queues',
      '2',
      '--json',
    ]);
  });

  afterAll(() => {
    served?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(hasFio)(
    'fio randwrite 4k QD32 with verify=crc32c, then a randread verify pass, without errors',
    async () => {
      const fio = async (name: string, rw: string) => {
        const output = join(dir, `${name}.json`);
        // The nbd engine prints "fio: connected to NBD server" on stdout: JSON goes to a file.
        const r = await run('fio', [
          `--name=${name}`,
          '--ioengine=nbd',
          `--uri=${served.uri}`,
          `--rw=${rw}`,
          '--bs=4k',
          '--iodepth=32',
          '--size=8m',
          '--verify=crc32c',
          '--verify_fatal=1',
          '--verify_state_save=0',
          '--output-format=json',
          `--output=${output}`,
        ]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const job = (
          JSON.parse(readFileSync(output, 'utf8')) as { jobs: { error: number; read: { io_bytes: number } }[] }
        ).jobs[0]!;
        expect(job.error).toBe(0);
        return job;
      };
      const written = await fio('randwrite-verify', 'randwrite');
      // Written, then every block read back and checked.
      expect(written.read.io_bytes).toBe(8 * MiB);
      const reread = await fio('randread-verify', 'randread');
      expect(reread.read.io_bytes).toBe(8 * MiB);
    },
  );

  it.runIf(hasNbdcopy)('nbdcopy of a file in and out round-trips the bytes', async () => {
    const image = randomBytes(4 * MiB);
    const input = join(dir, 'in.img');
    const output = join(dir, 'out.img');
    writeFileSync(input, image);
    const copyIn = await run('nbdcopy', [input, served.uri]);
    expect(copyIn.stderr).toBe('');
    expect(copyIn.code).toBe(0);
    const copyOut = await run('nbdcopy', [served.uri, output]);
    expect(copyOut.code).toBe(0);
    const back = readFileSync(output);
    expect(back.length).toBe(16 * MiB);
    expect(back.subarray(0, image.length).equals(image)).toBe(true);
  });

  it('SIGINT: exit 0 and the JSON exit report with EPC counters, isolation and leak checks', async () => {
    const code = await served.stop('SIGINT');
    expect(served.stderr()).not.toMatch(STACK_FRAME);
    expect(code).toBe(0);
    const report = JSON.parse(served.stdout());
    expect(report.stoppedBy).toBe('SIGINT');
    expect(report.config).toMatchObject({ profile: 'rk3399', placement: 'adversarial', ioQueues: [1, 2] });
    expect(report.nbd.requests.write).toBeGreaterThan(0);
    expect(report.nbd.errorReplies).toBe(0);
    expect(report.nvme.failed).toBe(0);
    // rk3399 regions end at the next 1 MiB: adversarial buffers across those edges need several maps.
    expect(report.counters.epc.partialMaps).toBeGreaterThan(0);
    const checks = Object.fromEntries(
      report.checks.list.map((c: { name: string; passed: boolean }) => [c.name, c.passed]),
    );
    expect(checks).toMatchObject({ isolation: true, leaks: true, 'maps-after-shutdown': true, 'io-errors': true });
    expect(report.checks.passed).toBe(true);
  });
});

describe('epfsim serve over loopback TCP with a raw client', () => {
  it('keeps serving through a malformed request, then stops on SIGTERM with the text report', async () => {
    const served = await serve(['--port', '0', '--profile', 'stress', '--ns-size', '1m', '--queues', '2']);
    try {
      expect(served.uri).toMatch(/^nbd:\/\/127\.0\.0\.1:\d+\/$/);
      const port = Number(/:(\d+)\//.exec(served.uri)![1]);
      const client = async () => {
        const socket = connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        const c = RawClient.fromSocket(socket);
        await c.connectGo();
        return c;
      };
      const data = randomBytes(64 * 1024);
      const a = await client();
      a.sendRequest({ type: NBD_CMD_WRITE, handle: 1n, offset: 4096, payload: data });
      expect((await a.readReply()).error).toBe(0);
      const bad = await client();
      bad.sendRequest({ type: NBD_CMD_READ, handle: 2n, offset: 0, length: 512, magic: 0xdeadbeef });
      expect(await bad.closesWithin()).toBe(true);
      const b = await client();
      b.sendRequest({ type: NBD_CMD_READ, handle: 3n, offset: 4096, length: data.length });
      const r = await b.readReply(() => data.length);
      expect(r.error).toBe(0);
      expect(r.data.equals(data)).toBe(true);
      a.destroy();
      b.destroy();
    } finally {
      expect(await served.stop('SIGTERM')).toBe(0);
    }
    const out = served.stdout();
    expect(out).toMatch(/try {2}fio --name=epfsim --ioengine=nbd --uri='nbd:\/\/127\.0\.0\.1:\d+\/'/);
    expect(out).toMatch(/stopped by SIGTERM/);
    expect(out).toMatch(/NBD: 3 connections/);
    expect(out).toMatch(/EPC \(stress\): \d+ map calls, \d+ partial maps/);
    expect(out).toMatch(/PASS isolation +0 device accesses outside the host's grants/);
    expect(out).toMatch(/PASS leaks +0 maps leaked by the function/);
    expect(out).toMatch(/PASS: all 10 checks passed\n$/);
    expect(served.stderr()).toMatch(/SIGTERM: finishing accepted requests, NVMe Flush, shutdown/);
  });
});

describe('epfsim serve flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'epfsim-serve-flags-'));
  const file = join(dir, 'not-a-socket');
  writeFileSync(file, 'x');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it.each([
    [['--queues', '0'], /--queues: 0 is outside 1\.\.64/],
    [['--iodepth', '2000'], /--iodepth: 2000 is outside 1\.\.1023/],
    [['--socket', '/tmp/x.sock', '--port', '1'], /give --socket or --port, not both/],
    [['--port', '70000'], /--port: 70000 is outside 0\.\.65535/],
    [['--placement', 'invalid'], /--placement invalid breaks rules on purpose/],
    [['--profile', 'nope'], /unknown profile 'nope'/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--socket', file], /exists and is not a socket/],
  ])('%j is a one-line usage error, exit 2', (args, message) => {
    const r = epfsim('serve', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stdout).toBe('');
  });

  it('--help documents the listen, concurrency and testbed flags', () => {
    const r = epfsim('serve', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--socket', '--port', '--queues', '--iodepth', '--profile', '--placement', 'fio --name='])
      expect(r.stdout).toContain(flag);
  });
});
