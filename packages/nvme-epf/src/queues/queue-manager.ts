/**
 * The queues of the function: creation and deletion (NVMe Base 1.4 §5.3–§5.6; rules,
 * Q-9), Number of Queues allocation (§5.21.1.7), and the CQ mappings nvmet_pci_epf_create_cq()
 * keeps. The admin handlers check a command; this service does what it asks.
 */
import { type Epc, EpcError, type EpcMap } from '@epfsim/epc-core';
import { type BitField, CC, CQE_SIZE, getBits, SQE_SIZE, Status, sqeCid } from '@epfsim/nvme-spec-types';
import type { FunctionFaultFlags } from '../faults/catalogue.js';
import type { Interrupts } from '../interrupts.js';
import type { RegisterFile } from '../registers/register-file.js';
import type { Completions } from '../scheduler/completions.js';
import type { Doorbells } from '../scheduler/doorbells.js';
import type { ResumableRunner } from '../scheduler/resumable-runner.js';
import type { RunState } from '../scheduler/run-state.js';
import type { FunctionStats } from '../stats.js';
import type { TraceRing } from '../trace.js';
import type { HostPort } from '../transfer/host-port.js';
import { CompletionQueue } from './completion-queue.js';
import { SubmissionQueue } from './submission-queue.js';

/**
 * Translation slots kept free when deciding whether to keep a CQ mapped: one for data and one for
 * an interrupt message on controllers that map MSI transiently. The Linux function maps every CQ
 * and refuses a queue it cannot map in one piece; here such a CQ is reached per post instead.
 */
const CQ_MAP_SLOT_RESERVE = 2;
/** No interrupt state kept for a queue id (fault cq-irq-state-survives-delete). */
const NO_KEPT_VECTOR = -1;

/** What the admin handlers see of the queues. */
export interface QueueService {
  readonly sqs: readonly (SubmissionQueue | undefined)[];
  readonly cqs: readonly (CompletionQueue | undefined)[];
  /** Number of Queues allocated, 0's based (NSQA, NCQA). */
  readonly allocatedSqs: number;
  readonly allocatedCqs: number;
  /** An I/O queue was created since the last reset (Number of Queues is then a sequence error). */
  readonly ioQueuesCreated: boolean;
  /** Memory page size from CC.MPS (valid while enabled). */
  readonly pageSize: number;
  /** Number of Queues (Set Features): the counts, already limited to what the function offers. */
  allocate(sqs: number, cqs: number): void;
  /** A field of CC as the controller took it (IOSQES, IOCQES). */
  ccField(field: BitField): number;
  /** Fault cq-kept-after-failed-create: whether a failed create left `qid` taken; {@link setCqIdLeaked} sets it. */
  cqIdLeaked(qid: number): boolean;
  setCqIdLeaked(qid: number, leaked: boolean): void;
  createCq(qid: number, base: bigint, size: number, ien: boolean, vector: number): void;
  createSq(qid: number, base: bigint, size: number, cq: CompletionQueue): void;
  deleteSq(sq: SubmissionQueue): void;
  deleteCq(cq: CompletionQueue): void;
  /** Finds `cid` among the entries of `sq` submitted but not fetched (Abort, Q-10). */
  findQueued(sq: SubmissionQueue, cid: number): boolean;
  /** Abort of the command `sq` runs over polls: true when it was `cid` (it completes with 0/07h). */
  abortInProgress(sq: SubmissionQueue, cid: number): boolean;
}

export interface QueueDeps {
  readonly epc: Epc;
  readonly port: HostPort;
  readonly regs: RegisterFile;
  readonly maxIoQueues: number;
  readonly queuePairs: number;
  readonly faults: FunctionFaultFlags;
  readonly interrupts: Interrupts;
  readonly stats: FunctionStats;
  readonly trace: TraceRing;
  readonly run: RunState;
  readonly doorbells: Doorbells;
  readonly completions: Completions;
  readonly resumables: ResumableRunner;
}

