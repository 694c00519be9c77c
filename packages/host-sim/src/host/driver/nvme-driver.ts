/**
 * An NVMe host driver over any {@link NvmeTarget}: probe, reset, admin queue setup, enable,
 * Identify, Number of Queues, I/O queue creation, submission with command ids and tail doorbells,
 * completion by phase tag with head doorbells, interrupts (or polling), timeouts with Abort and
 * controller reset, shutdown. Modelled on Linux drivers/nvme/host/pci.c (docs/nvme-rules.md
 * §3 and §5a). Every CQE is validated; what is wrong is recorded as a protocol violation.
 */

import {
  type CompletionEntry,
  type HostCq,
  type HostSq,
  MAX_TAGS,
  type ProtocolViolation,
  QueueEngine,
} from '@epfsim/nvme-host';
import {
  AQA,
  CAP_CSS,
  type CapFields,
  CC,
  CC_AMS,
  CC_CSS,
  CC_SHN,
  Cns,
  CQE_SIZE,
  CSTS,
  CSTS_SHST,
  DataDirection,
  type DsmRange,
  decodeCap,
  decodeIdentifyController,
  decodeIdentifyNamespace,
  decodeNsidList,
  decodeVs,
  encodeCc,
  FEATURE_DW11,
  formatStatus,
  type GetLogPageArgs,
  getBits,
  IDENTIFY_DATA_SIZE,
  isSuccess,
  mpsToPageSize,
  NSID_LIST_MAX,
  NVME_CAP_TO_UNIT_MS,
  NVME_NSID_ALL,
  NVME_NVM_IOCQES,
  NVME_NVM_IOSQES,
  NVME_REG_ACQ,
  NVME_REG_AQA,
  NVME_REG_ASQ,
  NVME_REG_CAP,
  NVME_REG_CC,
  NVME_REG_CSTS,
  NVME_REG_VS,
  NvmOpcode,
  opcodeDataDirection,
  Psdt,
  packFields,
  READ_WRITE,
  SQE,
  SQE_SIZE,
  STATUS_SUCCESS,
  setBits,
  splitU64,
  sqeSetCdw,
  sqeSetCid,
  sqeSetMptr,
  sqeSetNsid,
  sqeSetOpcode,
  sqeSetPsdt,
  type VsFields,
} from '@epfsim/nvme-spec-types';
import { NvmeDriverError } from '../errors.js';
import type { GrantId, GrantSpec } from '../memory/grant-table.js';
import {
  type CommandContext,
  type CommandLayout,
  DPTR_SIZE,
  NO_SGL,
  type PlacedQueue,
  type PlacementPolicy,
} from '../placement/layout.js';
import { LinuxPlacement } from '../placement/linux.js';
import type { NvmeTarget } from '../target/target.js';
import {
  abortCommand,
  createIoCqCommand,
  createIoSqCommand,
  deleteIoCqCommand,
  deleteIoSqCommand,
  getFeaturesCommand,
  getLogPageCommand,
  identifyCommand,
  numberOfQueuesCommand,
  setFeaturesCommand,
} from './admin-commands.js';
import { gather, scatter } from './buffer-io.js';
import { type Completion, STATUS_HOST_ABORTED } from './completion.js';
import {
  type DriverInterruptMode,
  LINUX_IO_QUEUE_DEPTH,
  type NvmeDriverOptions,
  type ResolvedDriverOptions,
  resolveDriverOptions,
} from './driver-options.js';
import type { CommandSpec, DriverState, DriverStats, IoOptions, IoResult, QueueSnapshot } from './driver-types.js';
import { type ControllerInfo, controllerInfo, type NamespaceInfo, namespaceInfo } from './identify-info.js';
import { dsmCommand, flushCommand, lbaCommand, writeZeroesCommand } from './nvm-commands.js';
import type { PendingCommand } from './pending-command.js';

/** Controller page: the driver always programs CC.MPS = 0 (4 KiB), as Linux does. */
const CTRL_MPS = 0;
/** Block size assumed for a command on an NSID the host does not know (before Identify). */
const FALLBACK_BLOCK_SIZE = 512;
/** Admin vector: the admin CQ always uses vector 0. */
const ADMIN_VECTOR = 0;
/** Deepest I/O queue the driver creates: one CID tag per slot, as Linux's blk-mq tags. */
export const MAX_QUEUE_DEPTH = MAX_TAGS;

/** What the driver holds for a queue's ring: its placement and its IOMMU grant. */
interface RingResources {
  readonly placed: PlacedQueue;
  readonly grant: GrantId;
}

