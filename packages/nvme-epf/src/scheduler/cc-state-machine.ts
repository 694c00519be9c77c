/**
 * The CC state machine (NVMe Base 1.4 §3.1.5, §7.6; rule Q-1): enable on CC.EN 0→1 with the
 * admin queues from AQA/ASQ/ACQ, reset on EN 1→0, shutdown on CC.SHN, as the Linux function's
 * nvmet_pci_epf_poll_cc() and nvmet_pci_epf_enable_ctrl() do. A host's bad register values fail
 * the enable with CSTS.CFS and a trace event.
 */
import {
  AQA,
  CC,
  CC_AMS,
  CC_CSS,
  CC_SHN,
  CSTS,
  CSTS_SHST,
  getBits,
  mpsToPageSize,
  NVME_NVM_IOCQES,
  NVME_NVM_IOSQES,
  NVME_REG_ACQ,
  NVME_REG_AQA,
  NVME_REG_ASQ,
  NVME_REG_CC,
  setBits,
} from '@epfsim/nvme-spec-types';
import type { AsyncEvents } from '../admin/async-events.js';
import type { FeatureState } from '../admin/features.js';
import type { FunctionFaultFlags } from '../faults/catalogue.js';
import type { SmartCounters } from '../health/smart.js';
import type { TemperatureEvents } from '../health/temperature-events.js';
import type { Interrupts } from '../interrupts.js';
import type { Namespace } from '../namespace/namespace.js';
import type { QueueManager } from '../queues/queue-manager.js';
import { MPSMAX, MPSMIN } from '../registers/capabilities.js';
import type { RegisterFile } from '../registers/register-file.js';
import { registerName } from '../registers/register-table.js';
import type { FunctionStats } from '../stats.js';
import type { TraceRing } from '../trace.js';
import type { CommandData } from '../transfer/command-data.js';
import type { Arbitration } from './arbitration.js';
import type { Doorbells } from './doorbells.js';
import type { RunState } from './run-state.js';

/** Register names for enable-failure messages, from the register table. */
const CC_NAME = registerName(NVME_REG_CC);
const AQA_NAME = registerName(NVME_REG_AQA);
const ASQ_NAME = registerName(NVME_REG_ASQ);
const ACQ_NAME = registerName(NVME_REG_ACQ);

export interface CcDeps {
  readonly regs: RegisterFile;
  readonly run: RunState;
  readonly faults: FunctionFaultFlags;
  readonly namespaces: readonly Namespace[];
  readonly queues: QueueManager;
  readonly doorbells: Doorbells;
  readonly arbitration: Arbitration;
  readonly aer: AsyncEvents;
  readonly features: FeatureState;
  readonly temperature: TemperatureEvents;
  readonly interrupts: Interrupts;
  readonly data: CommandData;
  readonly smart: SmartCounters;
  readonly stats: FunctionStats;
  readonly trace: TraceRing;
}

export class CcStateMachine {
  readonly #d: CcDeps;
  /** Set by a completed shutdown: the next enable is a new power cycle. */
  #poweredDown = false;

  constructor(deps: CcDeps) {
    this.#d = deps;
  }

  /** Acts on a CC change; returns the work done (1 for a change, 0 otherwise). */
  service(): number {
    const d = this.#d;
    const run = d.run;
    const cc = d.regs.readCc();
    const prev = d.regs.ccSeen;
    if (cc === prev) return 0;
    d.regs.ccSeen = cc;
    const en = getBits(cc, CC.EN) === 1;
    const shn = getBits(cc, CC.SHN);
    const prevShn = getBits(prev, CC.SHN);
    if (!en) {
      if (run.state !== 'disabled') this.#reset();
      // A shutdown notification to a disabled controller has nothing to do: it is complete at once.
      if (shn !== CC_SHN.NONE && prevShn === CC_SHN.NONE) {
        d.regs.csts = setBits(d.regs.csts, CSTS.SHST, CSTS_SHST.COMPLETE);
      } else if (shn === CC_SHN.NONE && !d.faults.ccCstsNotCleared) {
        d.regs.csts = setBits(d.regs.csts, CSTS.SHST, CSTS_SHST.NORMAL);
      }
      return 1;
    }
    if (shn !== CC_SHN.NONE) {
      if (run.state !== 'shutdown') this.#shutdown(shn);
      return 1;
    }
    // EN = 1 and no shutdown notification: enable from reset, or again after a completed
    // shutdown (Linux fix #4: the host may re-enable without the function seeing EN drop).
    if (run.state === 'shutdown' && d.faults.ccCstsNotCleared && getBits(prev, CC.EN) === 1) {
      // Fault cc-csts-not-cleared: before Linux f8e01fa93f3e the shutdown left CC.EN set, so only a
      // 0→1 edge of EN re-enabled; clearing SHN with EN still 1 is not one, and RDY never comes.
      return 1;
    }
    if (run.state === 'disabled' || run.state === 'shutdown') this.#enable(cc);
    return 1;
  }

  /** Deletes every queue, drops what cannot complete, releases every map, resets features and interrupts. */
  teardown(): void {
    const d = this.#d;
    d.queues.deleteAll();
    d.arbitration.reset();
    d.stats.commandsDropped += d.aer.reset();
    d.features.reset();
    d.temperature.reset();
    d.interrupts.reset();
    d.doorbells.zeroAll();
  }