export class QueueManager implements QueueService {
  readonly sqs: (SubmissionQueue | undefined)[];
  readonly cqs: (CompletionQueue | undefined)[];
  #allocatedSqs: number;
  #allocatedCqs: number;
  #ioQueuesCreated = false;
  pageSize = 0;
  readonly #d: QueueDeps;
  /** Fault cq-kept-after-failed-create: queue ids a failed Create I/O CQ left taken (1). */
  readonly #leakedCqIds: Uint8Array;
  /** Fault cq-irq-state-survives-delete: the vector of the last interrupt-driven CQ per queue id. */
  readonly #keptIrqVectors: Int32Array;
  /** One SQE read outside the fetch buffer (Delete SQ, Abort), which may hold the running batch. */
  readonly #scratchSqe = new Uint8Array(SQE_SIZE);
  readonly #scratchView = new DataView(this.#scratchSqe.buffer);

  constructor(deps: QueueDeps) {
    this.#d = deps;
    this.sqs = new Array(deps.queuePairs).fill(undefined);
    this.cqs = new Array(deps.queuePairs).fill(undefined);
    this.#allocatedSqs = deps.maxIoQueues - 1;
    this.#allocatedCqs = deps.maxIoQueues - 1;
    this.#leakedCqIds = new Uint8Array(deps.queuePairs);
    this.#keptIrqVectors = new Int32Array(deps.queuePairs).fill(NO_KEPT_VECTOR);
  }

  get allocatedSqs(): number {
    return this.#allocatedSqs;
  }

  get allocatedCqs(): number {
    return this.#allocatedCqs;
  }

  get ioQueuesCreated(): boolean {
    return this.#ioQueuesCreated;
  }

  allocate(sqs: number, cqs: number): void {
    this.#allocatedSqs = sqs;
    this.#allocatedCqs = cqs;
  }

