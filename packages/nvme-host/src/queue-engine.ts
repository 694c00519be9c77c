/**
 * The one host queue engine: submission and completion rings as the host keeps them (NVMe Base
 * 1.4 §4.1, §4.6, §7.2), shared by the host driver, case-file replay, the differential runner and
 * the controller's own tests. It writes SQEs into rings, rings tail doorbells (one per batch or
 * per command), reaps CQEs by phase tag, validates each one (SQID feeds this CQ, CID outstanding
 * and completed once, SQHD plausible, no entry posted into a full CQ), writes head doorbells (at
 * once or when told: a delayed head doorbell), and accounts for interrupts per vector
 * ({@link InterruptWatch}). What it finds wrong becomes a {@link ProtocolViolation}; it never throws
 * on what the controller does. Timeouts, resets and data placement are its owner's business.
 */
import {
  CQE,
  CQE_SIZE,
  CQE_STATUS,
  cqeCid,
  cqeDw0,
  cqeDw1,
  cqeSqhd,
  cqeSqid,
  cqeStatus,
  cqHeadDoorbell,
  type NvmeStatus,
  SQE_SIZE,
  sqTailDoorbell,
} from '@epfsim/nvme-spec-types';
import type { TrackedCommand } from './command-ids.js';
import { HostCq, HostSq, ringDistance } from './host-queues.js';
import { type HostInterruptMode, type InterruptFinding, InterruptWatch } from './interrupt-watch.js';
import { type ProtocolViolation, type ProtocolViolationKind, VIOLATION_LOG_LIMIT } from './protocol-violation.js';
import type { QueueBus } from './queue-bus.js';

/** A CQE as the engine hands it to its owner; one object, refilled for every entry: copy what you keep. */
export interface CompletionEntry {
  sqid: number;
  cid: number;
  sqhd: number;
  /** The 15-bit Status Field (SC, SCT, CRD, M, DNR), phase tag excluded. */
  status: NvmeStatus;
  dw0: number;
  dw1: number;
}

/** How the controller should take a raw doorbell write, as far as the host can tell. */
export type DoorbellVerdict =
  /** A value the controller accepts. */
  | 'valid'
  /** Outside the ring, or past what the host has consumed or submitted: ignored, with an async event. */
  | 'invalid'
  /** The register already holds it: a polling controller cannot see the write. */
  | 'unchanged'
  /** The doorbell of a queue that does not exist: an async event (Write to Invalid Doorbell Register). */
  | 'no-queue';

export interface QueueEngineOptions<C extends TrackedCommand> {
  /** CAP.DSTRD of the controller (doorbell stride 4 << DSTRD). */
  readonly dstrd?: number;
  /** A CQE for an outstanding command; the entry object is reused. */
  readonly onCompletion: (cmd: C, cqe: Readonly<CompletionEntry>) => void;
  /** Every entry consumed, valid or not, before it is validated (a test host records them all). */
  readonly onEntry?: (cq: HostCq, cqe: Readonly<CompletionEntry>, bytes: Uint8Array) => void;
  /**
   * Keep consuming after an entry posted into a full CQ (it is still reported): a test host that
   * wants to see what an overflowing controller wrote. Default false: stop, as a driver would.
   */
  readonly consumePastOverflow?: boolean;
}

export class QueueEngine<C extends TrackedCommand> {
  readonly bus: QueueBus;
  readonly interrupts: InterruptWatch;
  readonly violations: ProtocolViolation[] = [];
  violationCount = 0;
  dstrd: number;
  /** Head doorbell writes and tail doorbell writes made by the engine. */
  doorbellWrites = 0;
  private readonly onCompletion: (cmd: C, cqe: Readonly<CompletionEntry>) => void;
  private readonly onEntry: ((cq: HostCq, cqe: Readonly<CompletionEntry>, bytes: Uint8Array) => void) | undefined;
  private readonly consumePastOverflow: boolean;
  private readonly sqById: (HostSq<C> | undefined)[] = [];
  private readonly cqById: (HostCq | undefined)[] = [];
  /** SQs deleted while CQEs of their commands may still arrive (deferred in a full CQ). */
  private readonly retired: HostSq<C>[] = [];
  private readonly cqeBytes = new Uint8Array(CQE_SIZE);
  private readonly cqeView = new DataView(this.cqeBytes.buffer);
  private readonly entry: CompletionEntry = { sqid: 0, cid: 0, sqhd: 0, status: 0, dw0: 0, dw1: 0 };
  private readonly report = (f: InterruptFinding) => this.violation(f.kind, f.cq ?? f.vector, f.detail);

