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
import {
  type BusFault,
  EpcConfigError,
  type EpcProfile,
  findProfile,
  hex,
  PROFILE_NAMES,
  parseProfile,
} from '@epfsim/epc-core';
import { isNvmeConfigError, type NvmeFunctionConfigInput, statusKey } from '@epfsim/nvme-epf';
import {
  type CompletionEntry,
  type DoorbellVerdict,
  type HostInterruptMode,
  type HostSq,
  QueueEngine,
  type TrackedCommand,
} from '@epfsim/nvme-host';
import {
  AdminOpcode,
  AQA,
  adminOpcodeName,
  CC,
  CC_SHN,
  CQE_SIZE,
  CREATE_IO_CQ,
  CREATE_IO_SQ,
  CSTS,
  CSTS_SHST,
  cqHeadDoorbell,
  createIoCqFields,
  createIoSqFields,
  DELETE_IO_QUEUE,
  decodeCap,
  deleteIoCqFields,
  deleteIoSqFields,
  encodeCc,
  encodeSgl,
  encodeSqe,
  FEATURE_DW11,
  FeatureId,
  formatStatus,
  getBits,
  NVME_CAP_TO_UNIT_MS,
  NVME_NVM_IOCQES,
  NVME_NVM_IOSQES,
  NVME_REG_ACQ,
  NVME_REG_AQA,
  NVME_REG_ASQ,
  NVME_REG_CAP,
  NVME_REG_CC,
  NVME_REG_CSTS,
  NVME_REG_INTMC,
  NVME_REG_INTMS,
  NVME_REG_NSSR,
  type NvmeStatus,
  nvmOpcodeName,
  packFields,
  parseStatus,
  SET_FEATURES_CDW10,
  SQE,
  SQE_SIZE,
  type Sqe,
  setBits,
  sqe,
  sqTailDoorbell,
  statusCrd,
  statusDnr,
  statusMore,
  statusSc,
  statusSct,
} from '@epfsim/nvme-spec-types';
import { HostSimConfigError } from '../../host/errors.js';
import type { GrantId } from '../../host/memory/grant-table.js';
import type { HostMemory } from '../../host/memory/host-memory.js';
import { formatRange, type HostRange, rangeEnd, rangesOverlap } from '../../host/memory/host-range.js';
import { createTestbed, type Testbed } from '../../host/target/epfsim-target.js';
import type { FunctionAccount } from '../../host/target/function-account.js';
import type { NvmeTarget } from '../../host/target/target.js';
import { withFunctionAccount } from './case-account.js';
import {
  type CaseBytes,
  type CaseCommand,
  type CaseCommandExpect,
  type CaseFile,
  type CaseRange,
  type CaseStep,
  type CaseStepExpect,
  caseBytesSize,
  caseCommandSqe,
} from './case-file.js';
import { fillPattern } from './data-pattern.js';
import { ShapeError } from './json-shape.js';

/** Simulated time a command (or a bring-up step) may take before the replay gives up on it. */
export const CASE_COMMAND_TIMEOUT_MS = 1000;
/** MSI-X tables hold up to 2048 vectors, MSI up to 32 messages (PCI Local Bus 3.0 §6.8). */
const MSIX_MAX_VECTORS = 2048;
const MSI_MAX_VECTORS = 32;
/** Device steps with no work and nothing reaped before a settled state is declared. */
const IDLE_STEPS = 2;
/** The CQ ring's entry and the SQ ring's entry. */
const RING_ENTRY = { cq: CQE_SIZE, sq: SQE_SIZE } as const;
/** AER completion DW0 fields (Q-11): type 2:0, info 15:8, log page 23:16. */
const AER_DW0 = { TYPE: { bit: 0, len: 3 }, INFO: { bit: 8, len: 8 }, LID: { bit: 16, len: 8 } } as const;
/** CC fields an `enable` step programs unless the case says otherwise (Linux's values). */
const DEFAULT_CC = { EN: 1, CSS: 0, MPS: 0, AMS: 0, SHN: 0, IOSQES: NVME_NVM_IOSQES, IOCQES: NVME_NVM_IOCQES } as const;

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

