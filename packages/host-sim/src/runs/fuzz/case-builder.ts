/**
 * Turns fuzz parameters into a case file: the builder holds the case being written (steps,
 * memory, the host's queue pairs) and the models that supply its expectations (controller-model.ts,
 * block-model.ts); io-actions.ts and protocol-actions.ts write the host actions with it.
 */
import { resolveConfig } from '@epfsim/nvme-epf';
import { numberOfQueuesFields, type SqeFields } from '@epfsim/nvme-spec-types';
import { PlacementError } from '../../host/errors.js';
import { SimulatedHostMemory } from '../../host/memory/host-memory.js';
import { type HostRange, mergeRanges, rangeEnd } from '../../host/memory/host-range.js';
import { MsiDoorbell } from '../../host/memory/msi-doorbell.js';
import {
  type CommandContext,
  type CommandLayout,
  dptrPrp1,
  dptrPrp2,
  type PlacementPolicy,
  type SglCapability,
} from '../../host/placement/layout.js';
import { createPlacement } from '../../host/placement/placement-factory.js';
import type {
  CaseBytes,
  CaseCommand,
  CaseCommandExpect,
  CaseDataCheck,
  CaseFile,
  CaseStep,
} from '../case-file/case-file.js';
import { CASE_FILE_VERSION } from '../case-file/case-file.js';
import { patternView } from '../case-file/data-pattern.js';
import { statusCode } from '../case-file/replay-report.js';
import { BlockModel } from './block-model.js';
import { ControllerModel, type EnableRequest, type PendingExpect, St } from './controller-model.js';
import { AERL, LAYOUT_ATTEMPTS, PAGE, RING_ATTEMPTS, RING_JUMP, RING_RESERVE } from './fuzz-constants.js';
import type { FuzzAction, FuzzCaseParams } from './fuzz-params.js';
import {
  caseProfile,
  type FuzzTarget,
  functionVectors,
  fuzzController,
  protocolActions,
  splitRam,
} from './fuzz-target.js';
import { io } from './io-actions.js';
import {
  abort,
  asyncEventRequest,
  coalescing,
  createInvalid,
  deleteInvalid,
  doorbell,
  earlyFailure,
  errorLog,
  hold,
  identify,
  power,
  recreate,
} from './protocol-actions.js';
import { behaviourAccepts, behaviourAvoids, type CaseBehaviour } from './qemu-expectations.js';

/** An I/O queue pair as the host has it. */
export interface HostPair {
  readonly sqid: number;
  readonly cqid: number;
  sqDepth: number;
  cqDepth: number;
  ien: boolean;
  sqAddr: bigint;
  cqAddr: bigint;
}

/** A command expectation the builder may still change (an AER's event, a queue deleted under it). */
export type MutableExpect = { -readonly [K in keyof CaseCommandExpect]: CaseCommandExpect[K] } & PendingExpect;

export class CaseBuilder {
  readonly target: FuzzTarget;
  readonly params: FuzzCaseParams;
  /** A scratch host the placement policy lays commands out in. */
  readonly memory = new SimulatedHostMemory();
  readonly policy: PlacementPolicy;
  readonly blocks: BlockModel;
  readonly model: ControllerModel;
  readonly sgl: SglCapability;
  readonly mdtsBytes: number;
  readonly mqes: number;
  /** Vectors a Create I/O CQ may name: the host enables all the function offers, or none (then only vector 0). */
  readonly vectors: number;
  /** Vectors the function has (Interrupt Vector Configuration names one of them). */
  readonly allVectors: number;
  /** Invalid placements break every data pointer on purpose: statuses are checked, data is not. */
  readonly checkData: boolean;
  readonly behaviour: CaseBehaviour;
  readonly used: HostRange[] = [];
  readonly steps: CaseStep[] = [];
  readonly pairs: HostPair[] = [];
  /** Where rings may go (bounded RAM only). */
  readonly ringRegion: HostRange | undefined;
  readonly placementRam: HostRange | undefined;
  nextCommand = 0;
  /** Commands on a stalled SQ, which may never complete and so keep their slots (by SQ id). */
  readonly stuck = new Map<number, number>();
  nextAer = 0;
  nextRaw = 1;

