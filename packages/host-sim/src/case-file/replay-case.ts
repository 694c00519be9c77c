/**
 * Replaying a case file: the testbed is built from the case's profile and controller
 * configuration, its memory is placed with its bytes and grants, the admin and I/O queues are set
 * up at the case's addresses (AQA/ASQ/ACQ, then Create I/O CQ and SQ), and each command's raw SQE
 * is submitted and waited for, one at a time. Everything the case expects is checked (status, data,
 * the only device accesses allowed to fail), and so is everything a correct controller must never
 * do: touch memory the host did not grant, fault anywhere unexpected, post a malformed CQE or
 * interrupt message, leak a mapping. `epfsim fuzz` runs its cases through the same function, so a
 * case file it writes replays exactly what failed.
 *
 * Bring-up is deliberately minimal (no Identify, no Set Features): the case's commands are the
 * only commands besides queue creation. Interrupts are enabled as the host driver does (MSI-X,
 * else MSI, else INTx), so the function's interrupt mappings are exercised, but completions are
 * found by polling the CQ ring.
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
  AdminOpcode,
  AQA,
  adminOpcodeName,
  CC,
  CC_AMS,
  CC_CSS,
  CC_SHN,
  CQE_SIZE,
  CREATE_IO_CQ,
  CREATE_IO_SQ,
  CSTS,
  cqeCid,
  cqePhase,
  cqeSqhd,
  cqeSqid,
  cqeStatus,
  cqHeadDoorbell,
  decodeCap,
  encodeCc,
  encodeSqe,
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
  type NvmeStatus,
  nvmOpcodeName,
  packFields,
  parseStatus,
  SQE_SIZE,
  sqe,
  sqTailDoorbell,
  statusSc,
  statusSct,
} from '@epfsim/nvme-spec-types';
import { UsageError } from '../cli/usage-error.js';
import { HostCompletionQueue, HostSubmissionQueue, MAX_QUEUE_DEPTH } from '../driver/host-queues.js';
import type { ProtocolViolation } from '../driver/protocol-violation.js';
import type { GrantId } from '../memory/grant-table.js';
import type { HostMemory } from '../memory/host-memory.js';
import { formatRange, type HostRange, rangeEnd, rangesOverlap } from '../memory/host-range.js';
import { createTestbed, type Testbed } from '../target/epfsim-target.js';
import type { FunctionAccount } from '../target/function-account.js';
import type { NvmeTarget } from '../target/target.js';
import { withFunctionAccount } from './case-account.js';
import { type CaseCommand, type CaseFile, type CaseQueue, type CaseRange, caseCommandSqe } from './case-file.js';

/** Simulated time a command (or a bring-up step) may take before the replay gives up on it. */
export const CASE_COMMAND_TIMEOUT_MS = 1000;
/** AQA.ASQS/ACQS are 12 bits, 0's based (Q-2). */
const ADMIN_QUEUE_MAX_DEPTH = 4096;
/** The controller page the replay programs: CC.MPS = 0, 4 KiB, as Linux does. */
const CTRL_MPS = 0;

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
  /** Index in the case's `commands`. */
  readonly index: number;
  readonly qid: number;
  readonly opcode: number;
  /** CID the replay gave it. */
  readonly cid: number;
  /** The completion status, or undefined when it never completed (or never ran). */
  readonly status: NvmeStatus | undefined;
  /** Expectations that failed and wrong device behaviour seen while it ran; empty when it passed. */
  readonly failures: readonly string[];
  /** With {@link ReplayOptions.captureWrites}: the bytes of its write grants after it completed, concatenated. */
  readonly written?: Uint8Array;
}

/** The outcome of a replay. */
export interface CaseReport {
  /** True when every expectation held and the controller did nothing wrong. */
  readonly ok: boolean;
  /** Queue setup problems (the commands did not run when there are any). */
  readonly setup: readonly string[];
  readonly commands: readonly CommandReport[];
  /** Problems not tied to one command: leaks, protocol violations, faults outside commands. */
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
  const setup = report.setup[0];
  if (setup !== undefined) return `setup: ${setup}`;
  for (const c of report.commands) {
    const failure = c.failures[0];
    if (failure !== undefined) return `command #${c.index} (qid ${c.qid}, ${opcodeText(c.qid, c.opcode)}): ${failure}`;
  }
  return report.failures[0];
}

