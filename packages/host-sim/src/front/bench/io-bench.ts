/**
 * The I/O figures: workloads in fio's terms (random or sequential reads of one size, a queue depth
 * per queue, a number of I/O queues) run through the whole stack (host driver, placement, host
 * memory with grants, EPC, NVMe function, RAM namespace), timed after a warm-up.
 */
import type { StrategyName } from '@epfsim/epc-core';
import { isSuccess, NvmOpcode, STATUS_SUCCESS } from '@epfsim/nvme-spec-types';
import { NvmeDriver } from '../../host/driver/nvme-driver.js';
import type { PendingCommand } from '../../host/driver/pending-command.js';
import { expectedReadBytes } from '../../host/placement/layout.js';
import { createPlacement, type PlacementName } from '../../host/placement/placement-factory.js';
import { createTestbed } from '../../host/target/epfsim-target.js';
import { CommandRing } from './command-ring.js';
import { runJsonChild } from './json-child.js';
import { measureRate } from './measure.js';

/** Logical block size of the benchmark namespace. */
const BLOCK = 512;
/** Namespace 1. */
const NSID = 1;
/** The namespace is filled in writes of this size before anything is read. */
const FILL_BYTES = 128 * 1024;
/** In-flight writes while filling. */
const FILL_DEPTH = 16;
/** Reads checked against the fill pattern after each workload. */
const VERIFY_READS = 16;
/**
 * Timed reads leave their bytes in the host buffer, as fio does with verify off: the figure is the
 * controller's data path (backend to bounce to host), not a copy out for the caller. The reads
 * after each workload check the bytes.
 */
const DISCARD = { discardData: true } as const;
/** The host driver never makes an I/O queue deeper than this (Linux `io_queue_depth`). */
export const MAX_QUEUE_ENTRIES = 1024;

/** The testbed a set of workloads runs on: controller, placement, queues, namespace. */
export interface IoBenchSetup {
  readonly profile: string;
  readonly placement: PlacementName;
  readonly strategy?: StrategyName;
  readonly queues: number;
  /** Entries the driver asks for per I/O queue (a queue holds one command fewer). */
  readonly queueEntries: number;
  /** Namespace size; all of it is written before the reads, so every read returns real data. */
  readonly namespaceBytes: number;
  readonly seed?: number;
}

/** One workload in fio's terms. */
export interface IoWorkload {
  readonly pattern: 'random' | 'sequential';
  /** Bytes per command (a whole number of 512-byte blocks). */
  readonly ioBytes: number;
  /** Commands kept in flight on each queue (capped by what the queue holds: entries − 1). */
  readonly queueDepth: number;
  /** Commands in flight over all queues together, when fewer than queueDepth × queues (round robin spreads them). */
  readonly inFlight?: number;
  /** Commands per timed repetition. */
  readonly ops: number;
  readonly repetitions: number;
}

export interface IoBenchResult {
  /** Commands per second, median of the repetitions. */
  readonly iops: number;
  readonly bytesPerSecond: number;
  readonly repetitions: readonly number[];
  /** In-flight commands per queue actually used (the queue may hold fewer than asked for). */
  readonly queueDepth: number;
  readonly queues: number;
  /** Commands in flight over all queues. */
  readonly inFlight: number;
}

/** A testbed with the driver up and the namespace filled, ready to time workloads. */
export interface IoBench {
  run(workload: IoWorkload): IoBenchResult;
  close(): void;
}

/** 256 block templates (by LBA mod 256): the fill copies one per block and stamps the LBA in. */
const TEMPLATES = (() => {
  const t = new Uint8Array(256 * BLOCK);
  let x = 0x2545f491;
  for (let i = 0; i < t.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    t[i] = x & 0xff;
  }
  return t;
})();

