/**
 * A command whose work runs over several polls: a transfer larger than the bounce buffer (MDTS
 * unlimited), a Verify, a Write Zeroes or a Dataset Management deallocation whose work exceeds
 * one bounce buffer. Real firmware bounds the work of each command and of each arbitration round
 * (NVMe Base 1.4 §4.13 leaves both to the controller); so does this one, and a host can make it
 * slow, never stall it. The command keeps its SQ: nothing more is fetched from that SQ until it
 * completes (in-order execution per SQ is one of the orders the specification allows), and it
 * completes exactly once: when its work is done, or with 0/07h (Abort) or 0/08h (SQ deletion),
 * or it is dropped by a reset like every other outstanding command.
 */
import type { EarlyFailure, HandlerResult } from './command.js';
import type { Request } from './request.js';

/** Commands moving data in pieces at once, each holding its parsed data pointer; others wait for a slot. */
export const RESUMABLE_TRANSFER_SLOTS = 4;

/** What a completion and its Error Information log entry need from the command (Command has these). */
export interface CommandOrigin {
  readonly cid: number;
  readonly opcode: number;
  readonly nsid: number;
  /** Completion DW0. */
  readonly dw0: number;
  readonly errorLocation: number;
  readonly errorLba: bigint;
  /** Whether it failed before execution (the fault cqe-fields-uninitialized looks at it). */
  readonly earlyFailure: EarlyFailure;
}

export interface ResumableCommand {
  /** The command, on its own pooled request (a copy of its SQE). */
  readonly origin: Request;
  /**
   * Works while the poll has work left (the controller's `workLeft`), at least one piece so that
   * every step makes progress when it can; returns the completion status, or DEFERRED while work
   * remains.
   */
  step(): HandlerResult;
  /** Gives back what the command holds (a transfer slot); called once, when it completes or is dropped. */
  release(): void;
}