/** The host driver. */
export class NvmeDriver {
  readonly target: NvmeTarget;
  readonly placement: PlacementPolicy;
  /** The host queue engine: rings, doorbells, CQE validation, interrupts per vector. */
  readonly engine: QueueEngine<PendingCommand>;
  readonly stats: DriverStats = {
    submitted: 0,
    completed: 0,
    steps: 0,
    interrupts: 0,
    reapedWithoutInterrupt: 0,
    doorbellWrites: 0,
    timeouts: 0,
    aborts: 0,
    resets: 0,
  };
  cap: CapFields | undefined;
  vs: VsFields | undefined;
  controller: ControllerInfo | undefined;
  readonly namespaces = new Map<number, NamespaceInfo>();
  /** Interrupt mode in use and vectors enabled (0 when polling). */
  interruptMode: DriverInterruptMode = 'poll';
  vectors = 0;
  state: DriverState = 'new';
  private readonly options: ResolvedDriverOptions;
  private readonly sqRings: (RingResources | undefined)[] = [];
  private readonly cqRings: (RingResources | undefined)[] = [];
  /** Per vector, the CQs it interrupts for (and every CQ without interrupts), in qid order; rebuilt when CQs change. */
  private reapLists: HostCq[][] | null = null;
  private readonly reapFired = (v: number): void => {
    const byVector = this.cqsByVector();
    let n = 0;
    for (const cq of byVector[v] as HostCq[]) if (this.engine.cq(cq.qid) === cq) n += this.engine.reap(cq);
    this.stats.interrupts++;
    this.reapedNow += n;
  };
  private reapedNow = 0;
  private ioQids: number[] = [];
  private nextIo = 0;
  private pageSize = mpsToPageSize(CTRL_MPS);
  /** Bring-up or shutdown in progress: a timeout there throws instead of resetting the controller. */
  private noRecovery = false;
  private readonly sqeBytes = new Uint8Array(SQE_SIZE);
  private readonly sqeView = new DataView(this.sqeBytes.buffer);

  constructor(target: NvmeTarget, options: NvmeDriverOptions = {}) {
    this.target = target;
    this.placement = options.placement ?? new LinuxPlacement(target.memory, { seed: options.seed ?? 1 });
    this.options = resolveDriverOptions(options);
    this.engine = new QueueEngine<PendingCommand>(target, {
      onCompletion: (cmd, cqe) => this.completed(cmd, cqe),
    });
  }

  /** What the host saw the controller do wrong (the engine's record). */
  get violations(): readonly ProtocolViolation[] {
    return this.engine.violations;
  }

  get violationCount(): number {
    return this.engine.violationCount;
  }

  // ---- bring-up ----

  /**
   * Brings the controller up: probe, interrupts, reset, admin queues, enable, Identify
   * (controller, active namespaces), Number of Queues, I/O queues. Throws {@link NvmeDriverError}
   * when the controller cannot be used.
   */
  init(): void {
    this.probe();
    this.setupInterrupts();
    this.bringUp();
  }

  /** Reads CAP and VS and checks the controller can be driven (NVM command set, 4 KiB pages). */
  probe(): { cap: CapFields; vs: VsFields } {
    const cap = decodeCap(this.target.mmioRead64(NVME_REG_CAP));
    const vs = decodeVs(this.target.mmioRead32(NVME_REG_VS));
    if (cap.MPSMIN > CTRL_MPS || cap.MPSMAX < CTRL_MPS) {
      throw new NvmeDriverError('UNSUPPORTED', `CAP.MPSMIN ${cap.MPSMIN}: 4 KiB pages are not supported`);
    }
    if ((cap.CSS & CAP_CSS.NVM) === 0) throw new NvmeDriverError('UNSUPPORTED', 'CAP.CSS: no NVM command set');
    this.cap = cap;
    this.vs = vs;
    this.engine.dstrd = cap.DSTRD;
    return { cap, vs };
  }

  /** Controller reset on demand: outstanding commands fail with Host Aborted, then full re-initialisation. */
  reset(): void {
    this.recover();
  }

  /**
   * Normal shutdown: delete the I/O queues (SQs, then CQs), set CC.SHN = 01b and wait for
   * CSTS.SHST = 10b, then free the queues.
   */
  shutdown(): void {
    if (this.state !== 'live') return;
    this.noRecovery = true;
    try {
      for (const qid of [...this.ioQids].reverse()) this.deleteIoQueuePair(qid);
    } finally {
      this.noRecovery = false;
    }
    const cc = this.target.mmioRead32(NVME_REG_CC);
    this.target.mmioWrite32(NVME_REG_CC, setBits(cc, CC.SHN, CC_SHN.NORMAL));
    const done = this.waitFor(
      () => getBits(this.target.mmioRead32(NVME_REG_CSTS), CSTS.SHST) === CSTS_SHST.COMPLETE,
      this.options.shutdownTimeoutMs,
    );
    this.failOutstanding();
    this.teardownQueues();
    this.state = 'shutdown';
    if (!done) throw new NvmeDriverError('SHUTDOWN_TIMEOUT', 'CSTS.SHST did not reach "complete"');
  }

