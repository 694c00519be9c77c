/**
 * Replaying a case file: the host actions of its steps run one after another on the host queue
 * engine (@epfsim/nvme-host), the same engine the host driver uses. After every action the
 * controller runs until it is idle, the host reaping every CQ after each of its steps (unless a
 * CQ's head doorbell is held), so what a step expects is checked on a settled state. Everything the
 * case expects is checked (whole CQEs, no completion, CSTS, interrupts per vector, data, the only
 * device accesses allowed to fail), and so is everything a correct controller must never do:
 * complete a command twice or invent one, post into a full CQ, interrupt for an IEN = 0 CQ or
 * leave an interrupt-enabled CQ's entries unannounced, touch memory the host did not grant, leak
 * a mapping. `epfsim fuzz` runs its cases through this function, so a case file it writes
 * replays exactly what failed.
 */
import type { DoorbellVerdict, HostSq } from '@epfsim/nvme-host';
import {
  AQA,
  CC,
  CC_SHN,
  CSTS,
  CSTS_SHST,
  cqHeadDoorbell,
  decodeCap,
  encodeCc,
  encodeSgl,
  encodeSqe,
  getBits,
  NVME_CAP_TO_UNIT_MS,
  NVME_REG_ACQ,
  NVME_REG_AQA,
  NVME_REG_ASQ,
  NVME_REG_CAP,
  NVME_REG_CC,
  NVME_REG_CSTS,
  NVME_REG_INTMC,
  NVME_REG_INTMS,
  NVME_REG_NSSR,
  packFields,
  SQE,
  type Sqe,
  setBits,
  sqe,
  sqTailDoorbell,
} from '@epfsim/nvme-spec-types';
import { formatRange } from '../../host/memory/host-range.js';
import { withFunctionAccount } from './case-account.js';
import { type CaseCommand, type CaseFile, type CaseStep, caseCommandSqe } from './case-file.js';
import { ShapeError } from './json-shape.js';
import { openCaseTestbed, type ReplayBed, testbedReplayBed } from './replay-bed.js';
import { bytesOf, type InFlight, queueCommand, stepExpectOf } from './replay-checks.js';
import { CASE_COMMAND_TIMEOUT_MS, DEFAULT_CC, ReplayHost } from './replay-host.js';
import type { CaseReport, CommandReport } from './replay-report.js';

export interface ReplayOptions {
  /** Simulated milliseconds a command may take; default {@link CASE_COMMAND_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /**
   * Keep what each command left in the host memory it may write (its write grants inside the
   * case's memory), for comparing two targets ({@link CommandReport.written}). Default false.
   */
  readonly captureWrites?: boolean;
  /** Put the function's whole event trace into {@link CaseReport.account} (--verbose). Default false. */
  readonly events?: boolean;
}

/**
 * Replays `c` on a fresh in-process testbed (with the case's injected faults). Throws a
 * {@link ShapeError} (one line naming the field) when the case cannot be set up as written: an
 * unknown profile, a controller option the function refuses, memory that overlaps itself.
 */
export function replayCase(c: CaseFile, options: ReplayOptions = {}): CaseReport {
  const testbed = openCaseTestbed(c);
  try {
    return withFunctionAccount(replayCaseOn(c, testbedReplayBed(testbed), options), testbed, options.events ?? false);
  } finally {
    testbed.close();
  }
}

/**
 * Replays `c` on a bed the caller owns (and closes): its memory must have no placement where the
 * case puts memory or rings. The case's profile and controller are the caller's business here.
 */
export function replayCaseOn(c: CaseFile, bed: ReplayBed, options: ReplayOptions = {}): CaseReport {
  return new CaseReplay(c, bed, options.timeoutMs ?? CASE_COMMAND_TIMEOUT_MS, options.captureWrites ?? false).run();
}

