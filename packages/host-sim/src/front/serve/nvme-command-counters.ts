/** What the NBD front end sent to the controller, over every connection. Live: read at any time. */
import { formatStatus, STATUS_SUCCESS } from '@epfsim/nvme-spec-types';

export interface NvmeCommandCounters {
  /** NVMe commands completed, by opcode. */
  readonly commands: { read: number; write: number; flush: number; dsm: number; writeZeroes: number };
  /** Bytes of the completed commands: data moved, or blocks deallocated (trim) and zeroed. */
  readonly bytes: { read: number; write: number; trim: number; zeroes: number };
  /** NBD requests larger than one NVMe command carries (MDTS, the 16-bit NLB), sent as several. */
  splitRequests: number;
  /** Commands that completed successfully. */
  succeeded: number;
  /** Commands that failed: an error status, or ended by a controller reset. */
  failed: number;
  /** Failed commands by status, as `formatStatus` prints it. */
  readonly errorStatuses: Record<string, number>;
}

export function emptyNvmeCommandCounters(): NvmeCommandCounters {
  return {
    commands: { read: 0, write: 0, flush: 0, dsm: 0, writeZeroes: 0 },
    bytes: { read: 0, write: 0, trim: 0, zeroes: 0 },
    splitRequests: 0,
    succeeded: 0,
    failed: 0,
    errorStatuses: {},
  };
}

/** Completed commands. */
export function commandsCompleted(c: NvmeCommandCounters): number {
  return c.succeeded + c.failed;
}

/** Completions by status, successes included, as a run report lists them. */
export function statusCounts(c: NvmeCommandCounters): Record<string, number> {
  return { ...(c.succeeded > 0 ? { [formatStatus(STATUS_SUCCESS)]: c.succeeded } : {}), ...c.errorStatuses };
}
