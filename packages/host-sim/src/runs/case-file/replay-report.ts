/** How a case replay went: per command, per step and as a whole, and the first thing that failed, as one line. */
import { statusKey } from '@epfsim/nvme-epf';
import { adminOpcodeName, type NvmeStatus, nvmOpcodeName } from '@epfsim/nvme-spec-types';
import type { FunctionAccount } from '../../host/target/function-account.js';
import type { CaseCommand, CaseStep } from './case-file.js';

/** How one command of the case went. */
export interface CommandReport {
  /** Order of submission over the whole case. */
  readonly index: number;
  /** The step that submitted it. */
  readonly step: number;
  /** Its id, or where it is in the case (`steps[4].commands[1]`). */
  readonly label: string;
  readonly qid: number;
  readonly opcode: number;
  readonly command: CaseCommand;
  /** CID the replay (or the case) gave it. */
  readonly cid: number;
  /** The completion status, or undefined when it never completed. */
  readonly status: NvmeStatus | undefined;
  /** Expectations that failed and wrong device behaviour seen while it ran; empty when it passed. */
  readonly failures: readonly string[];
  /** With {@link ReplayOptions.captureWrites}: the bytes of its write grants after it completed, concatenated. */
  readonly written?: Uint8Array;
}

/** How one step went (its own expectations; command results are in {@link CaseReport.commands}). */
export interface StepReport {
  readonly index: number;
  readonly do: CaseStep['do'];
  readonly failures: readonly string[];
}

/** The outcome of a replay. */
export interface CaseReport {
  /** True when every expectation held and the controller did nothing wrong. */
  readonly ok: boolean;
  readonly steps: readonly StepReport[];
  readonly commands: readonly CommandReport[];
  /** Problems not tied to one command or step: protocol violations, leaks, faults, a replay that stopped. */
  readonly failures: readonly string[];
  readonly counts: {
    readonly isolationViolations: number;
    readonly busFaults: number;
    readonly leaks: number;
    readonly protocolViolations: number;
  };
  /** The in-process function's own account (case-account.ts), when the case failed or events were asked for. */
  readonly account?: FunctionAccount;
}

/** The first thing that went wrong, as one line (for summaries and fuzz reports); undefined when ok. */
export function firstFailure(report: CaseReport): string | undefined {
  type Found = { order: number; text: string };
  const found: Found[] = [];
  for (const s of report.steps) {
    const f = s.failures[0];
    if (f !== undefined) found.push({ order: s.index * 2, text: `step ${s.index} (${s.do}): ${f}` });
  }
  for (const c of report.commands) {
    const f = c.failures[0];
    if (f !== undefined)
      found.push({ order: c.step * 2 + 1, text: `${c.label} (qid ${c.qid}, ${opcodeText(c.qid, c.opcode)}): ${f}` });
  }
  found.sort((a, b) => a.order - b.order);
  return found[0]?.text ?? report.failures[0];
}

/** A status as case files write it: `SCT/SCh`, e.g. `0/13h`. */
export function statusCode(status: NvmeStatus): string {
  return `${statusKey(status).toUpperCase()}h`;
}

/** An opcode with its name from the admin (qid 0) or NVM command set: `READ 02h`. */
export function opcodeText(qid: number, opcode: number): string {
  const name = qid === 0 ? adminOpcodeName(opcode) : nvmOpcodeName(opcode);
  const code = `${opcode.toString(16).padStart(2, '0')}h`;
  return name === undefined ? `opcode ${code}` : `${name} ${code}`;
}
