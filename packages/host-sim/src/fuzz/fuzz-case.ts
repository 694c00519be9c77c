/**
 * One fuzz case: a fast-check value of parameters and the case file they make. A case is a bring-up
 * (admin queue, controller page, Number of Queues, an outstanding AER, the I/O queue pairs: shared
 * CQs, IEN = 0, CQs smaller than their SQs) followed by host actions: placed I/O in batches before
 * one doorbell, Identify, commands that fail before execution, queue creation with every invalid
 * field, deletion, delete-and-recreate, raw doorbell writes of invalid values, a held CQ head,
 * interrupt coalescing, resets, shutdowns and invalid enables. A model of the controller
 * (controller-model.ts) and of the namespace (block-model.ts) runs alongside and writes what the
 * specification says into every step's expectations; the case file is then replayed on a fresh
 * testbed by the same function as `epfsim replay`, so what the campaign checks is exactly what a
 * case file reproduces. Shrinking works on the parameters (fast-check's shrinker): an action
 * removed, the model recomputes the rest.
 */
import { isDeepStrictEqual } from 'node:util';
import { type EpcProfile, findProfile, type StrategyName } from '@epfsim/epc-core';
import { type NvmeFunctionConfigInput, resolveConfig } from '@epfsim/nvme-epf';
import {
  abortFields,
  asyncEventRequestFields,
  Cns,
  FEATURE_DW11,
  FeatureId,
  getFeaturesFields,
  getLogPageFields,
  identifyFields,
  Lid,
  NvmOpcode,
  numberOfQueuesFields,
  packFields,
  READ_WRITE,
  type SqeFields,
  setBits,
  setFeaturesFields,
  splitU64,
} from '@epfsim/nvme-spec-types';
import fc from 'fast-check';
import { hostAddress } from '../arbitraries/host-address.js';
import { type NvmCommandPick, nvmCommand } from '../arbitraries/nvm-command.js';
import type {
  CaseBytes,
  CaseCc,
  CaseCommand,
  CaseCommandExpect,
  CaseDataCheck,
  CaseFile,
  CaseStep,
} from '../case-file/case-file.js';
import { CASE_FILE_VERSION } from '../case-file/case-file.js';
import { fillPattern } from '../case-file/data-pattern.js';
import { type CaseReport, replayCase, statusCode } from '../case-file/replay-case.js';
import type { CommandSpec } from '../driver/driver-types.js';
import { dsmCommand, flushCommand, lbaCommand, writeZeroesCommand } from '../driver/nvm-commands.js';
import { PlacementError } from '../errors.js';
import { SimulatedHostMemory } from '../memory/host-memory.js';
import { type HostRange, mergeRanges, rangeEnd } from '../memory/host-range.js';
import { MsiDoorbell } from '../memory/msi-doorbell.js';
import {
  type CommandContext,
  type CommandLayout,
  dptrPrp1,
  dptrPrp2,
  type PlacementPolicy,
  type SglCapability,
} from '../placement/layout.js';
import { createPlacement, type PlacementName } from '../placement/placement-factory.js';
import { BlockModel, sliceRuns } from './block-model.js';
import { ControllerModel, type EnableRequest, type PendingExpect, St } from './controller-model.js';
import { behaviourAccepts, behaviourAvoids, type CaseBehaviour, deallocateZeroes } from './qemu-expectations.js';

/** What a campaign fixes for its cases: the controller, the namespace and the placement policy. */
export interface FuzzTarget {
  readonly profile: EpcProfile;
  readonly placement: PlacementName;
  readonly strategy: StrategyName;
  readonly blockSize: 512 | 4096;
  /** Namespace size in blocks. */
  readonly blocks: number;
  /**
   * Controller settings beyond strategy and namespace (MDTS, queue limits, behaviour options):
   * for QEMU, a function configured like QEMU's controller. Default: the function's defaults.
   */
  readonly controller?: FuzzControllerSettings;
  /**
   * The only host RAM the target has (QEMU's guest RAM): rings and every placement stay inside
   * it. Default: the whole 64-bit space.
   */
  readonly ram?: HostRange;
  /** Whose behaviour the expectations follow (default the specification). */
  readonly behaviour?: CaseBehaviour;
  /** Named faults injected into the controller (docs/faults.md). */
  readonly inject?: readonly string[];
  /** Host-protocol actions beside placed I/O (default true); false: placed I/O and Identify only. */
  readonly protocol?: boolean;
}

/** What {@link FuzzTarget.controller} may set. */
export type FuzzControllerSettings = Readonly<Omit<NvmeFunctionConfigInput, 'strategy' | 'namespaces' | 'now'>>;

/** Where a queue pair's rings go (page aligned, edge biased) and their depths. */
export interface FuzzQueueParams {
  readonly sq: bigint;
  readonly cq: bigint;
  readonly depth: number;
}

/** An I/O queue pair of the bring-up. */
export interface FuzzIoQueueParams extends FuzzQueueParams {
  /** CQ entries as a share of the SQ's (a CQ smaller than its SQ fills while the SQ does not). */
  readonly cqDepth: number;
  /** Complete into an earlier pair's CQ instead of its own (a shared CQ), when there is one. */
  readonly shareCq: boolean;
  /** Interrupts enabled on its CQ. */
  readonly ien: boolean;
}

/** How the controller is brought up. */
export interface FuzzBringUpParams {
  readonly admin: FuzzQueueParams;
  /** CC.MPS: 4 KiB pages, or 8 KiB or 64 KiB. */
  readonly mps: number;
  /** Set Features Number of Queues to exactly the pairs the case creates, before creating them. */
  readonly numberOfQueues: boolean;
  /** Keep an Asynchronous Event Request outstanding, as Linux does. */
  readonly aer: boolean;
  /** Poll every CQ instead of enabling interrupts. */
  readonly noInterrupts: boolean;
  readonly ioQueues: readonly FuzzIoQueueParams[];
}

/** Ways a Create I/O CQ or SQ can be wrong (Q-2, Q-7, Q-8, P-14). */
export const CREATE_FLAWS = [
  'qid-zero',
  'qid-in-use',
  'qid-above-allocated',
  'size-one',
  'size-above-mqes',
  'base-offset',
  'vector',
  'not-contiguous',
  'cq-missing',
  'cq-zero',
] as const;
export type CreateFlaw = (typeof CREATE_FLAWS)[number];