/** The pattern of the blocks from `firstLba` on, into `buf`: a template per block with its LBA in bytes 0–3. */
function fillPattern(buf: Uint8Array, firstLba: number): void {
  for (let off = 0; off < buf.length; off += BLOCK) {
    const lba = firstLba + off / BLOCK;
    const t = (lba & 0xff) * BLOCK;
    buf.set(TEMPLATES.subarray(t, t + BLOCK), off);
    buf[off] = lba;
    buf[off + 1] = lba >>> 8;
    buf[off + 2] = lba >>> 16;
    buf[off + 3] = lba >>> 24;
  }
}

/** Brings up a testbed for `setup` and writes the pattern over the whole namespace. */
export function openIoBench(setup: IoBenchSetup): IoBench {
  const blocks = Math.floor(setup.namespaceBytes / BLOCK);
  const tb = createTestbed({
    profile: setup.profile,
    strict: false,
    function: {
      strategy: setup.strategy ?? 'mem-map',
      namespaces: [{ blockSize: BLOCK, blocks, backend: { kind: 'ram' } }],
    },
  });
  try {
    const placement = createPlacement(setup.placement, tb.memory, { seed: setup.seed ?? 1, profile: tb.profile });
    const entries = Math.min(setup.queueEntries, MAX_QUEUE_ENTRIES);
    const driver = new NvmeDriver(tb.target, { placement, ioQueues: setup.queues, ioQueueDepth: entries });
    driver.init();
    const queues = driver.ioQueueIds.length;
    const held = (driver.queue(driver.ioQueueIds[0] ?? 1)?.depth ?? entries) - 1;
    fill(driver, blocks);
    let rng = ((setup.seed ?? 1) * 0x9e3779b9) | 1;
    const random = (): number => {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      return rng >>> 0;
    };
    return {
      run: (workload) => {
        const result = runWorkload(driver, blocks, queues, Math.min(workload.queueDepth, held), workload, random);
        verify(driver, blocks, workload.ioBytes / BLOCK);
        return result;
      },
      close: () => tb.close(),
    };
  } catch (error) {
    tb.close();
    throw error;
  }
}

/** Opens a bench for `setup`, runs one workload, closes it. */
export function measureIo(setup: IoBenchSetup, workload: IoWorkload): IoBenchResult {
  const bench = openIoBench(setup);
  try {
    return bench.run(workload);
  } finally {
    bench.close();
  }
}

/** One workload: `depth` commands in flight per queue, round robin over the queues, oldest finished first. */
function runWorkload(
  driver: NvmeDriver,
  blocks: number,
  queues: number,
  depth: number,
  workload: IoWorkload,
  random: () => number,
): IoBenchResult {
  const ioBlocks = workload.ioBytes / BLOCK;
  const slots = Math.floor(blocks / ioBlocks);
  let next = 0;
  const nextLba = (): bigint => {
    if (workload.pattern === 'random') return BigInt((random() % slots) * ioBlocks);
    const slot = next;
    next = (next + 1) % slots;
    return BigInt(slot * ioBlocks);
  };
  const inflightMax = Math.min(depth * queues, workload.inFlight ?? Number.POSITIVE_INFINITY);
  const inflight = new CommandRing(inflightMax);
  const check = (cmd: PendingCommand | undefined): void => {
    const status = driver.finish(cmd as PendingCommand).completion.status;
    if (status !== STATUS_SUCCESS && !isSuccess(status)) {
      throw new Error(`benchmark read failed with status 0x${status.toString(16)}`);
    }
  };
  const run = (ops: number): number => {
    for (let done = 0; done < ops; done++) {
      while (!inflight.full)
        inflight.push(driver.startIo(NvmOpcode.READ, NSID, nextLba(), ioBlocks, undefined, DISCARD));
      check(inflight.shift());
    }
    while (inflight.size > 0) check(inflight.shift());
    return ops;
  };
  const m = measureRate(run, workload.ops, workload.repetitions);
  return {
    iops: m.perSecond,
    bytesPerSecond: m.perSecond * workload.ioBytes,
    repetitions: m.repetitions,
    queueDepth: depth,
    queues,
    inFlight: inflightMax,
  };
}

