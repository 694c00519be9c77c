/**
 * The NVMe controller as an endpoint function (NVMe Base 1.4 §3 and §7; the Linux function is
 * drivers/nvme/target/pci-epf.c). It sees the host only the way the real function does: BAR0 is
 * memory it polls, and host memory is reached through the EPC with the configured strategy.
 *
 * {@link NvmeController.poll} is one step: CC edges, CQ head doorbells (posting completions that
 * waited for room), doorbells of queues that do not exist, then one arbitration round over the SQs
 * (each gives up to the burst of commands, fetched in one read, executed synchronously and
 * completed through the CQ logic), interrupt coalescing timers and pending MSI-X messages. The
 * round is bounded in work as well as in commands ({@link POLL_WORK_BUDGET}): once a poll has
 * spent it, the round resumes at the next SQ on the next poll, and a command whose own work
 * exceeds a bounce buffer runs over polls ({@link ResumableCommand}).
 */
import { type Epc, EpcError, type EpcMap, faultError, STRATEGIES } from '@epfsim/epc-core';
import {
  AQA,
  AsyncEventInfoError,
  AsyncEventInfoSmart,
  AsyncEventType,
  type BitField,
  CAP_CSS,
  CC,
  CC_AMS,
  CC_CSS,
  CC_SHN,
  CQE,
  CQE_SIZE,
  CQE_STATUS,
  CSTS,
  CSTS_SHST,
  cqeSetCid,
  cqeSetDw0,
  cqeSetDw1,
  cqeSetSqhd,
  cqeSetSqid,
  cqHeadDoorbell,
  encodeCap,
  getBits,
  IDENTIFY_DATA_SIZE,
  Lid,
  mpsToPageSize,
  NVME_NVM_IOCQES,
  NVME_NVM_IOSQES,
  NVME_VS_2_0,
  type NvmeStatus,
  SGL_DESCRIPTOR_SIZE,
  SMART_CRITICAL_WARNING,
  SQE_SIZE,
  STATUS_SUCCESS,
  Status,
  setBits,
  sqeCid,
  sqTailDoorbell,
} from '@epfsim/nvme-spec-types';
import { AsyncEvents } from './admin/async-events.js';
import { buildCommandEffectsLog } from './admin/command-effects.js';
import { executeAdmin } from './admin/dispatch.js';
import { FeatureState } from './admin/features.js';
import { buildIdentifyController, buildIdentifyNamespace } from './admin/identify.js';
import { Command, DEFERRED, EarlyFailure, type HandlerResult } from './command/command.js';
import type { CommandOrigin, ResumableCommand } from './command/resumable-command.js';
import { succeeded } from './command/succeeded.js';
import type { NvmeFunctionConfig } from './config.js';
import { type DataPointerOptions, type DataSegment, parsePrps, parseSgl } from './data-pointer/index.js';
import { HostPort } from './data-transfer.js';
import { type FunctionFaultFlags, functionFaultFlags } from './faults/catalogue.js';
import { ERROR_NO_COMMAND, ErrorLog } from './health/error-log.js';
import { SmartCounters } from './health/smart.js';
import { Interrupts } from './interrupts.js';
import { executeIo } from './io/dispatch.js';
import { Namespace } from './namespace/namespace.js';
import { CompletionQueue } from './queues/completion-queue.js';
import { SubmissionQueue } from './queues/submission-queue.js';
import { type Bar0Layout, computeBar0Layout } from './registers/bar0-layout.js';
import { RegisterFile } from './registers/register-file.js';
import { type FunctionStats, newStats, statusKey } from './stats.js';
import { TraceRing } from './trace.js';

/** The function's BAR (NVMe requires registers in BAR0, a 64-bit BAR). */
export const NVME_BAR = 0;
/** CAP.TO: 15 × 500 ms = 7.5 s to wait for RDY, as the nvmet core reports. */
const CAP_TIMEOUT = 15;
/** CAP.MPSMIN = 0 (4 KiB) and MPSMAX = 4 (64 KiB): the parsers handle any power-of-two page. */
export const MPSMIN = 0;
export const MPSMAX = 4;
/** MSI offers at most 32 vectors, a power of two (PCI Local Bus 3.0 §6.8.1.3). */
const MSI_MAX_VECTORS = 32;
/**
 * Translation slots kept free when deciding whether to keep a CQ mapped: one for data and one for
 * an interrupt message on controllers that map MSI transiently. The Linux function maps every CQ
 * and refuses a queue it cannot map in one piece; here such a CQ is reached per post instead.
 */
const CQ_MAP_SLOT_RESERVE = 2;
/** SQEs fetched in one read at most: the largest finite Arbitration Burst, 2^6 (AB = 110b). */
const FETCH_ENTRIES = 64;
/** Each queue id has two doorbells: SQ tail (index 2 × qid) and CQ head (2 × qid + 1). */
const DOORBELLS_PER_QID = 2;
/** The bounce buffer starts at MDTS, or at one Identify page when MDTS is unlimited (it grows then). */
const MIN_BOUNCE = IDENTIFY_DATA_SIZE;
const KIB = 1024;
const MIB = 1024 * KIB;
/**
 * The bounce buffer holds at most MDTS and at most 2 MiB (Linux caps a request at 8 MiB, most
 * drives at 128 KiB to 2 MiB): a command that moves more, possible only when MDTS is larger or
 * unlimited (256 MiB with NLB = FFFFh of 4 KiB blocks), moves it in pieces of this size over polls.
 */
export const BOUNCE_LIMIT = 2 * MIB;
/**
 * Work one poll may do, in bytes moved to and from the host plus the fixed costs below: once it
 * is spent, the arbitration round stops after the running command and resumes at the next SQ on
 * the next poll. 4 MiB holds a whole default round of small I/Os (64 queues × a burst of 8 × 4 KiB
 * is about 3.9 MiB by this measure), and is at most about 20 ms of the slowest work measured (the
 * pieces of a 256 MiB transfer); a host can make a poll slower only by one command on top of it
 * (bench figure 11 measures the longest poll).
 */
export const POLL_WORK_BUDGET = 4 * MIB;
/** Work charged per command: fetch, decode, completion. */
const COMMAND_WORK = 1 * KIB;
/** Work charged per host access (a map and unmap, a map_addr, a DMA transfer): its fixed cost. */
const HOST_ACCESS_WORK = 2 * KIB;

/** Controller states. */
type State = 'disabled' | 'ready' | 'fatal' | 'shutdown';

/** Statuses, cached by value, for the stats keys (no string per completion). */
const statusKeys = new Map<number, string>();
/** Width mask of the CQE Status Field (15 bits above the phase tag). */
const CQE_SF_MASK = 2 ** CQE_STATUS.SF.len - 1;
/** No interrupt state kept for a queue id (fault cq-irq-state-survives-delete). */
const NO_KEPT_VECTOR = -1;