  private setupInterrupts(): void {
    const wanted = this.options.ioQueues + 1;
    const mode = this.options.interrupts;
    this.interruptMode = 'poll';
    this.vectors = 0;
    this.engine.setInterruptMode('none', 0);
    if (mode === 'poll') return;
    const order: DriverInterruptMode[] =
      mode === 'msix' ? ['msix', 'msi', 'intx'] : mode === 'msi' ? ['msi', 'intx'] : ['intx'];
    for (const m of order) {
      const n =
        m === 'msix'
          ? this.target.enableMsix(wanted)
          : m === 'msi'
            ? this.target.enableMsi(wanted)
            : this.target.enableIntx()
              ? 1
              : 0;
      if (n > 0) {
        this.interruptMode = m;
        this.vectors = n;
        break;
      }
    }
    this.engine.setInterruptMode(this.interruptMode === 'poll' ? 'none' : this.interruptMode, this.vectors);
    this.reapLists = null;
  }

  private bringUp(): void {
    const cap = this.requireCap();
    this.noRecovery = true;
    try {
      this.disable();
      this.configureAdminQueue();
      this.enable(cap);
      this.identifyAll(cap);
      this.createIoQueues(cap);
      this.state = 'live';
    } catch (e) {
      this.state = 'dead';
      throw e;
    } finally {
      this.noRecovery = false;
    }
  }

  /** CC.EN = 0 and wait for RDY = 0. */
  private disable(): void {
    const cap = this.requireCap();
    const cc = this.target.mmioRead32(NVME_REG_CC);
    const csts = this.target.mmioRead32(NVME_REG_CSTS);
    if (getBits(cc, CC.EN) === 0 && getBits(csts, CSTS.RDY) === 0) return;
    this.target.mmioWrite32(NVME_REG_CC, setBits(cc, CC.EN, 0));
    const ok = this.waitFor(
      () => getBits(this.target.mmioRead32(NVME_REG_CSTS), CSTS.RDY) === 0,
      this.readyTimeout(cap),
    );
    if (!ok) throw new NvmeDriverError('READY_TIMEOUT', 'CSTS.RDY did not clear after CC.EN = 0');
  }

  private configureAdminQueue(): void {
    const depth = this.options.adminQueueDepth;
    const cq = this.makeCq(0, depth, this.interruptMode === 'poll' ? undefined : ADMIN_VECTOR);
    const sq = this.makeSq(0, depth, 0);
    this.target.mmioWrite32(NVME_REG_AQA, packFields(AQA, { ASQS: depth - 1, ACQS: depth - 1 }));
    this.target.mmioWrite64(NVME_REG_ASQ, sq.base);
    this.target.mmioWrite64(NVME_REG_ACQ, cq.base);
  }

  /** CC = MPS 0, IOSQES 6, IOCQES 4, EN; wait for RDY within CAP.TO × 500 ms, watching CFS. */
  private enable(cap: CapFields): void {
    this.pageSize = mpsToPageSize(CTRL_MPS);
    const cc = encodeCc({
      EN: 1,
      CSS: CC_CSS.NVM,
      MPS: CTRL_MPS,
      AMS: CC_AMS.RR,
      SHN: CC_SHN.NONE,
      IOSQES: NVME_NVM_IOSQES,
      IOCQES: NVME_NVM_IOCQES,
    });
    this.target.mmioWrite32(NVME_REG_CC, cc);
    let fatal = false;
    const ready = this.waitFor(() => {
      const csts = this.target.mmioRead32(NVME_REG_CSTS);
      fatal = getBits(csts, CSTS.CFS) === 1;
      return fatal || getBits(csts, CSTS.RDY) === 1;
    }, this.readyTimeout(cap));
    if (fatal) throw new NvmeDriverError('FATAL_STATUS', 'CSTS.CFS set while enabling');
    if (!ready)
      throw new NvmeDriverError(
        'READY_TIMEOUT',
        `CSTS.RDY not set within CAP.TO (${cap.TO} × ${NVME_CAP_TO_UNIT_MS} ms)`,
      );
  }

  private identifyAll(cap: CapFields): void {
    const ctrl = this.identify(Cns.CONTROLLER);
    this.checkAdmin(ctrl.completion, 'Identify Controller');
    this.controller = controllerInfo(
      decodeIdentifyController(ctrl.data ?? new Uint8Array(IDENTIFY_DATA_SIZE)),
      cap.MPSMIN,
    );
    this.namespaces.clear();
    let after = 0;
    for (;;) {
      const list = this.identify(Cns.ACTIVE_NSID_LIST, after);
      this.checkAdmin(list.completion, 'Identify Active Namespace ID list');
      const nsids = decodeNsidList(list.data ?? new Uint8Array(IDENTIFY_DATA_SIZE));
      for (const nsid of nsids) {
        const ns = this.identify(Cns.NAMESPACE, nsid);
        this.checkAdmin(ns.completion, `Identify Namespace ${nsid}`);
        this.namespaces.set(
          nsid,
          namespaceInfo(nsid, decodeIdentifyNamespace(ns.data ?? new Uint8Array(IDENTIFY_DATA_SIZE))),
        );
      }
      if (nsids.length < NSID_LIST_MAX) break;
      after = nsids.at(-1) as number;
    }
  }