/** A status as case files write it: `SCT/SCh`, e.g. `0/13h`. */
export function statusCode(status: NvmeStatus): string {
  return `${statusKey(status)}h`;
}

/** An opcode with its name from the admin (qid 0) or NVM command set: `READ 02h`. */
export function opcodeText(qid: number, opcode: number): string {
  const name = qid === 0 ? adminOpcodeName(opcode) : nvmOpcodeName(opcode);
  const code = `${opcode.toString(16).padStart(2, '0')}h`;
  return name === undefined ? `opcode ${code}` : `${name} ${code}`;
}

/**
 * Replays `c` on a fresh in-process testbed. Throws {@link UsageError} (one line naming the field)
 * when the case cannot be set up as written: an unknown profile, a controller option the function
 * refuses, memory that overlaps itself, a data check outside memory.
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

function openCaseTestbed(c: CaseFile): Testbed {
  const profile = caseProfile(c.profile);
  try {
    // Not strict: a leak is reported by the replay, not thrown from inside the function.
    return createTestbed({ profile, strict: false, function: c.controller as NvmeFunctionConfigInput });
  } catch (error) {
    if (isNvmeConfigError(error)) throw new UsageError(`case.controller.${error.message}`);
    throw error;
  }
}

/** A built-in profile by name, or an inline profile object (validated like a profile file). */
function caseProfile(profile: CaseFile['profile']): EpcProfile {
  if (typeof profile !== 'string') {
    try {
      return parseProfile(profile, 'case.profile');
    } catch (error) {
      if (error instanceof EpcConfigError) throw new UsageError(error.message);
      throw error;
    }
  }
  const found = findProfile(profile);
  if (found === undefined) {
    throw new UsageError(`case.profile: unknown profile '${profile}' (built-in: ${PROFILE_NAMES.join(', ')})`);
  }
  return found;
}

/** A command on its way: what the reaper fills in. */
interface InFlight {
  readonly sq: HostSubmissionQueue;
  readonly cid: number;
  status: NvmeStatus | undefined;
}

/** One replay: the host side of the case over one testbed. */
class CaseReplay {
  private readonly c: CaseFile;
  private readonly tb: ReplayBed;
  private readonly timeoutMs: number;
  private readonly captureWrites: boolean;
  private readonly sqs = new Map<number, HostSubmissionQueue>();
  private readonly cqs: HostCompletionQueue[] = [];
  private readonly violations: ProtocolViolation[] = [];
  private readonly inFlight = new Map<HostSubmissionQueue, InFlight>();
  private readonly cqeBytes = new Uint8Array(CQE_SIZE);
  private readonly cqeView = new DataView(this.cqeBytes.buffer);
  private readonly sqeBytes = new Uint8Array(SQE_SIZE);
  private dstrd = 0;
  private readyTimeoutMs = NVME_CAP_TO_UNIT_MS;
  /** Bus faults already accounted for (by a command's check or as a case-level failure). */
  private faultsSeen = 0;

  constructor(c: CaseFile, tb: ReplayBed, timeoutMs: number, captureWrites: boolean) {
    this.c = c;
    this.tb = tb;
    this.timeoutMs = timeoutMs;
    this.captureWrites = captureWrites;
  }

  run(): CaseReport {
    this.placeMemory();
    const setup: string[] = [];
    const commands: CommandReport[] = [];
    const failures: string[] = [];
    try {
      const problem = this.bringUp();
      if (problem !== undefined) setup.push(problem);
      else this.runCommands(commands);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      failures.push(`threw ${(error as Error).name}: ${(error as Error).message}`);
    }
    return this.finish(setup, commands, failures);
  }

  // ---- memory and queues ----

