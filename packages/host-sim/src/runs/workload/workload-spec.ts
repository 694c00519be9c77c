/**
 * A workload in fio's terms (fio HOWTO: rw, bs/bsrange, iodepth, numjobs, offset, size,
 * number_ios, runtime, rwmixread, verify, randseed), or a trace replay with the same queueing
 * and verification. Sizes are bytes; the engine converts to logical blocks once it knows the
 * namespace.
 *
 * Queues follow fio's jobs: `queues` jobs, each with its own I/O queue pair, its own offset
 * stream and up to `iodepth` commands in flight, so at most iodepth × queues in all.
 */
import type { TraceFormat, TraceRequest } from '../trace/trace-request.js';
import type { RwMode } from './rw-mode.js';

/** fio's bs range (`bs=4k` is a range of one size). */
export interface BlockSizeRange {
  readonly min: number;
  readonly max: number;
}

/** What every workload shares: queueing, limits, verification, the seed. */
export interface WorkloadCommon {
  /** Namespace the I/O goes to. */
  readonly nsid: number;
  /** Commands in flight per queue (fio iodepth, per job). */
  readonly iodepth: number;
  /** I/O queue pairs, one per job (fio numjobs). */
  readonly queues: number;
  /** I/Os per queue (fio number_ios, per job); for a replay, the number of trace requests replayed. */
  readonly numberIos?: number;
  /** Stop after this many milliseconds of wall-clock time. */
  readonly runtimeMs?: number;
  /** Check every byte read against what was written. */
  readonly verify: boolean;
  /**
   * What a block this run has not written holds: `zeroes` (a fresh RAM namespace, the default) or
   * `unknown` (a file backend that may hold an earlier run's data: such blocks are not verified).
   */
  readonly unwritten?: 'zeroes' | 'unknown';
  /** Seed of offsets, sizes, the read/write mix and the data pattern. */
  readonly seed: number;
}

/** A generated workload. */
export interface GeneratedWorkload extends WorkloadCommon {
  readonly kind: 'generate';
  readonly rw: RwMode;
  readonly blockSize: BlockSizeRange;
  /** Start of the region used, in bytes (fio offset). */
  readonly offsetBytes: number;
  /** Bytes of the region (fio size); absent: to the end of the namespace. */
  readonly sizeBytes?: number;
  /** Percentage of reads in a mixed mode (fio rwmixread). */
  readonly rwmixread: number;
}

/** How a replay spaces its requests. */
export const REPLAY_TIMINGS = ['asap', 'honour'] as const;
export type ReplayTiming = (typeof REPLAY_TIMINGS)[number];

/** A trace replayed through the same stack. */
export interface ReplayWorkload extends WorkloadCommon {
  readonly kind: 'replay';
  /** File name or label, for reports. */
  readonly source: string;
  readonly format: TraceFormat;
  /** The parsed requests, not yet fitted to the namespace. */
  readonly requests: readonly TraceRequest[];
  /** `asap`: submit as soon as there is room; `honour`: not before each request's time offset. */
  readonly timing: ReplayTiming;
  /** Arrival times are divided by this (honour only): 2 replays twice as fast. */
  readonly speed: number;
}

export type WorkloadSpec = GeneratedWorkload | ReplayWorkload;

/** `epfsim run` defaults: a verified 4 KiB random 50/50 mix at queue depth 32, bounded so it ends in seconds. */
export const WORKLOAD_DEFAULTS = {
  rw: 'randrw',
  blockSize: '4k',
  iodepth: 32,
  queues: 1,
  numberIos: 20_000,
  rwmixread: 50,
  /**
   * The region `epfsim run` uses unless told (capped at the namespace): small enough that most
   * reads of a default run find blocks it wrote, so verification checks data, not just zeroes.
   */
  size: '16m',
  verify: true,
  nsid: 1,
} as const;

/** The most commands in flight per queue: Linux's I/O queue depth less the one slot a full ring leaves empty. */
export const MAX_IODEPTH = 1023;
/** The most queues (jobs) a run asks for: nvme-epf's default allows 64 I/O queue pairs. */
export const MAX_QUEUES = 64;
/** Percentages. */
export const PERCENT = 100;