  private createIoQueues(cap: CapFields): void {
    const wanted = this.options.ioQueues;
    const nq = this.admin(numberOfQueuesCommand(wanted));
    this.checkAdmin(nq, 'Set Features Number of Queues');
    const nsqa = getBits(nq.dw0, FEATURE_DW11.NUMBER_OF_QUEUES.NSQR) + 1;
    const ncqa = getBits(nq.dw0, FEATURE_DW11.NUMBER_OF_QUEUES.NCQR) + 1;
    const pairs = Math.min(wanted, nsqa, ncqa);
    const depth = Math.min(this.options.ioQueueDepth, cap.MQES + 1, LINUX_IO_QUEUE_DEPTH, MAX_QUEUE_DEPTH);
    this.ioQids = [];
    for (let qid = 1; qid <= pairs; qid++) {
      this.createIoQueuePair(qid, depth);
      this.ioQids.push(qid);
    }
  }

  /** Create I/O CQ (PC = 1, IEN, IV), then Create I/O SQ on it. */
  private createIoQueuePair(qid: number, depth: number): void {
    const vector = this.interruptMode === 'poll' ? undefined : this.vectorFor(qid);
    const cq = this.makeCq(qid, depth, vector);
    const createCq = this.admin(createIoCqCommand(qid, depth, vector, this.queueLayout(this.cqRings[qid])));
    if (!isSuccess(createCq.status)) {
      this.dropCq(cq.qid);
      this.checkAdmin(createCq, `Create I/O CQ ${qid}`);
    }
    this.makeSq(qid, depth, qid);
    const createSq = this.admin(createIoSqCommand(qid, depth, qid, this.queueLayout(this.sqRings[qid])));
    if (!isSuccess(createSq.status)) {
      this.dropSq(qid);
      this.checkAdmin(createSq, `Create I/O SQ ${qid}`);
    }
  }

  private deleteIoQueuePair(qid: number): void {
    if (this.engine.sq(qid) !== undefined) {
      this.admin(deleteIoSqCommand(qid));
      this.dropSq(qid);
    }
    if (this.engine.cq(qid) !== undefined) {
      this.admin(deleteIoCqCommand(qid));
      this.dropCq(qid);
    }
    this.ioQids = this.ioQids.filter((q) => q !== qid);
  }

  /** Linux: IV = qid, or 0 with a single vector; vectors are shared round robin when fewer than queues. */
  private vectorFor(qid: number): number {
    return this.vectors > 1 ? 1 + ((qid - 1) % (this.vectors - 1)) : 0;
  }

  /** A queue's PRP1 (its base, offset 0; P-14) as a layout with no grants of its own. */
  private queueLayout(ring: RingResources | undefined): CommandLayout {
    if (ring === undefined) throw new Error('driver: a queue ring was not placed');
    const placed = ring.placed;
    const dptr = new Uint8Array(DPTR_SIZE);
    new DataView(dptr.buffer).setBigUint64(0, placed.range.addr, true);
    return {
      policy: this.placement.name,
      psdt: Psdt.PRP,
      dptr,
      length: 0,
      data: [],
      grants: [],
      structures: [placed.range],
      tags: [...placed.tags],
      release: () => {},
    };
  }

  private makeCq(qid: number, depth: number, vector: number | undefined): HostCq {
    const placed = this.placement.placeQueue({ kind: 'cq', qid, bytes: depth * CQE_SIZE, pageSize: this.pageSize });
    this.target.memory.zero(placed.range.addr, placed.range.size);
    const grant = this.target.memory.grant({ ...placed.range, direction: 'write' });
    this.cqRings[qid] = { placed, grant };
    this.reapLists = null;
    return this.engine.addCq(qid, placed.range.addr, depth, vector);
  }

  private makeSq(qid: number, depth: number, cqid: number): HostSq<PendingCommand> {
    const placed = this.placement.placeQueue({ kind: 'sq', qid, bytes: depth * SQE_SIZE, pageSize: this.pageSize });
    const grant = this.target.memory.grant({ ...placed.range, direction: 'read' });
    this.sqRings[qid] = { placed, grant };
    return this.engine.addSq(qid, placed.range.addr, depth, cqid);
  }

  /** The host forgets SQ `qid`: its commands still outstanding end as aborted by the host. */
  private dropSq(qid: number): void {
    const sq = this.engine.sq(qid);
    if (sq !== undefined) this.failCommands(sq.commands.values());
    this.engine.removeSq(qid);
    this.releaseRing(this.sqRings, qid);
  }

  private dropCq(qid: number): void {
    this.failCommands(this.engine.removeCq(qid));
    this.releaseRing(this.cqRings, qid);
    this.reapLists = null;
  }

