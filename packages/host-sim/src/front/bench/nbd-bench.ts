/**
 * Figure 9: fio 4 KiB random read IOPS at QD32 through `epfsim serve` (the NBD front end, the host
 * driver, the NVMe function and the simulated EPC), next to `nbdkit memory` measured in the same
 * run: the NBD transport's ceiling on this machine. Each server runs as its own process, as a user
 * would run it; when two CPUs or more are there, the server is pinned to CPU 1 and fio to CPU 0
 * (unpinned, the scheduler moves them and the figures swing by tens of per cent). The measurement happens in a child
 * process (nbd-bench-child.js) because it waits on other processes and the bench is synchronous.
 * Without fio or nbdkit the figure says so and is skipped.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Figure, figure, skippedFigure } from './figure.js';
import { runJsonChild } from './json-child.js';

/** Export size of both servers; unwritten on both, so neither reads real media. */
const EXPORT_MIB = 64;
const IO_DEPTH = 32;
const RUNTIME_S = { quick: 2, full: 5 } as const;
/** fio ramps before counting: the server's JIT warms up. */
const RAMP_S = 1;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 20_000;
/** fio's own runtime plus start-up; past this it is killed. */
const FIO_SLACK_MS = 30_000;
const MS_PER_S = 1000;
/** The serve configuration measured: as figure 2 (generic, linux placement, mem-map, one I/O queue). */
const SERVE_FLAGS = ['--profile', 'generic', '--placement', 'linux', '--strategy', 'mem-map', '--queues', '1'];
const SERVER_CPU = '1';
const FIO_CPU = '0';
const CHILD_TIMEOUT_MS = 120_000;

export interface NbdBenchResult {
  /** Why the figure was not measured (a tool is missing). */
  readonly skipped?: string;
  readonly serveIops: number;
  readonly nbdkitIops: number;
  /** Every check of the serve exit report passed (isolation, leaks...). */
  readonly serveChecksPassed: boolean;
  readonly runtimeSeconds: number;
  readonly pinned: boolean;
}

function installed(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** `command` with CPU pinning when it is on. */
function pinnedTo(cpu: string, pin: boolean, command: readonly string[]): [string, string[]] {
  return pin ? ['taskset', ['-c', cpu, ...command]] : [command[0] as string, command.slice(1)];
}

function waitFor(what: string, ready: () => boolean, child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const look = (): void => {
      if (ready()) resolve();
      else if (child.exitCode !== null || child.signalCode !== null)
        reject(new Error(`${what} exited before it was ready`));
      else if (Date.now() > deadline) reject(new Error(`${what} not ready within ${timeoutMs} ms`));
      else setTimeout(look, 20);
    };
    look();
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process ${child.pid} did not stop within ${STOP_TIMEOUT_MS} ms`));
    }, STOP_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** fio's 4 KiB random read at QD32 against `uri`; returns read IOPS. */
function fioRandread(uri: string, dir: string, seconds: number, pin: boolean): Promise<number> {
  const output = join(dir, 'fio.json');
  const [cmd, args] = pinnedTo(FIO_CPU, pin, [
    'fio',
    '--name=randread-4k-qd32',
    '--ioengine=nbd',
    `--uri=${uri}`,
    '--rw=randread',
    '--bs=4k',
    `--iodepth=${IO_DEPTH}`,
    '--time_based=1',
    `--runtime=${seconds}s`,
    `--ramp_time=${RAMP_S}s`,
    // The nbd engine prints a line on stdout: JSON goes to a file (reference §1).
    '--output-format=json',
    `--output=${output}`,
  ]);
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: seconds * MS_PER_S + FIO_SLACK_MS, killSignal: 'SIGKILL' },
      (error, _out, stderr) => {
        if (error !== null) {
          reject(new Error(`fio failed against ${uri}: ${stderr.trim() || error.message}`));
          return;
        }
        const job = (JSON.parse(readFileSync(output, 'utf8')) as { jobs: { error: number; read: { iops: number } }[] })
          .jobs[0];
        if (job === undefined || job.error !== 0) reject(new Error(`fio reported error ${job?.error} against ${uri}`));
        else resolve(job.read.iops);
      },
    );
  });
}

async function measureNbdkit(dir: string, seconds: number, pin: boolean): Promise<number> {
  const sock = join(dir, 'nbdkit.sock');
  const [cmd, args] = pinnedTo(SERVER_CPU, pin, ['nbdkit', '-f', '-U', sock, 'memory', `size=${EXPORT_MIB}M`]);
  const server = spawn(cmd, args, { stdio: 'ignore' });
  try {
    await waitFor('nbdkit', () => existsSync(sock), server, START_TIMEOUT_MS);
    return await fioRandread(`nbd+unix:///?socket=${sock}`, dir, seconds, pin);
  } finally {
    server.kill('SIGTERM');
    await exited(server);
  }
}

