/**
 * Case files: a failing fuzz case or a hand-written scenario as a versioned JSON
 * document (DESIGN.md "Case files"). Everything a replay needs is in it: the controller
 * profile and configuration, the host memory the case writes (queues, PRP lists, SGL
 * segments, data) by address, the commands as raw SQE fields with the grants each holds, and
 * what to expect (statuses, data, the only device accesses allowed to fail). Addresses are hex
 * strings so 64-bit values survive JSON. `replay-case.ts` runs one.
 */
import type { Sqe } from '@epfsim/nvme-spec-types';

export const CASE_FILE_KIND = 'epfsim-case';
export const CASE_FILE_VERSION = 1;

/** Bytes placed in host memory before the commands run. */
export interface CaseMemory {
  readonly addr: bigint;
  /** RAM size to add at `addr` (the function may touch only RAM). */
  readonly size: number;
  /** Bytes written at `addr` (hex in the file); the rest of the region reads as zero. */
  readonly bytes?: Uint8Array;
  /** What the function may do here, as the host IOMMU grants it. Default: read and write. */
  readonly grant?: 'read' | 'write' | 'read-write' | 'none';
}

export interface CaseQueue {
  readonly qid: number;
  readonly sqAddr: bigint;
  readonly cqAddr: bigint;
  /** Entries in each of the SQ and CQ. */
  readonly depth: number;
}

/** After a command completes, host memory at `addr` holds `bytes`. */
export interface CaseDataCheck {
  readonly addr: bigint;
  readonly bytes: Uint8Array;
}

/** A range of host addresses. */
export interface CaseRange {
  readonly addr: bigint;
  readonly size: number;
}

/** A range the device may access in one direction while one command runs (an IOMMU mapping). */
export interface CaseGrant extends CaseRange {
  readonly direction: 'read' | 'write';
}

export interface CaseExpectation {
  /** Status as written in the reference ("0/13h"); accepted alternatives where the spec allows several. */
  readonly status?: readonly string[];
  /**
   * Host memory after completion, one check per range (a scattered read buffer has several). In
   * the file a single `{ addr, bytes }` object is accepted as well as an array.
   */
  readonly data?: readonly CaseDataCheck[];
  /**
   * Device accesses that may fail while this command runs (a buffer deliberately in a hole, a
   * range deliberately not granted): a refused access overlapping one of these is expected. Any
   * other refused access is a failure of the case.
   */
  readonly faults?: readonly CaseRange[];
}

export interface CaseCommand {
  readonly qid: number;
  readonly opcode: number;
  readonly nsid: number;
  readonly psdt: number;
  readonly fuse: number;
  readonly prp1: bigint;
  readonly prp2: bigint;
  readonly mptr: bigint;
  /** CDW10..CDW15. */
  readonly cdw: readonly [number, number, number, number, number, number];
  /** Ranges granted for this command's lifetime only, on top of the memory regions' own grants. */
  readonly grants?: readonly CaseGrant[];
  readonly expect?: CaseExpectation;
}

export interface CaseFile {
  readonly version: number;
  readonly description: string;
  /** A built-in profile name or an inline profile object (validated like a profile file). */
  readonly profile: string | Record<string, unknown>;
  /** Controller configuration overrides (strategy, namespaces, options, ...). */
  readonly controller: Record<string, unknown>;
  /** The seed of the fuzz case that produced it, when it came from `epfsim fuzz`. */
  readonly seed?: number;
  readonly adminQueue: CaseQueue;
  readonly ioQueues: readonly CaseQueue[];
  readonly memory: readonly CaseMemory[];
  readonly commands: readonly CaseCommand[];
}

/** The SQE fields a case command gives (its CID is the replayer's to choose). */
export function caseCommandSqe(cmd: CaseCommand): Partial<Sqe> {
  return {
    opcode: cmd.opcode,
    fuse: cmd.fuse,
    psdt: cmd.psdt,
    nsid: cmd.nsid,
    mptr: cmd.mptr,
    prp1: cmd.prp1,
    prp2: cmd.prp2,
    cdw10: cmd.cdw[0],
    cdw11: cmd.cdw[1],
    cdw12: cmd.cdw[2],
    cdw13: cmd.cdw[3],
    cdw14: cmd.cdw[4],
    cdw15: cmd.cdw[5],
  };
}