  private releaseRing(rings: (RingResources | undefined)[], qid: number): void {
    const ring = rings[qid];
    if (ring === undefined) return;
    this.target.memory.revoke(ring.grant);
    ring.placed.release();
    rings[qid] = undefined;
  }

  private teardownQueues(): void {
    this.failCommands(this.engine.clear());
    for (let qid = 0; qid < this.sqRings.length; qid++) this.releaseRing(this.sqRings, qid);
    for (let qid = 0; qid < this.cqRings.length; qid++) this.releaseRing(this.cqRings, qid);
    this.reapLists = null;
    this.ioQids = [];
  }

  // ---- admin commands ----

  /** Identify (06h) with a 4 KiB buffer placed by `placement` (default: the driver's). */
  identify(cns: number, nsid = 0, cntid = 0, placement?: PlacementPolicy): IoResult {
    return this.finish(this.submit(0, identifyCommand(cns, nsid, cntid, placement)));
  }

  /** Get Log Page (02h); `args.length` is a multiple of 4. */
  getLogPage(
    args: Partial<GetLogPageArgs> & Pick<GetLogPageArgs, 'lid' | 'length'>,
    nsid: number = NVME_NSID_ALL,
    placement?: PlacementPolicy,
  ): IoResult {
    return this.finish(this.submit(0, getLogPageCommand(args, nsid, placement)));
  }

  /** Get Features (0Ah): DW0 of the completion holds the value. */
  getFeatures(fid: number, options: { sel?: number; nsid?: number; cdw11?: number } = {}): Completion {
    return this.admin(getFeaturesCommand(fid, options));
  }

  /** Set Features (09h) with Dword 11 `value`. */
  setFeatures(fid: number, value: number, options: { save?: boolean; nsid?: number } = {}): Completion {
    return this.admin(setFeaturesCommand(fid, value, options));
  }

  /** Abort (08h) of `cid` on `sqid`; DW0 bit 0 = 1 means "not aborted". */
  abort(sqid: number, cid: number): Completion {
    this.stats.aborts++;
    return this.admin(abortCommand(sqid, cid));
  }

  /** An admin command without data, submitted and waited for. */
  admin(spec: CommandSpec): Completion {
    return this.wait(this.submit(0, spec));
  }

  // ---- NVM I/O commands ----

  /** Read (02h) `nlb` blocks from `slba`; the data comes back in the result. */
  read(nsid: number, slba: bigint, nlb: number, io: IoOptions = {}): IoResult {
    return this.finish(this.startIo(NvmOpcode.READ, nsid, slba, nlb, undefined, io));
  }

  /** Write (01h) `data` (a whole number of blocks) at `slba`. */
  write(nsid: number, slba: bigint, data: Uint8Array, io: IoOptions = {}): IoResult {
    return this.finish(this.startIo(NvmOpcode.WRITE, nsid, slba, this.blocksOf(nsid, data.length), data, io));
  }

  /** Compare (05h) `data` with the blocks at `slba` (2/85h on a miscompare). */
  compare(nsid: number, slba: bigint, data: Uint8Array, io: IoOptions = {}): IoResult {
    return this.finish(this.startIo(NvmOpcode.COMPARE, nsid, slba, this.blocksOf(nsid, data.length), data, io));
  }

  /** Flush (00h). */
  flush(nsid: number, io: IoOptions = {}): Completion {
    return this.wait(this.submit(this.ioQueue(io), { ...flushCommand(nsid), ...timeout(io) }));
  }

  /** Write Zeroes (08h) of `nlb` blocks. */
  writeZeroes(nsid: number, slba: bigint, nlb: number, io: IoOptions = {}, deallocate = false): Completion {
    return this.wait(
      this.submit(this.ioQueue(io), { ...writeZeroesCommand(nsid, slba, nlb, deallocate), ...timeout(io) }),
    );
  }

  /** Dataset Management (09h) over `ranges` with attributes IDR/IDW/AD. */
  dsm(
    nsid: number,
    ranges: readonly DsmRange[],
    attributes: { idr?: boolean; idw?: boolean; ad?: boolean } = { ad: true },
    io: IoOptions = {},
  ): IoResult {
    const spec = dsmCommand(nsid, ranges, attributes, io.placement);
    return this.finish(this.submit(this.ioQueue(io), { ...spec, ...timeout(io) }));
  }

  /** Submits an LBA data command without waiting (for queue depth > 1); finish it with {@link finish}. */
  startIo(
    opcode: number,
    nsid: number,
    slba: bigint,
    nlb: number,
    payload?: Uint8Array,
    io: IoOptions = {},
  ): PendingCommand {
    const ns = this.namespaces.get(nsid);
    const context: CommandContext = {
      nsid,
      slba,
      nlb,
      blockSize: ns?.blockSize ?? this.anyBlockSize(),
      nsze: ns?.nsze ?? 0n,
      mdtsBytes: this.controller?.mdtsBytes ?? 0,
    };
    return this.submit(this.ioQueue(io), lbaCommand(opcode, context, payload, io));
  }