  /** Places the case's memory (bytes, grants) and the queue rings; checks data checks land in RAM. */
  private placeMemory(): void {
    const memory = this.tb.memory;
    this.c.memory.forEach((m, i) => {
      if (!memory.isFree(m.addr, m.size)) {
        throw new UsageError(`case.memory[${i}]: ${formatRange(m)} overlaps other memory or reserved MMIO`);
      }
      memory.place(m.addr, m.size);
      if (m.bytes !== undefined) memory.write(m.addr, m.bytes);
      const grant = m.grant ?? 'read-write';
      if (grant === 'read' || grant === 'read-write') memory.grant({ addr: m.addr, size: m.size, direction: 'read' });
      if (grant === 'write' || grant === 'read-write') memory.grant({ addr: m.addr, size: m.size, direction: 'write' });
    });
    const rings: { range: HostRange; at: string }[] = [];
    const queues: [CaseQueue, string][] = [
      [this.c.adminQueue, 'case.adminQueue'],
      ...this.c.ioQueues.map((q, i): [CaseQueue, string] => [q, `case.ioQueues[${i}]`]),
    ];
    for (const [q, at] of queues) {
      const limit = q.qid === 0 ? ADMIN_QUEUE_MAX_DEPTH : MAX_QUEUE_DEPTH;
      if (q.depth > limit) throw new UsageError(`${at}.depth: at most ${limit} entries`);
      rings.push({ range: { addr: q.sqAddr, size: q.depth * SQE_SIZE }, at: `${at}.sqAddr` });
      rings.push({ range: { addr: q.cqAddr, size: q.depth * CQE_SIZE }, at: `${at}.cqAddr` });
    }
    rings.forEach((ring, i) => {
      const other = rings.slice(0, i).find((r) => rangesOverlap(r.range, ring.range));
      if (other !== undefined) throw new UsageError(`${ring.at}: the ring overlaps the one at ${other.at}`);
      if (memory.isFree(ring.range.addr, ring.range.size)) memory.place(ring.range.addr, ring.range.size);
      else if (!memory.isRam(ring.range.addr, ring.range.size))
        throw new UsageError(`${ring.at}: the ring ${formatRange(ring.range)} is partly outside memory`);
    });
    this.c.commands.forEach((cmd, i) => {
      cmd.expect?.data?.forEach((d, j) => {
        if (!memory.isRam(d.addr, d.bytes.length))
          throw new UsageError(`case.commands[${i}].expect.data[${j}]: ${formatRange(checkRange(d))} is not in memory`);
      });
    });
  }

  /** Reset, admin queue, enable, interrupts, I/O queues. Returns a problem, or undefined when all is up. */
  private bringUp(): string | undefined {
    const target = this.tb.target;
    const cap = decodeCap(target.mmioRead64(NVME_REG_CAP));
    this.dstrd = cap.DSTRD;
    this.readyTimeoutMs = Math.max(1, cap.TO) * NVME_CAP_TO_UNIT_MS;
    const cc = target.mmioRead32(NVME_REG_CC);
    if (getBits(cc, CC.EN) === 1) {
      target.mmioWrite32(NVME_REG_CC, 0);
      if (!this.waitFor(() => getBits(target.mmioRead32(NVME_REG_CSTS), CSTS.RDY) === 0, this.readyTimeoutMs))
        return 'CSTS.RDY did not clear after CC.EN = 0';
    }
    const vectors = this.enableInterrupts();
    const admin = this.c.adminQueue;
    this.addQueuePair(admin, undefined);
    target.mmioWrite32(NVME_REG_AQA, packFields(AQA, { ASQS: admin.depth - 1, ACQS: admin.depth - 1 }));
    target.mmioWrite64(NVME_REG_ASQ, admin.sqAddr);
    target.mmioWrite64(NVME_REG_ACQ, admin.cqAddr);
    target.mmioWrite32(
      NVME_REG_CC,
      encodeCc({
        EN: 1,
        CSS: CC_CSS.NVM,
        MPS: CTRL_MPS,
        AMS: CC_AMS.RR,
        SHN: CC_SHN.NONE,
        IOSQES: NVME_NVM_IOSQES,
        IOCQES: NVME_NVM_IOCQES,
      }),
    );
    let fatal = false;
    const ready = this.waitFor(() => {
      const csts = target.mmioRead32(NVME_REG_CSTS);
      fatal = getBits(csts, CSTS.CFS) === 1;
      return fatal || getBits(csts, CSTS.RDY) === 1;
    }, this.readyTimeoutMs);
    if (fatal) return 'CSTS.CFS set while enabling the controller';
    if (!ready) return `CSTS.RDY not set within ${this.readyTimeoutMs} ms`;
    for (const q of this.c.ioQueues) {
      // Linux's vector choice: IV = qid, shared round robin when there are fewer vectors than queues.
      const iv = vectors > 1 ? 1 + ((q.qid - 1) % (vectors - 1)) : 0;
      const createCq = this.adminCommand(AdminOpcode.CREATE_IO_CQ, q.cqAddr, [
        packFields(CREATE_IO_CQ.CDW10, { QID: q.qid, QSIZE: q.depth - 1 }),
        packFields(CREATE_IO_CQ.CDW11, { PC: 1, IEN: vectors > 0 ? 1 : 0, IV: iv }),
      ]);
      if (createCq !== 0) return `Create I/O CQ ${q.qid}: ${statusText(createCq)}`;
      const createSq = this.adminCommand(AdminOpcode.CREATE_IO_SQ, q.sqAddr, [
        packFields(CREATE_IO_SQ.CDW10, { QID: q.qid, QSIZE: q.depth - 1 }),
        packFields(CREATE_IO_SQ.CDW11, { PC: 1, QPRIO: 0, CQID: q.qid }),
      ]);
      if (createSq !== 0) return `Create I/O SQ ${q.qid}: ${statusText(createSq)}`;
      this.addQueuePair(q, vectors > 0 ? iv : undefined);
    }
    return this.faultsSince('queue setup')[0];
  }