  /** The reason the host's CC, AQA, ASQ and ACQ cannot enable the controller, or null. */
  #enableFailure(cc: number, aqa: number, asq: bigint, acq: bigint): string | null {
    const unchecked = this.#d.faults.uncheckedEntrySizes;
    const mps = getBits(cc, CC.MPS);
    const css = getBits(cc, CC.CSS);
    const ams = getBits(cc, CC.AMS);
    const iosqes = getBits(cc, CC.IOSQES);
    const iocqes = getBits(cc, CC.IOCQES);
    const pageSize = mpsToPageSize(mps);
    const mask = BigInt(pageSize - 1);
    // Q-1 / P-13: each of these fails the enable with CSTS.CFS, as QEMU's nvme_start_ctrl() does.
    if (mps < MPSMIN || mps > MPSMAX) return `${CC_NAME}.MPS ${mps} outside CAP [${MPSMIN}, ${MPSMAX}]`;
    if (css !== CC_CSS.NVM) return `${CC_NAME}.CSS ${css} is not a supported command set (CAP.CSS = NVM)`;
    if (ams !== CC_AMS.RR) return `${CC_NAME}.AMS ${ams}: only round robin is supported (CAP.AMS = 0)`;
    if (getBits(aqa, AQA.ASQS) === 0 || getBits(aqa, AQA.ACQS) === 0)
      return `${AQA_NAME} ${aqa.toString(16)}: ASQS and ACQS must be non-zero`;
    if ((asq & mask) !== 0n) return `${ASQ_NAME} 0x${asq.toString(16)} is not aligned to the ${pageSize}-byte page`;
    if ((acq & mask) !== 0n) return `${ACQ_NAME} 0x${acq.toString(16)} is not aligned to the ${pageSize}-byte page`;
    // Linux fix #17: never trust other entry sizes. 0 is allowed until I/O queues are created.
    // Fault unchecked-entry-sizes skips both checks, as the function did before that fix.
    if (!unchecked && iosqes !== 0 && iosqes !== NVME_NVM_IOSQES)
      return `${CC_NAME}.IOSQES ${iosqes}: only 6 (64 B) is supported`;
    if (!unchecked && iocqes !== 0 && iocqes !== NVME_NVM_IOCQES)
      return `${CC_NAME}.IOCQES ${iocqes}: only 4 (16 B) is supported`;
    return null;
  }

  #enable(cc: number): void {
    const d = this.#d;
    if (d.run.state === 'shutdown') this.teardown();
    const aqa = d.regs.readAqa();
    const asq = d.regs.readAsq();
    const acq = d.regs.readAcq();
    const reason = this.#enableFailure(cc, aqa, asq, acq);
    if (reason !== null) {
      d.trace.record({ kind: 'enable-failed', message: reason });
      d.stats.fatalErrors++;
      d.run.state = 'fatal';
      d.regs.csts = setBits(0, CSTS.CFS, 1);
      return;
    }
    const pageSize = mpsToPageSize(getBits(cc, CC.MPS));
    d.data.pageSize = pageSize;
    d.doorbells.zeroAll();
    d.queues.createAdminQueues(asq, getBits(aqa, AQA.ASQS) + 1, acq, getBits(aqa, AQA.ACQS) + 1, pageSize);
    d.stats.enables++;
    if (this.#poweredDown) {
      d.smart.powerCycles++;
      this.#poweredDown = false;
    }
    d.run.state = 'ready';
    // Linux "Correctly initialize CSTS when enabling the controller": CSTS is exactly RDY. Fault
    // cc-csts-not-cleared sets RDY over what CSTS held, so a stale SHST = 10b shows through.
    d.regs.csts = setBits(d.faults.ccCstsNotCleared ? d.regs.csts : 0, CSTS.RDY, 1);
  }

  /** CC.EN 1→0: every queue deleted, AERs dropped, every map released, features to defaults. */
  #reset(): void {
    const d = this.#d;
    if (d.run.state === 'ready') d.smart.unsafeShutdowns++;
    this.teardown();
    d.stats.resets++;
    d.trace.record({ kind: 'reset', message: 'controller reset (CC.EN 1→0)' });
    d.run.state = 'disabled';
    // Fault cc-csts-not-cleared: the reset clears RDY (and CFS) but leaves SHST as the shutdown set it.
    const staleShst = d.faults.ccCstsNotCleared ? getBits(d.regs.csts, CSTS.SHST) : CSTS_SHST.NORMAL;
    d.regs.resetState();
    if (staleShst !== CSTS_SHST.NORMAL) d.regs.csts = setBits(0, CSTS.SHST, staleShst);
  }

  /** CC.SHN (§7.6.2): stop, release everything, make data durable (normal), report SHST = 10b. */
  #shutdown(shn: number): void {
    const d = this.#d;
    if (d.run.state !== 'disabled') this.teardown();
    if (shn === CC_SHN.NORMAL) for (const ns of d.namespaces) ns.backend.flush();
    d.stats.shutdowns++;
    d.trace.record({ kind: 'shutdown', message: shn === CC_SHN.NORMAL ? 'normal shutdown' : 'abrupt shutdown' });
    d.run.state = 'shutdown';
    this.#poweredDown = true;
    // RDY drops with the queues, as in the Linux function; SHST tells the host it is done.
    d.regs.csts = setBits(0, CSTS.SHST, CSTS_SHST.COMPLETE);
  }
}