/** Commands that fail before they execute (Linux fixes #3 and #10 lived there). */
export const EARLY_FAILURES = ['opcode', 'nsid', 'fuse', 'psdt'] as const;
export type EarlyFailure = (typeof EARLY_FAILURES)[number];

/** Controller-level events: reset, shutdown, and an enable with one invalid CC field. */
export const POWER_EVENTS = ['reset', 'shutdown-normal', 'shutdown-abrupt', 'invalid-enable'] as const;
export type PowerEvent = (typeof POWER_EVENTS)[number];

/** CC fields an invalid enable breaks, with the values that break them. */
const INVALID_CC: readonly { field: keyof CaseCc; values: readonly number[] }[] = [
  { field: 'IOSQES', values: [1, 5, 7, 8, 15] },
  { field: 'IOCQES', values: [1, 3, 5, 6, 15] },
  { field: 'MPS', values: [5, 8, 15] },
  { field: 'CSS', values: [1, 6, 7] },
  { field: 'AMS', values: [1, 2, 7] },
];

/** One host action after bring-up. */
export type FuzzAction =
  | {
      readonly kind: 'io';
      /** Which live I/O SQ (modulo the count). */
      readonly queue: number;
      /** Written into the SQ one after another, then one doorbell. */
      readonly commands: readonly NvmCommandPick[];
      /** For a write: read the same blocks back right after, in the same batch. */
      readonly readBack: boolean;
    }
  | { readonly kind: 'identify'; readonly cns: 0 | 1 | 2 }
  | {
      readonly kind: 'early-failure';
      readonly admin: boolean;
      readonly queue: number;
      readonly how: EarlyFailure;
      readonly pick: number;
    }
  | {
      readonly kind: 'create-invalid';
      readonly cq: boolean;
      readonly flaw: CreateFlaw;
      readonly retry: boolean;
      readonly pick: number;
    }
  | { readonly kind: 'delete-invalid'; readonly cq: boolean; readonly pick: number; readonly busy: boolean }
  | {
      /** Delete a pair (SQs, then CQ) and create it again under the same ids with new settings. */
      readonly kind: 'recreate';
      readonly queue: number;
      readonly ien: boolean;
      readonly cqDepth: number;
      readonly sqDepth: number;
    }
  | {
      /** A raw doorbell write: past the ring of a live queue, or to a queue that does not exist. */
      readonly kind: 'doorbell';
      readonly cq: boolean;
      readonly missing: boolean;
      readonly pick: number;
      readonly value: number;
    }
  | {
      /** Hold a CQ's head doorbell, submit more commands than it holds to one of its SQs, release it. */
      readonly kind: 'hold';
      readonly queue: number;
      readonly extra: number;
    }
  | { readonly kind: 'aer' }
  | { readonly kind: 'error-log' }
  | {
      readonly kind: 'coalescing';
      readonly threshold: number;
      readonly time: number;
      readonly vector: number;
      readonly disable: boolean;
    }
  | { readonly kind: 'abort'; readonly queue: number; readonly cid: number }
  | { readonly kind: 'power'; readonly event: PowerEvent; readonly pick: number }
  | { readonly kind: 'wait'; readonly ms: number };

/** Everything a case is made of; shrinking works on this. */
export interface FuzzCaseParams {
  /** Seed of the placement policy laying out every data pointer. */
  readonly placementSeed: number;
  readonly bringUp: FuzzBringUpParams;
  readonly actions: readonly FuzzAction[];
}

/** The one namespace every case uses. */
const NSID = 1;
/** The host's memory page (CC.MPS = 0). */
const PAGE = 4096;
const MAX_ACTIONS = 12;
const MAX_IO_QUEUES = 3;
const MAX_BATCH = 6;
const ADMIN_MAX_DEPTH = 64;
const IO_MAX_DEPTH = 256;
/** Ring space reserved per queue: enough for the deepest ring at the largest page. */
const RING_RESERVE = IO_MAX_DEPTH * 64;
/** Tries to find a free spot for a ring near the address drawn (a placement arena may sit there). */
const RING_ATTEMPTS = 64;
/** Jump between tries once the neighbours are taken: far beyond any placement arena. */
const RING_JUMP = 1n << 36n;
/**
 * With bounded RAM, the rings get the start of it and the placement the rest, so that a policy's
 * arena never takes the room the rings need.
 */
const RING_REGION_BYTES = 8 * 1024 * 1024;
/** Edges the ring addresses aim at inside bounded RAM: 64 KiB and 1 MiB. */
const RING_EDGES = [64n * 1024n, 1024n * 1024n] as const;
/** How far (in pages) around an edge a ring address lands. */
const RING_EDGE_REACH = 2;
/** Layouts drawn before a case gives up on one its target's behaviour cannot take (a skipped case). */
const LAYOUT_ATTEMPTS = 16;
/** Admin opcodes this controller does not implement (0/01h), NVM ones likewise. */
const UNSUPPORTED_ADMIN = [0x03, 0x07, 0x0d, 0x10, 0x11, 0x14, 0x15, 0x18, 0x7c, 0x80, 0xc1, 0xff];
const UNSUPPORTED_NVM = [0x04, 0x0d, 0x0e, 0x11, 0x15, 0x19, 0x7f, 0x81, 0xff];
/** NSIDs that name no namespace (0/0Bh): 0, the next one, and the largest before broadcast. */
const INVALID_NSIDS = [0, 2, 0x100, 0xffff_fffe];
/** CIDs the case chooses for its AERs (so an Abort can name one). */
const AER_CID_BASE = 0xa000;
/** Bytes read from the Error Information log (one entry). */
const ERROR_LOG_BYTES = 64;
/** Identify Controller fields a case checks (NVMe Base 1.4 Figure 247): MDTS, SQES, CQES, NN. */
const ID_CTRL = { MDTS: 77, SQES: 512, CQES: 513, NN: 516 } as const;
/** Identify Namespace fields a case checks (Figure 249): NSZE, and LBADS of LBA format 0. */
const ID_NS = { NSZE: 0, LBAF0_LBADS: 130 } as const;
/** SQES and CQES of an NVM controller: required and maximum entry sizes 2^6 and 2^4. */
const SQES_NVM = 0x66;
const CQES_NVM = 0x44;
/** Raw doorbell values past the ring of a queue: one past, far past, and the 32-bit limits. */
const PAST_RING = [0, 1, 7, 0xffff, 0x1_0000, 0xffff_ffff] as const;