  constructor(target: FuzzTarget, params: FuzzCaseParams) {
    this.target = target;
    this.params = params;
    new MsiDoorbell().install(this.memory);
    const config = resolveConfig(fuzzController(target));
    this.mdtsBytes = config.mdtsBytes;
    this.mqes = config.mqes;
    this.sgl = {
      support: config.options.sglSupport,
      bitBucket: config.options.sglBitBucket,
      excessLength: config.options.sglExcessLength,
      mptrSgl: false,
    };
    this.allVectors = functionVectors(target);
    this.vectors = params.bringUp.noInterrupts ? 1 : this.allVectors;
    this.model = new ControllerModel({
      mqes: config.mqes,
      maxIoQueues: config.maxIoQueues,
      vectors: this.vectors,
      aerl: AERL,
    });
    this.blocks = new BlockModel(target.blockSize, target.blocks);
    this.checkData = target.placement !== 'invalid';
    this.behaviour = target.behaviour ?? 'spec';
    const split = target.ram === undefined ? undefined : splitRam(target.ram);
    this.ringRegion = split?.rings;
    this.placementRam = split?.placement;
    this.policy = createPlacement(target.placement, this.memory, {
      seed: params.placementSeed,
      profile: target.profile,
      ...(this.placementRam === undefined ? {} : { ram: this.placementRam }),
    });
  }

  build(seed: number | undefined, description: string): CaseFile {
    const { target, params } = this;
    const b = params.bringUp;
    try {
      this.bringUp(true);
      for (const a of params.actions) {
        if (!this.model.ready) break;
        this.action(a);
      }
    } finally {
      // The scratch host's pages go back to the shared pool for the replay and the next case.
      this.memory.space.memory.release();
    }
    // Nothing may be left waiting on a held head or a stalled queue when the case ends: the replay settles last.
    void b;
    return {
      version: CASE_FILE_VERSION,
      description,
      profile: caseProfile(target.profile),
      controller: fuzzController(target),
      inject: target.inject ?? [],
      ...(seed === undefined ? {} : { seed }),
      interrupts: b.noInterrupts ? 'none' : 'auto',
      memory: mergeRanges(this.used).map((r) => ({ addr: r.addr, size: r.size, grant: 'none' as const })),
      steps: this.steps,
    };
  }

  // ---- bring-up ----

  /** Enable, Number of Queues, an AER, the I/O queue pairs (`first`: as the parameters say; later: the live set again). */
  bringUp(first: boolean): void {
    const b = this.params.bringUp;
    const admin = this.adminRings ?? {
      sq: this.ring(b.admin.sq, b.admin.depth * 64),
      cq: this.ring(b.admin.cq, b.admin.depth * 16),
    };
    this.adminRings = admin;
    this.enable({ mps: b.mps, css: 0, ams: 0, iosqes: 6, iocqes: 4 });
    if (!this.model.ready) return;
    if (first) {
      const specs = b.ioQueues.map((q, i) => ({
        sqid: i + 1,
        cqid: q.shareCq && i > 0 && protocolActions(this.target) ? (this.pairs[0]?.cqid ?? 1) : i + 1,
        sqDepth: q.depth,
        cqDepth: q.cqDepth === 0 ? q.depth : q.cqDepth,
        ien: q.ien,
        sqAddr: this.ring(q.sq, q.depth * 64),
        cqAddr: this.ring(q.cq, (q.cqDepth === 0 ? q.depth : q.cqDepth) * 16),
      }));
      for (const s of specs) {
        // A shared CQ takes the first pair's depth.
        const owner = specs.find((o) => o.sqid === s.cqid);
        this.pairs.push({ ...s, cqDepth: owner?.cqDepth ?? s.cqDepth });
      }
    }
    if (b.numberOfQueues) {
      const n = this.pairs.length;
      const expect = this.model.numberOfQueues(n - 1, n - 1);
      this.admin([{ ...numberOfQueuesFields(n, n) }], {
        status: expect.status,
        ...(expect.dw0 === undefined ? {} : { dw0: expect.dw0 }),
      });
    }
    if (b.aer) asyncEventRequest(this);
    for (const p of this.pairs) {
      if (p.cqid === p.sqid) this.createCq(p.cqid, p.cqAddr, p.cqDepth, p.ien, this.linuxVector(p.cqid));
    }
    for (const p of this.pairs) this.createSq(p.sqid, p.sqAddr, p.sqDepth, p.cqid);
  }