/** One replay: the steps of the case, run on the host side {@link ReplayHost} keeps. */
class CaseReplay extends ReplayHost {
  run(): CaseReport {
    this.placeMemory();
    const cap = decodeCap(this.target.mmioRead64(NVME_REG_CAP));
    this.engine.dstrd = cap.DSTRD;
    this.readyTimeoutMs = Math.min(Math.max(1, cap.TO) * NVME_CAP_TO_UNIT_MS, this.timeoutMs);
    try {
      this.enableInterrupts();
      // Whatever state the target was left in, a case starts from a disabled controller.
      if (getBits(this.target.mmioRead32(NVME_REG_CC), CC.EN) === 1) this.disable();
      this.c.steps.forEach((s, i) => {
        if (this.stopped !== undefined) return;
        this.step = i;
        this.runStep(s, i);
      });
      if (this.stopped === undefined) this.settle(true);
    } catch (error) {
      if (error instanceof ShapeError) throw error;
      this.failures.push(`threw ${(error as Error).name}: ${(error as Error).message}`);
    }
    return this.finish();
  }

  private runStep(s: CaseStep, index: number): void {
    const failures: string[] = [];
    const expect = stepExpectOf(s);
    const before = this.interruptCounts(expect);
    switch (s.do) {
      case 'enable':
        failures.push(...this.enable(s));
        break;
      case 'disable':
        failures.push(...this.disable());
        break;
      case 'shutdown':
        failures.push(...this.shutdown(s.type));
        break;
      case 'write-register':
        this.writeRegister(s.register, s.value);
        this.settle();
        break;
      case 'doorbell':
        this.doorbell(s.queue, s.qid, s.value);
        this.settle();
        break;
      case 'create-cq':
      case 'create-sq':
      case 'delete-sq':
      case 'delete-cq': {
        const cmd = this.submit(0, [queueCommand(s, (qid) => this.linuxVector(qid), this.mode !== 'none')], true)[0];
        if (cmd !== undefined) this.waitFor([cmd]);
        break;
      }
      case 'submit':
        this.submit(s.qid, s.commands, s.doorbell);
        this.settle();
        break;
      case 'ring': {
        const sq = this.requireSq(s.qid);
        if (sq !== undefined) this.engine.ring(sq);
        this.settle();
        break;
      }
      case 'cq-head': {
        const cq = this.engine.cq(s.qid);
        if (cq === undefined) {
          this.stop(`step ${this.step}: no CQ ${s.qid} (never created, or its creation failed)`);
          break;
        }
        cq.holdHead = s.hold;
        if (!s.hold) this.engine.ringHead(cq);
        this.settle();
        break;
      }
      case 'wait':
        if (s.ms !== undefined) this.runFor(s.ms);
        if (s.for !== undefined) this.waitFor(s.for.map((id) => this.byId.get(id) as InFlight));
        this.settle();
        break;
      case 'mask-vector':
        this.target.maskMsixVector(s.vector, s.masked);
        this.engine.interrupts.setMasked(s.vector, s.masked);
        this.settle();
        break;
      case 'check':
        break;
      case 'write-memory': {
        const bytes = bytesOf(s.content);
        if (!this.tb.memory.isRam(s.addr, bytes.length))
          throw new ShapeError(this.at(), `${formatRange({ addr: s.addr, size: bytes.length })} is not in memory`);
        this.tb.memory.write(s.addr, bytes);
        break;
      }
    }
    this.dropQueuesIfReset();
    failures.push(...this.checkStep(expect, before));
    this.steps.push({ index, do: s.do, failures });
  }

  /** AQA, ASQ, ACQ, then CC with EN = 1; waits for RDY or CFS. */
  private enable(s: Extract<CaseStep, { do: 'enable' }>): string[] {
    const a = s.admin;
    this.dropAllQueues('the controller was enabled again');
    const target = this.target;
    this.admin = {
      aqa: packFields(AQA, { ASQS: a.sqSize - 1, ACQS: a.cqSize - 1 }),
      asq: a.sqAddr,
      acq: a.cqAddr,
    };
    this.registerAdmin();
    target.mmioWrite32(NVME_REG_AQA, this.admin.aqa);
    target.mmioWrite64(NVME_REG_ASQ, this.admin.asq);
    target.mmioWrite64(NVME_REG_ACQ, this.admin.acq);
    target.mmioWrite32(NVME_REG_CC, encodeCc({ ...DEFAULT_CC, ...s.cc }));
    this.engine.interrupts.resetFeatures();
    this.settleUntil(() => {
      const csts = target.mmioRead32(NVME_REG_CSTS);
      return getBits(csts, CSTS.RDY) === 1 || getBits(csts, CSTS.CFS) === 1;
    }, this.readyTimeoutMs);
    return [];
  }