/** The controller configuration of a target, as a case file records it. */
export function fuzzController(target: FuzzTarget): Record<string, unknown> {
  return {
    ...target.controller,
    strategy: target.strategy,
    namespaces: [{ blockSize: target.blockSize, blocks: target.blocks, backend: { kind: 'ram' } }],
  };
}

/** Where the rings and the placement go in a target's bounded RAM. */
function splitRam(ram: HostRange): { rings: HostRange; placement: HostRange } {
  if (ram.size <= 2 * RING_REGION_BYTES) throw new RangeError(`fuzz: ${ram.size} bytes of RAM are too few`);
  return {
    rings: { addr: ram.addr, size: RING_REGION_BYTES },
    placement: { addr: ram.addr + BigInt(RING_REGION_BYTES), size: ram.size - RING_REGION_BYTES },
  };
}

/** Page-aligned ring addresses in `region`: uniform, or a few pages around a 64 KiB or 1 MiB edge. */
function boundedRingAddress(region: HostRange, span: number): fc.Arbitrary<bigint> {
  const lastPage = Math.floor((region.size - span) / PAGE);
  const clamp = (addr: bigint) => {
    const page = Number((addr - region.addr) / BigInt(PAGE));
    return region.addr + BigInt(Math.min(lastPage, Math.max(0, page)) * PAGE);
  };
  const edgeCount = (edge: bigint) => Math.max(1, Number(BigInt(region.size) / edge));
  return fc.oneof(
    fc.integer({ min: 0, max: lastPage }).map((page) => region.addr + BigInt(page * PAGE)),
    fc
      .record({
        edge: fc.constantFrom(...RING_EDGES),
        multiple: fc.integer({ min: 1, max: edgeCount(RING_EDGES[0]) }),
        shift: fc.integer({ min: -RING_EDGE_REACH, max: RING_EDGE_REACH }),
      })
      .map(({ edge, multiple, shift }) => {
        const boundary = (region.addr / edge + BigInt((multiple - 1) % edgeCount(edge)) + 1n) * edge;
        return clamp(boundary + BigInt(shift * PAGE));
      }),
  );
}

/** A built-in profile by name (as a user would write it), any other profile inline. */
function caseProfile(profile: EpcProfile): CaseFile['profile'] {
  const builtin = findProfile(profile.name);
  return builtin !== undefined && isDeepStrictEqual(builtin, profile)
    ? profile.name
    : (JSON.parse(JSON.stringify(profile)) as Record<string, unknown>);
}

/** Largest block count one data command moves on `target` (MDTS over the block size). */
function maxBlocks(target: FuzzTarget): number {
  const mdts = resolveConfig(fuzzController(target)).mdtsBytes;
  return mdts === 0 ? 256 : Math.max(1, mdts / target.blockSize);
}

/** Whether the target's behaviour is the specification's, so the whole host-protocol vocabulary applies. */
function protocolActions(target: FuzzTarget): boolean {
  // QEMU (bounded guest RAM, or its own behaviour) is compared on placed I/O only.
  return target.protocol !== false && (target.behaviour ?? 'spec') === 'spec' && target.ram === undefined;
}

/** The parameters of a case on `target`, as a fast-check arbitrary. */
export function fuzzCaseArbitrary(target: FuzzTarget): fc.Arbitrary<FuzzCaseParams> {
  const rings = target.ram === undefined ? undefined : splitRam(target.ram).rings;
  const address = (span: number) =>
    rings === undefined ? hostAddress({ profile: target.profile, align: PAGE, span }) : boundedRingAddress(rings, span);
  const depth = (max: number, common: readonly number[]) =>
    fc.oneof(fc.constantFrom(...common), fc.integer({ min: 2, max }));
  const full = protocolActions(target);
  const ioQueue = fc.record({
    sq: address(RING_RESERVE),
    cq: address(RING_RESERVE),
    depth: depth(IO_MAX_DEPTH, [2, 3, 4, 16, 64]),
    cqDepth: full ? fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 2, max: 8 })) : fc.constant(0),
    shareCq: full ? fc.boolean() : fc.constant(false),
    ien: full ? fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, fc.constant(false)) : fc.constant(true),
  });
  const bringUp = fc.record({
    admin: fc.record({
      sq: address(RING_RESERVE),
      cq: address(RING_RESERVE),
      depth: depth(ADMIN_MAX_DEPTH, [2, 4, 32]),
    }),
    // Linux, SPDK and the invalid policy lay data out in 4 KiB pages, as those hosts always program CC.MPS = 0.
    mps:
      full && target.placement === 'adversarial'
        ? fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.constantFrom(1, 4))
        : fc.constant(0),
    numberOfQueues: full ? fc.boolean() : fc.constant(false),
    aer: full ? fc.boolean() : fc.constant(false),
    noInterrupts: full
      ? fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, fc.constant(true))
      : fc.constant(false),
    ioQueues: fc.array(ioQueue, { minLength: 1, maxLength: MAX_IO_QUEUES }),
  });
  const io = fc.record({
    kind: fc.constant('io' as const),
    queue: fc.nat({ max: MAX_IO_QUEUES - 1 }),
    commands: fc.array(nvmCommand({ blocks: target.blocks, maxBlocks: maxBlocks(target) }), {
      minLength: 1,
      maxLength: full ? MAX_BATCH : 1,
    }),
    readBack: fc.boolean(),
  });
  const identify = fc.record({
    kind: fc.constant('identify' as const),
    cns: fc.constantFrom(0 as const, 1 as const, 2 as const),
  });
  const pick = fc.nat({ max: 1023 });
  const protocol: fc.Arbitrary<FuzzAction>[] = [
    fc.record({
      kind: fc.constant('early-failure' as const),
      admin: fc.boolean(),
      queue: fc.nat({ max: MAX_IO_QUEUES - 1 }),
      how: fc.constantFrom(...EARLY_FAILURES),
      pick,
    }),
    fc.record({
      kind: fc.constant('create-invalid' as const),
      cq: fc.boolean(),
      flaw: fc.constantFrom(...CREATE_FLAWS),
      retry: fc.boolean(),
      pick,
    }),
    fc.record({ kind: fc.constant('delete-invalid' as const), cq: fc.boolean(), pick, busy: fc.boolean() }),
    fc.record({
      kind: fc.constant('recreate' as const),
      queue: fc.nat({ max: MAX_IO_QUEUES - 1 }),
      ien: fc.boolean(),
      cqDepth: depth(16, [2, 3, 4]),
      sqDepth: depth(64, [2, 4, 16]),
    }),
    fc.record({
      kind: fc.constant('doorbell' as const),
      cq: fc.boolean(),
      missing: fc.boolean(),
      pick,
      value: fc.constantFrom(...PAST_RING),
    }),
    fc.record({
      kind: fc.constant('hold' as const),
      queue: fc.nat({ max: MAX_IO_QUEUES - 1 }),
      extra: fc.integer({ min: 0, max: 3 }),
    }),
    fc.constant({ kind: 'aer' as const }),
    fc.constant({ kind: 'error-log' as const }),
    fc.record({
      kind: fc.constant('coalescing' as const),
      threshold: fc.integer({ min: 0, max: 3 }),
      time: fc.integer({ min: 0, max: 10 }),
      vector: fc.nat({ max: 4 }),
      disable: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('abort' as const),
      queue: fc.nat({ max: MAX_IO_QUEUES }),
      cid: fc.nat({ max: 0xffff }),
    }),
    fc.record({ kind: fc.constant('power' as const), event: fc.constantFrom(...POWER_EVENTS), pick }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 3 }) }),
  ];
  const action: fc.Arbitrary<FuzzAction> = full
    ? fc.oneof(
        { weight: 12, arbitrary: io },
        { weight: 1, arbitrary: identify },
        ...protocol.map((arbitrary) => ({ weight: 2, arbitrary })),
      )
    : fc.oneof({ weight: 9, arbitrary: io }, { weight: 1, arbitrary: identify });
  return fc.record({
    placementSeed: fc.nat(),
    bringUp,
    actions: fc.array(action, { minLength: 1, maxLength: full ? MAX_ACTIONS : 6 }),
  });
}

