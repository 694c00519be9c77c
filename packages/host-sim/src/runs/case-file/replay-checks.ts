/**
 * What a replay holds each command and step to: the CQE against its expectation, the data a command left, and the SQE a case command becomes.
 */
import { hex } from '@epfsim/epc-core';
import type { CompletionEntry, TrackedCommand } from '@epfsim/nvme-host';
import {
  createIoCqFields,
  createIoSqFields,
  deleteIoCqFields,
  deleteIoSqFields,
  formatStatus,
  getBits,
  type NvmeStatus,
  parseStatus,
  type Sqe,
  statusCrd,
  statusDnr,
  statusMore,
  statusSc,
  statusSct,
} from '@epfsim/nvme-spec-types';
import type { GrantId } from '../../host/memory/grant-table.js';
import type { HostRange } from '../../host/memory/host-range.js';
import {
  type CaseBytes,
  type CaseCommand,
  type CaseCommandExpect,
  type CaseStep,
  type CaseStepExpect,
  caseBytesSize,
} from './case-file.js';
import { patternView } from './data-pattern.js';
import { AER_DW0 } from './replay-host.js';

/** A command on its way: what the engine tracks and the reaper fills in. */
export interface InFlight extends TrackedCommand {
  readonly index: number;
  readonly step: number;
  readonly label: string;
  readonly qid: number;
  readonly command: CaseCommand;
  readonly expect: CaseCommandExpect | undefined;
  readonly grants: readonly GrantId[];
  readonly failures: string[];
  status: NvmeStatus | undefined;
  dw0: number;
  /** Why it can no longer complete (its queue went away), when that happened. */
  lost: string | undefined;
  written: Uint8Array | undefined;
}

/** Host rings placed for the replay: their RAM and the grant the device has while the queue lives. */
export interface RingGrant {
  readonly range: HostRange;
  readonly grant: GrantId;
}

/** A step's own expectations (a queue-management step's `expect` is its command's). */
export function stepExpectOf(s: CaseStep): CaseStepExpect | undefined {
  switch (s.do) {
    case 'create-cq':
    case 'create-sq':
    case 'delete-sq':
    case 'delete-cq':
    case 'write-memory':
      return undefined;
    default:
      return s.expect;
  }
}

/** Whether a command must complete: its expectation says so (the default). */
export function expected(cmd: InFlight): boolean {
  return (cmd.expect?.completes ?? 'yes') === 'yes';
}

/** The SQE fields of a queue-management step. */
export function queueCommand(
  s: Extract<CaseStep, { do: 'create-cq' | 'create-sq' | 'delete-sq' | 'delete-cq' }>,
  vectorFor: (qid: number) => number,
  interrupts: boolean,
): CaseCommand {
  let fields: Partial<Sqe>;
  switch (s.do) {
    case 'create-cq':
      fields = createIoCqFields({
        qid: s.qid,
        size: s.size,
        base: s.addr,
        ien: s.ien ?? interrupts,
        iv: s.iv ?? vectorFor(s.qid),
        pc: s.pc,
      });
      break;
    case 'create-sq':
      fields = createIoSqFields({ qid: s.qid, size: s.size, base: s.addr, cqid: s.cqid, qprio: s.qprio, pc: s.pc });
      break;
    case 'delete-sq':
      fields = deleteIoSqFields(s.qid);
      break;
    case 'delete-cq':
      fields = deleteIoCqFields(s.qid);
      break;
  }
  return {
    ...(s.id === undefined ? {} : { id: s.id }),
    opcode: fields.opcode ?? 0,
    nsid: 0,
    psdt: 0,
    fuse: 0,
    prp1: fields.prp1 ?? 0n,
    prp2: 0n,
    mptr: 0n,
    cdw2: 0,
    cdw3: 0,
    cdw: [fields.cdw10 ?? 0, fields.cdw11 ?? 0, fields.cdw12 ?? 0, 0, 0, 0],
    ...(s.expect === undefined ? {} : { expect: s.expect }),
  };
}

/** Every field the expectation names, against the CQE. */
export function checkCqe(e: CaseCommandExpect, cqe: Readonly<CompletionEntry>): string[] {
  const failures: string[] = [];
  const s = cqe.status;
  if (e.status !== undefined && !e.status.some((text) => sameStatus(s, text))) {
    failures.push(`status ${formatStatus(s)}, expected ${e.status.join(' or ')}`);
  }
  const field = <T extends number | boolean>(
    name: string,
    got: T,
    want: T | undefined,
    show: (v: T) => string = (v) => String(v),
  ) => {
    if (want !== undefined && got !== want) failures.push(`${name} ${show(got)}, expected ${show(want)}`);
  };
  field('DNR', statusDnr(s), e.dnr);
  field('More', statusMore(s), e.more);
  field('CRD', statusCrd(s), e.crd);
  field('DW0', cqe.dw0, e.dw0, hex);
  field('DW1', cqe.dw1, e.dw1, hex);
  field('SQHD', cqe.sqhd, e.sqhd);
  field('SQID', cqe.sqid, e.sqid);
  if (e.event !== undefined) {
    const got = {
      type: getBits(cqe.dw0, AER_DW0.TYPE),
      info: getBits(cqe.dw0, AER_DW0.INFO),
      lid: getBits(cqe.dw0, AER_DW0.LID),
    };
    const want = e.event;
    if (got.type !== want.type || got.info !== want.info || got.lid !== want.lid) {
      failures.push(
        `event type ${got.type} info ${hex(got.info)} log ${hex(got.lid)}, expected type ${want.type} info ${hex(want.info)} log ${hex(want.lid)}`,
      );
    }
  }
  return failures;
}

/** Same status type and code as the reference text ("0/13h"); DNR, More and CRD are separate fields. */
export function sameStatus(actual: NvmeStatus, text: string): boolean {
  const expected = parseStatus(text);
  return expected !== undefined && statusSct(expected) === statusSct(actual) && statusSc(expected) === statusSc(actual);
}

/** The bytes a {@link CaseBytes} stands for. */
/** Fills up to this size are kept, one per value, and lent out again: a case fills many buffers alike. */
const KEPT_FILL_BYTES = 1024 * 1024;
const keptFills = new Map<number, Uint8Array>();

/** `size` bytes of `value`; read only (a kept buffer is lent to every caller). */
function filled(value: number, size: number): Uint8Array {
  if (size > KEPT_FILL_BYTES) return new Uint8Array(size).fill(value);
  let kept = keptFills.get(value);
  if (kept === undefined || kept.length < size) {
    kept = new Uint8Array(Math.max(size, kept === undefined ? 0 : 2 * kept.length)).fill(value);
    keptFills.set(value, kept);
  }
  return kept.subarray(0, size);
}

/** The bytes a case names; read only (host memory copies what it writes, checks only compare). */
export function bytesOf(b: CaseBytes): Uint8Array {
  switch (b.kind) {
    case 'bytes':
      return b.bytes;
    case 'byte':
      return filled(b.value, b.size);
    case 'pattern':
      return patternView(b.seed, caseBytesSize(b), b.offset);
  }
}

export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