/** Host memory a replay places the case in; it must tell whether a range is all RAM. */
export interface ReplayMemory extends HostMemory {
  isRam(addr: bigint, size: number): boolean;
}

/**
 * What a replay drives: a target and its host memory, and the checks only an in-process host can
 * make. A target without them (QEMU: no IOMMU, no view of refused accesses, no EPC) leaves them
 * out and those checks are not applicable.
 */
export interface ReplayBed {
  readonly target: NvmeTarget;
  readonly memory: ReplayMemory;
  /** Device accesses refused so far: how many, and the log of the first ones. */
  readonly faults?: { readonly count: () => number; readonly log: () => readonly BusFault[] };
  /** Interrupt messages that did not match an enabled vector. */
  readonly malformedInterrupts?: () => readonly { addr: bigint; size: number; data: number }[];
  /** The endpoint controller's map contract. */
  readonly epc?: {
    /** Maps live beyond the function's persistent ones. */
    leaks(): number;
    violations(): readonly { kind: string; message: string }[];
    liveMaps(): number;
  };
}

/** A replay bed over the in-process testbed: every check applies. */
export function testbedReplayBed(tb: Testbed): ReplayBed {
  return {
    target: tb.target,
    memory: tb.memory,
    faults: { count: () => tb.memory.space.faultCount, log: () => tb.memory.busFaults },
    malformedInterrupts: () => tb.doorbell.malformed,
    epc: {
      leaks: () => tb.leaks(),
      violations: () => tb.epc.checker.violations,
      liveMaps: () => tb.epc.liveMaps.length,
    },
  };
}

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

/** The in-process testbed a case asks for. */
export function openCaseTestbed(c: CaseFile): Testbed {
  const profile = caseProfile(c.profile);
  try {
    // Not strict: a leak is reported by the replay, not thrown from inside the function.
    return createTestbed({
      profile,
      strict: false,
      function: c.controller as NvmeFunctionConfigInput,
      faults: c.inject,
    });
  } catch (error) {
    if (isNvmeConfigError(error)) {
      throw new ShapeError(`case.controller.${error.field}`, error.message.slice(error.field.length + 2));
    }
    if (error instanceof HostSimConfigError) throw new ShapeError('case.inject', error.message);
    throw error;
  }
}

/** A built-in profile by name, or an inline profile object (validated like a profile file). */
function caseProfile(profile: CaseFile['profile']): EpcProfile {
  if (typeof profile !== 'string') {
    try {
      return parseProfile(profile, 'case.profile');
    } catch (error) {
      if (error instanceof EpcConfigError) throw new ShapeError('case.profile', error.message);
      throw error;
    }
  }
  const found = findProfile(profile);
  if (found === undefined) {
    throw new ShapeError('case.profile', `unknown profile '${profile}' (built-in: ${PROFILE_NAMES.join(', ')})`);
  }
  return found;
}

/** A command on its way: what the engine tracks and the reaper fills in. */
interface InFlight extends TrackedCommand {
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
interface RingGrant {
  readonly range: HostRange;
  readonly grant: GrantId;
}

/** One replay: the host side of the case over one bed. */
class CaseReplay {
  private readonly c: CaseFile;
  private readonly tb: ReplayBed;
  private readonly target: NvmeTarget;
  private readonly timeoutMs: number;
  private readonly captureWrites: boolean;
  private readonly engine: QueueEngine<InFlight>;
  private readonly commands: InFlight[] = [];
  private readonly byId = new Map<string, InFlight>();
  private readonly steps: StepReport[] = [];
  private readonly failures: string[] = [];
  private readonly sqRings = new Map<number, RingGrant>();
  private readonly cqRings = new Map<number, RingGrant>();
  private readonly sqeBytes = new Uint8Array(SQE_SIZE);
  /** Bus faults already accounted for. */
  private faultsSeen = 0;
  private readyTimeoutMs = NVME_CAP_TO_UNIT_MS;
  private vectors = 0;
  private mode: HostInterruptMode = 'none';
  /** Registers the host last wrote for the admin queue (a raw enable uses them). */
  private admin = { aqa: 0, asq: 0n, acq: 0n };
  private step = 0;
  private stopped: string | undefined;
  private readonly completedNow: InFlight[] = [];