export class NvmeController {
  readonly config: NvmeFunctionConfig;
  readonly epc: Epc;
  readonly port: HostPort;
  readonly layout: Bar0Layout;
  readonly regs: RegisterFile;
  readonly namespaces: readonly Namespace[];
  readonly sqs: (SubmissionQueue | undefined)[];
  readonly cqs: (CompletionQueue | undefined)[];
  readonly interrupts: Interrupts;
  readonly features: FeatureState;
  readonly aer: AsyncEvents;
  readonly errorLog = new ErrorLog();
  readonly smart: SmartCounters;
  readonly trace = new TraceRing();
  readonly stats: FunctionStats = newStats();
  /** The injected faults (config.faults), one flag each; all false in normal operation. */
  readonly faults: FunctionFaultFlags;
  /** Fault cq-kept-after-failed-create: queue ids a failed Create I/O CQ left taken (1). */
  readonly leakedCqIds: Uint8Array;
  /** CAP as reported. */
  readonly cap: bigint;
  /** Data-pointer parser options; the page size follows CC.MPS at enable. */
  readonly dataPointer: DataPointerOptions;
  /** Segments of the command being executed ({@link takeSegments} hands them to a resumable command), and SGL1's 16 bytes. */
  segments: DataSegment[] = [];
  readonly sgl1 = new Uint8Array(SGL_DESCRIPTOR_SIZE);
  /** Memory page size from CC.MPS (valid while enabled). */
  pageSize = mpsToPageSize(MPSMIN);
  /** Number of Queues allocated, 0's based (NSQA, NCQA). */
  nsqa: number;
  ncqa: number;
  /** An I/O queue was created since the last reset (Number of Queues is then a sequence error). */
  ioQueuesCreated = false;
  #state: State = 'disabled';
  #closed = false;
  /** Set by a completed shutdown: the next enable is a new power cycle. */
  #poweredDown = false;
  readonly #command: Command;
  /** SQEs are fetched here, a burst at a time; reused for every fetch. */
  readonly #fetch: Uint8Array;
  readonly #fetchView: DataView;
  readonly #fetchViews: (Uint8Array | undefined)[] = [];
  /** One CQE, filled and written for each post. */
  readonly #cqe = new Uint8Array(CQE_SIZE);
  readonly #cqeView = new DataView(this.#cqe.buffer);
  /** One SQE read outside the fetch buffer (Delete SQ, Abort), which may hold the running batch. */
  readonly #scratchSqe = new Uint8Array(SQE_SIZE);
  readonly #scratchView = new DataView(this.#scratchSqe.buffer);
  /** Last value seen in each doorbell of a queue that does not exist (index 2 × qid + 0/1). */
  readonly #strayDoorbells: Uint32Array;
  /** Fault cq-irq-state-survives-delete: the vector of the last interrupt-driven CQ per queue id. */
  readonly #keptIrqVectors: Int32Array;
  #bounce: Uint8Array;
  #bounceView: Uint8Array = new Uint8Array(0);
  #bounce2: Uint8Array;
  /** The most a bounce buffer holds: MDTS, or {@link BOUNCE_LIMIT} when that is smaller or MDTS is unlimited. */
  readonly bounceLimit: number;
  /** Work done by earlier polls and this one, by {@link #workMeter}'s measure; the poll started at {@link #pollStart}. */
  #charged = 0;
  #pollStart = 0;
  /** The SQ the next arbitration round starts at: after the one that spent the last poll's budget. */
  #roundNext = 0;
  /** Resumable transfers holding a slot ({@link RESUMABLE_TRANSFER_SLOTS}). */
  resumableTransfers = 0;
  #identifyController: Uint8Array | undefined;
  readonly #identifyNamespaces = new Map<number, Uint8Array>();
  #effectsLog: Uint8Array | undefined;
  #temperatureReported = false;

  constructor(epc: Epc, config: NvmeFunctionConfig) {
    this.config = config;
    this.epc = epc;
    this.faults = functionFaultFlags(config.faults);
    this.port = new HostPort(epc, STRATEGIES[config.strategy]);
    const profileIrq = epc.profile.irq;
    const useMsix = config.irq === 'msix' && profileIrq.msix;
    const useMsi = config.irq !== 'intx' && profileIrq.msi;
    this.layout = computeBar0Layout(config.maxIoQueues, config.dstrd, useMsix ? config.msixVectors : 0);
    const bar = epc.setBar(NVME_BAR, this.layout.size);
    if (useMsix) {
      epc.setMsix(config.msixVectors, NVME_BAR, this.layout.msixTableOffset!, this.layout.msixPbaOffset!);
    }
    const msiVectors = Math.min(MSI_MAX_VECTORS, 2 ** Math.ceil(Math.log2(config.maxIoQueues + 1)));
    if (useMsi) epc.setMsi(msiVectors);
    this.cap = encodeCap({
      MQES: config.mqes,
      CQR: 1,
      TO: CAP_TIMEOUT,
      DSTRD: config.dstrd,
      CSS: CAP_CSS.NVM,
      MPSMIN,
      MPSMAX,
    });
    this.regs = new RegisterFile(bar, this.cap, NVME_VS_2_0);
    this.namespaces = config.namespaces.map((ns, i) => new Namespace(i + 1, ns, config.serial));
    this.sqs = new Array(this.layout.queuePairs).fill(undefined);
    this.cqs = new Array(this.layout.queuePairs).fill(undefined);
    const vectors = useMsix ? config.msixVectors : useMsi ? msiVectors : 1;
    this.interrupts = new Interrupts(epc, vectors, { msix: useMsix, msi: useMsi }, this.stats, this.trace, config.now);
    this.features = new FeatureState(config);
    this.aer = new AsyncEvents((cid, status, dw0) => {
      const adminSq = this.sqs[0];
      if (adminSq !== undefined) this.complete(adminSq, cid, status, dw0);
    });
    this.smart = new SmartCounters(config.now());
    this.nsqa = config.maxIoQueues - 1;
    this.ncqa = config.maxIoQueues - 1;
    const o = config.options;
    this.dataPointer = {
      pageSize: this.pageSize,
      sgl: { support: o.sglSupport, bitBucket: o.sglBitBucket, excessLength: o.sglExcessLength },
      checkPrp1Dword: o.checkPrp1Dword,
      checkListQword: o.checkPrpListQword,
      chainPointerOffset: o.prpChainPointerOffset,
      segmentChainEnd: o.sglSegmentChainEnd,
      bitBucketOnWrite: o.bitBucketOnWrite,
      acceptShortSegments: this.faults.shortSglSegmentAccepted,
    };
    this.#fetch = new Uint8Array(FETCH_ENTRIES * SQE_SIZE);
    this.#fetchView = new DataView(this.#fetch.buffer);
    this.#command = new Command(this.#fetchView);
    this.#strayDoorbells = new Uint32Array(this.layout.queuePairs * DOORBELLS_PER_QID);
    this.leakedCqIds = new Uint8Array(this.layout.queuePairs);
    this.#keptIrqVectors = new Int32Array(this.layout.queuePairs).fill(NO_KEPT_VECTOR);
    this.bounceLimit = config.mdtsBytes === 0 ? BOUNCE_LIMIT : Math.min(config.mdtsBytes, BOUNCE_LIMIT);
    this.#bounce = new Uint8Array(config.mdtsBytes === 0 ? MIN_BOUNCE : this.bounceLimit);
    this.#bounce2 = new Uint8Array(0);
  }