  adminRings: { sq: bigint; cq: bigint } | undefined;

  enable(cc: { mps: number; css: number; ams: number; iosqes: number; iocqes: number }): void {
    const b = this.params.bringUp;
    const admin = this.adminRings as { sq: bigint; cq: bigint };
    const request: EnableRequest = {
      ...cc,
      asqSize: b.admin.depth,
      acqSize: b.admin.depth,
      asq: admin.sq,
      acq: admin.cq,
    };
    const outcome = this.model.enable(request);
    this.steps.push({
      do: 'enable',
      admin: { sqAddr: admin.sq, cqAddr: admin.cq, sqSize: b.admin.depth, cqSize: b.admin.depth },
      cc: { MPS: cc.mps, CSS: cc.css, AMS: cc.ams, IOSQES: cc.iosqes, IOCQES: cc.iocqes },
      expect: { csts: outcome === 'ready' ? { RDY: 1, CFS: 0, SHST: 0 } : { RDY: 0, CFS: 1 } },
    });
  }

  /** Linux's vector for an I/O CQ: its qid, shared round robin when there are fewer vectors. */
  linuxVector(qid: number): number {
    return this.vectors > 1 ? 1 + ((qid - 1) % (this.vectors - 1)) : 0;
  }

  // ---- rings ----

  /** Keeps a ring away from everything else; a taken spot moves to a free one nearby or far. Aligned to the largest page. */
  ring(want: bigint, bytes: number): bigint {
    const span = BigInt(Math.ceil(Math.max(bytes, RING_RESERVE) / PAGE) * PAGE);
    const region = this.ringRegion;
    const align = BigInt(PAGE * 2 ** this.params.bringUp.mps);
    const aligned = (want / align) * align;
    const fits = (addr: bigint) =>
      region === undefined
        ? addr >= 0n && addr + span <= 1n << 64n
        : addr >= region.addr && addr + span <= rangeEnd(region);
    // Bounded RAM has no far-away room: search the whole ring region page by page instead.
    const attempts = region === undefined ? RING_ATTEMPTS : region.size / Number(align);
    for (let i = 0; i < attempts; i++) {
      const step =
        region !== undefined || i < RING_ATTEMPTS / 2
          ? BigInt(i) * (span > align ? span : align)
          : BigInt(i) * RING_JUMP;
      for (const addr of [aligned + step, aligned - step]) {
        if (fits(addr) && addr % align === 0n && this.memory.isFree(addr, Number(span))) {
          this.memory.reserve(addr, Number(span), 'queue');
          this.used.push({ addr, size: Number(span) });
          return addr;
        }
      }
    }
    throw new PlacementError('NO_SPACE', `fuzz case: no room for a ring near 0x${want.toString(16)}`);
  }

  // ---- commands ----

  id(): string {
    return `c${this.nextCommand++}`;
  }

  /** A command on the admin queue, submitted alone and waited for. */
  admin(fields: SqeFields[], expect: MutableExpect, layout?: CommandLayout): CaseCommand {
    const cmd = this.command(fields[0] as SqeFields, expect, layout);
    this.steps.push({ do: 'submit', qid: 0, commands: [cmd], doorbell: true });
    if ((expect.completes ?? 'yes') === 'yes') this.model.posted(0);
    return cmd;
  }

