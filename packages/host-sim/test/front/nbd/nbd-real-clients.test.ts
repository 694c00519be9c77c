/**
 * Unmodified clients against the server: nbdinfo and nbdcopy (libnbd-bin), fio's nbd engine (fio).
 * Skipped, with one line saying so, where they are not installed; CI installs them.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NbdServer, startNbdServer } from '../../../src/front/nbd/index.js';
import { MemoryBlockDevice } from './memory-device.js';

function installed(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

const hasLibnbd = installed('nbdinfo') && installed('nbdcopy');
const hasFio = installed('fio');
if (!hasLibnbd || !hasFio)
  console.log(
    `NBD real clients missing (${[!hasLibnbd && 'nbdinfo/nbdcopy: apt libnbd-bin', !hasFio && 'fio: apt fio'].filter(Boolean).join(', ')}): those tests are skipped here; CI installs them.`,
  );

/** Every external process is bounded: a hung client fails the test instead of hanging it. */
const CLIENT_TIMEOUT_MS = 60_000;

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve) => {
    // Asynchronous on purpose: the server runs on this process's event loop.
    execFile(
      cmd,
      args,
      { timeout: CLIENT_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const SIZE = 64 * 1024 * 1024;

let dir: string;
let device: MemoryBlockDevice;
let server: NbdServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'epfsim-nbd-real-'));
  device = new MemoryBlockDevice({ size: SIZE, blockSize: 512, maxRequest: 32 * 1024 * 1024 });
  // One shared device: FLUSH is trivially visible on every connection, so multi-conn is honest.
  server = await startNbdServer({ device, unixSocket: join(dir, 'nbd.sock'), multiConn: true });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(hasLibnbd)('libnbd clients (nbdinfo, nbdcopy)', () => {
  it('nbdinfo --json reports the export size and flags', async () => {
    const r = await run('nbdinfo', ['--json', server.uri]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { exports: { 'export-size': number; can_multi_conn?: boolean }[] };
    expect(info.exports[0]!['export-size']).toBe(SIZE);
    const size = await run('nbdinfo', ['--size', server.uri]);
    expect(size.stdout.trim()).toBe(String(SIZE));
    const multi = await run('nbdinfo', ['--can', 'multi-conn', server.uri]);
    expect(multi.code).toBe(0);
  });

  it('nbdinfo --list works although the client hangs up right after NBD_OPT_ABORT', async () => {
    const r = await run('nbdinfo', ['--list', server.uri]);
    expect(r.code).toBe(0);
  });

  it('nbdcopy round-trips a random image exactly', async () => {
    const img = randomBytes(16 * 1024 * 1024);
    const input = join(dir, 'in.img');
    const output = join(dir, 'out.img');
    writeFileSync(input, img);
    const copyIn = await run('nbdcopy', [input, server.uri]);
    expect(copyIn.stderr).toBe('');
    expect(copyIn.code).toBe(0);
    expect(device.data.subarray(0, img.length).equals(img)).toBe(true);
    const copyOut = await run('nbdcopy', [server.uri, output]);
    expect(copyOut.code).toBe(0);
    const back = readFileSync(output);
    expect(back.length).toBe(SIZE);
    expect(back.subarray(0, img.length).equals(img)).toBe(true);
  });
});

interface FioJob {
  readonly error: number;
  readonly read: { readonly iops: number; readonly io_bytes: number };
  readonly write: { readonly iops: number; readonly io_bytes: number };
}

async function fio(
  name: string,
  args: readonly string[],
): Promise<{ code: number | null; job: FioJob | null; stderr: string }> {
  const out = join(dir, `${name}.json`);
  // The nbd engine prints "fio: connected to NBD server" on stdout: JSON goes to a file (reference §1).
  const r = await run('fio', [
    `--name=${name}`,
    '--ioengine=nbd',
    `--uri=${server.uri}`,
    '--output-format=json',
    `--output=${out}`,
    '--verify_state_save=0',
    ...args,
  ]);
  let job: FioJob | null = null;
  try {
    job = (JSON.parse(readFileSync(out, 'utf8')) as { jobs: FioJob[] }).jobs[0] ?? null;
  } catch {
    // no (complete) JSON: fio failed early; the caller looks at code and stderr
  }
  return { code: r.code, job, stderr: r.stderr };
}

describe.runIf(hasFio)('fio ioengine=nbd', () => {
  const common = ['--bs=4k', '--iodepth=16', '--size=16m', '--verify=crc32c', '--verify_fatal=1'];

  it('randwrite 4k QD16 with verify=crc32c, then a separate randread verify pass, without errors', async () => {
    const w = await fio('randwrite-verify', ['--rw=randwrite', ...common]);
    expect(w.stderr).toBe('');
    expect(w.code).toBe(0);
    expect(w.job!.error).toBe(0);
    expect(w.job!.write.io_bytes).toBe(16 * 1024 * 1024);
    const r = await fio('randread-verify', ['--rw=randread', ...common]);
    expect(r.code).toBe(0);
    expect(r.job!.error).toBe(0);
    expect(r.job!.read.io_bytes).toBe(16 * 1024 * 1024);
    console.log(
      `fio over NBD (unpinned, 16 MiB, inside vitest): randwrite 4k QD16 ${Math.round(w.job!.write.iops)} IOPS (+verify read ${Math.round(w.job!.read.iops)} IOPS), randread-verify 4k QD16 ${Math.round(r.job!.read.iops)} IOPS`,
    );
    expect(server.stats.errorReplies).toBe(0);
    expect(server.stats.protocolErrors).toBe(0);
  });

  it('the randread verify pass does catch a corrupted block', async () => {
    const w = await fio('randwrite-before-corrupt', ['--rw=randwrite', ...common]);
    expect(w.code).toBe(0);
    device.data[5 * 1024 * 1024 + 100]! ^= 0xff;
    const r = await fio('randread-corrupt', ['--rw=randread', ...common]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/verify failed|crc32c/);
  });
});