  /** Waits for a command and returns its completion and, for controller-to-host data, its bytes. */
  finish(cmd: PendingCommand): IoResult {
    const completion = this.wait(cmd);
    const { data, layout } = cmd;
    if (layout === undefined) return data === undefined ? { completion } : { completion, data };
    return data === undefined ? { completion, layout } : { completion, data, layout };
  }

  /**
   * Submits a raw 64-byte SQE for fuzzing: the driver sets its CID (bytes 2–3) and grants exactly
   * `grants` for the command's lifetime. Returns the pending command; {@link wait} or {@link finish} it.
   */
  submitRaw(qid: number, sqe: Uint8Array, grants: readonly GrantSpec[] = [], timeoutMs?: number): PendingCommand {
    if (sqe.length !== SQE_SIZE) throw new RangeError(`raw SQE of ${sqe.length} bytes`);
    return this.submitBytes(qid, sqe, grants, undefined, false, timeoutMs, sqe[SQE.OPC.off] ?? 0);
  }

  // ---- submission and completion ----

  /** Submits a command on `qid`; data is placed by the spec's (or the driver's) placement policy. */
  submit(qid: number, spec: CommandSpec): PendingCommand {
    const sq = this.requireSq(qid);
    this.waitForRoom(sq);
    const dir = opcodeDataDirection(spec.opcode);
    const toDevice = dir === DataDirection.HOST_TO_CONTROLLER;
    let layout = spec.layout;
    if (layout === undefined && spec.data !== undefined && spec.data.length > 0) {
      const policy = spec.data.placement ?? this.placement;
      const sgl = this.controller?.sgl ?? NO_SGL;
      const command = spec.data.command;
      // Two literals rather than a conditional spread: the request has one of two fixed shapes.
      layout = policy.layout(
        command === undefined
          ? { qid, length: spec.data.length, toDevice, sgl, pageSize: this.pageSize }
          : { qid, length: spec.data.length, toDevice, sgl, pageSize: this.pageSize, command },
      );
      if (toDevice) scatter(this.target.memory, layout, spec.data.payload);
    }
    const bytes = this.sqeBytes;
    bytes.fill(0);
    const v = this.sqeView;
    sqeSetOpcode(v, 0, spec.opcode);
    sqeSetNsid(v, 0, spec.nsid ?? 0);
    v.setUint32(SQE.CDW2.off, spec.cdw2 ?? 0, true);
    v.setUint32(SQE.CDW3.off, spec.cdw3 ?? 0, true);
    if (spec.mptr !== undefined) sqeSetMptr(v, 0, spec.mptr);
    if (spec.cdw10 !== undefined) sqeSetCdw(v, 0, 10, spec.cdw10);
    if (spec.cdw11 !== undefined) sqeSetCdw(v, 0, 11, spec.cdw11);
    if (spec.cdw12 !== undefined) sqeSetCdw(v, 0, 12, spec.cdw12);
    if (spec.cdw13 !== undefined) sqeSetCdw(v, 0, 13, spec.cdw13);
    if (spec.cdw14 !== undefined) sqeSetCdw(v, 0, 14, spec.cdw14);
    if (spec.cdw15 !== undefined) sqeSetCdw(v, 0, 15, spec.cdw15);
    if (layout !== undefined) {
      sqeSetPsdt(v, 0, layout.psdt);
      bytes.set(layout.dptr, SQE.DPTR.off);
      if (layout.patch !== undefined) this.applyPatch(layout);
    }
    const gather =
      layout !== undefined &&
      layout.length > 0 &&
      dir === DataDirection.CONTROLLER_TO_HOST &&
      spec.discardData !== true;
    return this.submitBytes(qid, bytes, layout?.grants ?? [], layout, gather, spec.timeoutMs, spec.opcode);
  }

  /** Waits until `cmd` completes (or its timeout is handled) and returns its completion. */
  wait(cmd: PendingCommand): Completion {
    while (cmd.completion === undefined) {
      if (this.target.now() >= cmd.deadline) {
        this.handleTimeout(cmd);
        continue;
      }
      this.pump();
    }
    return cmd.completion;
  }

  /** Waits for every outstanding command. */
  drain(): void {
    for (const cmd of this.engine.outstandingCommands()) this.wait(cmd);
  }

  /** One device step, then reaping: CQs whose vector fired, or all of them when polling. Returns entries reaped. */
  pump(): number {
    this.target.step();
    this.stats.steps++;
    const engine = this.engine;
    if (this.interruptMode === 'poll') return engine.reapAll();
    this.reapedNow = 0;
    engine.collectInterrupts(this.reapFired);
    let reaped = this.reapedNow;
    if (this.stats.steps % this.options.pollEvery === 0) {
      const n = engine.reapAll();
      this.stats.reapedWithoutInterrupt += n;
      reaped += n;
    }
    return reaped;
  }