  /** A case command from SQE fields, a data layout and an expectation (kept by reference: it may change later). */
  command(f: SqeFields, expect: MutableExpect, l?: CommandLayout, cid?: number): CaseCommand {
    const holes = l?.data.filter((c) => c.kind === 'hole') ?? [];
    if (holes.length > 0) expect.faults = holes.map(({ addr, size }) => ({ addr, size }));
    const cmd: CaseCommand = {
      id: this.id(),
      opcode: f.opcode ?? 0,
      nsid: f.nsid ?? 0,
      psdt: l?.psdt ?? f.psdt ?? 0,
      fuse: f.fuse ?? 0,
      ...(cid === undefined ? {} : { cid }),
      prp1: l === undefined ? (f.prp1 ?? 0n) : dptrPrp1(l.dptr),
      prp2: l === undefined ? (f.prp2 ?? 0n) : dptrPrp2(l.dptr),
      mptr: f.mptr ?? 0n,
      cdw2: f.cdw2 ?? 0,
      cdw3: f.cdw3 ?? 0,
      cdw: [f.cdw10 ?? 0, f.cdw11 ?? 0, f.cdw12 ?? 0, f.cdw13 ?? 0, f.cdw14 ?? 0, f.cdw15 ?? 0],
      ...(l === undefined || l.grants.length === 0
        ? {}
        : { grants: l.grants.map(({ addr, size, direction }) => ({ addr, size, direction })) }),
      expect,
    };
    return cmd;
  }

  /** The data layout of a command, drawn until the target's documented behaviour takes it. */
  layout(qid: number, length: number, toDevice: boolean, command?: CommandContext): CommandLayout {
    const request = {
      qid,
      length,
      toDevice,
      sgl: this.sgl,
      pageSize: this.model.pageSize,
      ...(command === undefined ? {} : { command }),
    };
    for (let attempt = 0; attempt < LAYOUT_ATTEMPTS; attempt++) {
      const l = this.policy.layout(request);
      if (!behaviourAvoids(this.behaviour, l)) {
        for (const c of l.data) if (c.kind === 'ram') this.used.push(c);
        this.used.push(...l.structures);
        return l;
      }
      l.release();
    }
    throw new PlacementError(
      'NO_SPACE',
      `no layout the target's documented behaviour takes in ${LAYOUT_ATTEMPTS} draws`,
    );
  }

  /** The host writes what the layout's structures (PRP lists, SGL segments) hold before it submits. */
  writeStructures(l: CommandLayout): void {
    for (const s of l.structures) {
      const bytes = new Uint8Array(s.size);
      this.memory.read(s.addr, bytes);
      this.steps.push({ do: 'write-memory', addr: s.addr, content: { kind: 'bytes', bytes } });
    }
  }

  /** The host writes a payload (pattern `seed` from offset 0) into a layout's RAM chunks. */
  writePayload(l: CommandLayout, seed: number, length: number): void {
    const payload = patternView(seed, length);
    let off = 0;
    for (const chunk of l.data) {
      const have = Math.max(0, Math.min(chunk.size, length - off));
      if (chunk.kind === 'ram' && have > 0) {
        this.steps.push({
          do: 'write-memory',
          addr: chunk.addr,
          content: { kind: 'pattern', seed, offset: off, size: have },
        });
        // The scratch host keeps the bytes too: a later structure that overlaps shows them.
        this.memory.write(chunk.addr, payload.subarray(off, off + have));
      }
      off += chunk.size;
    }
  }

  /** The statuses a command laid out by `l` may complete with: success, or what its invalid layout breaks. */
  statuses(l: CommandLayout | undefined): string[] {
    if (l?.expect === undefined) return [St.SUCCESS];
    return [...new Set([...l.expect.accept.map(statusCode), ...behaviourAccepts(this.behaviour, l.expect.kind)])];
  }

