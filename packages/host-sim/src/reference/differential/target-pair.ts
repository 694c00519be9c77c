/**
 * The two targets a differential run drives side by side: QEMU 7.2's NVMe controller over qtest,
 * and the epfsim function on the `generic` EPC profile configured like it (same namespace size
 * and block size, MDTS, queue limits, MSI-X table size). Both hosts use the same placements at the
 * same guest-RAM addresses: the host driver's queues in a `linux` arena, and the cases' own pages.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NvmeFunctionConfigInput, NvmeFunctionOptions } from '@epfsim/nvme-epf';
import { NvmeDriver } from '../../host/driver/nvme-driver.js';
import type { GrantSpec } from '../../host/memory/grant-table.js';
import type { HostMemory } from '../../host/memory/host-memory.js';
import { createPlacement } from '../../host/placement/placement-factory.js';
import { createTestbed, type Testbed } from '../../host/target/epfsim-target.js';
import type { NvmeTarget } from '../../host/target/target.js';
import type { QemuOptions } from '../qemu/qemu-process.js';
import { QEMU_DEFAULTS, QemuTarget } from '../qemu/qemu-target.js';
import type { CaseQueue, CaseSetup } from './case.js';

/** QEMU 7.2's CAP.MQES (hw/nvme/ctrl.c, the `mqes` property, default 0x7ff): 2048 entries per I/O queue. */
export const QEMU_MQES = 2047;
/** QEMU's default MSI-X table size (hw/nvme/ctrl.c, the `msix_qsize` property). */
export const QEMU_MSIX_VECTORS = 65;
/** MDTS unit: CAP.MPSMIN = 0, a 4 KiB page. */
const MDTS_UNIT = 4096;

/**
 * Guest-RAM layout shared by both hosts (QEMU placements must lie in [16 MiB, 256 MiB)): the host
 * driver's `linux` arena (queues, Identify buffers), a staging area for valid set-up writes, and
 * the case pages, one slot per case.
 */
export const DIFFERENTIAL_LAYOUT = Object.freeze({
  driverArena: 0x0200_0000n,
  driverArenaBytes: 32 << 20,
  staging: 0x0400_0000n,
  stagingBytes: 1 << 20,
  cases: 0x0410_0000n,
  casesBytes: 0x1000_0000 - 0x0410_0000,
  /** Host memory of one case. */
  slotBytes: 1 << 20,
  /** Namespace blocks of one case's window. */
  windowBytes: 512 << 10,
});

/** Queue pairs the host asks for by default: QEMU's `max_ioqpairs` in {@link QEMU_DEFAULTS}, so both allocate the same. */
export const DEFAULT_IO_QUEUES = 4;
const IO_QUEUE_DEPTH = 32;

/** The epfsim function configuration that matches a QEMU configuration, with the given behaviour options. */
export function epfsimFunctionConfig(
  qemu: QemuOptions,
  options: Partial<NvmeFunctionOptions>,
  imagePath: string,
): NvmeFunctionConfigInput {
  return {
    namespaces: [
      {
        blockSize: qemu.blockSize,
        blocks: qemu.diskBytes / qemu.blockSize,
        backend: { kind: 'file', path: imagePath },
      },
    ],
    mdtsBytes: qemu.mdts === 0 ? 0 : MDTS_UNIT * 2 ** qemu.mdts,
    maxIoQueues: qemu.maxIoQueuePairs,
    mqes: QEMU_MQES,
    msixVectors: QEMU_MSIX_VECTORS,
    options,
  };
}

/** One host, its driver brought up, and its namespace image. */
export interface DifferentialSide {
  readonly name: 'epfsim' | 'qemu';
  readonly target: NvmeTarget;
  readonly driver: NvmeDriver;
  /** The file holding namespace 1, byte for byte. */
  readonly imagePath: string;
}

/** Both hosts, brought up identically. */
export interface TargetPair {
  readonly epfsim: DifferentialSide;
  readonly qemu: DifferentialSide;
  readonly qemuOptions: QemuOptions;
  /** I/O queues the driver created (identical on both). */
  readonly queues: readonly CaseQueue[];
  /** What every command may touch: the staging area and the case pages, both directions. */
  readonly grants: readonly GrantSpec[];
  close(): void;
}