async function measureServe(dir: string, seconds: number, pin: boolean): Promise<{ iops: number; checks: boolean }> {
  const sock = join(dir, 'serve.sock');
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const [cmd, args] = pinnedTo(SERVER_CPU, pin, [
    process.execPath,
    cli,
    'serve',
    '--socket',
    sock,
    ...SERVE_FLAGS,
    '--iodepth',
    String(IO_DEPTH),
    '--ns-size',
    `${EXPORT_MIB}m`,
    '--json',
  ]);
  const server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  server.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  server.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  let iops: number;
  try {
    await waitFor('epfsim serve', () => err.includes('listening on'), server, START_TIMEOUT_MS);
    iops = await fioRandread(`nbd+unix:///?socket=${sock}`, dir, seconds, pin);
  } finally {
    server.kill('SIGINT');
  }
  const code = await exited(server);
  if (code !== 0 && code !== 1) throw new Error(`epfsim serve exited with ${code}: ${err.trim()}`);
  const report = JSON.parse(out) as { checks: { passed: boolean } };
  return { iops, checks: report.checks.passed };
}

/** The measurement itself (in the child process). */
export async function nbdBenchRun(seconds: number): Promise<NbdBenchResult> {
  const missing = ['fio', 'nbdkit'].filter((tool) => !installed(tool));
  const pinned = cpus().length >= 2 && installed('taskset');
  if (missing.length > 0)
    return {
      skipped: `${missing.join(' and ')} not installed`,
      serveIops: 0,
      nbdkitIops: 0,
      serveChecksPassed: false,
      runtimeSeconds: seconds,
      pinned,
    };
  const dir = mkdtempSync(join(tmpdir(), 'epfsim-nbd-bench-'));
  try {
    const nbdkitIops = await measureNbdkit(dir, seconds, pinned);
    const serve = await measureServe(dir, seconds, pinned);
    return {
      serveIops: serve.iops,
      nbdkitIops,
      serveChecksPassed: serve.checks,
      runtimeSeconds: seconds,
      pinned,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What figure 9's child process runs. */
export interface NbdBenchRequest {
  readonly seconds: number;
}

/** Runs {@link nbdBenchRun} in a child Node process (nbd-bench-child.js). */
export function measureNbdInChild(quick: boolean): NbdBenchResult {
  const request: NbdBenchRequest = { seconds: quick ? RUNTIME_S.quick : RUNTIME_S.full };
  const script = new URL('./nbd-bench-child.js', import.meta.url);
  return runJsonChild<NbdBenchResult>('NBD bench', script, request, CHILD_TIMEOUT_MS);
}

/** Figure 9 from a measurement: serve's IOPS against nbdkit's as the limit. */
/** Issue 17: fio through `serve` reaches 0.80 of `nbdkit memory` in the same run. */
const TARGET_VS_NBDKIT = 0.8;

export function nbdFigure(r: NbdBenchResult): Figure {
  const title = `fio 4 KiB random read, QD${IO_DEPTH}, through epfsim serve (generic, linux placement, mem-map, 1 I/O queue) against nbdkit memory`;
  if (r.skipped !== undefined) return skippedFigure('9', title, 'IOPS', r.skipped);
  return figure({
    id: '9',
    title,
    value: r.serveIops,
    unit: 'IOPS',
    limit: r.nbdkitIops,
    target: TARGET_VS_NBDKIT,
    note:
      `ratio to nbdkit memory (${EXPORT_MIB} MiB, unwritten) measured in the same run; ${r.runtimeSeconds} s each after ${RAMP_S} s ramp, ` +
      `${r.pinned ? `server on CPU ${SERVER_CPU}, fio on CPU ${FIO_CPU}` : 'unpinned'}; serve exit checks ${r.serveChecksPassed ? 'passed' : 'FAILED'}`,
  });
}