  /** The CQs to reap when vector `v` fires, for every vector (see {@link reapLists}). */
  private cqsByVector(): HostCq[][] {
    if (this.reapLists !== null) return this.reapLists;
    const lists: HostCq[][] = [];
    const cqs = this.engine.cqs;
    for (let v = 0; v < this.vectors; v++) {
      const list: HostCq[] = [];
      for (const cq of cqs) if (cq.vector === v || cq.vector === undefined) list.push(cq);
      lists.push(list);
    }
    this.reapLists = lists;
    return lists;
  }

  /** Outstanding commands on all queues. */
  get outstanding(): number {
    return this.engine.outstanding;
  }

  /** The queue pair `qid` (0: admin), or undefined when it does not exist. */
  queue(qid: number): QueueSnapshot | undefined {
    const sq = this.engine.sq(qid);
    if (sq === undefined) return undefined;
    const cq = sq.cq;
    return {
      qid,
      depth: sq.depth,
      sqBase: sq.base,
      cqBase: cq.base,
      sqTail: sq.tail,
      sqHead: sq.head,
      cqHead: cq.head,
      cqPhase: cq.phase,
      vector: cq.vector,
      outstanding: sq.commands.size,
    };
  }

  /** I/O queue ids in use. */
  get ioQueueIds(): readonly number[] {
    return this.ioQids;
  }

  private submitBytes(
    qid: number,
    sqe: Uint8Array,
    grants: readonly GrantSpec[],
    layout: CommandLayout | undefined,
    gather: boolean,
    timeoutMs: number | undefined,
    opcode: number,
  ): PendingCommand {
    const sq = this.requireSq(qid);
    this.waitForRoom(sq);
    const cid = this.engine.allocateCid(sq) as number;
    const bytes = sqe === this.sqeBytes ? sqe : this.copyToScratch(sqe);
    sqeSetCid(this.sqeView, 0, cid);
    const memory = this.target.memory;
    const grantIds: GrantId[] = new Array(grants.length);
    for (let i = 0; i < grants.length; i++) grantIds[i] = memory.grant(grants[i] as GrantSpec);
    const now = this.target.now();
    const limit = timeoutMs ?? (qid === 0 ? this.options.adminTimeoutMs : this.options.ioTimeoutMs);
    const cmd: PendingCommand = {
      sqid: qid,
      cid,
      opcode,
      submittedAt: now,
      deadline: now + limit,
      timeoutMs: limit,
      grants: grantIds,
      layout,
      gather,
      abortSent: false,
      timedOut: false,
      completion: undefined,
      data: undefined,
    };
    this.engine.stage(sq, bytes, cmd);
    this.stats.submitted++;
    this.engine.ring(sq);
    this.stats.doorbellWrites++;
    return cmd;
  }

  private copyToScratch(sqe: Uint8Array): Uint8Array {
    this.sqeBytes.set(sqe);
    return this.sqeBytes;
  }

  /** The engine reaped a CQE for `cmd`. */
  private completed(cmd: PendingCommand, cqe: Readonly<CompletionEntry>): void {
    this.complete(cmd, {
      sqid: cqe.sqid,
      cid: cqe.cid,
      opcode: cmd.opcode,
      status: cqe.status,
      dw0: cqe.dw0,
      dw1: cqe.dw1,
      sqhd: cqe.sqhd,
      source: 'controller',
      timedOut: cmd.timedOut,
    });
  }

  /** Ends a command: grants revoked, buffer copied out when wanted, placement released. */
  private complete(cmd: PendingCommand, completion: Completion): void {
    const memory = this.target.memory;
    for (let i = 0; i < cmd.grants.length; i++) memory.revoke(cmd.grants[i] as GrantId);
    if (
      cmd.gather &&
      cmd.layout !== undefined &&
      completion.source === 'controller' &&
      (completion.status === STATUS_SUCCESS || isSuccess(completion.status))
    ) {
      cmd.data = gather(memory, cmd.layout);
    }
    cmd.layout?.release();
    cmd.completion = completion;
    this.stats.completed++;
  }

  /**
   * A command outlived its timeout. I/O: send Abort once (Linux `nvme_timeout()`); if the Abort
   * does not complete in time, or the command times out again, reset the controller. Admin: reset.
   */
  private handleTimeout(cmd: PendingCommand): void {
    this.stats.timeouts++;
    cmd.timedOut = true;
    if (this.noRecovery) {
      throw new NvmeDriverError(
        'ADMIN_FAILED',
        `opcode ${cmd.opcode} (CID ${cmd.cid}) timed out during bring-up or shutdown`,
      );
    }
    if (cmd.sqid === 0 || cmd.abortSent) {
      this.recover();
      return;
    }
    cmd.abortSent = true;
    const abort = this.submit(0, abortCommand(cmd.sqid, cmd.cid));
    this.stats.aborts++;
    while (abort.completion === undefined && cmd.completion === undefined && this.target.now() < abort.deadline) {
      this.pump();
    }
    if (cmd.completion !== undefined) return;
    if (abort.completion === undefined) {
      this.recover();
      return;
    }
    // Aborted or not, the command gets one more timeout period to complete.
    cmd.deadline = this.target.now() + cmd.timeoutMs;
  }

