/**
 * An NVMe host driver over any {@link NvmeTarget}: probe, reset, admin queue setup, enable,
 * Identify, Number of Queues, I/O queue creation, submission with command ids and tail doorbells,
 * completion by phase tag with head doorbells, interrupts (or polling), timeouts with Abort and
 * controller reset, shutdown. Modelled on Linux drivers/nvme/host/pci.c (docs/nvme-rules.md
 * §3 and §5a). Every CQE is validated; what is wrong is recorded as a protocol violation.
 */

import type { HostCq, HostSq } from '@epfsim/nvme-host';
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
  Psdt,
  packFields,
  SQE_SIZE,
  setBits,
  type VsFields,
} from '@epfsim/nvme-spec-types';
import { NvmeDriverError } from '../errors.js';
import { type CommandLayout, DPTR_SIZE, type PlacementPolicy } from '../placement/layout.js';
import { enableFirstInterrupts, type InterruptKind } from '../target/interrupt-mode.js';
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
import type { Completion } from './completion.js';
import {
  ADMIN_VECTOR,
  CTRL_MPS,
  type DriverInterruptMode,
  LINUX_IO_QUEUE_DEPTH,
  MAX_QUEUE_DEPTH,
} from './driver-options.js';
import type { CommandSpec, IoOptions, IoResult, QueueSnapshot, RingResources } from './driver-types.js';
import { controllerInfo, namespaceInfo } from './identify-info.js';
import { dsmCommand, flushCommand, writeZeroesCommand } from './nvm-commands.js';
import { NvmeDriverCore, timeout } from './nvme-driver-core.js';
import type { PendingCommand } from './pending-command.js';

/** The host driver. */
export class NvmeDriver extends NvmeDriverCore {
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
    const got = enableFirstInterrupts(this.target, order as InterruptKind[], { msix: wanted, msi: wanted });
    this.interruptMode = got.mode === 'none' ? 'poll' : got.mode;
    this.vectors = got.vectors;
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

  protected recover(): void {
    this.stats.resets++;
    this.disable();
    this.failOutstanding();
    this.teardownQueues();
    this.bringUp();
  }

  private readyTimeout(cap: CapFields): number {
    return Math.max(1, cap.TO) * NVME_CAP_TO_UNIT_MS;
  }

  private requireCap(): CapFields {
    if (this.cap === undefined) throw new NvmeDriverError('NOT_READY', 'probe() first');
    return this.cap;
  }

  private checkAdmin(c: Completion, what: string): void {
    if (!isSuccess(c.status)) throw new NvmeDriverError('ADMIN_FAILED', `${what} failed: ${formatStatus(c.status)}`);
  }
}
