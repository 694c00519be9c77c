/**
 * What a command did on one target, and the differences between two targets, each classified as a
 * known (documented, deliberate) difference or an undocumented one.
 */
import { formatStatus, type NvmeStatus, statusDnr, statusSc, statusSct } from '@epfsim/nvme-spec-types';

/** One command's result on one target. */
export interface CommandOutcome {
  /** `controller`: a CQE; `host-reset`: it timed out and the host reset the controller; `error`: the host side failed. */
  readonly source: 'controller' | 'host-reset' | 'error';
  readonly status: NvmeStatus;
  readonly dw0: number;
  /** The bytes of the command's `returns` ranges after completion, concatenated. */
  readonly data?: Uint8Array;
  readonly error?: string;
}

/** What differed. */
export type DifferenceField =
  /** One target completed the command, the other timed out or failed on the host side. */
  | 'completion'
  /** SCT, SC or DNR. */
  | 'status'
  /** Completion DW0 of a command that defines it. */
  | 'dw0'
  /** Read data (with the bytes around it) when both succeeded. */
  | 'data'
  /** Namespace contents after the case (after Flush). */
  | 'namespace';

/** One difference between epfsim and QEMU. */
export interface Difference {
  readonly caseId: string;
  readonly rule: string;
  /** Index of the command in the case (−1: the namespace after the case, or outside every case). */
  readonly step: number;
  readonly command: string;
  readonly field: DifferenceField;
  readonly epfsim: string;
  readonly qemu: string;
  /** Id of the known difference it matches; undefined: undocumented. */
  readonly known: string | undefined;
}

/** What a known-difference matcher looks at. */
export interface Observation {
  readonly caseId: string;
  readonly field: DifferenceField;
  readonly qid: number;
  /** The 64-byte SQE as submitted (CID excluded). */
  readonly sqe: Uint8Array;
  readonly epfsim: CommandOutcome;
  readonly qemu: CommandOutcome;
}

/** Status equality as the differential check defines it: SCT, SC and DNR (M and CRD ignored). */
export function sameStatus(a: NvmeStatus, b: NvmeStatus): boolean {
  return statusSct(a) === statusSct(b) && statusSc(a) === statusSc(b) && statusDnr(a) === statusDnr(b);
}

/** `0/13h PRP Offset Invalid (DNR)`, or how the command ended when no CQE came. */
export function describeOutcome(o: CommandOutcome): string {
  if (o.source === 'error') return `host error: ${o.error ?? 'unknown'}`;
  if (o.source === 'host-reset') return 'no completion (timed out; the host reset the controller)';
  return formatStatus(o.status);
}

/** A dword as `0x0003_0003`-style hex without separators. */
export function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** Up to `count` bytes at `offset` as hex. */
export function hexBytes(bytes: Uint8Array, offset: number, count = 8): string {
  return Array.from(bytes.subarray(offset, offset + count), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** One line: `case [rule] step n "command": field: epfsim …, QEMU … (known: id | UNDOCUMENTED)`. */
export function formatDifference(d: Difference): string {
  const where = d.step >= 0 ? `step ${d.step} "${d.command}"` : d.command;
  const tag = d.known === undefined ? 'UNDOCUMENTED' : `known: ${d.known}`;
  return `${d.caseId} [${d.rule}] ${where}: ${d.field}: epfsim ${d.epfsim}; QEMU ${d.qemu} (${tag})`;
}