/** Writes the pattern over the whole namespace, a few commands in flight. */
function fill(driver: NvmeDriver, blocks: number): void {
  const fillBlocks = FILL_BYTES / BLOCK;
  const inflight: PendingCommand[] = [];
  const finish = (cmd: PendingCommand): void => {
    const status = driver.finish(cmd).completion.status;
    if (!isSuccess(status)) throw new Error(`benchmark fill failed with status 0x${status.toString(16)}`);
  };
  for (let lba = 0; lba < blocks; lba += fillBlocks) {
    const n = Math.min(fillBlocks, blocks - lba);
    const data = new Uint8Array(n * BLOCK);
    fillPattern(data, lba);
    if (inflight.length >= FILL_DEPTH) finish(inflight.shift() as PendingCommand);
    inflight.push(driver.startIo(NvmOpcode.WRITE, NSID, BigInt(lba), n, data));
  }
  for (const cmd of inflight) finish(cmd);
}

/** Reads a few commands' worth spread over the namespace and checks every byte against the fill. */
function verify(driver: NvmeDriver, blocks: number, ioBlocks: number): void {
  const slots = Math.floor(blocks / ioBlocks);
  for (let k = 0; k < VERIFY_READS; k++) {
    const lba = Math.floor((k * slots) / VERIFY_READS) * ioBlocks;
    const { completion, data, layout } = driver.read(NSID, BigInt(lba), ioBlocks);
    if (!isSuccess(completion.status) || data === undefined || layout === undefined) {
      throw new Error(`verify read of LBA ${lba} failed`);
    }
    const blocksRead = new Uint8Array(ioBlocks * BLOCK);
    fillPattern(blocksRead, lba);
    // SGL Bit Buckets (adversarial layouts) discard their bytes: those read as zero.
    const want = expectedReadBytes(layout, blocksRead);
    if (!Buffer.from(data.buffer, data.byteOffset, data.length).equals(want)) {
      throw new Error(`verify read of LBA ${lba} returned the wrong bytes`);
    }
  }
}

/** What one child process of the I/O figures runs: a warm-up, then the timed workloads, on one testbed. */
export interface IoChildRequest {
  readonly setup: IoBenchSetup;
  /** Run first on a small namespace of the same controller and placement, timed for nothing. */
  readonly warmUp: readonly IoWorkload[];
  readonly workloads: readonly IoWorkload[];
}

/** Namespace of the warm-up: big enough for its reads, quick to fill. */
const WARM_UP_NAMESPACE_BYTES = 16 * 1024 * 1024;

/** Runs `request` in this process: the warm-up (the JIT needs tens of thousands of commands), then each workload. */
export function runIoRequest(request: IoChildRequest): IoBenchResult[] {
  if (request.warmUp.length > 0) {
    const warm = openIoBench({ ...request.setup, namespaceBytes: WARM_UP_NAMESPACE_BYTES });
    try {
      for (const w of request.warmUp) warm.run(w);
    } finally {
      warm.close();
    }
  }
  const bench = openIoBench(request.setup);
  try {
    return request.workloads.map((w) => bench.run(w));
  } finally {
    bench.close();
  }
}

/** Runs `request` in a child process (io-child.js, see json-child.ts), as `epfsim run` runs one workload per process. */
export function measureIoInChild<const W extends readonly IoWorkload[]>(
  request: IoChildRequest & { readonly workloads: W },
): IoResults<W> {
  const results = runJsonChild<IoBenchResult[]>('I/O benchmark', new URL('./io-child.js', import.meta.url), request);
  if (results.length !== request.workloads.length)
    throw new Error(`I/O benchmark returned ${results.length} results for ${request.workloads.length} workloads`);
  // One result per workload, in order: checked above.
  return results as unknown as IoResults<W>;
}

/** One result per workload of `W`, in its order. */
export type IoResults<W extends readonly IoWorkload[]> = { readonly [K in keyof W]: IoBenchResult };
