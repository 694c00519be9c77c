/** A command the host has submitted and not yet seen complete. */
import type { GrantId } from '../memory/grant-table.js';
import type { CommandLayout } from '../placement/layout.js';
import type { Completion } from './completion.js';

export interface PendingCommand {
  readonly sqid: number;
  readonly cid: number;
  readonly opcode: number;
  /** Target time (ms) of submission. */
  readonly submittedAt: number;
  /** Target time (ms) after which the command has timed out; an Abort extends it once. */
  deadline: number;
  readonly timeoutMs: number;
  /** Grants revoked when the command ends. */
  readonly grants: readonly GrantId[];
  /** The data pointer's placement, released when the command ends. */
  readonly layout: CommandLayout | undefined;
  /** Copy the buffer out when the command completes successfully (controller-to-host data). */
  readonly gather: boolean;
  abortSent: boolean;
  timedOut: boolean;
  completion: Completion | undefined;
  /** The buffer's bytes after completion, when `gather` (bit-bucket and hole bytes read as zero). */
  data: Uint8Array | undefined;
}
