/**
 * What one differential case is: commands given as raw 64-byte SQEs plus the host memory writes
 * that lay out their data pointers (PRP lists, SGL segments, write payloads), so that both targets
 * see byte-identical commands at identical guest-RAM addresses. A case is built from the
 * {@link CaseSpace} the runner gives it: its own host pages and its own window of the namespace.
 */
import type { HostRange } from '../../host/memory/host-range.js';

/** Host memory written by the host CPU before a command is submitted. */
export interface MemoryWrite {
  readonly addr: bigint;
  readonly bytes: Uint8Array;
}

/** One command of a case, submitted raw with `NvmeDriver.submitRaw` on both targets. */
export interface CaseCommand {
  /** What the command is, for reports: `Read 1 LBA, PRP1 at +0x202`. */
  readonly label: string;
  /** Queue: 0 is the admin queue. */
  readonly qid: number;
  /** The 64-byte SQE; the driver sets its CID. */
  readonly sqe: Uint8Array;
  /** Written to host memory first (lists, segments, payloads). */
  readonly memory?: readonly MemoryWrite[];
  /**
   * Host ranges the controller may write (read data): filled with {@link POISON} before the
   * command and compared byte for byte afterwards when both targets succeed. Give whole pages to
   * also catch bytes written around the data.
   */
  readonly returns?: readonly HostRange[];
  /** Compare completion DW0 (default: Set/Get Features and Abort, whose DW0 is defined). */
  readonly dw0?: boolean;
  /** False for set-up and clean-up steps whose outcome is allowed to differ (default true). */
  readonly compare?: boolean;
}

/** The part of both targets a case may use; identical on both. */
export interface CaseSpace {
  /** Page-aligned host RAM of this case, granted to the controller for every command of the case. */
  readonly host: bigint;
  readonly hostBytes: number;
  /** A shared page-aligned staging area for valid set-up writes ({@link CaseSpace.host} is the case's own). */
  readonly staging: bigint;
  readonly stagingBytes: number;
  /** The namespace window the case may write (NSID 1), compared on both targets after the case. */
  readonly slba: bigint;
  readonly blocks: number;
  /** Logical block size of NSID 1. */
  readonly blockSize: number;
  /** NSID 1 size in blocks (NSZE). */
  readonly nsze: bigint;
  /** Maximum data transfer in bytes (0: no limit). */
  readonly mdtsBytes: number;
  /** The I/O queue pairs the host driver created (same bases on both targets). */
  readonly queues: readonly CaseQueue[];
  /** A number unique to the case, for data patterns. */
  readonly seed: number;
}

/** An I/O queue pair created at bring-up. */
export interface CaseQueue {
  readonly qid: number;
  readonly depth: number;
  readonly sqBase: bigint;
  readonly cqBase: bigint;
  readonly vector: number | undefined;
}

/** How the targets are brought up for a case (cases with the same set-up share a pair of targets). */
export interface CaseSetup {
  /** I/O queue pairs the host driver asks for (Number of Queues). Default 4, QEMU's `max_ioqpairs`. */
  readonly ioQueues?: number;
}

/** A differential case. */
export interface DifferentialCase {
  /** Unique, kebab-case: `prp1-offset-0x202`. */
  readonly id: string;
  /** The rule it exercises (docs/nvme-rules.md ids: P-1, S-5, Q-9, C-2, …). */
  readonly rule: string;
  readonly title: string;
  readonly setup?: CaseSetup;
  /** The commands, in order; every one is compared unless it says otherwise. */
  readonly build: (space: CaseSpace) => readonly CaseCommand[];
}

/** The byte read buffers are filled with before a command: a controller that writes it back is unlikely. */
export const POISON = 0xa5;