function placeShared(memory: HostMemory): void {
  const l = DIFFERENTIAL_LAYOUT;
  memory.place(l.staging, l.stagingBytes);
  memory.place(l.cases, l.casesBytes);
}

function bringUp(target: NvmeTarget, seed: number, setup: CaseSetup): NvmeDriver {
  const l = DIFFERENTIAL_LAYOUT;
  placeShared(target.memory);
  const placement = createPlacement('linux', target.memory, {
    seed,
    arenaBase: l.driverArena,
    arenaBytes: l.driverArenaBytes,
  });
  const driver = new NvmeDriver(target, {
    placement,
    ioQueues: setup.ioQueues ?? DEFAULT_IO_QUEUES,
    ioQueueDepth: IO_QUEUE_DEPTH,
  });
  driver.init();
  return driver;
}

function queuesOf(driver: NvmeDriver): CaseQueue[] {
  return driver.ioQueueIds.map((qid) => {
    const q = driver.queue(qid);
    if (q === undefined) throw new Error(`differential: I/O queue ${qid} vanished`);
    return { qid, depth: q.depth, sqBase: q.sqBase, cqBase: q.cqBase, vector: q.vector };
  });
}

function sameQueues(a: readonly CaseQueue[], b: readonly CaseQueue[]): boolean {
  return (
    a.length === b.length &&
    a.every((q, i) => {
      const r = b[i];
      return (
        r !== undefined &&
        q.qid === r.qid &&
        q.depth === r.depth &&
        q.sqBase === r.sqBase &&
        q.cqBase === r.cqBase &&
        q.vector === r.vector
      );
    })
  );
}

/** Starts QEMU and an epfsim testbed like it, and brings the host driver up on both. */
export async function openTargetPair(
  setup: CaseSetup,
  options: { epfsimOptions?: Partial<NvmeFunctionOptions>; qemuOptions?: Partial<QemuOptions>; seed?: number } = {},
): Promise<TargetPair> {
  const qemuOptions: QemuOptions = { ...QEMU_DEFAULTS, ...options.qemuOptions };
  const seed = options.seed ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'epfsim-differential-'));
  const imagePath = join(dir, 'ns1.img');
  let testbed: Testbed | undefined;
  let qemu: QemuTarget | undefined;
  const close = () => {
    testbed?.close();
    qemu?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    testbed = createTestbed({
      profile: 'generic',
      function: epfsimFunctionConfig(qemuOptions, options.epfsimOptions ?? {}, imagePath),
    });
    qemu = await QemuTarget.start(qemuOptions);
    const epfsimDriver = bringUp(testbed.target, seed, setup);
    const qemuDriver = bringUp(qemu, seed, setup);
    const queues = queuesOf(epfsimDriver);
    if (!sameQueues(queues, queuesOf(qemuDriver))) {
      throw new Error('differential: the host driver placed its queues differently on the two targets');
    }
    const l = DIFFERENTIAL_LAYOUT;
    const grants: GrantSpec[] = [];
    for (const direction of ['read', 'write'] as const) {
      grants.push(
        { addr: l.staging, size: l.stagingBytes, direction },
        { addr: l.cases, size: l.casesBytes, direction },
      );
    }
    return {
      epfsim: { name: 'epfsim', target: testbed.target, driver: epfsimDriver, imagePath },
      qemu: { name: 'qemu', target: qemu, driver: qemuDriver, imagePath: qemu.diskPath },
      qemuOptions,
      queues,
      grants,
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

/** Reads `dst.length` bytes of a namespace image at byte `offset` (zeroes past its end). */
export function readImage(path: string, offset: number, dst: Uint8Array): void {
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(fd, dst, done, dst.length - done, offset + done);
      if (n === 0) {
        dst.fill(0, done);
        break;
      }
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `src` into a namespace image at byte `offset`. The epfsim file backend reads its file on
 * every command, so this re-synchronises epfsim's namespace with QEMU's after a difference.
 */
export function writeImage(path: string, offset: number, src: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    let done = 0;
    while (done < src.length) done += writeSync(fd, src, done, src.length - done, offset + done);
  } finally {
    closeSync(fd);
  }
}
