import { type CompletionEntry, type HostCq, type HostSq, type ProtocolViolation, QueueEngine } from '@epfsim/nvme-host';
import {
  type CapFields,
  DataDirection,
  isSuccess,
  mpsToPageSize,
  opcodeDataDirection,
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
import { type CommandContext, type CommandLayout, NO_SGL, type PlacementPolicy } from '../placement/layout.js';
import { LinuxPlacement } from '../placement/linux.js';
import type { NvmeTarget } from '../target/target.js';
import { abortCommand } from './admin-commands.js';
import { gather, scatter } from './buffer-io.js';
import { type Completion, STATUS_HOST_ABORTED } from './completion.js';
import {
  CTRL_MPS,
  type DriverInterruptMode,
  FALLBACK_BLOCK_SIZE,
  type NvmeDriverOptions,
  type ResolvedDriverOptions,
  resolveDriverOptions,
} from './driver-options.js';
import type { CommandSpec, DriverState, DriverStats, IoOptions, IoResult, RingResources } from './driver-types.js';
import type { ControllerInfo, NamespaceInfo } from './identify-info.js';
import { lbaCommand } from './nvm-commands.js';
import type { PendingCommand } from './pending-command.js';

/**
 * The command path of the NVMe host driver: submitting SQEs with their placed data pointers and
 * grants, pumping the device and reaping CQEs by interrupt or polling, timeouts (Abort, then a
 * controller reset the driver itself performs), and completing commands. {@link NvmeDriver} adds
 * bring-up, queue management and the command helpers on top.
 */
export abstract class NvmeDriverCore {
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

  protected readonly options: ResolvedDriverOptions;

  protected readonly sqRings: (RingResources | undefined)[] = [];

  protected readonly cqRings: (RingResources | undefined)[] = [];
  /** Per vector, the CQs it interrupts for (and every CQ without interrupts), in qid order; rebuilt when CQs change. */

  protected reapLists: HostCq[][] | null = null;

  protected readonly reapFired = (v: number): void => {
    const byVector = this.cqsByVector();
    let n = 0;
    for (const cq of byVector[v] as HostCq[]) if (this.engine.cq(cq.qid) === cq) n += this.engine.reap(cq);
    this.stats.interrupts++;
    this.reapedNow += n;
  };

  protected reapedNow = 0;

  protected ioQids: number[] = [];

  protected nextIo = 0;

  protected pageSize = mpsToPageSize(CTRL_MPS);
  /** Bring-up or shutdown in progress: a timeout there throws instead of resetting the controller. */

  protected noRecovery = false;

  protected readonly sqeBytes = new Uint8Array(SQE_SIZE);

  protected readonly sqeView = new DataView(this.sqeBytes.buffer);

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

  /**
   * Brings the controller up: probe, interrupts, reset, admin queues, enable, Identify
   * (controller, active namespaces), Number of Queues, I/O queues. Throws {@link NvmeDriverError}
   * when the controller cannot be used.
   */

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

  protected cqsByVector(): HostCq[][] {
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

  protected submitBytes(
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

  protected copyToScratch(sqe: Uint8Array): Uint8Array {
    this.sqeBytes.set(sqe);
    return this.sqeBytes;
  }

  /** The engine reaped a CQE for `cmd`. */

  protected completed(cmd: PendingCommand, cqe: Readonly<CompletionEntry>): void {
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

  protected complete(cmd: PendingCommand, completion: Completion): void {
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

  protected handleTimeout(cmd: PendingCommand): void {
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

  protected failOutstanding(): void {
    for (const sq of this.engine.sqs) {
      this.failCommands(sq.commands.drain());
    }
  }

  /** Commands the controller will never complete (their queue is gone): the host ends them as aborted. */

  protected failCommands(cmds: readonly PendingCommand[]): void {
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

  /** Applies an invalid policy's command patch (NSID, SLBA, NLB) to the SQE being built. */

  protected applyPatch(layout: CommandLayout): void {
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

  protected ioQueue(io: IoOptions): number {
    if (io.qid !== undefined) return io.qid;
    if (this.ioQids.length === 0) throw new NvmeDriverError('NO_SUCH_QUEUE', 'no I/O queue');
    const qid = this.ioQids[this.nextIo % this.ioQids.length] as number;
    this.nextIo++;
    return qid;
  }

  protected blocksOf(nsid: number, bytes: number): number {
    const blockSize = this.namespaces.get(nsid)?.blockSize ?? this.anyBlockSize();
    if (bytes === 0 || bytes % blockSize !== 0)
      throw new RangeError(`${bytes} bytes is not a whole number of ${blockSize}-byte blocks`);
    return bytes / blockSize;
  }

  protected anyBlockSize(): number {
    for (const ns of this.namespaces.values()) return ns.blockSize;
    return FALLBACK_BLOCK_SIZE;
  }

  protected waitForRoom(sq: HostSq<PendingCommand>): void {
    if (!sq.full) return;
    const deadline = this.target.now() + (sq.qid === 0 ? this.options.adminTimeoutMs : this.options.ioTimeoutMs);
    while (sq.full) {
      if (this.target.now() >= deadline) throw new NvmeDriverError('QUEUE_FULL', `SQ ${sq.qid} stayed full`);
      this.pump();
    }
  }

  /** Steps the target until `done()` or `ms` of target time pass. */

  protected waitFor(done: () => boolean, ms: number): boolean {
    const deadline = this.target.now() + ms;
    for (;;) {
      if (done()) return true;
      if (this.target.now() >= deadline) return false;
      this.target.step();
      this.stats.steps++;
    }
  }

  protected requireSq(qid: number): HostSq<PendingCommand> {
    const sq = this.engine.sq(qid);
    if (sq === undefined) throw new NvmeDriverError('NO_SUCH_QUEUE', `no SQ ${qid}`);
    return sq;
  }

  /** Linux `nvme_reset_ctrl()` after a timeout: the subclass knows how to bring the controller up again. */
  protected abstract recover(): void;
}

export function timeout(io: IoOptions): { timeoutMs?: number } {
  return io.timeoutMs === undefined ? {} : { timeoutMs: io.timeoutMs };
}
