/**
 * What a workload run reports, split the way the principles ask: counts (deterministic for a seed)
 * apart from figures measured in wall-clock time (IOPS, bandwidth, latency), which vary by machine.
 */
import type { IoOp } from './io-request.js';
import type { LatencySummary } from './latency-recorder.js';
import type { VerifySummary } from './verifier.js';

/** Why the run stopped. */
export type WorkloadEnd =
  /** Every queue issued its number of I/Os. */
  | 'number-ios'
  /** The runtime passed. */
  | 'runtime'
  /** The trace (or the prefix asked for) was replayed. */
  | 'trace-end'
  /** The user stopped it (Ctrl-C): the result is the run so far. */
  | 'interrupted'
  /** The controller could not be driven any more (a driver, placement or EPC contract error). */
  | 'error';

export interface OpCounts {
  readonly ios: number;
  readonly bytes: number;
}

export interface OpMeasured {
  readonly iops: number;
  readonly bytesPerSecond: number;
  readonly latency: LatencySummary;
}

/** Figures measured in wall-clock time: they differ from run to run. */
export interface WallClockFigures {
  /** From the first submission to the last completion. */
  readonly elapsedNs: number;
  readonly iops: number;
  readonly bytesPerSecond: number;
  /** Completion latency, submit to reap, of every command. */
  readonly latency: LatencySummary;
  /** The same per operation, for the operations the run issued. */
  readonly byOp: Readonly<Partial<Record<IoOp, OpMeasured>>>;
}

export interface WorkloadResult {
  /** Commands completed. */
  readonly ios: number;
  /** Bytes of the completed reads, writes and trims. */
  readonly bytes: number;
  readonly byOp: Readonly<Record<IoOp, OpCounts>>;
  /** Completions by status, as `formatStatus` prints it. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Commands that did not complete successfully (an error status, or ended by a controller reset). */
  readonly errors: number;
  readonly verify: VerifySummary;
  readonly end: WorkloadEnd;
  /** What stopped the run, when {@link end} is `error`. */
  readonly error?: string;
  /** The I/O queues used, one per job (a queue is shared when the controller gave fewer). */
  readonly queueIds: readonly number[];
  /** Commands in flight per job, after the queue size the controller allowed. */
  readonly iodepth: number;
  readonly wallClock: WallClockFigures;
}
