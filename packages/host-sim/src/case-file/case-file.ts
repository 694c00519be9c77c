/**
 * Case files: a failing fuzz case or a hand-written scenario as a versioned JSON
 * document (DESIGN.md "Case files"). Everything a replay needs is in it: the controller
 * profile and configuration, the host memory the case writes (queues, PRP lists, SGL
 * segments, data) by address, the commands as raw SQE fields, and what to expect.
 * Addresses are hex strings so 64-bit values survive JSON.
 */

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

export interface CaseExpectation {
  /** Status as written in the reference ("0/13h"); accepted alternatives where the spec allows several. */
  readonly status?: readonly string[];
  /** After completion, host memory at `addr` holds `bytes`. */
  readonly data?: { readonly addr: bigint; readonly bytes: Uint8Array };
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
  readonly expect?: CaseExpectation;
}

export interface CaseFile {
  readonly version: number;
  readonly description: string;
  /** A built-in profile name or an inline profile object (validated like a profile file). */
  readonly profile: string | Record<string, unknown>;
  /** Controller configuration overrides (strategy, namespaces, options, ...). */
  readonly controller: Record<string, unknown>;
  /** The seed of the campaign that found it, when it came from `epfsim fuzz`. */
  readonly seed?: number;
  readonly adminQueue: CaseQueue;
  readonly ioQueues: readonly CaseQueue[];
  readonly memory: readonly CaseMemory[];
  readonly commands: readonly CaseCommand[];
}