  constructor(c: CaseFile, tb: ReplayBed, timeoutMs: number, captureWrites: boolean) {
    this.c = c;
    this.tb = tb;
    this.target = tb.target;
    this.timeoutMs = timeoutMs;
    this.captureWrites = captureWrites;
    this.engine = new QueueEngine<InFlight>(tb.target, { onCompletion: (cmd, cqe) => this.completed(cmd, cqe) });
  }

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

  // ---- memory ----

  /** Places the case's memory with its content and grants; every data check must fall in it. */
  private placeMemory(): void {
    const memory = this.tb.memory;
    this.c.memory.forEach((m, i) => {
      if (!memory.isFree(m.addr, m.size)) {
        throw new ShapeError(`case.memory[${i}]`, `${formatRange(m)} overlaps other memory or reserved MMIO`);
      }
      memory.place(m.addr, m.size);
      if (m.content !== undefined) memory.write(m.addr, bytesOf(m.content));
      const grant = m.grant ?? 'read-write';
      if (grant === 'read' || grant === 'read-write') memory.grant({ addr: m.addr, size: m.size, direction: 'read' });
      if (grant === 'write' || grant === 'read-write') memory.grant({ addr: m.addr, size: m.size, direction: 'write' });
    });
    this.c.steps.forEach((s, i) => {
      const commands = s.do === 'submit' ? s.commands : [];
      commands.forEach((cmd, j) => {
        cmd.expect?.data?.forEach((d, k) => {
          const range = { addr: d.addr, size: caseBytesSize(d.expected) };
          if (!this.c.memory.some((m) => m.addr <= range.addr && rangeEnd(m) >= rangeEnd(range)))
            throw new ShapeError(
              `case.steps[${i}].commands[${j}].expect.data[${k}]`,
              `${formatRange(range)} is not in the case's memory`,
            );
        });
      });
    });
  }

  /** RAM for a ring the host is about to hand the controller (placed unless the case's memory holds it), granted. */
  private ring(kind: 'sq' | 'cq', addr: bigint, entries: number): RingGrant {
    const memory = this.tb.memory;
    const range = { addr, size: entries * RING_ENTRY[kind] };
    if (rangeEnd(range) > 1n << 64n) throw new ShapeError(this.at(), `the ${kind.toUpperCase()} ring wraps past 2^64`);
    if (memory.isFree(range.addr, range.size)) memory.place(range.addr, range.size);
    else if (!memory.isRam(range.addr, range.size))
      throw new ShapeError(this.at(), `the ${kind.toUpperCase()} ring ${formatRange(range)} is partly outside memory`);
    // A new CQ starts zeroed, so no stale entry carries the phase the host expects (Q-5).
    if (kind === 'cq') memory.zero(range.addr, range.size);
    return { range, grant: memory.grant({ ...range, direction: kind === 'cq' ? 'write' : 'read' }) };
  }

  private dropRing(rings: Map<number, RingGrant>, qid: number): void {
    const r = rings.get(qid);
    if (r === undefined) return;
    this.tb.memory.revoke(r.grant);
    rings.delete(qid);
  }

  // ---- interrupts ----