  // ---- actions ----

  action(a: FuzzAction): void {
    switch (a.kind) {
      case 'io':
        io(this, a.queue, a.commands, a.readBack);
        return;
      case 'identify':
        identify(this, a.cns);
        return;
      case 'early-failure':
        earlyFailure(this, a);
        return;
      case 'create-invalid':
        createInvalid(this, a);
        return;
      case 'delete-invalid':
        deleteInvalid(this, a);
        return;
      case 'recreate':
        recreate(this, a);
        return;
      case 'doorbell':
        doorbell(this, a);
        return;
      case 'hold':
        hold(this, a.queue, a.extra);
        return;
      case 'aer':
        asyncEventRequest(this);
        return;
      case 'error-log':
        errorLog(this);
        return;
      case 'coalescing':
        coalescing(this, a);
        return;
      case 'abort':
        abort(this, a);
        return;
      case 'power':
        power(this, a.event, a.pick);
        return;
      case 'wait':
        this.steps.push({ do: 'wait', ms: a.ms });
        return;
    }
  }

  pair(pick: number): HostPair | undefined {
    return this.pairs.length === 0 ? undefined : this.pairs[pick % this.pairs.length];
  }

  cqOf(sqid: number): number {
    return this.pairs.find((p) => p.sqid === sqid)?.cqid ?? sqid;
  }

  createCq(qid: number, addr: bigint, size: number, ien: boolean, iv: number, pc = true): string[] {
    const status = this.model.createCq({ qid, size, ien, iv, pc, base: addr });
    this.steps.push({ do: 'create-cq', id: this.id(), qid, addr, size, ien, iv, pc, expect: { status, sqid: 0 } });
    this.model.posted(0);
    return status;
  }

  createSq(qid: number, addr: bigint, size: number, cqid: number, pc = true): string[] {
    const status = this.model.createSq({ qid, size, cqid, pc, base: addr });
    this.steps.push({
      do: 'create-sq',
      id: this.id(),
      qid,
      addr,
      size,
      cqid,
      qprio: 0,
      pc,
      expect: { status, sqid: 0 },
    });
    this.model.posted(0);
    return status;
  }

  /** The lowest I/O queue id the model has no CQ (or SQ) for. */
  freeQid(cq: boolean): number {
    const taken = cq ? this.model.cqs : this.model.sqs;
    let qid = 1;
    while (taken.has(qid)) qid++;
    return qid;
  }

  deleteQueue(cq: boolean, qid: number): string[] {
    const status = cq ? this.model.deleteCq(qid) : this.model.deleteSq(qid);
    if (!cq && status[0] === St.SUCCESS) this.stuck.delete(qid);
    this.steps.push({ do: cq ? 'delete-cq' : 'delete-sq', id: this.id(), qid, expect: { status, sqid: 0 } });
    this.model.posted(0);
    return status;
  }
}

/** A seed for command `n` of a case. */
export function createSeed(seed: number, n: number): number {
  return (Math.imul(seed ^ 0x9e37_79b9, 0x85eb_ca6b) + Math.imul(n + 1, 0xc2b2_ae35)) >>> 0;
}

/** Data checks that put `bytes` at `offset` of a layout's transfer (split over its RAM chunks). */
export function dataAt(l: CommandLayout, offset: number, bytes: Uint8Array): CaseDataCheck[] {
  const checks: CaseDataCheck[] = [];
  let off = 0;
  for (const chunk of l.data) {
    const lo = Math.max(offset, off);
    const hi = Math.min(offset + bytes.length, off + chunk.size);
    if (lo < hi && chunk.kind === 'ram') {
      const expected: CaseBytes = { kind: 'bytes', bytes: bytes.slice(lo - offset, hi - offset) };
      checks.push({ addr: chunk.addr + BigInt(lo - off), expected });
    }
    off += chunk.size;
  }
  return checks;
}