  // ---- public surface (NvmeFunction) ----

  get state(): State {
    return this.#state;
  }

  /** One step of the function; returns the work done (0 = idle). */
  poll(): number {
    if (this.#closed) return 0;
    this.#pollStart = this.#workMeter();
    let work = 0;
    const unmasked = this.regs.refresh();
    if (unmasked !== 0) this.interrupts.onUnmasked(unmasked, this.regs.intMask);
    work += this.#serviceCc();
    if (this.#state === 'ready') {
      work += this.#serviceCqDoorbells();
      work += this.#serviceStrayDoorbells();
      work += this.#serviceSqs();
      work += this.interrupts.tick(this.regs.intMask);
    }
    this.interrupts.deliverPending();
    this.interrupts.updateIntx(this.cqs, this.regs.intMask);
    return work;
  }

  /**
   * Commands fetched that have no completion yet: AERs waiting for an event and completions
   * waiting for room in a full CQ. fetched = completed + dropped + pending at every step.
   */
  get pendingCompletions(): number {
    let n = this.aer.outstanding;
    for (const cq of this.cqs) n += cq?.deferred.length ?? 0;
    for (const sq of this.sqs) if (sq?.inProgress) n++;
    return n;
  }

  /** CQ maps held on purpose while their queue lives (a leak check allows them). */
  persistentMaps(): ReadonlySet<EpcMap> {
    const maps = new Set<EpcMap>();
    for (const cq of this.cqs) if (cq?.map) maps.add(cq.map);
    return maps;
  }

  /** Releases every mapping and closes the backends; the function does nothing afterwards. */
  close(): void {
    if (this.#closed) return;
    if (this.#state === 'ready') this.smart.unsafeShutdowns++;
    this.#teardown();
    for (const ns of this.namespaces) ns.backend.close();
    this.#closed = true;
  }

  // ---- services for the command handlers ----

  /** Vectors a CQ may name now (Create I/O CQ IV check, Q-7). */
  get usableVectors(): number {
    return this.interrupts.usableVectors;
  }

  /** The namespace of an NSID, or undefined when the NSID is not an active namespace. */
  namespace(nsid: number): Namespace | undefined {
    return this.namespaces[nsid - 1];
  }

  /** True when `bytes` exceeds MDTS (C-3: 2^MDTS × the minimum page; 0 = no limit). */
  exceedsMdts(bytes: number): boolean {
    return this.config.mdtsBytes !== 0 && bytes > this.config.mdtsBytes;
  }

  /** A reusable buffer of `n` bytes for command data, at most {@link bounceLimit} (grows to it only when MDTS is unlimited). */
  bounce(n: number): Uint8Array {
    if (n > this.bounceLimit) throw new RangeError(`bounce buffer of ${n} bytes: the limit is ${this.bounceLimit}`);
    if (this.#bounce.length < n) this.#bounce = new Uint8Array(n);
    // Commands of one size follow each other: keep the last view rather than make one per command.
    let view = this.#bounceView;
    if (view.buffer !== this.#bounce.buffer || view.length !== n) {
      view = this.#bounce.subarray(0, n);
      this.#bounceView = view;
    }
    return view;
  }

  /** A second reusable buffer (Compare reads the media into it), at most {@link bounceLimit}. */
  bounce2(n: number): Uint8Array {
    if (n > this.bounceLimit) throw new RangeError(`bounce buffer of ${n} bytes: the limit is ${this.bounceLimit}`);
    if (this.#bounce2.length < n) this.#bounce2 = new Uint8Array(Math.max(n, this.#bounce.length));
    return this.#bounce2.subarray(0, n);
  }

  /** Hands the parsed segments to a command that keeps them over polls; the controller takes a fresh list. */
  takeSegments(): DataSegment[] {
    const taken = this.segments;
    this.segments = [];
    return taken;
  }

  // ---- work bounds (§4.13: the controller chooses how much one arbitration round does) ----

  /**
   * Work done so far, in bytes: bytes moved to and from the host, a fixed cost per host access
   * and per command, and what handlers charge for backend work that moves no host bytes.
   */
  #workMeter(): number {
    const c = this.epc.counters;
    return (
      c.bytesFromHost +
      c.bytesToHost +
      (c.memMapCalls + c.mapAddrCalls + c.dmaTransfers) * HOST_ACCESS_WORK +
      this.#charged
    );
  }

  /** Work this poll may still do (≤ 0: the round stops after the running command). */
  get workLeft(): number {
    return POLL_WORK_BUDGET - (this.#workMeter() - this.#pollStart);
  }

  /** Charges backend work that moves no host bytes (Verify reads, zeroing, deallocation). */
  chargeWork(bytes: number): void {
    this.#charged += bytes;
  }

  /**
   * Runs `work` for the command being executed: its first step now, the rest over the next polls
   * while its SQ waits. The completion is posted by the controller when the work is done.
   */
  startResumable(cmd: Command, work: ResumableCommand): HandlerResult {
    const sq = cmd.sq;
    if (sq === null) throw new RangeError('a resumable command needs its SQ');
    sq.inProgress = work;
    this.#resume(sq);
    return DEFERRED;
  }

  /** Steps the command `sq` is waiting for; true when it completed (the SQ may fetch again). */
  #resume(sq: SubmissionQueue): boolean {
    const work = sq.inProgress as ResumableCommand;
    const result = work.step();
    if (result === DEFERRED) return false;
    this.#finishResumable(sq, result);
    return true;
  }

  #finishResumable(sq: SubmissionQueue, status: NvmeStatus): void {
    const work = sq.inProgress as ResumableCommand;
    sq.inProgress = null;
    work.release();
    this.complete(sq, work.origin.cid, status, status === STATUS_SUCCESS ? work.origin.dw0 : 0, work.origin);
  }

  /** Abort (Q-10) of the command `sq` is working on over polls: it completes with 0/07h. */
  abortInProgress(sq: SubmissionQueue, cid: number): boolean {
    if (sq.inProgress?.origin.cid !== cid) return false;
    this.#finishResumable(sq, Status.ABORT_REQ);
    return true;
  }

  /** Parses the command's data pointer for `length` bytes into {@link segments}. */
  mapData(cmd: Command, length: number, toHost: boolean): NvmeStatus {
    const status =
      cmd.psdt === 0
        ? parsePrps(cmd.prp1, cmd.prp2, length, this.dataPointer, this.port.reader, this.segments)
        : parseSgl(cmd.copySgl1(this.sgl1), length, toHost, this.dataPointer, this.port.reader, this.segments);
    // The Linux function parses the data pointer while setting up the data buffer, before execution.
    if (status !== STATUS_SUCCESS) cmd.earlyFailure = EarlyFailure.DATA_BUFFER;
    return status;
  }

  /**
   * Sends `data` to the host through the command's data pointer (Identify, Get Log Page), which
   * is parsed for `length` bytes (the command's transfer length, at least `data.length`).
   */
  sendToHost(cmd: Command, data: Uint8Array, length = data.length): NvmeStatus {
    const status = this.mapData(cmd, length, true);
    if (!succeeded(status)) return status;
    if (!this.port.transferSegments(this.segments, data, 'toHost')) return this.dataTransferError(cmd);
    this.stats.dataBytesToHost += data.length;
    return STATUS_SUCCESS;
  }

  /** Fills `data` from the host through the command's data pointer (Write, Dataset Management). */
  receiveFromHost(cmd: Command, data: Uint8Array): NvmeStatus {
    const status = this.mapData(cmd, data.length, false);
    if (!succeeded(status)) return status;
    if (!this.port.transferSegments(this.segments, data, 'fromHost')) return this.dataTransferError(cmd);
    this.stats.dataBytesFromHost += data.length;
    return STATUS_SUCCESS;
  }

  /** P-9: a failed host access during the data phase is Data Transfer Error (0/04h). */
  dataTransferError(cmd: Command): NvmeStatus {
    const epc = this.port.lastError;
    this.trace.record({
      kind: 'command-error',
      message: `data transfer failed: ${epc?.toString() ?? 'unknown'}`,
      qid: cmd.qid,
      cid: cmd.cid,
      opcode: cmd.opcode,
      status: Status.DATA_XFER_ERROR,
      ...(epc === null ? {} : { epc }),
    });
    return Status.DATA_XFER_ERROR;
  }

  /** Queues a completion for `cid` of `sq`: posted now, or kept in order until the CQ has room. */
  complete(sq: SubmissionQueue, cid: number, status: NvmeStatus, dw0: number, cmd?: CommandOrigin): void {
    if (!succeeded(status)) this.#recordError(sq, cid, status, cmd);
    let key = statusKeys.get(status);
    if (key === undefined) {
      key = statusKey(status);
      statusKeys.set(status, key);
    }
    const byStatus = this.stats.completionsByStatus;
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    const cq = sq.cq;
    if (this.faults.cqeFieldsUninitialized && cmd !== undefined && cmd.earlyFailure !== EarlyFailure.NONE) {
      this.#completeWithStaleIds(sq, cid, status, dw0);
      return;
    }
    if (cq.deferred.length > 0 || this.#cqFull(cq)) {
      cq.deferred.push({ sq, cid, status, dw0 });
      this.stats.deferredCompletions++;
      return;
    }
    this.#post(cq, sq, cid, status, dw0);
  }

  /**
   * Fault cqe-fields-uninitialized: before Linux ffe0398c7d6a ("Always fully initialize completion
   * entries") a command the function failed before execution was posted with the SQ head, SQ id and
   * CID its completion entry last held. Here that is the previous CQE this function posted.
   */
  #completeWithStaleIds(sq: SubmissionQueue, cid: number, status: NvmeStatus, dw0: number): void {
    const cq = sq.cq;
    if (cq.deferred.length > 0 || this.#cqFull(cq)) {
      cq.deferred.push({ sq, cid, status, dw0, staleIds: true });
      this.stats.deferredCompletions++;
      return;
    }
    this.#post(cq, sq, cid, status, dw0, true);
  }

  /**
   * Q-2: no room for one more entry. Fault cq-full-check-misses-wrap tests head == tail + 1, as
   * the Linux function's nvmet_pci_epf_cq_work() does, which misses tail = size - 1 with head = 0.
   */
  #cqFull(cq: CompletionQueue): boolean {
    if (this.faults.cqFullCheckMissesWrap) return cq.head === cq.tail + 1;
    return cq.full;
  }

  /** An error asynchronous event (type 0) naming the Error Information log, with a log entry. */
  errorEvent(info: number, qid: number, message: string): void {
    this.stats.invalidDoorbellWrites++;
    this.trace.record({
      kind:
        info === AsyncEventInfoError.WRITE_TO_INVALID_DOORBELL ? 'doorbell-without-queue' : 'invalid-doorbell-value',
      message,
      qid,
    });
    this.errorLog.record({
      sqid: qid,
      cid: ERROR_NO_COMMAND,
      status: STATUS_SUCCESS,
      phase: 0,
      location: ERROR_NO_COMMAND,
      lba: 0n,
      nsid: 0,
    });
    this.stats.asyncEventsPosted++;
    this.aer.notify(AsyncEventType.ERROR, info, Lid.ERROR_INFORMATION);
  }

  /** Creates I/O CQ `qid` (the checks are the caller's, Q-7). */
  createCq(qid: number, base: bigint, size: number, ien: boolean, vector: number): void {
    let irq = ien;
    let iv = vector;
    const kept = this.#keptIrqVectors[qid] ?? NO_KEPT_VECTOR;
    if (!ien && this.faults.cqIrqStateSurvivesDelete && kept !== NO_KEPT_VECTOR) {
      // Before Linux 85adf2094abb ("clear completion queue IRQ flag on delete") the IRQ-enabled
      // flag of the queue id outlived its CQ: a polled CQ created on it still interrupted.
      irq = true;
      iv = kept;
    }
    const cq = new CompletionQueue(qid, base, size, irq, iv, this.#entrySize(qid, CC.IOCQES, CQE_SIZE));
    this.#mapCq(cq);
    this.cqs[qid] = cq;
    this.#zeroDoorbell(cqHeadDoorbell(qid, this.config.dstrd), qid, 1);
    if (qid !== 0) this.ioQueuesCreated = true;
  }

  /** Creates I/O SQ `qid` on `cq` (the checks are the caller's, Q-8). */
  createSq(qid: number, base: bigint, size: number, cq: CompletionQueue): void {
    const sq = new SubmissionQueue(qid, base, size, cq, this.#entrySize(qid, CC.IOSQES, SQE_SIZE));
    cq.sqCount++;
    this.sqs[qid] = sq;
    this.#zeroDoorbell(sqTailDoorbell(qid, this.config.dstrd), qid, 0);
    if (qid !== 0) this.ioQueuesCreated = true;
  }

  /**
   * The entry size of a new queue. Fault unchecked-entry-sizes: an I/O queue's entries are
   * 2^CC.IOSQES (SQ) or 2^CC.IOCQES (CQ) bytes, as the Linux function sized them before its fix
   * for invalid I/O SQES/CQES; otherwise, and for the admin queues, 64 and 16.
   */
  #entrySize(qid: number, field: BitField, normal: number): number {
    if (!this.faults.uncheckedEntrySizes || qid === 0) return normal;
    return 2 ** getBits(this.regs.ccSeen, field);
  }

  /**
   * Deletes SQ `qid` (Q-9): commands submitted but not fetched complete with 0/08h on its CQ
   * before the Delete completes; nothing is in flight, since execution is synchronous.
   */
  deleteSq(sq: SubmissionQueue): void {
    // A command running over polls was fetched first: it completes first, aborted by the deletion.
    if (sq.inProgress !== null) this.#finishResumable(sq, Status.ABORT_QUEUE);
    this.#refreshTail(sq);
    while (sq.head !== sq.tail && !sq.stalled) {
      if (!this.port.read(sq.entryAddress(sq.head), this.#scratchSqe)) {
        const epc = this.port.lastError;
        this.fatal(
          `SQ ${sq.qid}: fetching entry ${sq.head} for deletion failed (${epc?.toString() ?? ''})`,
          sq.qid,
          epc,
        );
        break;
      }
      sq.head = (sq.head + 1) % sq.size;
      this.stats.commandsFetched++;
      this.complete(sq, sqeCid(this.#scratchView, 0), Status.ABORT_QUEUE, 0);
    }
    sq.cq.sqCount--;
    this.sqs[sq.qid] = undefined;
    this.#zeroDoorbell(sqTailDoorbell(sq.qid, this.config.dstrd), sq.qid, 0);
  }

  /** Deletes CQ `qid`: its map is released; completions still waiting for room are dropped. */
  deleteCq(cq: CompletionQueue): void {
    this.#keepIrqState(cq);
    this.stats.commandsDropped += cq.deferred.length;
    cq.deferred.length = 0;
    this.#unmapCq(cq);
    this.cqs[cq.qid] = undefined;
    this.#zeroDoorbell(cqHeadDoorbell(cq.qid, this.config.dstrd), cq.qid, 1);
    if (cq.ien && !this.cqs.some((other) => other?.ien === true && other.vector === cq.vector))
      this.interrupts.dropAggregated(cq.vector);
  }

  /** Fault cq-irq-state-survives-delete: remember the vector of an interrupt-driven I/O CQ going away. */
  #keepIrqState(cq: CompletionQueue): void {
    if (this.faults.cqIrqStateSurvivesDelete && cq.ien && cq.qid !== 0) this.#keptIrqVectors[cq.qid] = cq.vector;
  }

  /** Finds `cid` among the entries of `sq` submitted but not fetched (Abort, Q-10). */
  findQueued(sq: SubmissionQueue, cid: number): boolean {
    this.#refreshTail(sq);
    for (let i = sq.head; i !== sq.tail; i = (i + 1) % sq.size) {
      if (!this.port.read(sq.entryAddress(i), this.#scratchSqe)) return false;
      if (sqeCid(this.#scratchView, 0) === cid) return true;
    }
    return false;
  }

  /** Sets CSTS.CFS: a failure the controller cannot report through a CQ (an SQE or CQE access failed). */
  fatal(message: string, qid?: number, epc?: EpcError | null): void {
    this.stats.fatalErrors++;
    this.trace.record({
      kind: 'controller-fatal',
      message,
      ...(qid !== undefined ? { qid } : {}),
      ...(epc ? { epc } : {}),
    });
    this.#state = 'fatal';
    this.regs.csts = setBits(this.regs.csts, CSTS.CFS, 1);
  }

  /** Identify Controller data (built once; nothing in it changes while the function lives). */
  get identifyController(): Uint8Array {
    this.#identifyController ??= buildIdentifyController(this);
    return this.#identifyController;
  }

  /** Identify Namespace data of `ns` (built once per namespace). */
  identifyNamespace(ns: Namespace): Uint8Array {
    let data = this.#identifyNamespaces.get(ns.nsid);
    if (data === undefined) {
      data = buildIdentifyNamespace(ns);
      this.#identifyNamespaces.set(ns.nsid, data);
    }
    return data;
  }

  /** Commands Supported and Effects log (built once). */
  get commandEffectsLog(): Uint8Array {
    this.#effectsLog ??= buildCommandEffectsLog();
    return this.#effectsLog;
  }

  /**
   * The composite temperature crossed a threshold (Temperature Threshold feature): report a
   * SMART / Health event (type 1, info 01h, log 02h) if Asynchronous Event Configuration enables
   * temperature warnings, once per crossing.
   */
  checkTemperature(): void {
    const warning = this.features.temperatureWarning;
    if (warning === this.#temperatureReported) return;
    this.#temperatureReported = warning;
    const enabled = getBits(this.features.asyncEventConfig, SMART_CRITICAL_WARNING.TEMPERATURE) === 1;
    if (!warning || !enabled) return;
    this.stats.asyncEventsPosted++;
    this.aer.notify(AsyncEventType.SMART, AsyncEventInfoSmart.TEMPERATURE_THRESHOLD, Lid.SMART_HEALTH);
  }

  // ---- CC state machine (§3.1.5, §7.6) ----

  #serviceCc(): number {
    const cc = this.regs.readCc();
    const prev = this.regs.ccSeen;
    if (cc === prev) return 0;
    this.regs.ccSeen = cc;
    const en = getBits(cc, CC.EN) === 1;
    const shn = getBits(cc, CC.SHN);
    const prevShn = getBits(prev, CC.SHN);
    if (!en) {
      if (this.#state !== 'disabled') this.#reset();
      // A shutdown notification to a disabled controller has nothing to do: it is complete at once.
      if (shn !== CC_SHN.NONE && prevShn === CC_SHN.NONE) {
        this.regs.csts = setBits(this.regs.csts, CSTS.SHST, CSTS_SHST.COMPLETE);
      } else if (shn === CC_SHN.NONE && !this.faults.ccCstsNotCleared) {
        this.regs.csts = setBits(this.regs.csts, CSTS.SHST, CSTS_SHST.NORMAL);
      }
      return 1;
    }
    if (shn !== CC_SHN.NONE) {
      if (this.#state !== 'shutdown') this.#shutdown(shn);
      return 1;
    }
    // EN = 1 and no shutdown notification: enable from reset, or again after a completed
    // shutdown (Linux fix #4: the host may re-enable without the function seeing EN drop).
    if (this.#state === 'shutdown' && this.faults.ccCstsNotCleared && getBits(prev, CC.EN) === 1) {
      // Fault cc-csts-not-cleared: before Linux f8e01fa93f3e the shutdown left CC.EN set, so only a
      // 0→1 edge of EN re-enabled; clearing SHN with EN still 1 is not one, and RDY never comes.
      return 1;
    }
    if (this.#state === 'disabled' || this.#state === 'shutdown') this.#enable(cc);
    return 1;
  }

  #enable(cc: number): void {
    if (this.#state === 'shutdown') this.#teardown();
    const aqa = this.regs.readAqa();
    const asqs = getBits(aqa, AQA.ASQS);
    const acqs = getBits(aqa, AQA.ACQS);
    const asq = this.regs.readAsq();
    const acq = this.regs.readAcq();
    const mps = getBits(cc, CC.MPS);
    const css = getBits(cc, CC.CSS);
    const ams = getBits(cc, CC.AMS);
    const iosqes = getBits(cc, CC.IOSQES);
    const iocqes = getBits(cc, CC.IOCQES);
    const pageSize = mpsToPageSize(mps);
    const mask = BigInt(pageSize - 1);
    let reason: string | null = null;
    // Q-1 / P-13: each of these fails the enable with CSTS.CFS, as QEMU's nvme_start_ctrl() does.
    if (mps < MPSMIN || mps > MPSMAX) reason = `CC.MPS ${mps} outside CAP [${MPSMIN}, ${MPSMAX}]`;
    else if (css !== CC_CSS.NVM) reason = `CC.CSS ${css} is not a supported command set (CAP.CSS = NVM)`;
    else if (ams !== CC_AMS.RR) reason = `CC.AMS ${ams}: only round robin is supported (CAP.AMS = 0)`;
    else if (asqs === 0 || acqs === 0) reason = `AQA ${aqa.toString(16)}: ASQS and ACQS must be non-zero`;
    else if ((asq & mask) !== 0n) reason = `ASQ 0x${asq.toString(16)} is not aligned to the ${pageSize}-byte page`;
    else if ((acq & mask) !== 0n) reason = `ACQ 0x${acq.toString(16)} is not aligned to the ${pageSize}-byte page`;
    // Linux fix #17: never trust other entry sizes. 0 is allowed until I/O queues are created.
    // Fault unchecked-entry-sizes skips both checks, as the function did before that fix.
    else if (!this.faults.uncheckedEntrySizes && iosqes !== 0 && iosqes !== NVME_NVM_IOSQES)
      reason = `CC.IOSQES ${iosqes}: only 6 (64 B) is supported`;
    else if (!this.faults.uncheckedEntrySizes && iocqes !== 0 && iocqes !== NVME_NVM_IOCQES)
      reason = `CC.IOCQES ${iocqes}: only 4 (16 B) is supported`;
    if (reason !== null) {
      this.trace.record({ kind: 'enable-failed', message: reason });
      this.stats.fatalErrors++;
      this.#state = 'fatal';
      this.regs.csts = setBits(0, CSTS.CFS, 1);
      return;
    }
    this.pageSize = pageSize;
    this.dataPointer.pageSize = pageSize;
    this.#zeroAllDoorbells();
    this.createCq(0, acq, acqs + 1, true, 0);
    this.createSq(0, asq, asqs + 1, this.cqs[0]!);
    this.ioQueuesCreated = false;
    this.stats.enables++;
    if (this.#poweredDown) {
      this.smart.powerCycles++;
      this.#poweredDown = false;
    }
    this.#state = 'ready';
    // Linux "Correctly initialize CSTS when enabling the controller": CSTS is exactly RDY. Fault
    // cc-csts-not-cleared sets RDY over what CSTS held, so a stale SHST = 10b shows through.
    this.regs.csts = setBits(this.faults.ccCstsNotCleared ? this.regs.csts : 0, CSTS.RDY, 1);
  }

  /** CC.EN 1→0 (Q-1): every queue deleted, AERs dropped, every map released, features to defaults. */
  #reset(): void {
    if (this.#state === 'ready') this.smart.unsafeShutdowns++;
    this.#teardown();
    this.stats.resets++;
    this.trace.record({ kind: 'reset', message: 'controller reset (CC.EN 1→0)' });
    this.#state = 'disabled';
    // Fault cc-csts-not-cleared: the reset clears RDY (and CFS) but leaves SHST as the shutdown set it.
    const staleShst = this.faults.ccCstsNotCleared ? getBits(this.regs.csts, CSTS.SHST) : CSTS_SHST.NORMAL;
    this.regs.resetState();
    if (staleShst !== CSTS_SHST.NORMAL) this.regs.csts = setBits(0, CSTS.SHST, staleShst);
  }

  /** CC.SHN (§7.6.2): stop, release everything, make data durable (normal), report SHST = 10b. */
  #shutdown(shn: number): void {
    if (this.#state !== 'disabled') this.#teardown();
    if (shn === CC_SHN.NORMAL) for (const ns of this.namespaces) ns.backend.flush();
    this.stats.shutdowns++;
    this.trace.record({ kind: 'shutdown', message: shn === CC_SHN.NORMAL ? 'normal shutdown' : 'abrupt shutdown' });
    this.#state = 'shutdown';
    this.#poweredDown = true;
    // RDY drops with the queues, as in the Linux function; SHST tells the host it is done.
    this.regs.csts = setBits(0, CSTS.SHST, CSTS_SHST.COMPLETE);
  }

  /** Deletes every queue, drops what cannot complete, releases every map, resets features and interrupts. */
  #teardown(): void {
    for (const cq of this.cqs) {
      if (cq === undefined) continue;
      this.#keepIrqState(cq);
      this.stats.commandsDropped += cq.deferred.length;
      cq.deferred.length = 0;
      this.#unmapCq(cq);
    }
    for (const sq of this.sqs) {
      if (sq?.inProgress) {
        this.stats.commandsDropped++;
        sq.inProgress.release();
        sq.inProgress = null;
      }
    }
    this.sqs.fill(undefined);
    this.cqs.fill(undefined);
    this.#roundNext = 0;
    this.stats.commandsDropped += this.aer.reset();
    this.features.reset();
    this.#temperatureReported = false;
    this.interrupts.reset();
    this.nsqa = this.config.maxIoQueues - 1;
    this.ncqa = this.config.maxIoQueues - 1;
    this.ioQueuesCreated = false;
    this.#zeroAllDoorbells();
  }

  // ---- doorbells (§3.1.24; Q-3, Q-4) ----

  #doorbell(off: number): number {
    return this.regs.bar.view.getUint32(off, true);
  }

  #zeroDoorbell(off: number, qid: number, which: 0 | 1): void {
    this.regs.bar.view.setUint32(off, 0, true);
    this.#strayDoorbells[qid * DOORBELLS_PER_QID + which] = 0;
  }

  #zeroAllDoorbells(): void {
    const bytes = this.regs.bar.bytes;
    bytes.fill(0, sqTailDoorbell(0, this.config.dstrd), this.layout.doorbellEnd);
    this.#strayDoorbells.fill(0);
  }

  #serviceCqDoorbells(): number {
    let work = 0;
    const dstrd = this.config.dstrd;
    for (const cq of this.cqs) {
      if (cq === undefined) continue;
      const value = this.#doorbell(cqHeadDoorbell(cq.qid, dstrd));
      if (value === cq.doorbellSeen) continue;
      cq.doorbellSeen = value;
      work++;
      // Fault doorbell-values-unchecked: the Linux function uses any head as written (no event).
      if (!cq.acceptsHead(value) && !this.faults.doorbellValuesUnchecked) {
        this.errorEvent(
          AsyncEventInfoError.INVALID_DOORBELL_WRITE_VALUE,
          cq.qid,
          `CQ ${cq.qid} head doorbell ${value}: outside the ring (${cq.size}) or past the tail (${cq.tail}, head ${cq.head})`,
        );
        continue;
      }
      cq.head = value;
      work += this.#flushDeferred(cq);
      if (this.#state !== 'ready') return work;
    }
    return work;
  }

  /** Q-4: a write to the doorbell of a queue that does not exist is an error event (info 00h). */
  #serviceStrayDoorbells(): number {
    // Fault doorbell-values-unchecked: the Linux function never looks at such a doorbell.
    if (this.faults.doorbellValuesUnchecked) return 0;
    let work = 0;
    const dstrd = this.config.dstrd;
    const seen = this.#strayDoorbells;
    for (let qid = 0; qid < this.layout.queuePairs; qid++) {
      if (this.sqs[qid] === undefined) {
        const value = this.#doorbell(sqTailDoorbell(qid, dstrd));
        if (value !== seen[qid * DOORBELLS_PER_QID]) {
          seen[qid * DOORBELLS_PER_QID] = value;
          work++;
          this.errorEvent(
            AsyncEventInfoError.WRITE_TO_INVALID_DOORBELL,
            qid,
            `SQ ${qid} tail doorbell written (${value}) but the SQ does not exist`,
          );
        }
      }
      if (this.cqs[qid] === undefined) {
        const value = this.#doorbell(cqHeadDoorbell(qid, dstrd));
        if (value !== seen[qid * DOORBELLS_PER_QID + 1]) {
          seen[qid * DOORBELLS_PER_QID + 1] = value;
          work++;
          this.errorEvent(
            AsyncEventInfoError.WRITE_TO_INVALID_DOORBELL,
            qid,
            `CQ ${qid} head doorbell written (${value}) but the CQ does not exist`,
          );
        }
      }
    }
    return work;
  }

  /** Reads the SQ tail doorbell; a valid new value moves the tail, an invalid one stalls the queue (Q-3). */
  #refreshTail(sq: SubmissionQueue): void {
    const value = this.#doorbell(sqTailDoorbell(sq.qid, this.config.dstrd));
    if (value === sq.doorbellSeen) return;
    sq.doorbellSeen = value;
    if (sq.stalled) return;
    if (sq.acceptsTail(value)) {
      sq.tail = value;
      return;
    }
    if (this.faults.doorbellValuesUnchecked) {
      // Fault doorbell-values-unchecked: the Linux function takes any tail as written. Modulo the
      // size, so that a tail past the ring still ends the fetching (Linux would fetch stale
      // entries forever, a burst per pass).
      sq.tail = value % sq.size;
      return;
    }
    sq.stalled = true;
    this.errorEvent(
      AsyncEventInfoError.INVALID_DOORBELL_WRITE_VALUE,
      sq.qid,
      `SQ ${sq.qid} tail doorbell ${value}: outside the ring (${sq.size}) or past the head (${sq.head}); no more commands are fetched from it`,
    );
  }

  // ---- arbitration and execution (§4.13, Q-12) ----

  /** Arbitration burst: 2^AB from the Arbitration feature, unlimited for AB = 111b. */
  get #burst(): number {
    return this.features.arbitrationBurst;
  }

  #serviceSqs(): number {
    // The Arbitration feature cannot change inside one round.
    const burst = this.#burst;
    const sqs = this.sqs;
    const count = sqs.length;
    const start = this.#roundNext;
    let work = 0;
    for (let k = 0; k < count; k++) {
      const qid = start + k < count ? start + k : start + k - count;
      const sq = sqs[qid];
      if (sq === undefined) continue;
      this.#refreshTail(sq);
      work += this.#serviceSq(sq, burst);
      if (this.#state !== 'ready') break;
      if (this.workLeft <= 0) {
        // The next round starts at the next SQ: a queue that spends the budget cannot starve the others.
        this.#roundNext = qid + 1 < count ? qid + 1 : 0;
        break;
      }
    }
    return work;
  }

  /** Fetches and executes up to the burst from `sq`, a contiguous run of entries per read. */
  #serviceSq(sq: SubmissionQueue, burst: number): number {
    if (this.faults.uncheckedEntrySizes && sq.entrySize !== SQE_SIZE) return this.#serviceSizedSq(sq, burst);
    let budget = burst;
    let work = 0;
    if (sq.inProgress !== null) {
      work++;
      if (!this.#resume(sq) || this.workLeft <= 0) return work;
    }
    while (budget > 0 && !sq.stalled && sq.head !== sq.tail && sq.cq.deferred.length === 0) {
      const run = sq.tail > sq.head ? sq.tail - sq.head : sq.size - sq.head;
      const n = Math.min(budget, run, FETCH_ENTRIES);
      const dst = this.#fetchEntries(n);
      if (!this.port.read(sq.entryAddress(sq.head), dst)) {
        const epc = this.port.lastError;
        this.fatal(`SQ ${sq.qid}: fetching entry ${sq.head} failed (${epc?.toString() ?? ''})`, sq.qid, epc);
        return work;
      }
      for (let i = 0; i < n; i++) {
        // Stop when a command ended the controller's run, deleted this SQ, or filled its CQ.
        if (this.#state !== 'ready' || this.sqs[sq.qid] !== sq || sq.cq.deferred.length > 0) return work;
        sq.head = (sq.head + 1) % sq.size;
        this.stats.commandsFetched++;
        this.#execute(i * SQE_SIZE, sq);
        work++;
        budget--;
        // A command that runs over polls holds its SQ; a spent budget ends the round.
        if (sq.inProgress !== null || this.workLeft <= 0) return work;
      }
    }
    return work;
  }

  /**
   * Fault unchecked-entry-sizes: an SQ whose entries are 2^IOSQES bytes apart, fetched one entry
   * at a time as the Linux function did before its fix: the command is the first 64 bytes of a
   * longer entry (Linux copied the rest over the memory after its 64-byte command buffer), and a
   * shorter entry leaves the rest of the 64 bytes as the previous command fetched them.
   */
  #serviceSizedSq(sq: SubmissionQueue, burst: number): number {
    let work = 0;
    for (
      let budget = burst;
      budget > 0 && !sq.stalled && sq.head !== sq.tail && sq.cq.deferred.length === 0;
      budget--
    ) {
      const at = sq.entryAddress(sq.head);
      const ok =
        sq.entrySize < SQE_SIZE
          ? this.port.read(at, this.#fetch.subarray(0, sq.entrySize))
          : this.#fetchLongEntry(at, sq.entrySize);
      if (!ok) {
        this.fatal(`SQ ${sq.qid}: fetching entry ${sq.head} failed (${this.port.lastError?.toString() ?? ''})`, sq.qid);
        return work;
      }
      sq.head = (sq.head + 1) % sq.size;
      this.stats.commandsFetched++;
      this.#execute(0, sq);
      work++;
      if (this.#state !== 'ready' || this.sqs[sq.qid] !== sq) break;
    }
    return work;
  }

  /** Reads a `size`-byte SQ entry (size > 64) and keeps its first 64 bytes as the command. */
  #fetchLongEntry(at: bigint, size: number): boolean {
    const entry = new Uint8Array(size);
    if (!this.port.read(at, entry)) return false;
    this.#fetch.set(entry.subarray(0, SQE_SIZE));
    return true;
  }

  /** The first `n` entries of the fetch buffer (views kept per count, so a fetch allocates nothing). */
  #fetchEntries(n: number): Uint8Array {
    let view = this.#fetchViews[n];
    if (view === undefined) {
      view = this.#fetch.subarray(0, n * SQE_SIZE);
      this.#fetchViews[n] = view;
    }
    return view;
  }

  #execute(base: number, sq: SubmissionQueue): void {
    this.#charged += COMMAND_WORK;
    const cmd = this.#command;
    cmd.load(this.#fetchView, base, sq);
    // A refused access names this command's EPC error only if it happened while it ran.
    this.port.lastError = null;
    let result: number;
    if (sq.abortCids?.delete(cmd.cid)) {
      result = Status.ABORT_REQ;
    } else {
      result = sq.qid === 0 ? executeAdmin(this, cmd) : executeIo(this, cmd);
    }
    if (result === DEFERRED) return;
    this.complete(sq, cmd.cid, result, cmd.dw0, cmd);
    if (this.faults.doubleCompletion && cmd.earlyFailure === EarlyFailure.PARSE) {
      // Before Linux "Do not complete commands twice if nvmet_req_init() fails", the core completed
      // a command its parse rejected, and nvmet_pci_epf_exec_iod_work() then completed it again.
      this.complete(sq, cmd.cid, result, cmd.dw0, cmd);
    }
  }

  // ---- completion posting (§4.6, Q-5, Q-6) ----

  /** Writes one CQE at the tail. `staleIds` is fault cqe-fields-uninitialized: SQHD, SQID and CID stay as the last CQE left them. */
  #post(
    cq: CompletionQueue,
    sq: SubmissionQueue,
    cid: number,
    status: NvmeStatus,
    dw0: number,
    staleIds = false,
  ): boolean {
    const v = this.#cqeView;
    cqeSetDw0(v, 0, dw0);
    cqeSetDw1(v, 0, 0);
    if (!staleIds) {
      cqeSetSqhd(v, 0, sq.head);
      cqeSetSqid(v, 0, sq.qid);
      cqeSetCid(v, 0, cid);
    }
    // cqeSetStatus(v, 0, status, cq.phase), with the field masks computed once.
    v.setUint16(
      CQE.STATUS.off,
      ((status & CQE_SF_MASK) << CQE_STATUS.SF.bit) | ((cq.phase & 1) << CQE_STATUS.P.bit),
      true,
    );
    let entry: Uint8Array = this.#cqe;
    let offset = cq.tail * CQE_SIZE;
    if (this.faults.uncheckedEntrySizes && cq.entrySize !== CQE_SIZE) {
      entry = this.#sizedCqe(cq.entrySize);
      offset = cq.tail * cq.entrySize;
    }
    let failure: EpcError | null = null;
    if (cq.map !== null) {
      const fault = cq.map.write(offset, entry);
      if (fault !== null) failure = faultError(fault);
      this.stats.cqePostsMapped++;
    } else {
      if (!this.port.write(cq.base + BigInt(offset), entry)) failure = this.port.lastError;
      this.stats.cqePostsTransferred++;
    }
    if (failure !== null) {
      this.stats.commandsDropped++;
      this.fatal(`CQ ${cq.qid}: writing entry ${cq.tail} failed (${failure.toString()})`, cq.qid, failure);
      return false;
    }
    cq.advanceTail();
    this.stats.commandsCompleted++;
    this.interrupts.onPosted(cq, this.regs.intMask);
    return true;
  }

  /**
   * Fault unchecked-entry-sizes: a CQE of `size` = 2^IOCQES bytes, as memcpy_toio() of the queue's
   * entry size wrote it before the Linux fix: shorter, it is cut (status and phase may not reach the
   * host); longer, the CQE is followed by the controller memory after it, here the start of the data
   * bounce buffer (the data of earlier commands): a deterministic leak.
   */
  #sizedCqe(size: number): Uint8Array {
    if (size < CQE_SIZE) return this.#cqe.subarray(0, size);
    const entry = new Uint8Array(size);
    entry.set(this.#cqe);
    entry.set(this.#bounce.subarray(0, size - CQE_SIZE), CQE_SIZE);
    return entry;
  }

  #flushDeferred(cq: CompletionQueue): number {
    let posted = 0;
    while (cq.deferred.length > 0 && !this.#cqFull(cq) && this.#state === 'ready') {
      const c = cq.deferred.shift()!;
      if (!this.#post(cq, c.sq, c.cid, c.status, c.dw0, c.staleIds === true)) {
        this.stats.commandsDropped += cq.deferred.length;
        cq.deferred.length = 0;
        break;
      }
      posted++;
    }
    return posted;
  }

  #recordError(sq: SubmissionQueue, cid: number, status: NvmeStatus, cmd: CommandOrigin | undefined): void {
    this.errorLog.record({
      sqid: sq.qid,
      cid,
      status,
      phase: sq.cq.phase,
      location: cmd?.errorLocation ?? ERROR_NO_COMMAND,
      lba: cmd?.errorLba ?? 0n,
      nsid: cmd?.nsid ?? 0,
    });
    // A data phase that failed in the EPC: the refused request and the limit it hit go with it.
    const epc = status === Status.DATA_XFER_ERROR ? this.port.lastError : null;
    this.trace.record({
      kind: 'command-error',
      message: `SQ ${sq.qid} CID ${cid}${cmd ? ` opcode 0x${cmd.opcode.toString(16)}` : ''}: status ${statusKey(status)}`,
      qid: sq.qid,
      cid,
      ...(cmd ? { opcode: cmd.opcode } : {}),
      status,
      ...(epc === null ? {} : { epc }),
    });
  }

  // ---- CQ mapping ----

  /** Keeps the whole CQ mapped when the profile maps it in one piece and slots remain; else posts per entry. */
  #mapCq(cq: CompletionQueue): void {
    const bytes = cq.size * cq.entrySize;
    const map = this.epc.memMap(cq.base, bytes);
    let reason: string | null = null;
    if (map instanceof EpcError) {
      reason = `cannot map (${map.toString()})`;
    } else if (map.pciSize < bytes) {
      reason = `the profile maps ${map.pciSize} of ${bytes} bytes in one piece`;
    } else if (this.epc.slotCapacity - this.epc.counters.slotsInUse < CQ_MAP_SLOT_RESERVE) {
      reason = `keeping it mapped would leave fewer than ${CQ_MAP_SLOT_RESERVE} translation slots for data and interrupts`;
    }
    if (reason === null) {
      cq.map = map as EpcMap;
      return;
    }
    if (!(map instanceof EpcError)) this.epc.memUnmap(map);
    this.trace.record({ kind: 'cq-fallback', message: `CQ ${cq.qid}: ${reason}; posting per entry`, qid: cq.qid });
  }

  #unmapCq(cq: CompletionQueue): void {
    if (cq.map === null) return;
    this.epc.memUnmap(cq.map);
    cq.map = null;
  }
}