  /**
   * MSI-X, else MSI, else INTx (as the host driver does), or the mode the case names; with every
   * vector the function offers, so any vector a CQ may name reaches the host.
   */
  private enableInterrupts(): void {
    const target = this.target;
    const order: HostInterruptMode[] =
      this.c.interrupts === 'auto' ? ['msix', 'msi', 'intx'] : this.c.interrupts === 'none' ? [] : [this.c.interrupts];
    for (const m of order) {
      const n =
        m === 'msix'
          ? target.enableMsix(MSIX_MAX_VECTORS)
          : m === 'msi'
            ? target.enableMsi(MSI_MAX_VECTORS)
            : target.enableIntx()
              ? 1
              : 0;
      if (n > 0) {
        this.mode = m;
        this.vectors = n;
        break;
      }
    }
    this.engine.setInterruptMode(this.mode, this.vectors);
  }

  /** Linux's vector for an I/O queue: its qid, shared round robin when there are fewer vectors. */
  private linuxVector(qid: number): number {
    return this.vectors > 1 ? 1 + ((qid - 1) % (this.vectors - 1)) : 0;
  }

  // ---- steps ----

  private at(): string {
    return `case.steps[${this.step}]`;
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

  /** The engine reaped a CQE for `cmd`. */
  private completed(cmd: InFlight, cqe: Readonly<CompletionEntry>): void {
    cmd.status = cqe.status;
    cmd.dw0 = cqe.dw0;
    for (const g of cmd.grants) this.tb.memory.revoke(g);
    const e = cmd.expect;
    if (e?.completes === 'no')
      cmd.failures.push(`completed with ${formatStatus(cqe.status)}, but no completion was expected`);
    if (e !== undefined) cmd.failures.push(...checkCqe(e, cqe), ...this.checkData(e));
    if (this.captureWrites) cmd.written = this.written(cmd.command);
    this.completedNow.push(cmd);
    if (cmd.qid === 0) this.adminDone(cmd);
  }

  /** What a successful admin command changes on the host's side: its queues and interrupt settings. */
  private adminDone(cmd: InFlight): void {
    if (cmd.status === undefined || statusSct(cmd.status) !== 0 || statusSc(cmd.status) !== 0) return;
    const c = cmd.command;
    const [cdw10, cdw11] = c.cdw;
    const engine = this.engine;
    switch (c.opcode) {
      case AdminOpcode.CREATE_IO_CQ: {
        const qid = getBits(cdw10, CREATE_IO_CQ.CDW10.QID);
        const size = getBits(cdw10, CREATE_IO_CQ.CDW10.QSIZE) + 1;
        const ien = getBits(cdw11, CREATE_IO_CQ.CDW11.IEN) === 1;
        this.cqRings.set(qid, this.ring('cq', c.prp1, size));
        engine.addCq(
          qid,
          c.prp1,
          size,
          ien && this.mode !== 'none' ? getBits(cdw11, CREATE_IO_CQ.CDW11.IV) : undefined,
        );
        return;
      }
      case AdminOpcode.CREATE_IO_SQ: {
        const qid = getBits(cdw10, CREATE_IO_SQ.CDW10.QID);
        const size = getBits(cdw10, CREATE_IO_SQ.CDW10.QSIZE) + 1;
        const cqid = getBits(cdw11, CREATE_IO_SQ.CDW11.CQID);
        if (engine.cq(cqid) === undefined) {
          cmd.failures.push(`the controller accepted SQ ${qid} on CQ ${cqid}, which the host never created`);
          return;
        }
        this.sqRings.set(qid, this.ring('sq', c.prp1, size));
        engine.addSq(qid, c.prp1, size, cqid);
        return;
      }
      case AdminOpcode.DELETE_IO_SQ: {
        const qid = getBits(cdw10, DELETE_IO_QUEUE.CDW10.QID);
        engine.removeSq(qid);
        this.dropRing(this.sqRings, qid);
        return;
      }
      case AdminOpcode.DELETE_IO_CQ: {
        const qid = getBits(cdw10, DELETE_IO_QUEUE.CDW10.QID);
        this.lose(engine.removeCq(qid), `CQ ${qid} was deleted`);
        this.dropRing(this.cqRings, qid);
        return;
      }
      case AdminOpcode.SET_FEATURES: {
        const fid = getBits(cdw10, SET_FEATURES_CDW10.FID);
        if (fid === FeatureId.INTERRUPT_COALESCING) {
          engine.interrupts.setCoalescing(
            getBits(cdw11, FEATURE_DW11.INTERRUPT_COALESCING.THR),
            getBits(cdw11, FEATURE_DW11.INTERRUPT_COALESCING.TIME),
          );
        } else if (fid === FeatureId.INTERRUPT_VECTOR_CONFIGURATION) {
          engine.interrupts.setCoalescingDisabled(
            getBits(cdw11, FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION.IV),
            getBits(cdw11, FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION.CD) === 1,
          );
        }
        return;
      }
    }
  }

  private lose(cmds: readonly InFlight[], why: string): void {
    for (const cmd of cmds) if (cmd.status === undefined && cmd.lost === undefined) cmd.lost = why;
  }

  /** Every queue is gone on the controller (reset, shutdown, re-enable): the host forgets them. */
  private dropAllQueues(why: string): void {
    this.lose(this.engine.clear(), why);
    for (const qid of [...this.sqRings.keys()]) this.dropRing(this.sqRings, qid);
    for (const qid of [...this.cqRings.keys()]) this.dropRing(this.cqRings, qid);
  }

  /** A controller that dropped RDY on its own (a raw CC write, a fatal error) has no queues left. */
  private dropQueuesIfReset(): void {
    if (this.engine.cq(0) === undefined) return;
    if (getBits(this.target.mmioRead32(NVME_REG_CSTS), CSTS.RDY) === 0) {
      this.dropAllQueues(`the controller is no longer ready (CSTS ${hex(this.target.mmioRead32(NVME_REG_CSTS))})`);
    }
  }

  // ---- running the controller ----

  /** One device step, then the host looks at interrupts and reaps every CQ. Returns whether anything happened. */
  private tick(): boolean {
    const work = this.target.step();
    this.engine.collectInterrupts();
    const reaped = this.engine.reapAll();
    this.checkFaults();
    return work > 0 || reaped > 0;
  }

  /** Runs the controller until it is idle (or `ms` pass); `final` also waits for commands expected to complete. */
  private settle(final = false): void {
    const deadline = this.target.now() + this.timeoutMs;
    let idle = 0;
    while (idle < IDLE_STEPS && this.target.now() < deadline) idle = this.tick() ? 0 : idle + 1;
    if (final) {
      const pending = this.commands.filter((c) => c.status === undefined && c.lost === undefined && expected(c));
      if (pending.length > 0) this.settleUntil(() => pending.every((c) => c.status !== undefined), this.timeoutMs);
    }
  }

  private settleUntil(done: () => boolean, ms: number): boolean {
    const deadline = this.target.now() + ms;
    for (;;) {
      if (done()) {
        this.settle();
        return true;
      }
      if (this.target.now() >= deadline) return false;
      this.tick();
    }
  }

  private runFor(ms: number): void {
    const end = this.target.now() + ms;
    while (this.target.now() < end) this.tick();
  }

  /** Waits for `cmds` to complete; a command that never does stops the case (its queue is in an unknown state). */
  private waitFor(cmds: readonly InFlight[]): void {
    const open = () => cmds.filter((c) => c.status === undefined && c.lost === undefined);
    if (this.settleUntil(() => open().length === 0, this.timeoutMs)) return;
    for (const c of open()) {
      if (c.expect?.completes === 'no' || c.expect?.completes === 'any') continue;
      this.stop(`${c.label} did not complete within ${this.timeoutMs} ms${this.fatalNote()}`);
    }
  }

  private stop(why: string): void {
    if (this.stopped === undefined) this.stopped = why;
  }

  private fatalNote(): string {
    return getBits(this.target.mmioRead32(NVME_REG_CSTS), CSTS.CFS) === 1 ? ' (controller fatal status, CSTS.CFS)' : '';
  }

  // ---- checks ----

  private interruptCounts(e: CaseStepExpect | undefined): Map<number, number> {
    const m = new Map<number, number>();
    for (const x of e?.interrupts ?? []) m.set(x.vector, this.target.interrupts.count(x.vector));
    return m;
  }

  private checkStep(e: CaseStepExpect | undefined, before: Map<number, number>): string[] {
    if (e === undefined) return [];
    const failures: string[] = [];
    if (e.csts !== undefined) {
      const csts = this.target.mmioRead32(NVME_REG_CSTS);
      for (const [field, want] of Object.entries(e.csts) as [keyof typeof CSTS, number][]) {
        const got = getBits(csts, CSTS[field]);
        if (got !== want) failures.push(`CSTS.${field} is ${got}, expected ${want} (CSTS ${hex(csts)})`);
      }
    }
    for (const x of e.interrupts ?? []) {
      const got = this.target.interrupts.count(x.vector) - (before.get(x.vector) ?? 0);
      if (got < x.min || got > x.max) {
        const want = x.min === x.max ? `${x.min}` : `${x.min} to ${x.max === Number.MAX_SAFE_INTEGER ? 'any' : x.max}`;
        failures.push(`${got} interrupts on vector ${x.vector}, expected ${want}`);
      }
    }
    return failures;
  }

  private checkData(e: CaseCommandExpect): string[] {
    const failures: string[] = [];
    for (const d of e.data ?? []) {
      const want = bytesOf(d.expected);
      const range = { addr: d.addr, size: want.length };
      if (!this.tb.memory.isRam(d.addr, want.length)) {
        failures.push(`data check ${formatRange(range)} is not in memory`);
        continue;
      }
      const got = new Uint8Array(want.length);
      this.tb.memory.read(d.addr, got);
      const at = firstDifference(got, want);
      if (at >= 0) {
        failures.push(
          `data at ${formatRange(range)} differs from byte ${hex(at)} (expected ${hex(want[at] ?? 0)}, got ${hex(got[at] ?? 0)})`,
        );
      }
    }
    return failures;
  }

  /** The bytes of `cmd`'s write grants that lie in the case's memory (a grant over a hole has none). */
  private written(cmd: CaseCommand): Uint8Array {
    const ranges = (cmd.grants ?? []).filter(
      (g) => g.direction === 'write' && this.c.memory.some((m) => m.addr <= g.addr && rangeEnd(m) >= rangeEnd(g)),
    );
    const out = new Uint8Array(ranges.reduce((n, r) => n + r.size, 0));
    let off = 0;
    for (const r of ranges) {
      this.tb.memory.read(r.addr, out.subarray(off, off + r.size));
      off += r.size;
    }
    return out;
  }

  /** Device accesses refused since the last look: each must be one a command in flight (or just completed) allows. */
  private checkFaults(): void {
    const faults = this.tb.faults;
    const completedNow = this.completedNow.splice(0);
    if (faults === undefined) return;
    const total = faults.count();
    if (total === this.faultsSeen) return;
    const allowed: { cmd: InFlight; range: CaseRange }[] = [];
    for (const cmd of [...this.engine.outstandingCommands(), ...completedNow]) {
      for (const range of cmd.expect?.faults ?? []) allowed.push({ cmd, range });
    }
    const log = faults.log();
    for (let i = this.faultsSeen; i < total; i++) {
      const f = log[i];
      if (f === undefined) {
        this.failures.push(`${total - i} more refused device accesses (not logged)`);
        break;
      }
      // One refused access may cover more than the expected range (a map over RAM and a hole): overlap is enough.
      if (allowed.some((a) => rangesOverlap(f, a.range))) continue;
      const during = this.engine.outstandingCommands()[0] ?? completedNow[0];
      const text = `device ${f.direction} of ${formatRange(f)} refused (${f.reason})`;
      if (during !== undefined) during.failures.push(`${text} during this command`);
      else this.failures.push(`${text} during step ${this.step}`);
    }
    this.faultsSeen = total;
  }

  // ---- the end ----

  /** Case-level checks: commands that never completed, protocol violations, interrupt messages, leaks. */
  private finish(): CaseReport {
    const tb = this.tb;
    if (this.stopped !== undefined) this.failures.push(`stopped: ${this.stopped}`);
    for (const cmd of this.commands) {
      if (cmd.status !== undefined || !expected(cmd)) continue;
      cmd.failures.push(
        cmd.lost === undefined
          ? `no completion within ${this.timeoutMs} ms${this.fatalNote()}`
          : `no completion: ${cmd.lost} while it was outstanding`,
      );
    }
    for (const v of this.engine.violations) this.failures.push(`protocol violation (${v.kind}): ${v.detail}`);
    for (const m of tb.malformedInterrupts?.() ?? []) {
      this.failures.push(`malformed interrupt message at ${hex(m.addr)} (${m.size} bytes, data ${hex(m.data)})`);
    }
    let leaks = 0;
    const epc = tb.epc;
    if (epc !== undefined) {
      try {
        leaks = epc.leaks();
        if (leaks > 0) this.failures.push(`${leaks} outbound mapping(s) leaked (live after every command completed)`);
        for (const v of epc.violations()) {
          if (v.kind !== 'leak') this.failures.push(`EPC contract violation (${v.kind}): ${v.message}`);
        }
        // A controller reset must release every mapping, the persistent CQ maps included.
        this.target.mmioWrite32(NVME_REG_CC, 0);
        this.settleUntil(() => getBits(this.target.mmioRead32(NVME_REG_CSTS), CSTS.RDY) === 0, this.readyTimeoutMs);
        const live = epc.liveMaps();
        if (live > 0) this.failures.push(`${live} outbound mapping(s) still live after a controller reset`);
      } catch (error) {
        this.failures.push(`threw ${(error as Error).name} while checking for leaks: ${(error as Error).message}`);
      }
    }
    const commands: CommandReport[] = this.commands.map((c) => ({
      index: c.index,
      step: c.step,
      label: c.label,
      qid: c.qid,
      opcode: c.command.opcode,
      command: c.command,
      cid: c.cid,
      status: c.status,
      failures: c.failures,
      ...(c.written === undefined ? {} : { written: c.written }),
    }));
    const ok =
      this.failures.length === 0 &&
      this.steps.every((s) => s.failures.length === 0) &&
      commands.every((c) => c.failures.length === 0);
    return {
      ok,
      steps: this.steps,
      commands,
      failures: this.failures,
      counts: {
        isolationViolations: tb.memory.isolationViolationCount,
        busFaults: tb.faults?.count() ?? 0,
        leaks,
        protocolViolations: this.engine.violationCount,
      },
    };
  }
}

/** A step's own expectations (a queue-management step's `expect` is its command's). */
function stepExpectOf(s: CaseStep): CaseStepExpect | undefined {
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
function expected(cmd: InFlight): boolean {
  return (cmd.expect?.completes ?? 'yes') === 'yes';
}

/** The SQE fields of a queue-management step. */
function queueCommand(
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
function checkCqe(e: CaseCommandExpect, cqe: Readonly<CompletionEntry>): string[] {
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
function sameStatus(actual: NvmeStatus, text: string): boolean {
  const expected = parseStatus(text);
  return expected !== undefined && statusSct(expected) === statusSct(actual) && statusSc(expected) === statusSc(actual);
}

/** The bytes a {@link CaseBytes} stands for. */
export function bytesOf(b: CaseBytes): Uint8Array {
  switch (b.kind) {
    case 'bytes':
      return b.bytes;
    case 'byte':
      return new Uint8Array(b.size).fill(b.value);
    case 'pattern':
      return fillPattern(new Uint8Array(caseBytesSize(b)), b.seed, b.offset);
  }
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
