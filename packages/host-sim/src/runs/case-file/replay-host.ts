/** The host side of a case replay: memory, rings, interrupts, completions, settling, the closing checks. */
import { hex } from '@epfsim/epc-core';
import { type CompletionEntry, type HostInterruptMode, QueueEngine } from '@epfsim/nvme-host';
import {
  AdminOpcode,
  CQE_SIZE,
  CREATE_IO_CQ,
  CREATE_IO_SQ,
  CSTS,
  DELETE_IO_QUEUE,
  FEATURE_DW11,
  FeatureId,
  formatStatus,
  getBits,
  NVME_CAP_TO_UNIT_MS,
  NVME_NVM_IOCQES,
  NVME_NVM_IOSQES,
  NVME_REG_CC,
  NVME_REG_CSTS,
  SET_FEATURES_CDW10,
  SQE_SIZE,
  statusSc,
  statusSct,
} from '@epfsim/nvme-spec-types';
import { formatRange, rangeEnd, rangesOverlap } from '../../host/memory/host-range.js';
import { enableFirstInterrupts, type InterruptKind } from '../../host/target/interrupt-mode.js';
import type { NvmeTarget } from '../../host/target/target.js';
import {
  type CaseCommand,
  type CaseCommandExpect,
  type CaseFile,
  type CaseRange,
  type CaseStepExpect,
  caseBytesSize,
} from './case-file.js';
import { ShapeError } from './json-shape.js';
import type { ReplayBed } from './replay-bed.js';
import { bytesOf, checkCqe, expected, firstDifference, type InFlight, type RingGrant } from './replay-checks.js';
import type { CaseReport, CommandReport, StepReport } from './replay-report.js';

/** Simulated time a command (or a bring-up step) may take before the replay gives up on it. */
export const CASE_COMMAND_TIMEOUT_MS = 1000;
/** MSI-X tables hold up to 2048 vectors, MSI up to 32 messages (PCI Local Bus 3.0 §6.8). */
export const MSIX_MAX_VECTORS = 2048;
export const MSI_MAX_VECTORS = 32;
/** Device steps with no work and nothing reaped before a settled state is declared. */
export const IDLE_STEPS = 2;
/** The CQ ring's entry and the SQ ring's entry. */
export const RING_ENTRY = { cq: CQE_SIZE, sq: SQE_SIZE } as const;
/** AER completion DW0 fields: type 2:0, info 15:8, log page 23:16. */
export const AER_DW0 = { TYPE: { bit: 0, len: 3 }, INFO: { bit: 8, len: 8 }, LID: { bit: 16, len: 8 } } as const;
/** CC fields an `enable` step programs unless the case says otherwise (Linux's values). */
export const DEFAULT_CC = {
  EN: 1,
  CSS: 0,
  MPS: 0,
  AMS: 0,
  SHN: 0,
  IOSQES: NVME_NVM_IOSQES,
  IOCQES: NVME_NVM_IOCQES,
} as const;

/**
 * The host side of one replay, below its steps: the case's memory and rings with their grants,
 * interrupts, the queue engine and its completions, waiting and settling, and the checks that end a
 * replay. {@link CaseReplay} runs the steps on it.
 */
export abstract class ReplayHost {
  protected readonly c: CaseFile;
  protected readonly tb: ReplayBed;
  protected readonly target: NvmeTarget;
  protected readonly timeoutMs: number;
  protected readonly captureWrites: boolean;
  protected readonly engine: QueueEngine<InFlight>;
  protected readonly commands: InFlight[] = [];
  protected readonly byId = new Map<string, InFlight>();
  protected readonly steps: StepReport[] = [];
  protected readonly failures: string[] = [];
  protected readonly sqRings = new Map<number, RingGrant>();
  protected readonly cqRings = new Map<number, RingGrant>();
  protected readonly sqeBytes = new Uint8Array(SQE_SIZE);
  /** Bus faults already accounted for. */
  protected faultsSeen = 0;
  protected readyTimeoutMs = NVME_CAP_TO_UNIT_MS;
  protected vectors = 0;
  protected mode: HostInterruptMode = 'none';
  /** Registers the host last wrote for the admin queue (a raw enable uses them). */
  protected admin = { aqa: 0, asq: 0n, acq: 0n };
  protected step = 0;
  protected stopped: string | undefined;
  protected readonly completedNow: InFlight[] = [];

  constructor(c: CaseFile, tb: ReplayBed, timeoutMs: number, captureWrites: boolean) {
    this.c = c;
    this.tb = tb;
    this.target = tb.target;
    this.timeoutMs = timeoutMs;
    this.captureWrites = captureWrites;
    this.engine = new QueueEngine<InFlight>(tb.target, { onCompletion: (cmd, cqe) => this.completed(cmd, cqe) });
  }

  // ---- memory ----

  /** Places the case's memory with its content and grants; every data check must fall in it. */
  protected placeMemory(): void {
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
    // Ends computed once: a case checks data against its memory many times.
    const ranges = this.c.memory.map((m) => ({ addr: m.addr, end: rangeEnd(m) }));
    this.c.steps.forEach((s, i) => {
      if (s.do !== 'submit') return;
      s.commands.forEach((cmd, j) => {
        cmd.expect?.data?.forEach((d, k) => {
          const end = d.addr + BigInt(caseBytesSize(d.expected));
          if (!ranges.some((m) => m.addr <= d.addr && m.end >= end))
            throw new ShapeError(
              `case.steps[${i}].commands[${j}].expect.data[${k}]`,
              `${formatRange({ addr: d.addr, size: caseBytesSize(d.expected) })} is not in the case's memory`,
            );
        });
      });
    });
  }