  /** The host's side of the admin queue pair, from the registers it last wrote. */
  private registerAdmin(): void {
    const sqSize = getBits(this.admin.aqa, AQA.ASQS) + 1;
    const cqSize = getBits(this.admin.aqa, AQA.ACQS) + 1;
    this.cqRings.set(0, this.ring('cq', this.admin.acq, cqSize));
    this.sqRings.set(0, this.ring('sq', this.admin.asq, sqSize));
    this.engine.addCq(0, this.admin.acq, cqSize, this.mode === 'none' ? undefined : 0);
    this.engine.addSq(0, this.admin.asq, sqSize, 0);
  }

  /** CC.EN = 0; waits for RDY = 0. Every command outstanding is lost. */
  private disable(): string[] {
    const target = this.target;
    target.mmioWrite32(NVME_REG_CC, setBits(target.mmioRead32(NVME_REG_CC), CC.EN, 0));
    this.settleUntil(() => getBits(target.mmioRead32(NVME_REG_CSTS), CSTS.RDY) === 0, this.readyTimeoutMs);
    this.dropAllQueues(`the controller was reset (step ${this.step})`);
    this.engine.interrupts.resetFeatures();
    return [];
  }

  /** CC.SHN; waits for SHST = 10b. The queues are gone afterwards. */
  private shutdown(type: 'normal' | 'abrupt'): string[] {
    const target = this.target;
    const shn = type === 'normal' ? CC_SHN.NORMAL : CC_SHN.ABRUPT;
    const cc = target.mmioRead32(NVME_REG_CC);
    target.mmioWrite32(NVME_REG_CC, setBits(cc, CC.SHN, shn));
    this.settleUntil(
      () => getBits(target.mmioRead32(NVME_REG_CSTS), CSTS.SHST) === CSTS_SHST.COMPLETE,
      this.readyTimeoutMs,
    );
    this.dropAllQueues(`the controller was shut down (step ${this.step})`);
    return [];
  }

  private writeRegister(register: string, value: bigint): void {
    const target = this.target;
    const low = Number(value & 0xffff_ffffn);
    switch (register) {
      case 'CC': {
        const wasEnabled = getBits(target.mmioRead32(NVME_REG_CC), CC.EN) === 1;
        const enable = getBits(low, CC.EN) === 1;
        if (enable && !wasEnabled) {
          // A raw enable: the host's admin rings are where AQA/ASQ/ACQ say.
          this.dropAllQueues('the controller was enabled again');
          this.admin = {
            aqa: target.mmioRead32(NVME_REG_AQA),
            asq: target.mmioRead64(NVME_REG_ASQ),
            acq: target.mmioRead64(NVME_REG_ACQ),
          };
          this.registerAdmin();
          this.engine.interrupts.resetFeatures();
        }
        target.mmioWrite32(NVME_REG_CC, low);
        return;
      }
      case 'AQA':
        target.mmioWrite32(NVME_REG_AQA, low);
        return;
      case 'ASQ':
        target.mmioWrite64(NVME_REG_ASQ, value);
        return;
      case 'ACQ':
        target.mmioWrite64(NVME_REG_ACQ, value);
        return;
      case 'INTMS':
      case 'INTMC': {
        target.mmioWrite32(register === 'INTMS' ? NVME_REG_INTMS : NVME_REG_INTMC, low);
        if (this.mode === 'msi') {
          for (let v = 0; v < this.vectors; v++)
            if ((low >>> v) & 1) this.engine.interrupts.setMasked(v, register === 'INTMS');
        }
        return;
      }
      case 'NSSR':
        target.mmioWrite32(NVME_REG_NSSR, low);
        return;
    }
  }