  /** MSI-X, else MSI, else INTx, as the host driver does; returns the vectors enabled (0: none). */
  private enableInterrupts(): number {
    const target = this.tb.target;
    const wanted = this.c.ioQueues.length + 1;
    const msix = target.enableMsix(wanted);
    if (msix > 0) return msix;
    const msi = target.enableMsi(wanted);
    if (msi > 0) return msi;
    return target.enableIntx() ? 1 : 0;
  }

  private addQueuePair(q: CaseQueue, vector: number | undefined): void {
    const memory = this.tb.memory;
    const ring = (addr: bigint, size: number) => ({ range: { addr, size }, tags: [], release: () => {} });
    const cqRange = { addr: q.cqAddr, size: q.depth * CQE_SIZE };
    // A new CQ starts zeroed, so no stale entry carries the phase the host expects.
    memory.zero(cqRange.addr, cqRange.size);
    const cqGrant: GrantId = memory.grant({ ...cqRange, direction: 'write' });
    const cq = new HostCompletionQueue(q.qid, q.depth, ring(cqRange.addr, cqRange.size), cqGrant, vector);
    const sqGrant: GrantId = memory.grant({ addr: q.sqAddr, size: q.depth * SQE_SIZE, direction: 'read' });
    const sq = new HostSubmissionQueue(q.qid, q.depth, ring(q.sqAddr, q.depth * SQE_SIZE), sqGrant, cq);
    cq.sqs.push(sq);
    this.cqs.push(cq);
    this.sqs.set(q.qid, sq);
  }

  /** An admin command without data whose PRP1 is a queue base (Create I/O CQ/SQ). */
  private adminCommand(opcode: number, prp1: bigint, cdw: readonly number[]): NvmeStatus | undefined {
    const cmd = this.submit(0, { opcode, prp1, cdw10: cdw[0] ?? 0, cdw11: cdw[1] ?? 0 });
    return this.wait(cmd) ? cmd.status : undefined;
  }

  // ---- commands ----

  private runCommands(reports: CommandReport[]): void {
    const memory = this.tb.memory;
    for (const [index, cmd] of this.c.commands.entries()) {
      const grants = (cmd.grants ?? []).map((g) => memory.grant(g));
      const pending = this.submit(cmd.qid, caseCommandSqe(cmd));
      const completed = this.wait(pending);
      for (const g of grants) memory.revoke(g);
      const failures = completed
        ? this.check(cmd, pending.status as NvmeStatus)
        : [`no completion within ${this.timeoutMs} ms${this.fatal() ? ' (controller fatal status, CSTS.CFS)' : ''}`];
      failures.push(...this.faultsSince('this command', cmd.expect?.faults));
      reports.push({
        index,
        qid: cmd.qid,
        opcode: cmd.opcode,
        cid: pending.cid,
        status: pending.status,
        failures,
        ...(this.captureWrites ? { written: this.written(cmd) } : {}),
      });
      // A command that never completed leaves its queue in an unknown state: stop here.
      if (!completed) return;
    }
  }