/** The concrete case of `params`: memory, steps and every expectation. */
export function buildFuzzCase(target: FuzzTarget, params: FuzzCaseParams, seed?: number, description = ''): CaseFile {
  return new CaseBuilder(target, params).build(seed, description);
}

/** Runs a case file to its report: {@link replayCase} on a fresh testbed, or another target's runner. */
export type CaseRunner = (caseFile: CaseFile) => CaseReport;

/** Builds and replays a case (on a fresh in-process testbed unless `run` says otherwise). */
export function runFuzzCase(
  target: FuzzTarget,
  params: FuzzCaseParams,
  run: CaseRunner = replayCase,
): { caseFile: CaseFile; report: CaseReport } {
  const caseFile = buildFuzzCase(target, params);
  return { caseFile, report: run(caseFile) };
}

/** An I/O queue pair as the host has it. */
interface HostPair {
  readonly sqid: number;
  readonly cqid: number;
  sqDepth: number;
  cqDepth: number;
  ien: boolean;
  sqAddr: bigint;
  cqAddr: bigint;
}

/** A command expectation the builder may still change (an AER's event, a queue deleted under it). */
type MutableExpect = { -readonly [K in keyof CaseCommandExpect]: CaseCommandExpect[K] } & PendingExpect;

/** Interrupt vectors the function offers on this target: its MSI-X table, else its MSI messages, else INTx's one. */
function functionVectors(target: FuzzTarget): number {
  const config = resolveConfig(fuzzController(target));
  const irq = target.profile.irq;
  if (config.irq === 'msix' && irq.msix) return config.msixVectors;
  if (config.irq !== 'intx' && irq.msi)
    return Math.min(MSI_MAX_VECTORS, 2 ** Math.ceil(Math.log2(config.maxIoQueues + 1)));
  return 1;
}

