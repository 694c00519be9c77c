/**
 * A model of what a correct NVMe controller does with host actions, written from the
 * specification (docs/nvme-rules.md: Q-1 enable and reset, Q-2 sizes, Q-3/Q-4 doorbells, Q-7/Q-8
 * queue creation, Q-9 deletion, Q-11 asynchronous events, C-A3 Number of Queues) for the stateful
 * fuzz campaign: the campaign drives it alongside the case it writes, and what the model says
 * becomes the case's expectations. Where the specification allows several outcomes (the order of
 * checks, a command outstanding when its queue goes), the model accepts each of them.
 */

/** Status texts the model uses. */
export const St = {
  SUCCESS: '0/00h',
  INVALID_FIELD: '0/02h',
  PRP_OFFSET: '0/13h',
  ABORT_SQ_DELETION: '0/08h',
  CMD_SEQ_ERROR: '0/0Ch',
  CQ_INVALID: '1/00h',
  QID_INVALID: '1/01h',
  QUEUE_SIZE: '1/02h',
  ASYNC_LIMIT: '1/05h',
  INVALID_VECTOR: '1/08h',
  INVALID_QUEUE_DELETION: '1/0Ch',
} as const;

/** Asynchronous event type Error and its infos (§5.2.1; ); they name the Error Information log. */
export const ERROR_EVENT = { type: 0, invalidRegister: 0x00, invalidValue: 0x01, lid: 0x01 } as const;

/** NVM entry sizes (CC.IOSQES 6, CC.IOCQES 4); 0 is allowed at enable, not at queue creation. */
const IOSQES = 6;
const IOCQES = 4;
/** CAP.MPSMAX of the function: pages up to 64 KiB. */
const MPSMAX = 4;
/** Number of Queues: FFFFh in NSQR or NCQR is invalid (C-A3). */
const QUEUES_INVALID = 0xffff;

export interface ModelConfig {
  /** CAP.MQES (0's based). */
  readonly mqes: number;
  /** I/O queue pairs the function offers (Number of Queues answers at most this). */
  readonly maxIoQueues: number;
  /** Interrupt vectors a CQ may name (Create I/O CQ IV < this, Q-7). */
  readonly vectors: number;
  /** Identify AERL (0's based). */
  readonly aerl: number;
}

/** A command's expectation that the model may still change (an AER's event, a queue deleted under it). */
export interface PendingExpect {
  status?: string[];
  dw0?: number;
  event?: { type: number; info: number; lid: number };
  completes?: 'yes' | 'no' | 'any';
}

interface ModelCq {
  readonly size: number;
  readonly ien: boolean;
  readonly sqs: Set<number>;
  /** The head the host last wrote (entries consumed), counting every completion posted. */
  head: number;
  /** A raw head value written since the last completion (the register holds it), if any. */
  rawHead: number | undefined;
}

interface ModelSq {
  readonly size: number;
  readonly cqid: number;
  /** An invalid tail doorbell made the controller stop fetching (it may, Q-3). */
  stalled: boolean;
}

interface QueuedEvent {
  readonly type: number;
  readonly info: number;
  readonly lid: number;
}

export type ControllerState = 'disabled' | 'ready' | 'fatal' | 'shutdown';

export interface EnableRequest {
  readonly mps: number;
  readonly css: number;
  readonly ams: number;
  readonly iosqes: number;
  readonly iocqes: number;
  readonly asqSize: number;
  readonly acqSize: number;
  readonly asq: bigint;
  readonly acq: bigint;
}

export class ControllerModel {
  readonly config: ModelConfig;
  state: ControllerState = 'disabled';
  pageSize = 4096;
  private iosqes = 0;
  private iocqes = 0;
  nsqa: number;
  ncqa: number;
  private ioQueuesCreated = false;
  readonly cqs = new Map<number, ModelCq>();
  readonly sqs = new Map<number, ModelSq>();
  /** AERs waiting, oldest first. */
  private readonly aerWaiting: PendingExpect[] = [];
  private readonly eventQueue: QueuedEvent[] = [];
  /** Event type → the log page whose read unmasks it. */
  private readonly masked = new Map<number, number>();
  /** Doorbell registers of queues that do not exist, as last written since the controller zeroed them. */
  private readonly strayRegisters = new Map<string, number>();

  constructor(config: ModelConfig) {
    this.config = config;
    this.nsqa = config.maxIoQueues - 1;
    this.ncqa = config.maxIoQueues - 1;
  }

  // ---- CC ----

  /** Why an enable with these values fails (CSTS.CFS; Q-1, P-13, Linux fix #17), or undefined. */
  enableProblem(r: EnableRequest): string | undefined {
    const page = BigInt(4096 * 2 ** r.mps);
    if (r.mps > MPSMAX) return 'MPS';
    if (r.css !== 0) return 'CSS';
    if (r.ams !== 0) return 'AMS';
    if (r.asqSize < 2 || r.acqSize < 2) return 'AQA';
    if (r.asq % page !== 0n || r.acq % page !== 0n) return 'ASQ/ACQ alignment';
    if (r.iosqes !== 0 && r.iosqes !== IOSQES) return 'IOSQES';
    if (r.iocqes !== 0 && r.iocqes !== IOCQES) return 'IOCQES';
    return undefined;
  }

