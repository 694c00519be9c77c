/**
 * The controller's run state (NVMe Base 1.4 §7.6: disabled, ready with CSTS.RDY, fatal with
 * CSTS.CFS, shut down with CSTS.SHST = 10b), shared by the parts of the scheduler: any of them
 * may find a failure the controller cannot report through a CQ and make it fatal.
 */
import type { EpcError } from '@epfsim/epc-core';
import { CSTS, setBits } from '@epfsim/nvme-spec-types';
import type { RegisterFile } from '../registers/register-file.js';
import type { FunctionStats } from '../stats.js';
import type { TraceRing } from '../trace.js';

export type ControllerState = 'disabled' | 'ready' | 'fatal' | 'shutdown';

export class RunState {
  state: ControllerState = 'disabled';
  readonly #regs: RegisterFile;
  readonly #stats: FunctionStats;
  readonly #trace: TraceRing;

  constructor(regs: RegisterFile, stats: FunctionStats, trace: TraceRing) {
    this.#regs = regs;
    this.#stats = stats;
    this.#trace = trace;
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Sets CSTS.CFS: a failure the controller cannot report through a CQ (an SQE or CQE access failed). */
  fatal(message: string, qid?: number, epc?: EpcError | null): void {
    this.#stats.fatalErrors++;
    this.#trace.record({
      kind: 'controller-fatal',
      message,
      ...(qid !== undefined ? { qid } : {}),
      ...(epc ? { epc } : {}),
    });
    this.state = 'fatal';
    this.#regs.csts = setBits(this.#regs.csts, CSTS.CFS, 1);
  }
}