class CaseBuilder {
  private readonly target: FuzzTarget;
  private readonly params: FuzzCaseParams;
  /** A scratch host the placement policy lays commands out in. */
  private readonly memory = new SimulatedHostMemory();
  private readonly policy: PlacementPolicy;
  private readonly blocks: BlockModel;
  private readonly model: ControllerModel;
  private readonly sgl: SglCapability;
  private readonly mdtsBytes: number;
  private readonly mqes: number;
  /** Vectors a Create I/O CQ may name: the host enables all the function offers, or none (then only vector 0). */
  private readonly vectors: number;
  /** Vectors the function has (Interrupt Vector Configuration names one of them). */
  private readonly allVectors: number;
  /** Invalid placements break every data pointer on purpose: statuses are checked, data is not. */
  private readonly checkData: boolean;
  private readonly behaviour: CaseBehaviour;
  private readonly used: HostRange[] = [];
  private readonly steps: CaseStep[] = [];
  private readonly pairs: HostPair[] = [];
  /** Where rings may go (bounded RAM only). */
  private readonly ringRegion: HostRange | undefined;
  private readonly placementRam: HostRange | undefined;
  private nextCommand = 0;
  /** Commands on a stalled SQ, which may never complete and so keep their slots (by SQ id). */
  private readonly stuck = new Map<number, number>();
  private nextAer = 0;
  private nextRaw = 1;

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
    this.bringUp(true);
    for (const a of params.actions) {
      if (!this.model.ready) break;
      this.action(a);
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
  private bringUp(first: boolean): void {
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
    if (b.aer) this.asyncEventRequest();
    for (const p of this.pairs) {
      if (p.cqid === p.sqid) this.createCq(p.cqid, p.cqAddr, p.cqDepth, p.ien, this.linuxVector(p.cqid));
    }
    for (const p of this.pairs) this.createSq(p.sqid, p.sqAddr, p.sqDepth, p.cqid);
  }

  private adminRings: { sq: bigint; cq: bigint } | undefined;

  private enable(cc: { mps: number; css: number; ams: number; iosqes: number; iocqes: number }): void {
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
  private linuxVector(qid: number): number {
    return this.vectors > 1 ? 1 + ((qid - 1) % (this.vectors - 1)) : 0;
  }

  // ---- rings ----

  /** Keeps a ring away from everything else; a taken spot moves to a free one nearby or far. Aligned to the largest page. */
  private ring(want: bigint, bytes: number): bigint {
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

  private id(): string {
    return `c${this.nextCommand++}`;
  }

  /** A command on the admin queue, submitted alone and waited for. */
  private admin(fields: SqeFields[], expect: MutableExpect, layout?: CommandLayout): CaseCommand {
    const cmd = this.command(fields[0] as SqeFields, expect, layout);
    this.steps.push({ do: 'submit', qid: 0, commands: [cmd], doorbell: true });
    if ((expect.completes ?? 'yes') === 'yes') this.model.posted(0);
    return cmd;
  }

  /** A case command from SQE fields, a data layout and an expectation (kept by reference: it may change later). */
  private command(f: SqeFields, expect: MutableExpect, l?: CommandLayout, cid?: number): CaseCommand {
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
  private layout(qid: number, length: number, toDevice: boolean, command?: CommandContext): CommandLayout {
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
  private writeStructures(l: CommandLayout): void {
    for (const s of l.structures) {
      const bytes = new Uint8Array(s.size);
      this.memory.read(s.addr, bytes);
      this.steps.push({ do: 'write-memory', addr: s.addr, content: { kind: 'bytes', bytes } });
    }
  }

  /** The host writes a payload (pattern `seed` from offset 0) into a layout's RAM chunks. */
  private writePayload(l: CommandLayout, seed: number, length: number): void {
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
        this.memory.write(chunk.addr, fillPattern(new Uint8Array(have), seed, off));
      }
      off += chunk.size;
    }
  }

  /** The statuses a command laid out by `l` may complete with: success, or what its invalid layout breaks. */
  private statuses(l: CommandLayout | undefined): string[] {
    if (l?.expect === undefined) return [St.SUCCESS];
    return [...new Set([...l.expect.accept.map(statusCode), ...behaviourAccepts(this.behaviour, l.expect.kind)])];
  }

  // ---- actions ----

  private action(a: FuzzAction): void {
    switch (a.kind) {
      case 'io':
        this.io(a.queue, a.commands, a.readBack);
        return;
      case 'identify':
        this.identify(a.cns);
        return;
      case 'early-failure':
        this.earlyFailure(a);
        return;
      case 'create-invalid':
        this.createInvalid(a);
        return;
      case 'delete-invalid':
        this.deleteInvalid(a);
        return;
      case 'recreate':
        this.recreate(a);
        return;
      case 'doorbell':
        this.doorbell(a);
        return;
      case 'hold':
        this.hold(a.queue, a.extra);
        return;
      case 'aer':
        this.asyncEventRequest();
        return;
      case 'error-log':
        this.errorLog();
        return;
      case 'coalescing':
        this.coalescing(a);
        return;
      case 'abort':
        this.abort(a);
        return;
      case 'power':
        this.power(a.event, a.pick);
        return;
      case 'wait':
        this.steps.push({ do: 'wait', ms: a.ms });
        return;
    }
  }

  private pair(pick: number): HostPair | undefined {
    return this.pairs.length === 0 ? undefined : this.pairs[pick % this.pairs.length];
  }

  private context(c: NvmCommandPick): CommandContext {
    return {
      nsid: NSID,
      slba: BigInt(c.slba),
      nlb: c.nlb,
      blockSize: this.target.blockSize,
      nsze: BigInt(this.target.blocks),
      mdtsBytes: this.mdtsBytes,
    };
  }

  /** A batch of I/O on one SQ: every command written, then one doorbell. */
  private io(queue: number, picks: readonly NvmCommandPick[], readBack: boolean): void {
    const p = this.pair(queue);
    if (p === undefined) return;
    const stalled = this.model.stalled(p.sqid);
    const batch = picks.length * (readBack ? 2 : 1);
    if (stalled) {
      const held = this.stuck.get(p.sqid) ?? 0;
      if (held + batch > p.sqDepth - 1) return;
      this.stuck.set(p.sqid, held + batch);
    }
    const commands: CaseCommand[] = [];
    for (const c of picks) {
      commands.push(...this.ioCommand(p.sqid, c, stalled));
      if (readBack && c.kind === 'write') commands.push(...this.ioCommand(p.sqid, { ...c, kind: 'read' }, stalled));
    }
    if (commands.length === 0) return;
    this.steps.push({ do: 'submit', qid: p.sqid, commands, doorbell: true });
  }

  /**
   * One NVM command and its expectation. On a stalled SQ (an invalid tail was written) the
   * controller may or may not run it: completion and data are not checked, and what it writes is
   * unknown from then on.
   */
  private ioCommand(qid: number, c: NvmCommandPick, stalled: boolean): CaseCommand[] {
    const target = this.target;
    const context = this.context(c);
    const expect: MutableExpect = { status: [St.SUCCESS], sqid: qid };
    let command: CaseCommand;
    switch (c.kind) {
      case 'write': {
        const length = c.nlb * target.blockSize;
        const payloadSeed = this.nextPayload();
        const spec = lbaCommand(NvmOpcode.WRITE, context);
        const l = this.layout(qid, length, true, context);
        this.writeStructures(l);
        this.writePayload(l, payloadSeed, length);
        expect.status = this.statuses(l);
        command = this.command(this.patched(spec, l), expect, l);
        if (stalled || !this.checkData) this.blocks.forget(c.slba, c.nlb);
        else this.blocks.write(c.slba, c.nlb, payloadSeed);
        break;
      }
      case 'read': {
        const spec = lbaCommand(NvmOpcode.READ, context);
        const l = this.layout(qid, c.nlb * target.blockSize, false, context);
        this.writeStructures(l);
        expect.status = this.statuses(l);
        if (this.checkData && l.expect === undefined && !stalled) {
          const data = this.readChecks(l, c);
          if (data.length > 0) expect.data = data;
        }
        command = this.command(this.patched(spec, l), expect, l);
        break;
      }
      case 'write-zeroes':
        command = this.command(writeZeroesCommand(NSID, BigInt(c.slba), c.nlb), expect);
        if (stalled) this.blocks.forget(c.slba, c.nlb);
        else this.blocks.zero(c.slba, c.nlb);
        break;
      case 'trim': {
        const spec = dsmCommand(NSID, [{ cattr: 0, nlb: c.nlb, slba: BigInt(c.slba) }], { ad: true });
        const l = this.layout(qid, spec.data?.length ?? 0, true);
        this.writeStructures(l);
        this.scatterBytes(l, spec.data?.payload);
        expect.status = this.statuses(l);
        command = this.command(this.patched(spec, l), expect, l);
        // nvme-epf reports DLFEAT read behaviour 001b: deallocated blocks read as zero (QEMU keeps them).
        if (stalled || !deallocateZeroes(this.behaviour) || l.expect !== undefined) this.blocks.forget(c.slba, c.nlb);
        else this.blocks.zero(c.slba, c.nlb);
        break;
      }
      case 'flush':
        command = this.command(flushCommand(NSID), expect);
        break;
    }
    if (stalled) {
      expect.completes = 'any';
      delete expect.status;
      delete expect.data;
    } else {
      this.model.posted(this.cqOf(qid));
    }
    return [command];
  }

  private nextPayload(): number {
    return (createSeed(this.params.placementSeed, this.nextCommand) ^ 0x5bd1_e995) >>> 0;
  }

  /** Small literal payloads (DSM ranges) into a layout's RAM chunks. */
  private scatterBytes(l: CommandLayout, payload: Uint8Array | undefined): void {
    if (payload === undefined) return;
    let off = 0;
    for (const chunk of l.data) {
      const bytes = payload.subarray(off, off + chunk.size);
      if (chunk.kind === 'ram' && bytes.length > 0) {
        this.steps.push({ do: 'write-memory', addr: chunk.addr, content: { kind: 'bytes', bytes: bytes.slice() } });
        this.memory.write(chunk.addr, bytes);
      }
      off += chunk.size;
    }
  }

  /** What a read's buffer must hold: the model's runs, cut along the buffer's RAM chunks. */
  private readChecks(l: CommandLayout, c: NvmCommandPick): CaseDataCheck[] {
    const runs = this.blocks.read(c.slba, c.nlb);
    const checks: CaseDataCheck[] = [];
    let off = 0;
    for (const chunk of l.data) {
      if (chunk.kind === 'ram') {
        let at = 0n;
        for (const r of sliceRuns(runs, off, chunk.size)) {
          at = chunk.addr + BigInt(r.offset);
          checks.push({ addr: at, expected: r.expected });
        }
      }
      off += chunk.size;
    }
    return checks;
  }

  /** An invalid policy's patch (NSID, SLBA, NLB) applied to a command's fields. */
  private patched(spec: CommandSpec, l: CommandLayout): SqeFields {
    const f: SqeFields = {
      opcode: spec.opcode,
      nsid: spec.nsid ?? 0,
      cdw10: spec.cdw10 ?? 0,
      cdw11: spec.cdw11 ?? 0,
      cdw12: spec.cdw12 ?? 0,
      cdw13: spec.cdw13 ?? 0,
    };
    const patch = l.patch;
    if (patch === undefined) return f;
    const out = { ...f };
    if (patch.nsid !== undefined) out.nsid = patch.nsid;
    if (patch.slba !== undefined) {
      const { lo, hi } = splitU64(patch.slba);
      out.cdw10 = lo;
      out.cdw11 = hi;
    }
    if (patch.nlb !== undefined) out.cdw12 = setBits(out.cdw12 ?? 0, READ_WRITE.CDW12.NLB, patch.nlb - 1);
    return out;
  }

  private cqOf(sqid: number): number {
    return this.pairs.find((p) => p.sqid === sqid)?.cqid ?? sqid;
  }

  /** Identify (C-A1) with the fields the host relies on checked against the configuration. */
  private identify(cns: 0 | 1 | 2): void {
    const l = this.layout(0, PAGE, false);
    this.writeStructures(l);
    const expect: MutableExpect = { status: this.statuses(l), sqid: 0 };
    // Identify data describes the controller itself: checked on epfsim, whose configuration the case records.
    if (this.checkData && l.expect === undefined && protocolActions(this.target)) {
      const bytes = new Map<number, Uint8Array>();
      if (cns === Cns.CONTROLLER) {
        const mdts = this.mdtsBytes === 0 ? 0 : Math.log2(this.mdtsBytes / PAGE);
        bytes.set(ID_CTRL.MDTS, Uint8Array.of(mdts));
        bytes.set(ID_CTRL.SQES, Uint8Array.of(SQES_NVM));
        bytes.set(ID_CTRL.CQES, Uint8Array.of(CQES_NVM));
        bytes.set(ID_CTRL.NN, Uint8Array.of(1, 0, 0, 0));
      } else if (cns === Cns.NAMESPACE) {
        const nsze = new Uint8Array(8);
        new DataView(nsze.buffer).setBigUint64(0, BigInt(this.target.blocks), true);
        bytes.set(ID_NS.NSZE, nsze);
        bytes.set(ID_NS.LBAF0_LBADS, Uint8Array.of(Math.log2(this.target.blockSize)));
      } else {
        // The active namespace list: NSID 1, then zeroes.
        bytes.set(0, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
      }
      const data = [...bytes].flatMap(([offset, b]) => dataAt(l, offset, b));
      if (data.length > 0) expect.data = data;
    }
    this.admin([identifyFields(cns, { nsid: cns === Cns.NAMESPACE ? NSID : 0 })], expect, l);
  }

  /** A command the controller must fail before it executes, with exactly one CQE. */
  private earlyFailure(a: Extract<FuzzAction, { kind: 'early-failure' }>): void {
    const p = a.admin ? undefined : this.pair(a.queue);
    const qid = p?.sqid ?? 0;
    if (this.model.stalled(qid)) return;
    let f: SqeFields;
    let status: string;
    switch (a.how) {
      case 'opcode': {
        const list = qid === 0 ? UNSUPPORTED_ADMIN : UNSUPPORTED_NVM;
        f = { opcode: list[a.pick % list.length] as number, nsid: NSID };
        status = '0/01h';
        break;
      }
      case 'nsid':
        if (qid === 0) {
          // An admin command names no namespace: Get Features of a controller feature with NSID 2.
          f = { ...getFeaturesFields(FeatureId.ARBITRATION), nsid: 2 };
          status = '1/0Fh';
        } else {
          f = { ...writeZeroesCommand(NSID, 0n, 1), nsid: INVALID_NSIDS[a.pick % INVALID_NSIDS.length] as number };
          status = '0/0Bh';
        }
        break;
      case 'fuse':
        f = { ...(qid === 0 ? getFeaturesFields(FeatureId.ARBITRATION) : flushCommand(NSID)), fuse: 1 + (a.pick % 3) };
        status = St.INVALID_FIELD;
        break;
      case 'psdt':
        f = {
          ...(qid === 0 ? getFeaturesFields(FeatureId.ARBITRATION) : flushCommand(NSID)),
          psdt: qid === 0 ? 1 + (a.pick % 3) : 3,
        };
        status = St.INVALID_FIELD;
        break;
    }
    const expect: MutableExpect = { status: [status], sqid: qid };
    const cmd = this.command(f, expect);
    this.steps.push({ do: 'submit', qid, commands: [cmd], doorbell: true });
    this.model.posted(this.cqOf(qid));
  }

  private createCq(qid: number, addr: bigint, size: number, ien: boolean, iv: number, pc = true): string[] {
    const status = this.model.createCq({ qid, size, ien, iv, pc, base: addr });
    this.steps.push({ do: 'create-cq', id: this.id(), qid, addr, size, ien, iv, pc, expect: { status, sqid: 0 } });
    this.model.posted(0);
    return status;
  }

  private createSq(qid: number, addr: bigint, size: number, cqid: number, pc = true): string[] {
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
  private freeQid(cq: boolean): number {
    const taken = cq ? this.model.cqs : this.model.sqs;
    let qid = 1;
    while (taken.has(qid)) qid++;
    return qid;
  }

  /** A Create I/O CQ or SQ with one thing wrong; with `retry`, a correct one of the same id after it. */
  private createInvalid(a: Extract<FuzzAction, { kind: 'create-invalid' }>): void {
    const m = this.model;
    const cq = a.cq;
    let qid = this.freeQid(cq);
    let size = 2 + (a.pick % 15);
    let addr = this.ring(BigInt(a.pick) * BigInt(PAGE) * 4099n, RING_RESERVE);
    let iv = Math.min(this.linuxVector(qid), this.vectors - 1);
    let pc = true;
    let cqid = this.pairs[a.pick % Math.max(1, this.pairs.length)]?.cqid ?? 1;
    const allocated = (cq ? m.ncqa : m.nsqa) + 1;
    switch (a.flaw) {
      case 'qid-zero':
        qid = 0;
        break;
      case 'qid-in-use':
        qid = this.pairs[a.pick % Math.max(1, this.pairs.length)]?.[cq ? 'cqid' : 'sqid'] ?? 1;
        break;
      case 'qid-above-allocated':
        qid = allocated + 1 + (a.pick % 2);
        break;
      case 'size-one':
        size = 1;
        break;
      case 'size-above-mqes':
        size = this.mqes + 2;
        break;
      case 'base-offset':
        addr += BigInt(m.pageSize === PAGE ? 0x100 * (1 + (a.pick % 15)) : PAGE);
        break;
      case 'vector':
        if (!cq) return;
        iv = this.vectors + (a.pick % 4);
        break;
      case 'not-contiguous':
        pc = false;
        break;
      case 'cq-missing':
        if (cq) return;
        cqid = this.freeQid(true);
        break;
      case 'cq-zero':
        if (cq) return;
        cqid = 0;
        break;
    }
    if (qid > MAX_QID_PROBE) return;
    if (cq) this.createCq(qid, addr, size, true, iv, pc);
    else this.createSq(qid, addr, size, cqid, pc);
    if (!a.retry || qid === 0) return;
    // The same id again, correct this time: a failed create must leave no trace (Linux "put CQ ref on create_cq mapping failure").
    const retryAddr = this.ring(addr + BigInt(RING_RESERVE * 4), RING_RESERVE);
    const status = cq
      ? this.createCq(qid, retryAddr, 2 + (a.pick % 7), true, Math.min(this.linuxVector(qid), this.vectors - 1))
      : this.createSq(qid, retryAddr, 2 + (a.pick % 7), this.pairs[0]?.cqid ?? 1);
    if (status[0] === St.SUCCESS) {
      // Not part of the host's pairs: take it away again so the pairs stay what they were.
      if (cq) this.deleteQueue(true, qid);
      else this.deleteQueue(false, qid);
    }
  }

  private deleteQueue(cq: boolean, qid: number): string[] {
    const status = cq ? this.model.deleteCq(qid) : this.model.deleteSq(qid);
    if (!cq && status[0] === St.SUCCESS) this.stuck.delete(qid);
    this.steps.push({ do: cq ? 'delete-cq' : 'delete-sq', id: this.id(), qid, expect: { status, sqid: 0 } });
    this.model.posted(0);
    return status;
  }

  /** A Delete I/O SQ or CQ that must fail: a queue that does not exist, the admin queue, or a CQ with SQs. */
  private deleteInvalid(a: Extract<FuzzAction, { kind: 'delete-invalid' }>): void {
    const qid = a.busy && a.cq ? (this.pair(a.pick)?.cqid ?? 0) : a.pick % 3 === 0 ? 0 : this.freeQid(a.cq);
    this.deleteQueue(a.cq, qid);
  }

  /** Deletes a pair's SQs and CQ, then creates them again (IEN and depths as drawn). */
  private recreate(a: Extract<FuzzAction, { kind: 'recreate' }>): void {
    const p = this.pair(a.queue);
    if (p === undefined) return;
    const sharing = this.pairs.filter((q) => q.cqid === p.cqid);
    for (const q of sharing) this.deleteQueue(false, q.sqid);
    this.deleteQueue(true, p.cqid);
    const cqAddr = this.ring(p.cqAddr + BigInt(RING_RESERVE * 8), RING_RESERVE);
    const owner = this.pairs.find((q) => q.sqid === p.cqid) ?? p;
    owner.cqAddr = cqAddr;
    owner.cqDepth = a.cqDepth;
    for (const q of sharing) {
      q.ien = a.ien;
      q.cqDepth = a.cqDepth;
    }
    this.createCq(p.cqid, cqAddr, a.cqDepth, a.ien, this.linuxVector(p.cqid));
    for (const q of sharing) {
      q.sqAddr = this.ring(q.sqAddr + BigInt(RING_RESERVE * 8), RING_RESERVE);
      q.sqDepth = a.sqDepth;
      this.createSq(q.sqid, q.sqAddr, a.sqDepth, q.cqid);
    }
  }

  /** A raw doorbell write the controller must refuse: past a live ring, or to a queue that does not exist. */
  private doorbell(a: Extract<FuzzAction, { kind: 'doorbell' }>): void {
    const m = this.model;
    let qid: number;
    let value: number;
    if (a.missing) {
      qid = this.freeQid(a.cq);
      // A value the register does not hold yet, distinct for every write of the case.
      value = this.nextRaw++;
    } else {
      const p = this.pair(a.pick);
      if (p === undefined) return;
      qid = a.cq ? p.cqid : p.sqid;
      const size = a.cq ? (m.cqs.get(qid)?.size ?? 2) : (m.sqs.get(qid)?.size ?? 2);
      value = Math.min(0xffff_ffff, size + a.value + this.nextRaw++);
    }
    if (qid > MAX_QID_PROBE) return;
    if (a.cq) m.cqDoorbell(qid, value);
    else m.sqDoorbell(qid, value);
    this.steps.push({ do: 'doorbell', queue: a.cq ? 'cq' : 'sq', qid, value });
  }

  /** Holds a CQ's head doorbell, fills it past what it holds from one of its SQs, then releases it. */
  private hold(queue: number, extra: number): void {
    const p = this.pair(queue);
    if (p === undefined || this.model.stalled(p.sqid)) return;
    const cqDepth = this.model.cqs.get(p.cqid)?.size;
    if (cqDepth === undefined) return;
    const count = Math.min(cqDepth - 1 + extra, p.sqDepth - 1, MAX_BATCH * 2);
    this.steps.push({ do: 'cq-head', qid: p.cqid, hold: true });
    const picks: NvmCommandPick[] = Array.from({ length: count }, (_, i) => ({
      kind: i % 3 === 2 ? 'read' : 'write',
      slba: (i * 8) % Math.max(1, this.target.blocks - 8),
      nlb: 1,
    }));
    this.io(this.pairs.indexOf(p), picks, false);
    this.steps.push({ do: 'cq-head', qid: p.cqid, hold: false });
  }

  /** An Asynchronous Event Request under a CID of the case's choosing (while the admin SQ keeps a slot free). */
  private asyncEventRequest(): void {
    // A waiting AER holds its slot until the host learns the head moved: keep one free for other admin commands.
    if (this.model.aersWaiting + 2 >= this.params.bringUp.admin.depth) return;
    const expect: MutableExpect = { sqid: 0 };
    this.model.asyncEventRequest(expect);
    const cmd = this.command(asyncEventRequestFields(), expect, undefined, AER_CID_BASE + this.nextAer++);
    this.steps.push({ do: 'submit', qid: 0, commands: [cmd], doorbell: true });
  }

  /** Get Log Page Error Information with RAE = 0: unmasks error events. */
  private errorLog(): void {
    // A log read whose outcome is uncertain would leave the event mask uncertain: invalid layouts do not read it.
    if (!this.checkData) return;
    const l = this.layout(0, ERROR_LOG_BYTES, false);
    this.writeStructures(l);
    const status = this.statuses(l);
    this.admin(
      [getLogPageFields({ lid: Lid.ERROR_INFORMATION, length: ERROR_LOG_BYTES }, 0xffff_ffff)],
      { status, sqid: 0 },
      l,
    );
    if (status.length === 1 && status[0] === St.SUCCESS) this.model.logRead(Lid.ERROR_INFORMATION, false);
  }

  /** Interrupt Coalescing, or Interrupt Vector Configuration for one vector (§5.21.1.8–9). */
  private coalescing(a: Extract<FuzzAction, { kind: 'coalescing' }>): void {
    if (a.vector % 2 === 0) {
      const value = packFields(FEATURE_DW11.INTERRUPT_COALESCING, { THR: a.threshold, TIME: a.time });
      this.admin([setFeaturesFields(FeatureId.INTERRUPT_COALESCING, value)], { status: [St.SUCCESS], sqid: 0 });
      return;
    }
    const iv = a.vector === 1 ? this.allVectors : a.vector;
    const value = packFields(FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION, { IV: iv, CD: a.disable ? 1 : 0 });
    const status = iv < this.allVectors ? St.SUCCESS : St.INVALID_FIELD;
    this.admin([setFeaturesFields(FeatureId.INTERRUPT_VECTOR_CONFIGURATION, value)], { status: [status], sqid: 0 });
  }

  /** Abort of a CID that is not outstanding: best effort, so success with "not aborted". */
  private abort(a: Extract<FuzzAction, { kind: 'abort' }>): void {
    const p = a.queue === 0 ? undefined : this.pair(a.queue - 1);
    const sqid = p?.sqid ?? 0;
    if (this.model.stalled(sqid) || (sqid === 0 && (a.cid & 0xf000) === AER_CID_BASE)) return;
    // The host's own CIDs carry a generation in bits 15:12; 0xF000 upwards are never handed out by the replay.
    const cid = 0xf000 | (a.cid & 0xfff);
    this.admin([abortFields(sqid, cid)], { status: [St.SUCCESS], dw0: 1, sqid: 0 });
  }

  /** A reset, a shutdown, or an invalid enable; then the controller is brought up again with the same queues. */
  private power(event: PowerEvent, pick: number): void {
    const dropped: PendingExpect[] = [];
    if (event === 'shutdown-normal' || event === 'shutdown-abrupt') {
      dropped.push(...this.model.shutdown());
      this.steps.push({
        do: 'shutdown',
        type: event === 'shutdown-normal' ? 'normal' : 'abrupt',
        expect: { csts: { RDY: 0, SHST: 2 } },
      });
    } else {
      dropped.push(...this.model.disable());
      this.steps.push({ do: 'disable', expect: { csts: { RDY: 0, CFS: 0 } } });
    }
    for (const e of dropped) e.completes = 'any';
    this.stuck.clear();
    if (event === 'invalid-enable') {
      const bad = INVALID_CC[pick % INVALID_CC.length] as (typeof INVALID_CC)[number];
      const value = bad.values[Math.floor(pick / INVALID_CC.length) % bad.values.length] as number;
      const cc = { mps: this.params.bringUp.mps, css: 0, ams: 0, iosqes: 6, iocqes: 4 };
      const key = ({ IOSQES: 'iosqes', IOCQES: 'iocqes', MPS: 'mps', CSS: 'css', AMS: 'ams' } as const)[
        bad.field as 'IOSQES' | 'IOCQES' | 'MPS' | 'CSS' | 'AMS'
      ];
      this.enable({ ...cc, [key]: value });
      dropped.push(...this.model.disable());
      this.steps.push({ do: 'disable', expect: { csts: { RDY: 0 } } });
    }
    this.bringUp(false);
  }
}

/** Identify AERL of the function: four AERs may wait. */
const AERL = 3;
/** MSI offers at most 32 messages (PCI Local Bus 3.0 §6.8.1.3). */
const MSI_MAX_VECTORS = 32;
/** Queue ids a case probes stay inside the function's doorbell array (qid ≤ max I/O queues). */
const MAX_QID_PROBE = 64;

/** A seed for command `n` of a case. */
function createSeed(seed: number, n: number): number {
  return (Math.imul(seed ^ 0x9e37_79b9, 0x85eb_ca6b) + Math.imul(n + 1, 0xc2b2_ae35)) >>> 0;
}

/** Data checks that put `bytes` at `offset` of a layout's transfer (split over its RAM chunks). */
function dataAt(l: CommandLayout, offset: number, bytes: Uint8Array): CaseDataCheck[] {
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