  ccField(field: BitField): number {
    return getBits(this.#d.regs.ccSeen, field);
  }

  cqIdLeaked(qid: number): boolean {
    return this.#leakedCqIds[qid] === 1;
  }

  setCqIdLeaked(qid: number, leaked: boolean): void {
    this.#leakedCqIds[qid] = leaked ? 1 : 0;
  }

  /** Enable: the admin queues from AQA, ASQ and ACQ (the checks are the caller's). */
  createAdminQueues(asq: bigint, asqSize: number, acq: bigint, acqSize: number, pageSize: number): void {
    this.pageSize = pageSize;
    this.createCq(0, acq, acqSize, true, 0);
    this.createSq(0, asq, asqSize, this.cqs[0] as CompletionQueue);
    this.#ioQueuesCreated = false;
  }

  createCq(qid: number, base: bigint, size: number, ien: boolean, vector: number): void {
    let irq = ien;
    let iv = vector;
    const kept = this.#keptIrqVectors[qid] ?? NO_KEPT_VECTOR;
    if (!ien && this.#d.faults.cqIrqStateSurvivesDelete && kept !== NO_KEPT_VECTOR) {
      // Before Linux 85adf2094abb ("clear completion queue IRQ flag on delete") the IRQ-enabled
      // flag of the queue id outlived its CQ: a polled CQ created on it still interrupted.
      irq = true;
      iv = kept;
    }
    const cq = new CompletionQueue(qid, base, size, irq, iv, this.#entrySize(qid, CC.IOCQES, CQE_SIZE));
    this.#mapCq(cq);
    this.cqs[qid] = cq;
    this.#d.doorbells.zeroCqHead(qid);
    if (qid !== 0) this.#ioQueuesCreated = true;
  }

  createSq(qid: number, base: bigint, size: number, cq: CompletionQueue): void {
    const sq = new SubmissionQueue(qid, base, size, cq, this.#entrySize(qid, CC.IOSQES, SQE_SIZE));
    cq.sqCount++;
    this.sqs[qid] = sq;
    this.#d.doorbells.zeroSqTail(qid);
    if (qid !== 0) this.#ioQueuesCreated = true;
  }

  /**
   * Deletes SQ `qid`: commands submitted but not fetched complete with 0/08h on its CQ
   * before the Delete completes; nothing is in flight, since execution is synchronous.
   */
  deleteSq(sq: SubmissionQueue): void {
    const d = this.#d;
    // A command running over polls was fetched first: it completes first, aborted by the deletion.
    if (sq.inProgress !== null) d.resumables.finish(sq, Status.ABORT_QUEUE);
    d.doorbells.refreshTail(sq);
    while (sq.head !== sq.tail && !sq.stalled) {
      if (!d.port.read(sq.entryAddress(sq.head), this.#scratchSqe)) {
        const epc = d.port.lastError;
        d.run.fatal(
          `SQ ${sq.qid}: fetching entry ${sq.head} for deletion failed (${epc?.toString() ?? ''})`,
          sq.qid,
          epc,
        );
        break;
      }
      sq.head = (sq.head + 1) % sq.size;
      d.stats.commandsFetched++;
      d.completions.complete(sq, sqeCid(this.#scratchView, 0), Status.ABORT_QUEUE, 0);
    }
    sq.cq.sqCount--;
    this.sqs[sq.qid] = undefined;
    d.doorbells.zeroSqTail(sq.qid);
  }

  /** Deletes CQ `qid`: its map is released; completions still waiting for room are dropped. */
  deleteCq(cq: CompletionQueue): void {
    this.#release(cq);
    this.cqs[cq.qid] = undefined;
    this.#d.doorbells.zeroCqHead(cq.qid);
    if (cq.ien && !this.cqs.some((other) => other?.ien === true && other.vector === cq.vector))
      this.#d.interrupts.dropAggregated(cq.vector);
  }

  findQueued(sq: SubmissionQueue, cid: number): boolean {
    const d = this.#d;
    d.doorbells.refreshTail(sq);
    for (let i = sq.head; i !== sq.tail; i = (i + 1) % sq.size) {
      if (!d.port.read(sq.entryAddress(i), this.#scratchSqe)) return false;
      if (sqeCid(this.#scratchView, 0) === cid) return true;
    }
    return false;
  }

  abortInProgress(sq: SubmissionQueue, cid: number): boolean {
    return this.#d.resumables.abortInProgress(sq, cid);
  }

  /** A reset or shutdown: every queue goes; what cannot complete is dropped; allocation returns to the maximum. */
  deleteAll(): void {
    const d = this.#d;
    for (const cq of this.cqs) if (cq !== undefined) this.#release(cq);
    for (const sq of this.sqs) if (sq !== undefined && d.resumables.drop(sq)) d.stats.commandsDropped++;
    this.sqs.fill(undefined);
    this.cqs.fill(undefined);
    this.#allocatedSqs = d.maxIoQueues - 1;
    this.#allocatedCqs = d.maxIoQueues - 1;
    this.#ioQueuesCreated = false;
  }

  /** A CQ going away: its interrupt state may be kept (fault), its waiting completions dropped, its map released. */
  #release(cq: CompletionQueue): void {
    // Fault cq-irq-state-survives-delete: remember the vector of an interrupt-driven I/O CQ going away.
    if (this.#d.faults.cqIrqStateSurvivesDelete && cq.ien && cq.qid !== 0) this.#keptIrqVectors[cq.qid] = cq.vector;
    this.#d.completions.dropDeferred(cq);
    if (cq.map === null) return;
    this.#d.epc.memUnmap(cq.map);
    cq.map = null;
  }

  /**
   * The entry size of a new queue. Fault unchecked-entry-sizes: an I/O queue's entries are
   * 2^CC.IOSQES (SQ) or 2^CC.IOCQES (CQ) bytes, as the Linux function sized them before its fix
   * for invalid I/O SQES/CQES; otherwise, and for the admin queues, 64 and 16.
   */
  #entrySize(qid: number, field: BitField, normal: number): number {
    if (!this.#d.faults.uncheckedEntrySizes || qid === 0) return normal;
    return 2 ** this.ccField(field);
  }

  /** Keeps the whole CQ mapped when the profile maps it in one piece and slots remain; else posts per entry. */
  #mapCq(cq: CompletionQueue): void {
    const epc = this.#d.epc;
    const bytes = cq.size * cq.entrySize;
    const map = epc.memMap(cq.base, bytes);
    let reason: string | null = null;
    if (map instanceof EpcError) {
      reason = `cannot map (${map.toString()})`;
    } else if (map.pciSize < bytes) {
      reason = `the profile maps ${map.pciSize} of ${bytes} bytes in one piece`;
    } else if (epc.slotCapacity - epc.counters.slotsInUse < CQ_MAP_SLOT_RESERVE) {
      reason = `keeping it mapped would leave fewer than ${CQ_MAP_SLOT_RESERVE} translation slots for data and interrupts`;
    }
    if (reason === null) {
      cq.map = map as EpcMap;
      return;
    }
    if (!(map instanceof EpcError)) epc.memUnmap(map);
    this.#d.trace.record({ kind: 'cq-fallback', message: `CQ ${cq.qid}: ${reason}; posting per entry`, qid: cq.qid });
  }
}