  constructor(bus: QueueBus, options: QueueEngineOptions<C>) {
    this.bus = bus;
    this.dstrd = options.dstrd ?? 0;
    this.onCompletion = options.onCompletion;
    this.onEntry = options.onEntry;
    this.consumePastOverflow = options.consumePastOverflow ?? false;
    this.interrupts = new InterruptWatch(bus.interrupts, () => bus.now(), bus.interruptLatencyMs ?? 0);
  }

  // ---- queues ----

  /** Registers the host's side of CQ `qid` (the caller zeroes its ring: no stale entry may carry phase 1, Q-5). */
  addCq(qid: number, base: bigint, depth: number, vector: number | undefined): HostCq {
    const cq = new HostCq(qid, base, depth, vector);
    this.interrupts.mark(cq);
    this.cqById[qid] = cq;
    return cq;
  }

  /** Registers the host's side of SQ `qid`, completing into CQ `cqid`. */
  addSq(qid: number, base: bigint, depth: number, cqid: number): HostSq<C> {
    const cq = this.cqById[qid === 0 ? 0 : cqid];
    if (cq === undefined) throw new RangeError(`SQ ${qid}: no CQ ${cqid} on the host side`);
    const sq = new HostSq<C>(qid, base, depth, cq);
    cq.sqs.push(sq as HostSq<TrackedCommand>);
    this.sqById[qid] = sq;
    return sq;
  }

  sq(qid: number): HostSq<C> | undefined {
    return this.sqById[qid];
  }

  cq(qid: number): HostCq | undefined {
    return this.cqById[qid];
  }

  /** Live SQs in qid order. */
  get sqs(): HostSq<C>[] {
    return this.sqById.filter((sq): sq is HostSq<C> => sq !== undefined);
  }

  /** Live CQs in qid order. */
  get cqs(): HostCq[] {
    return this.cqById.filter((cq): cq is HostCq => cq !== undefined);
  }

  /** The CQ table itself (sparse, by qid), for loops on the hot path. */
  get cqTable(): readonly (HostCq | undefined)[] {
    return this.cqById;
  }

  /**
   * SQ `qid` was deleted on the controller (Delete I/O SQ completed). Its commands should all have
   * completed by then, but their CQEs may still wait for room in a full CQ: an SQ with
   * commands outstanding is kept as retired until they arrive or its CQ goes.
   */
  removeSq(qid: number): void {
    const sq = this.sqById[qid];
    if (sq === undefined) return;
    this.sqById[qid] = undefined;
    if (sq.commands.size > 0) {
      sq.retired = true;
      this.retired.push(sq);
      return;
    }
    this.detach(sq);
  }

  /**
   * CQ `qid` was deleted on the controller. Returns the commands that can no longer complete (those
   * of retired SQs that fed it).
   */
  removeCq(qid: number): C[] {
    const cq = this.cqById[qid];
    if (cq === undefined) return [];
    this.cqById[qid] = undefined;
    this.interrupts.noteRemoved(cq, this.cqById);
    const lost: C[] = [];
    for (const sq of [...this.retired]) {
      if (sq.cq !== cq) continue;
      lost.push(...sq.commands.drain());
      this.dropRetired(sq);
    }
    return lost;
  }

  /** Every queue is gone (controller reset or shutdown); returns the commands that were outstanding. */
  clear(): C[] {
    const lost: C[] = [];
    for (const sq of this.sqById) if (sq !== undefined) lost.push(...sq.commands.drain());
    for (const sq of this.retired) lost.push(...sq.commands.drain());
    for (const cq of this.cqById) if (cq !== undefined) this.interrupts.noteRemoved(cq, []);
    this.sqById.length = 0;
    this.cqById.length = 0;
    this.retired.length = 0;
    return lost;
  }

  /** Outstanding commands on every queue, retired ones included. */
  get outstanding(): number {
    let n = 0;
    for (const sq of this.sqById) n += sq?.commands.size ?? 0;
    for (const sq of this.retired) n += sq.commands.size;
    return n;
  }

  /** The outstanding commands of every queue, retired ones included. */
  outstandingCommands(): C[] {
    const out: C[] = [];
    for (const sq of this.sqById) if (sq !== undefined) out.push(...sq.commands.values());
    for (const sq of this.retired) out.push(...sq.commands.values());
    return out;
  }

  private detach(sq: HostSq<C>): void {
    const list = sq.cq.sqs;
    const i = list.indexOf(sq as HostSq<TrackedCommand>);
    if (i >= 0) list.splice(i, 1);
  }

  private dropRetired(sq: HostSq<C>): void {
    const i = this.retired.indexOf(sq);
    if (i >= 0) this.retired.splice(i, 1);
    this.detach(sq);
  }

  // ---- submission ----

  /** A new CID on `sq`; undefined when every tag is taken. */
  allocateCid(sq: HostSq<C>): number | undefined {
    return sq.commands.allocate();
  }