  /** RAM for a ring the host is about to hand the controller (placed unless the case's memory holds it), granted. */
  protected ring(kind: 'sq' | 'cq', addr: bigint, entries: number): RingGrant {
    const memory = this.tb.memory;
    const range = { addr, size: entries * RING_ENTRY[kind] };
    if (rangeEnd(range) > 1n << 64n) throw new ShapeError(this.at(), `the ${kind.toUpperCase()} ring wraps past 2^64`);
    if (memory.isFree(range.addr, range.size)) memory.place(range.addr, range.size);
    else if (!memory.isRam(range.addr, range.size))
      throw new ShapeError(this.at(), `the ${kind.toUpperCase()} ring ${formatRange(range)} is partly outside memory`);
    // A new CQ starts zeroed, so no stale entry carries the phase the host expects.
    if (kind === 'cq') memory.zero(range.addr, range.size);
    return { range, grant: memory.grant({ ...range, direction: kind === 'cq' ? 'write' : 'read' }) };
  }

  protected dropRing(rings: Map<number, RingGrant>, qid: number): void {
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
  protected enableInterrupts(): void {
    const target = this.target;
    const order: HostInterruptMode[] =
      this.c.interrupts === 'auto' ? ['msix', 'msi', 'intx'] : this.c.interrupts === 'none' ? [] : [this.c.interrupts];
    const got = enableFirstInterrupts(target, order as InterruptKind[], {
      msix: MSIX_MAX_VECTORS,
      msi: MSI_MAX_VECTORS,
    });
    this.mode = got.mode;
    this.vectors = got.vectors;
    this.engine.setInterruptMode(this.mode, this.vectors);
  }

  /** Linux's vector for an I/O queue: its qid, shared round robin when there are fewer vectors. */
  protected linuxVector(qid: number): number {
    return this.vectors > 1 ? 1 + ((qid - 1) % (this.vectors - 1)) : 0;
  }

  // ---- steps ----

  protected at(): string {
    return `case.steps[${this.step}]`;
  }

  /** The engine reaped a CQE for `cmd`. */
  protected completed(cmd: InFlight, cqe: Readonly<CompletionEntry>): void {
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
  protected adminDone(cmd: InFlight): void {
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

  protected lose(cmds: readonly InFlight[], why: string): void {
    for (const cmd of cmds) if (cmd.status === undefined && cmd.lost === undefined) cmd.lost = why;
  }

  /** Every queue is gone on the controller (reset, shutdown, re-enable): the host forgets them. */
  protected dropAllQueues(why: string): void {
    this.lose(this.engine.clear(), why);
    for (const qid of [...this.sqRings.keys()]) this.dropRing(this.sqRings, qid);
    for (const qid of [...this.cqRings.keys()]) this.dropRing(this.cqRings, qid);
  }

  /** A controller that dropped RDY on its own (a raw CC write, a fatal error) has no queues left. */
  protected dropQueuesIfReset(): void {
    if (this.engine.cq(0) === undefined) return;
    if (getBits(this.target.mmioRead32(NVME_REG_CSTS), CSTS.RDY) === 0) {
      this.dropAllQueues(`the controller is no longer ready (CSTS ${hex(this.target.mmioRead32(NVME_REG_CSTS))})`);
    }
  }

  // ---- running the controller ----

  /** One device step, then the host looks at interrupts and reaps every CQ. Returns whether anything happened. */
  protected tick(): boolean {
    const work = this.target.step();
    this.engine.collectInterrupts();
    const reaped = this.engine.reapAll();
    this.checkFaults();
    return work > 0 || reaped > 0;
  }

  /** Runs the controller until it is idle (or `ms` pass); `final` also waits for commands expected to complete. */
  protected settle(final = false): void {
    const deadline = this.target.now() + this.timeoutMs;
    let idle = 0;
    while (idle < IDLE_STEPS && this.target.now() < deadline) idle = this.tick() ? 0 : idle + 1;
    if (final) {
      const pending = this.commands.filter((c) => c.status === undefined && c.lost === undefined && expected(c));
      if (pending.length > 0) this.settleUntil(() => pending.every((c) => c.status !== undefined), this.timeoutMs);
    }
  }

  protected settleUntil(done: () => boolean, ms: number): boolean {
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

  protected runFor(ms: number): void {
    const end = this.target.now() + ms;
    while (this.target.now() < end) this.tick();
  }

  /** Waits for `cmds` to complete; a command that never does stops the case (its queue is in an unknown state). */
  protected waitFor(cmds: readonly InFlight[]): void {
    const open = () => cmds.filter((c) => c.status === undefined && c.lost === undefined);
    if (this.settleUntil(() => open().length === 0, this.timeoutMs)) return;
    for (const c of open()) {
      if (c.expect?.completes === 'no' || c.expect?.completes === 'any') continue;
      this.stop(`${c.label} did not complete within ${this.timeoutMs} ms${this.fatalNote()}`);
    }
  }

  protected stop(why: string): void {
    if (this.stopped === undefined) this.stopped = why;
  }

  protected fatalNote(): string {
    return getBits(this.target.mmioRead32(NVME_REG_CSTS), CSTS.CFS) === 1 ? ' (controller fatal status, CSTS.CFS)' : '';
  }

  // ---- checks ----

  protected interruptCounts(e: CaseStepExpect | undefined): Map<number, number> {
    const m = new Map<number, number>();
    for (const x of e?.interrupts ?? []) m.set(x.vector, this.target.interrupts.count(x.vector));
    return m;
  }

  protected checkStep(e: CaseStepExpect | undefined, before: Map<number, number>): string[] {
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

  protected checkData(e: CaseCommandExpect): string[] {
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
  protected written(cmd: CaseCommand): Uint8Array {
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
  protected checkFaults(): void {
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
  protected finish(): CaseReport {
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
