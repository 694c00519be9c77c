/** What the driver's callers hand it and get back: command descriptions, results, statistics, snapshots. */
import type { GrantId } from '../memory/grant-table.js';
import type { CommandContext, CommandLayout, PlacedQueue, PlacementPolicy } from '../placement/layout.js';
import type { Completion } from './completion.js';

/** A command described by its fields, with an optional data transfer placed by a policy. */
export interface CommandSpec {
  readonly opcode: number;
  readonly nsid?: number;
  readonly cdw2?: number;
  readonly cdw3?: number;
  readonly mptr?: bigint;
  readonly cdw10?: number;
  readonly cdw11?: number;
  readonly cdw12?: number;
  readonly cdw13?: number;
  readonly cdw14?: number;
  readonly cdw15?: number;
  /** A data transfer of `length` bytes; its direction comes from the opcode (bits 1:0). */
  readonly data?: {
    readonly length: number;
    /** Bytes for a host-to-controller transfer (padded with zeroes to the layout's length). */
    readonly payload?: Uint8Array | undefined;
    readonly placement?: PlacementPolicy | undefined;
    readonly command?: CommandContext;
  };
  /** Prebuilt layout (its grants are made by the driver, its release done at completion). */
  readonly layout?: CommandLayout;
  // `| undefined` on the fields an LBA command always carries: one object shape per command on the hot path.
  readonly timeoutMs?: number | undefined;
  /** Leave controller-to-host bytes in the host buffer: the caller does not look at them (fio with verify off). */
  readonly discardData?: boolean | undefined;
}

/** Where an I/O goes and how its buffer is placed. */
export interface IoOptions {
  /** I/O queue id; default: the next queue round robin. */
  readonly qid?: number;
  readonly placement?: PlacementPolicy;
  readonly timeoutMs?: number;
  /** The read's bytes are not wanted: the result has no `data` and the driver copies nothing out. */
  readonly discardData?: boolean;
}

/** The result of a data command. */
export interface IoResult {
  readonly completion: Completion;
  /** Controller-to-host data, read from the buffer after a successful completion. */
  readonly data?: Uint8Array;
  /** The layout the command used (already released). */
  readonly layout?: CommandLayout;
}

export interface DriverStats {
  submitted: number;
  completed: number;
  steps: number;
  /** Interrupt events taken (per vector count change). */
  interrupts: number;
  /** Entries found by the fallback poll, not announced by an interrupt. */
  reapedWithoutInterrupt: number;
  doorbellWrites: number;
  timeouts: number;
  aborts: number;
  resets: number;
}

/** Where a queue pair lives and where the host stands in it: for reports, case files and tests. */
export interface QueueSnapshot {
  readonly qid: number;
  readonly depth: number;
  readonly sqBase: bigint;
  readonly cqBase: bigint;
  readonly sqTail: number;
  /** The controller's SQ head as the last plausible SQHD reported it. */
  readonly sqHead: number;
  readonly cqHead: number;
  /** Phase tag the host expects of the next new CQE. */
  readonly cqPhase: number;
  readonly vector: number | undefined;
  readonly outstanding: number;
}

/** Driver lifecycle. */
export type DriverState = 'new' | 'live' | 'shutdown' | 'dead';

/** What the driver holds for a queue's ring: its placement and its IOMMU grant. */
export interface RingResources {
  readonly placed: PlacedQueue;
  readonly grant: GrantId;
}