  /** A raw doorbell write; a value whose effect depends on timing the host cannot see is the case's mistake. */
  private doorbell(queue: 'sq' | 'cq', qid: number, value: number): DoorbellVerdict {
    const engine = this.engine;
    const offset = queue === 'sq' ? sqTailDoorbell(qid, engine.dstrd) : cqHeadDoorbell(qid, engine.dstrd);
    const previous = this.target.mmioRead32(offset);
    if (queue === 'cq') return engine.writeCqDoorbell(qid, value, previous);
    const sq = engine.sq(qid);
    if (sq !== undefined && (sq.commands.size > 0 || sq.staged > 0) && value < sq.depth && value !== previous) {
      throw new ShapeError(
        `${this.at()}.value`,
        `SQ ${qid} has commands in flight, so whether tail ${value} is valid depends on how far the controller has fetched: write it when the queue is idle, or use a value of at least ${sq.depth}`,
      );
    }
    if (sq !== undefined && sq.commands.size === 0) sq.head = sq.doorbellTail;
    const verdict = engine.sqDoorbellVerdict(qid, value, previous);
    if (verdict === 'valid' && sq !== undefined) {
      throw new ShapeError(
        `${this.at()}.value`,
        `tail ${value} would announce slots of SQ ${qid} the host never wrote: submit commands with doorbell false, then ring`,
      );
    }
    return engine.writeSqDoorbell(qid, value, previous);
  }

  // ---- commands ----

  /** SQ `qid` on the host's side; when it does not exist (never created, or its creation failed) the case stops. */
  private requireSq(qid: number): HostSq<InFlight> | undefined {
    const sq = this.engine.sq(qid);
    if (sq === undefined)
      this.stop(`step ${this.step}: no SQ ${qid} to submit to (never created, or its creation failed)`);
    return sq;
  }

  /** Writes `commands` into SQ `qid` one after another; rings the tail doorbell once when `doorbell`. */
  private submit(qid: number, commands: readonly CaseCommand[], doorbell: boolean): InFlight[] {
    const sq = this.requireSq(qid);
    if (sq === undefined) return [];
    const memory = this.tb.memory;
    const out: InFlight[] = [];
    commands.forEach((command, i) => {
      if (sq.ringFull || (command.cid === undefined && sq.commands.exhausted)) {
        // The host waits for room, as a driver would, announcing what it has written so far (a batch
        // larger than the ring cannot wait for one doorbell); a controller that never frees it fails the case.
        this.engine.ring(sq);
        this.settleUntil(() => !sq.ringFull && !sq.commands.exhausted, this.timeoutMs);
        if (sq.ringFull || sq.commands.exhausted) {
          this.stop(`SQ ${qid} stayed full for ${this.timeoutMs} ms (SQHD ${sq.head}, tail ${sq.tail})`);
          return;
        }
      }
      const chosen = command.cid;
      if (chosen !== undefined && !sq.commands.available(chosen))
        throw new ShapeError(`${this.at()}.commands[${i}].cid`, `CID ${chosen} is still outstanding on SQ ${qid}`);
      const cid = chosen ?? (this.engine.allocateCid(sq) as number);
      const label =
        command.id ?? `steps[${this.step}]${this.c.steps[this.step]?.do === 'submit' ? `.commands[${i}]` : ''}`;
      const cmd: InFlight = {
        cid,
        index: this.commands.length,
        step: this.step,
        label,
        qid,
        command,
        expect: command.expect,
        grants: (command.grants ?? []).map((g) => memory.grant(g)),
        failures: [],
        status: undefined,
        dw0: 0,
        lost: undefined,
        written: undefined,
      };
      this.commands.push(cmd);
      if (command.id !== undefined) this.byId.set(command.id, cmd);
      this.engine.stage(sq, this.encode(command, cid), cmd, chosen === undefined);
      out.push(cmd);
    });
    if (doorbell) this.engine.ring(sq);
    return out;
  }

  private encode(command: CaseCommand, cid: number): Uint8Array {
    const fields: Partial<Sqe> = { ...caseCommandSqe(command), cid };
    encodeSqe(sqe(fields), this.sqeBytes);
    const s = command.sgl1;
    if (s !== undefined) {
      encodeSgl({ address: s.addr, length: s.length, type: s.type, subtype: s.subtype }, this.sqeBytes, SQE.SGL1.off);
    }
    return this.sqeBytes;
  }
}
