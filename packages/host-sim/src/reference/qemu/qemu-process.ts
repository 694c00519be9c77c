import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { constants, mkdtempSync, open, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { QtestClient, QtestError } from './qtest-client.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

/**
 * Opens a file to a plain descriptor, off the main thread. Not `fs/promises` `open()`: its
 * FileHandle is closed on garbage collection once only the number is kept, which cut the qtest
 * FIFOs in the middle of long runs (EBADF), or worse, after the number was reused.
 */
const openFd = promisify(open);

/** Guest RAM; the reference target's host memory lives in it. */
export const QEMU_GUEST_RAM = 256 * 1024 * 1024;

export interface QemuOptions {
  /** Namespace image size in bytes (a sparse raw file). */
  readonly diskBytes: number;
  /** Logical block size of namespace 1. */
  readonly blockSize: 512 | 4096;
  /** Identify MDTS in units of 4 KiB pages (QEMU's `mdts`); 0 = no limit. */
  readonly mdts: number;
  readonly maxIoQueuePairs: number;
}

/** Signals that end the process: every live QEMU is stopped first (Node's default would orphan them). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** QEMUs started and not yet stopped. */
const live = new Set<QemuProcess>();

/** Stops every live QEMU, then lets the signal end the process as it would have. */
function stopAllOnSignal(signal: NodeJS.Signals): void {
  for (const qemu of [...live]) qemu.stop();
  for (const s of STOP_SIGNALS) process.removeListener(s, stopAllOnSignal);
  process.kill(process.pid, signal);
}

function track(qemu: QemuProcess): void {
  if (live.size === 0) for (const s of STOP_SIGNALS) process.on(s, stopAllOnSignal);
  live.add(qemu);
}

function untrack(qemu: QemuProcess): void {
  live.delete(qemu);
  if (live.size === 0) for (const s of STOP_SIGNALS) process.removeListener(s, stopAllOnSignal);
}

/** True when the QEMU binary can be run here. */
export function qemuAvailable(): boolean {
  return spawnSync(QEMU_BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * A QEMU with one NVMe controller and no guest OS, driven over qtest (TCG with -S: the
 * vCPU never runs, device bottom halves still do; the qtest server, `-qtest`, is built into every QEMU binary even where the qtest accelerator module is not shipped). It is
 * always stopped by its process id, also when the caller fails.
 */
export class QemuProcess {
  readonly client: QtestClient;
  readonly diskPath: string;
  private readonly child: ChildProcess;
  private readonly dir: string;
  private stopped = false;

  private constructor(child: ChildProcess, client: QtestClient, dir: string, diskPath: string) {
    this.child = child;
    this.client = client;
    this.dir = dir;
    this.diskPath = diskPath;
  }

  static async start(options: QemuOptions): Promise<QemuProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'epfsim-qemu-'));
    const fifo = join(dir, 'qtp');
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, '');
    spawnSync('truncate', ['-s', String(options.diskBytes), disk]);
    for (const end of ['in', 'out']) {
      if (spawnSync('mkfifo', [`${fifo}.${end}`]).status !== 0) throw new QtestError(`mkfifo ${fifo}.${end} failed`);
    }
    const args = [
      '-accel',
      'tcg',
      '-machine',
      'q35',
      '-S',
      '-display',
      'none',
      '-nodefaults',
      '-m',
      `${QEMU_GUEST_RAM >> 20}M`,
      '-qtest',
      `pipe:${fifo}`,
      '-qtest-log',
      'none',
      '-drive',
      `if=none,id=d0,file=${disk},format=raw`,
      '-device',
      `nvme,id=c0,serial=epfsim,mdts=${options.mdts},max_ioqpairs=${options.maxIoQueuePairs}`,
      '-device',
      `nvme-ns,drive=d0,nsid=1,logical_block_size=${options.blockSize},physical_block_size=${options.blockSize}`,
    ];
    const child = spawn(QEMU_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(new QtestError(`QEMU exited (${code}) before qtest connected: ${stderr.trim()}`)),
      ),
    );
    try {
      // A FIFO open blocks until the other end opens: race both opens against QEMU dying.
      // QEMU reads `.in` and writes `.out`; open write-only and read-only so its death is EPIPE/EOF.
      const [toQemu, fromQemu] = await Promise.race([
        Promise.all([openFd(`${fifo}.in`, constants.O_WRONLY), openFd(`${fifo}.out`, constants.O_RDONLY)]),
        exited,
      ]);
      // The descriptors stay open for QEMU's lifetime; the client uses them synchronously and closes them.
      const client = new QtestClient(toQemu, fromQemu);
      const qemu = new QemuProcess(child, client, dir, disk);
      process.once('exit', () => qemu.stop());
      track(qemu);
      return qemu;
    } catch (error) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Kills QEMU by pid and removes its files; safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    untrack(this);
    this.client.close();
    if (this.child.pid !== undefined && this.child.exitCode === null) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // It exited meanwhile.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