  /** CC.EN = 1 from disabled or after a shutdown: ready (CSTS exactly RDY) or fatal (CFS). */
  enable(r: EnableRequest): 'ready' | 'fatal' {
    this.teardown();
    if (this.enableProblem(r) !== undefined) {
      this.state = 'fatal';
      return 'fatal';
    }
    this.pageSize = 4096 * 2 ** r.mps;
    this.iosqes = r.iosqes;
    this.iocqes = r.iocqes;
    this.cqs.set(0, { size: r.acqSize, ien: true, sqs: new Set([0]), head: 0, rawHead: undefined });
    this.sqs.set(0, { size: r.asqSize, cqid: 0, stalled: false });
    this.state = 'ready';
    return 'ready';
  }

  /** CC.EN = 0: every queue and AER gone, features back to their defaults. Returns the AERs dropped. */
  disable(): PendingExpect[] {
    const dropped = this.teardown();
    this.state = 'disabled';
    return dropped;
  }

  /** CC.SHN: the queues go, SHST = 10b. */
  shutdown(): PendingExpect[] {
    const dropped = this.teardown();
    this.state = 'shutdown';
    return dropped;
  }

  private teardown(): PendingExpect[] {
    const dropped = this.aerWaiting.splice(0);
    this.eventQueue.length = 0;
    this.masked.clear();
    this.cqs.clear();
    this.sqs.clear();
    this.strayRegisters.clear();
    this.nsqa = this.config.maxIoQueues - 1;
    this.ncqa = this.config.maxIoQueues - 1;
    this.ioQueuesCreated = false;
    return dropped;
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  // ---- queue management (Q-7, Q-8, Q-9) ----

  /** Statuses a Create I/O CQ may get (every check it fails, in any order), applied when it succeeds. */
  createCq(a: { qid: number; size: number; ien: boolean; iv: number; pc: boolean; base: bigint }): string[] {
    const errors = new Set<string>();
    if (a.qid === 0 || a.qid > this.ncqa + 1 || this.cqs.has(a.qid)) errors.add(St.QID_INVALID);
    if (a.size < 2 || a.size - 1 > this.config.mqes || this.iocqes !== IOCQES) errors.add(St.QUEUE_SIZE);
    if (a.base % BigInt(this.pageSize) !== 0n) errors.add(St.PRP_OFFSET);
    if (a.iv >= this.config.vectors) errors.add(St.INVALID_VECTOR);
    if (!a.pc) errors.add(St.INVALID_FIELD);
    if (errors.size > 0) return [...errors];
    this.cqs.set(a.qid, { size: a.size, ien: a.ien, sqs: new Set(), head: 0, rawHead: undefined });
    this.zeroRegister('cq', a.qid);
    this.ioQueuesCreated = true;
    return [St.SUCCESS];
  }

  createSq(a: { qid: number; size: number; cqid: number; pc: boolean; base: bigint }): string[] {
    const errors = new Set<string>();
    if (a.cqid === 0 || !this.cqs.has(a.cqid)) errors.add(St.CQ_INVALID);
    if (a.qid === 0 || a.qid > this.nsqa + 1 || this.sqs.has(a.qid)) errors.add(St.QID_INVALID);
    if (a.size < 2 || a.size - 1 > this.config.mqes || this.iosqes !== IOSQES) errors.add(St.QUEUE_SIZE);
    if (a.base % BigInt(this.pageSize) !== 0n) errors.add(St.PRP_OFFSET);
    if (!a.pc) errors.add(St.INVALID_FIELD);
    if (errors.size > 0) return [...errors];
    this.sqs.set(a.qid, { size: a.size, cqid: a.cqid, stalled: false });
    this.cqs.get(a.cqid)?.sqs.add(a.qid);
    this.zeroRegister('sq', a.qid);
    this.ioQueuesCreated = true;
    return [St.SUCCESS];
  }

  deleteSq(qid: number): string[] {
    const sq = qid === 0 ? undefined : this.sqs.get(qid);
    if (sq === undefined) return [St.QID_INVALID];
    this.sqs.delete(qid);
    this.cqs.get(sq.cqid)?.sqs.delete(qid);
    this.zeroRegister('sq', qid);
    return [St.SUCCESS];
  }

  deleteCq(qid: number): string[] {
    const cq = qid === 0 ? undefined : this.cqs.get(qid);
    if (cq === undefined) return [St.QID_INVALID];
    if (cq.sqs.size > 0) return [St.INVALID_QUEUE_DELETION];
    this.cqs.delete(qid);
    this.zeroRegister('cq', qid);
    return [St.SUCCESS];
  }

  /** Set Features Number of Queues (C-A3): statuses, and DW0 (NSQA, NCQA) when it succeeds. */
  numberOfQueues(nsqr: number, ncqr: number): { status: string[]; dw0?: number } {
    if (nsqr === QUEUES_INVALID || ncqr === QUEUES_INVALID) return { status: [St.INVALID_FIELD] };
    if (this.ioQueuesCreated) return { status: [St.CMD_SEQ_ERROR] };
    const max = this.config.maxIoQueues - 1;
    this.nsqa = Math.min(nsqr, max);
    this.ncqa = Math.min(ncqr, max);
    return { status: [St.SUCCESS], dw0: ((this.ncqa << 16) | this.nsqa) >>> 0 };
  }

  /** A completion was posted to CQ `qid` (the host reaps it and writes the head doorbell). */
  posted(qid: number): void {
    const cq = this.cqs.get(qid);
    if (cq === undefined) return;
    cq.head = (cq.head + 1) % cq.size;
    cq.rawHead = undefined;
  }

  // ---- doorbells (Q-3, Q-4) ----

  private zeroRegister(kind: 'sq' | 'cq', qid: number): void {
    this.strayRegisters.delete(`${kind}${qid}`);
  }

  /**
   * A raw SQ tail doorbell write. On an idle SQ only a value past the ring is invalid (every other
   * value fits the free slots); it stalls the queue and posts Invalid Doorbell Write Value. A write
   * to a queue that does not exist posts Write to Invalid Doorbell Register when the register changes.
   */
  sqDoorbell(qid: number, value: number): void {
    const sq = this.sqs.get(qid);
    if (sq === undefined) {
      this.strayWrite('sq', qid, value);
      return;
    }
    if (sq.stalled || value < sq.size) return;
    sq.stalled = true;
    this.event({ type: ERROR_EVENT.type, info: ERROR_EVENT.invalidValue, lid: ERROR_EVENT.lid });
  }

  /** A raw CQ head doorbell write when every posted entry is consumed: anything but the current head is invalid. */
  cqDoorbell(qid: number, value: number): void {
    const cq = this.cqs.get(qid);
    if (cq === undefined) {
      this.strayWrite('cq', qid, value);
      return;
    }
    const register = cq.rawHead ?? cq.head;
    if (value === register) return;
    cq.rawHead = value;
    if (value === cq.head) return;
    this.event({ type: ERROR_EVENT.type, info: ERROR_EVENT.invalidValue, lid: ERROR_EVENT.lid });
  }

  private strayWrite(kind: 'sq' | 'cq', qid: number, value: number): void {
    const key = `${kind}${qid}`;
    if ((this.strayRegisters.get(key) ?? 0) === value) return;
    this.strayRegisters.set(key, value);
    this.event({ type: ERROR_EVENT.type, info: ERROR_EVENT.invalidRegister, lid: ERROR_EVENT.lid });
  }

  /** Whether SQ `qid` stopped fetching after an invalid tail (commands on it may never run). */
  stalled(qid: number): boolean {
    return this.sqs.get(qid)?.stalled ?? false;
  }

  // ---- asynchronous events (Q-11) ----

  /** An AER: 1/05h past AERL + 1 waiting, else it waits (and may complete at once with a queued event). */
  asyncEventRequest(expect: PendingExpect): void {
    if (this.aerWaiting.length > this.config.aerl) {
      expect.status = [St.ASYNC_LIMIT];
      expect.completes = 'yes';
      return;
    }
    expect.completes = 'no';
    this.aerWaiting.push(expect);
    this.deliver();
  }

  /** The host read log page `lid` successfully; with RAE = 0 the event types that named it are unmasked. */
  logRead(lid: number, retain: boolean): void {
    if (retain) return;
    for (const [type, page] of this.masked) if (page === lid) this.masked.delete(type);
    this.deliver();
  }

  private event(e: QueuedEvent): void {
    const duplicate = this.eventQueue.some((q) => q.type === e.type && q.info === e.info && q.lid === e.lid);
    if (!duplicate) this.eventQueue.push(e);
    this.deliver();
  }

  private deliver(): void {
    while (this.aerWaiting.length > 0) {
      const index = this.eventQueue.findIndex((e) => !this.masked.has(e.type));
      if (index < 0) return;
      const e = this.eventQueue.splice(index, 1)[0] as QueuedEvent;
      const aer = this.aerWaiting.shift() as PendingExpect;
      this.masked.set(e.type, e.lid);
      aer.completes = 'yes';
      aer.status = [St.SUCCESS];
      aer.event = { type: e.type, info: e.info, lid: e.lid };
      this.posted(0);
    }
  }

  /** AERs waiting now. */
  get aersWaiting(): number {
    return this.aerWaiting.length;
  }
}