  /** Linux `nvme_reset_ctrl()` after a timeout: disable, fail everything outstanding, bring up again. */
  private recover(): void {
    this.stats.resets++;
    this.disable();
    this.failOutstanding();
    this.teardownQueues();
    this.bringUp();
  }

  private failOutstanding(): void {
    for (const sq of this.engine.sqs) {
      this.failCommands(sq.commands.drain());
    }
  }

  /** Commands the controller will never complete (their queue is gone): the host ends them as aborted. */
  private failCommands(cmds: readonly PendingCommand[]): void {
    for (const cmd of cmds) {
      if (cmd.completion !== undefined) continue;
      this.complete(cmd, {
        sqid: cmd.sqid,
        cid: cmd.cid,
        opcode: cmd.opcode,
        status: STATUS_HOST_ABORTED,
        dw0: 0,
        dw1: 0,
        sqhd: this.engine.sq(cmd.sqid)?.head ?? 0,
        source: 'host-reset',
        timedOut: cmd.timedOut,
      });
    }
  }

  // ---- helpers ----

  /** Applies an invalid policy's command patch (NSID, SLBA, NLB) to the SQE being built. */
  private applyPatch(layout: CommandLayout): void {
    const patch = layout.patch;
    if (patch === undefined) return;
    const v = this.sqeView;
    if (patch.nsid !== undefined) sqeSetNsid(v, 0, patch.nsid);
    if (patch.slba !== undefined) {
      const { lo, hi } = splitU64(patch.slba);
      sqeSetCdw(v, 0, 10, lo);
      sqeSetCdw(v, 0, 11, hi);
    }
    if (patch.nlb !== undefined) {
      sqeSetCdw(v, 0, 12, setBits(v.getUint32(SQE.CDW12.off, true), READ_WRITE.CDW12.NLB, patch.nlb - 1));
    }
  }

  private ioQueue(io: IoOptions): number {
    if (io.qid !== undefined) return io.qid;
    if (this.ioQids.length === 0) throw new NvmeDriverError('NO_SUCH_QUEUE', 'no I/O queue');
    const qid = this.ioQids[this.nextIo % this.ioQids.length] as number;
    this.nextIo++;
    return qid;
  }

  private blocksOf(nsid: number, bytes: number): number {
    const blockSize = this.namespaces.get(nsid)?.blockSize ?? this.anyBlockSize();
    if (bytes === 0 || bytes % blockSize !== 0)
      throw new RangeError(`${bytes} bytes is not a whole number of ${blockSize}-byte blocks`);
    return bytes / blockSize;
  }

  private anyBlockSize(): number {
    for (const ns of this.namespaces.values()) return ns.blockSize;
    return FALLBACK_BLOCK_SIZE;
  }

  private waitForRoom(sq: HostSq<PendingCommand>): void {
    if (!sq.full) return;
    const deadline = this.target.now() + (sq.qid === 0 ? this.options.adminTimeoutMs : this.options.ioTimeoutMs);
    while (sq.full) {
      if (this.target.now() >= deadline) throw new NvmeDriverError('QUEUE_FULL', `SQ ${sq.qid} stayed full`);
      this.pump();
    }
  }

  /** Steps the target until `done()` or `ms` of target time pass. */
  private waitFor(done: () => boolean, ms: number): boolean {
    const deadline = this.target.now() + ms;
    for (;;) {
      if (done()) return true;
      if (this.target.now() >= deadline) return false;
      this.target.step();
      this.stats.steps++;
    }
  }

  private readyTimeout(cap: CapFields): number {
    return Math.max(1, cap.TO) * NVME_CAP_TO_UNIT_MS;
  }

  private requireCap(): CapFields {
    if (this.cap === undefined) throw new NvmeDriverError('NOT_READY', 'probe() first');
    return this.cap;
  }

  private requireSq(qid: number): HostSq<PendingCommand> {
    const sq = this.engine.sq(qid);
    if (sq === undefined) throw new NvmeDriverError('NO_SUCH_QUEUE', `no SQ ${qid}`);
    return sq;
  }

  private checkAdmin(c: Completion, what: string): void {
    if (!isSuccess(c.status)) throw new NvmeDriverError('ADMIN_FAILED', `${what} failed: ${formatStatus(c.status)}`);
  }
}

function timeout(io: IoOptions): { timeoutMs?: number } {
  return io.timeoutMs === undefined ? {} : { timeoutMs: io.timeoutMs };
}