  /**
   * Writes a 64-byte SQE (its CID already set to `cmd.cid`) into the next slot of `sq` and tracks
   * `cmd`, without a doorbell: several staged commands go to the controller with one {@link ring}.
   * `allocated` says whether the CID came from {@link allocateCid}.
   */
  stage(sq: HostSq<C>, sqe: Uint8Array, cmd: C, allocated = true): void {
    if (sqe.length !== SQE_SIZE) throw new RangeError(`an SQE of ${sqe.length} bytes`);
    if (sq.ringFull) throw new RangeError(`SQ ${sq.qid} is full`);
    sq.commands.add(cmd, allocated);
    this.bus.memory.write(sq.slotAddress(sq.push()), sqe);
  }

  /** Announces every staged entry of `sq`: one tail doorbell write. */
  ring(sq: HostSq<C>): void {
    if (sq.doorbellTail === sq.tail) return;
    sq.doorbellTail = sq.tail;
    this.bus.mmioWrite32(sqTailDoorbell(sq.qid, this.dstrd), sq.tail);
    this.doorbellWrites++;
  }

  /**
   * A raw SQ tail doorbell write of any value to any queue id. A valid value announces
   * staged entries (never more than were staged: the caller checks with {@link sqDoorbellVerdict}).
   */
  writeSqDoorbell(qid: number, value: number, previous: number): DoorbellVerdict {
    const verdict = this.sqDoorbellVerdict(qid, value, previous);
    this.bus.mmioWrite32(sqTailDoorbell(qid, this.dstrd), value >>> 0);
    this.doorbellWrites++;
    const sq = this.sqById[qid];
    if (verdict === 'valid' && sq !== undefined) sq.doorbellTail = value;
    return verdict;
  }

  /**
   * How a correct controller takes tail `value` on SQ `qid`, whose register holds `previous`: valid
   * when inside the ring and announcing only entries the host staged; invalid past the ring or past
   * the free slots (then exact only when the SQ is idle, which the caller ensures).
   */
  sqDoorbellVerdict(qid: number, value: number, previous: number): DoorbellVerdict {
    const v = value >>> 0;
    if (v === previous >>> 0) return 'unchanged';
    const sq = this.sqById[qid];
    if (sq === undefined) return 'no-queue';
    if (v >= sq.depth) return 'invalid';
    const announced = ringDistance(sq.doorbellTail, v, sq.depth);
    const free = sq.depth - 1 - ringDistance(sq.head, sq.doorbellTail, sq.depth);
    if (announced > free) return 'invalid';
    return announced <= sq.staged ? 'valid' : 'invalid';
  }

  /**
   * A raw CQ head doorbell write: valid when it releases only entries the host has consumed;
   * past them (or past the ring) it is invalid and the controller ignores it.
   */
  writeCqDoorbell(qid: number, value: number, previous: number): DoorbellVerdict {
    const verdict = this.cqDoorbellVerdict(qid, value, previous);
    this.bus.mmioWrite32(cqHeadDoorbell(qid, this.dstrd), value >>> 0);
    this.doorbellWrites++;
    const cq = this.cqById[qid];
    if (verdict === 'valid' && cq !== undefined) {
      cq.sinceDoorbell = ringDistance(value, cq.head, cq.depth);
      cq.overflowReported = false;
    }
    return verdict;
  }

  cqDoorbellVerdict(qid: number, value: number, previous: number): DoorbellVerdict {
    const v = value >>> 0;
    if (v === previous >>> 0) return 'unchanged';
    const cq = this.cqById[qid];
    if (cq === undefined) return 'no-queue';
    if (v >= cq.depth) return 'invalid';
    const lastHead = (cq.head - cq.sinceDoorbell + cq.depth * 2) % cq.depth;
    return ringDistance(lastHead, v, cq.depth) <= cq.sinceDoorbell ? 'valid' : 'invalid';
  }

  // ---- completion ----

  /** Consumes the new entries of `cq` by phase tag, validating each; rings its head doorbell unless held. */
  reap(cq: HostCq): number {
    const memory = this.bus.memory;
    const view = this.cqeView;
    let n = 0;
    for (;;) {
      memory.read(cq.slotAddress(cq.head), this.cqeBytes);
      // cqePhase(), with the field decoded inline.
      if (((view.getUint16(CQE.STATUS.off, true) >>> CQE_STATUS.P.bit) & 1) !== cq.phase) break;
      if (cq.sinceDoorbell >= cq.depth - 1) {
        // A CQ of N slots holds N − 1 entries: one more was posted into a full queue.
        if (!cq.overflowReported) {
          cq.overflowReported = true;
          this.violation(
            'cq-overflow',
            cq.qid,
            `CQ ${cq.qid}: an entry at slot ${cq.head} after ${cq.sinceDoorbell} entries since the last head doorbell (${cq.depth} slots hold ${cq.depth - 1})`,
          );
        }
        if (!this.consumePastOverflow) break;
      }
      this.handleCqe(cq);
      cq.advance();
      n++;
    }
    this.interrupts.checkAnnounced(cq, n, this.report);
    if (n > 0 && !cq.holdHead) this.ringHead(cq);
    return n;
  }