  /** The status and data expectations of `cmd`. */
  private check(cmd: CaseCommand, status: NvmeStatus): string[] {
    const failures: string[] = [];
    const expect = cmd.expect;
    const accepted = expect?.status;
    if (accepted !== undefined && !accepted.some((text) => sameStatus(status, text))) {
      failures.push(`status ${statusText(status)}, expected ${accepted.join(' or ')}`);
    }
    for (const d of expect?.data ?? []) {
      const got = new Uint8Array(d.bytes.length);
      this.tb.memory.read(d.addr, got);
      const at = firstDifference(got, d.bytes);
      if (at >= 0) {
        failures.push(
          `data at ${formatRange(checkRange(d))} differs from byte ${hex(at)} (expected ${hex(d.bytes[at] ?? 0)}, got ${hex(got[at] ?? 0)})`,
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

  /** Device accesses refused since the last look, outside `allowed`, as failures. */
  private faultsSince(when: string, allowed: readonly CaseRange[] = []): string[] {
    const faults = this.tb.faults;
    if (faults === undefined) return [];
    const total = faults.count();
    const log = faults.log();
    const failures: string[] = [];
    for (let i = this.faultsSeen; i < total; i++) {
      const f = log[i];
      // One refused access may cover more than the expected range (a map over RAM and a hole): overlap is enough.
      if (f !== undefined && allowed.some((r) => rangesOverlap(f, r))) continue;
      failures.push(
        f === undefined
          ? `${total - i} more refused device accesses during ${when} (not logged)`
          : `device ${f.direction} of ${formatRange(f)} refused (${f.reason}) during ${when}`,
      );
      if (f === undefined) break;
    }
    this.faultsSeen = total;
    return failures;
  }

  // ---- submission and completion ----

  private submit(qid: number, fields: Parameters<typeof sqe>[0]): InFlight {
    const sq = this.sqs.get(qid);
    if (sq === undefined) throw new Error(`replay: no SQ ${qid}`);
    const cid = sq.allocateCid();
    encodeSqe(sqe({ ...fields, cid }), this.sqeBytes);
    const slot = sq.push();
    this.tb.memory.write(sq.slotAddress(slot), this.sqeBytes);
    const pending: InFlight = { sq, cid, status: undefined };
    this.inFlight.set(sq, pending);
    this.tb.target.mmioWrite32(sqTailDoorbell(qid, this.dstrd), sq.tail);
    return pending;
  }

  /** Steps the device and reaps until `cmd` completes; false when it did not within the timeout. */
  private wait(cmd: InFlight): boolean {
    return this.waitFor(() => {
      for (const cq of this.cqs) this.reap(cq);
      return cmd.status !== undefined;
    }, this.timeoutMs);
  }

  /** Consumes the new entries of `cq` by phase tag, validating each, and rings its head doorbell. */
  private reap(cq: HostCompletionQueue): void {
    const memory = this.tb.memory;
    let n = 0;
    for (;;) {
      memory.read(cq.slotAddress(cq.head), this.cqeBytes);
      if (cqePhase(this.cqeView, 0) !== cq.phase) break;
      if (n === cq.depth - 1) {
        this.violation('cq-overflow', cq.qid, `more than ${cq.depth - 1} new entries before a head doorbell`);
        break;
      }
      this.handleCqe(cq);
      cq.advance();
      n++;
    }
    if (n > 0) this.tb.target.mmioWrite32(cqHeadDoorbell(cq.qid, this.dstrd), cq.head);
  }

  private handleCqe(cq: HostCompletionQueue): void {
    const v = this.cqeView;
    const sqid = cqeSqid(v, 0);
    const cid = cqeCid(v, 0);
    const sqhd = cqeSqhd(v, 0);
    const sq = this.sqs.get(sqid);
    if (sq === undefined || sq.cq !== cq) {
      this.violation('cqe-unknown-sqid', cq.qid, `SQID ${sqid} does not feed CQ ${cq.qid}`, cid);
      return;
    }
    if (sqhd >= sq.depth || sq.distance(sq.head, sqhd) > sq.distance(sq.head, sq.tail)) {
      this.violation('cqe-sqhd', cq.qid, `SQ ${sqid}: SQHD ${sqhd} outside [${sq.head}, ${sq.tail}]`, cid);
    } else {
      sq.head = sqhd;
    }
    const pending = this.inFlight.get(sq);
    if (pending === undefined || pending.cid !== cid) {
      this.violation('cqe-unknown-cid', cq.qid, `SQ ${sqid}: CID ${cid} is not outstanding`, cid);
      return;
    }
    this.inFlight.delete(sq);
    sq.releaseCid(cid);
    pending.status = cqeStatus(v, 0);
  }

  /** Steps the target until `done()` or `ms` of target time pass. */
  private waitFor(done: () => boolean, ms: number): boolean {
    const target = this.tb.target;
    const deadline = target.now() + ms;
    for (;;) {
      if (done()) return true;
      if (target.now() >= deadline) return false;
      target.step();
    }
  }

  private fatal(): boolean {
    return getBits(this.tb.target.mmioRead32(NVME_REG_CSTS), CSTS.CFS) === 1;
  }

  private violation(kind: ProtocolViolation['kind'], qid: number, detail: string, cid?: number): void {
    this.violations.push({ kind, qid, at: this.tb.target.now(), detail, ...(cid === undefined ? {} : { cid }) });
  }

  // ---- the end ----

  /** Case-level checks: protocol violations, interrupt messages, leaks before and after a reset. */
  private finish(setup: string[], commands: CommandReport[], failures: string[]): CaseReport {
    const tb = this.tb;
    failures.push(...this.faultsSince('the case'));
    for (const v of this.violations) failures.push(`protocol violation (${v.kind}) on CQ ${v.qid}: ${v.detail}`);
    for (const m of tb.malformedInterrupts?.() ?? []) {
      failures.push(`malformed interrupt message at ${hex(m.addr)} (${m.size} bytes, data ${hex(m.data)})`);
    }
    let leaks = 0;
    const epc = tb.epc;
    if (epc !== undefined) {
      try {
        leaks = epc.leaks();
        if (leaks > 0) failures.push(`${leaks} outbound mapping(s) leaked (live after every command completed)`);
        for (const v of epc.violations()) {
          if (v.kind !== 'leak') failures.push(`EPC contract violation (${v.kind}): ${v.message}`);
        }
        // A controller reset must release every mapping, the persistent CQ maps included.
        tb.target.mmioWrite32(NVME_REG_CC, 0);
        this.waitFor(() => getBits(tb.target.mmioRead32(NVME_REG_CSTS), CSTS.RDY) === 0, this.readyTimeoutMs);
        const live = epc.liveMaps();
        if (live > 0) failures.push(`${live} outbound mapping(s) still live after a controller reset`);
      } catch (error) {
        failures.push(`threw ${(error as Error).name} while checking for leaks: ${(error as Error).message}`);
      }
    }
    const ok = setup.length === 0 && failures.length === 0 && commands.every((c) => c.failures.length === 0);
    return {
      ok,
      setup,
      commands,
      failures,
      counts: {
        isolationViolations: tb.memory.isolationViolationCount,
        busFaults: tb.faults?.count() ?? 0,
        leaks,
        protocolViolations: this.violations.length,
      },
    };
  }
}

/** Same status type and code as the reference text ("0/13h"); DNR, More and CRD do not matter. */
function sameStatus(actual: NvmeStatus, text: string): boolean {
  const expected = parseStatus(text);
  return expected !== undefined && statusSct(expected) === statusSct(actual) && statusSc(expected) === statusSc(actual);
}

function statusText(status: NvmeStatus | undefined): string {
  return status === undefined ? 'no completion' : formatStatus(status);
}

function checkRange(d: { addr: bigint; bytes: Uint8Array }): HostRange {
  return { addr: d.addr, size: d.bytes.length };
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
