/**
 * A command's outcome as the host driver reports it: the controller's CQE, or the host's own
 * ending of a command the controller never completed (timeout, then reset).
 */
import { type NvmeStatus, Status } from '@epfsim/nvme-spec-types';

/**
 * Host Aborted Command, 3/71h: what Linux completes a request with when it cancels it during a
 * controller reset (`NVME_SC_HOST_ABORTED_CMD`, a path-related status the host sets itself).
 */
export const STATUS_HOST_ABORTED: NvmeStatus = Status.HOST_ABORTED_CMD;

/** How a command ended. */
export type CompletionSource =
  /** A CQE from the controller. */
  | 'controller'
  /** The host gave up on it: the controller was reset while it was outstanding. */
  | 'host-reset';

export interface Completion {
  readonly sqid: number;
  readonly cid: number;
  readonly opcode: number;
  /** The 15-bit status (phase tag excluded). */
  readonly status: NvmeStatus;
  readonly dw0: number;
  readonly dw1: number;
  readonly sqhd: number;
  readonly source: CompletionSource;
  /** The command outlived its timeout (an Abort or a reset followed). */
  readonly timedOut: boolean;
}