  /** Reaps every CQ; returns the entries consumed. */
  reapAll(): number {
    let n = 0;
    for (const cq of this.cqById) if (cq !== undefined) n += this.reap(cq);
    return n;
  }

  /** Writes `cq`'s head doorbell with what the host has consumed. */
  ringHead(cq: HostCq): void {
    this.bus.mmioWrite32(cqHeadDoorbell(cq.qid, this.dstrd), cq.head);
    this.doorbellWrites++;
    cq.sinceDoorbell = 0;
    cq.overflowReported = false;
  }

  /**
   * After the controller ran: which vectors fired (each passed to `fired`), with every interrupt
   * checked against the CQs that may raise it. Returns whether any fired.
   */
  collectInterrupts(fired?: (vector: number) => void): boolean {
    return this.interrupts.collect(this.cqById, fired, this.report);
  }

  /** Which interrupt mode the host enabled, with how many vectors. */
  setInterruptMode(mode: HostInterruptMode, vectors: number): void {
    this.interrupts.enable(mode, vectors);
    for (const cq of this.cqById) if (cq !== undefined) this.interrupts.mark(cq);
  }

  private handleCqe(cq: HostCq): void {
    const v = this.cqeView;
    const sqid = cqeSqid(v, 0);
    const cid = cqeCid(v, 0);
    const sqhd = cqeSqhd(v, 0);
    const e = this.entry;
    if (this.onEntry !== undefined) {
      this.fill(e, sqid, cid, sqhd);
      this.onEntry(cq, e, this.cqeBytes);
    }
    const sq = this.feeding(cq, sqid, cid);
    if (sq === undefined) {
      this.violation('cqe-unknown-sqid', cq.qid, `SQID ${sqid} does not feed CQ ${cq.qid}`, cid);
      return;
    }
    if (sqhd >= sq.depth || ringDistance(sq.head, sqhd, sq.depth) > ringDistance(sq.head, sq.doorbellTail, sq.depth)) {
      this.violation(
        'cqe-sqhd',
        cq.qid,
        `SQ ${sqid}: SQHD ${sqhd} outside [head ${sq.head}, tail ${sq.doorbellTail}] of ${sq.depth} slots`,
        cid,
      );
    } else {
      sq.head = sqhd;
    }
    const cmd = sq.commands.complete(cid);
    if (cmd === undefined) {
      const duplicate = sq.commands.completedBefore(cid);
      this.violation(
        duplicate ? 'cqe-duplicate' : 'cqe-unknown-cid',
        cq.qid,
        duplicate
          ? `SQ ${sqid}: a second CQE for CID ${cid}, which has already completed`
          : `SQ ${sqid}: CID ${cid} is not outstanding`,
        cid,
      );
      return;
    }
    if (sq.retired && sq.commands.size === 0) this.dropRetired(sq);
    this.fill(e, sqid, cid, sqhd);
    this.onCompletion(cmd, e);
  }

  private fill(e: CompletionEntry, sqid: number, cid: number, sqhd: number): void {
    const v = this.cqeView;
    e.sqid = sqid;
    e.cid = cid;
    e.sqhd = sqhd;
    e.status = cqeStatus(v, 0);
    e.dw0 = cqeDw0(v, 0);
    e.dw1 = cqeDw1(v, 0);
  }

  /** The SQ (live, or retired with `cid` outstanding) that a CQE naming `sqid` may come from on `cq`. */
  private feeding(cq: HostCq, sqid: number, cid: number): HostSq<C> | undefined {
    const live = this.sqById[sqid];
    if (live !== undefined && live.cq === cq && (this.retired.length === 0 || live.commands.get(cid) !== undefined)) {
      return live;
    }
    for (const sq of this.retired) if (sq.qid === sqid && sq.cq === cq && sq.commands.get(cid) !== undefined) return sq;
    return live?.cq === cq ? live : undefined;
  }

  /** Records a violation the owner saw (a controller state it did not ask for). */
  violation(kind: ProtocolViolationKind, qid: number, detail: string, cid?: number): void {
    if (this.violations.length < VIOLATION_LOG_LIMIT) {
      this.violations.push({ kind, qid, at: this.bus.now(), detail, ...(cid === undefined ? {} : { cid }) });
    }
    this.violationCount++;
  }
}
