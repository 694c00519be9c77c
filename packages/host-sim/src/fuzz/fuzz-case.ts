/**
 * One fuzz case: a fast-check value of parameters (placement seed, queue addresses and depths,
 * command kinds, LBAs and sizes, which queue each goes to) and the concrete case file they make.
 * The parameters are turned into memory, queues and raw SQEs up front, with the campaign's
 * placement policy laying out each command in a scratch copy of host memory and a namespace model
 * supplying the data every read must return; the case file is then replayed on a fresh testbed by
 * the same function as `epfsim replay`, so what the campaign checks is exactly what a case file
 * reproduces. Shrinking the parameters (fast-check's own shrinker) shrinks the case.
 */
import { isDeepStrictEqual } from 'node:util';
import { type EpcProfile, findProfile, type StrategyName } from '@epfsim/epc-core';
import { type NvmeFunctionConfigInput, resolveConfig } from '@epfsim/nvme-epf';
import { Cns, NvmOpcode, READ_WRITE, setBits, splitU64 } from '@epfsim/nvme-spec-types';
import fc from 'fast-check';
import { hostAddress } from '../arbitraries/host-address.js';
import { NamespaceModel, patternBytes } from '../arbitraries/namespace-model.js';
import { type NvmCommandPick, nvmCommand } from '../arbitraries/nvm-command.js';
import type { CaseCommand, CaseCommandExpect, CaseFile, CaseMemory, CaseStep } from '../case-file/case-file.js';
import { CASE_FILE_VERSION } from '../case-file/case-file.js';
import { type CaseReport, replayCase, statusCode } from '../case-file/replay-case.js';
import { identifyCommand } from '../driver/admin-commands.js';
import { scatter } from '../driver/buffer-io.js';
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
  type SglCapability,
} from '../placement/layout.js';
import { createPlacement, type PlacementName } from '../placement/placement-factory.js';
import { createRandom } from '../random.js';
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
}

/** What {@link FuzzTarget.controller} may set. */
export type FuzzControllerSettings = Readonly<Omit<NvmeFunctionConfigInput, 'strategy' | 'namespaces' | 'now'>>;

/** A queue pair: where its rings go (page aligned, edge biased) and its depth. */
export interface FuzzQueueParams {
  readonly sq: bigint;
  readonly cq: bigint;
  readonly depth: number;
}

/** One command of a case. */
export interface FuzzCommandParams {
  /** An NVM command, or an Identify Controller on the admin queue. */
  readonly command: NvmCommandPick | { readonly kind: 'identify' };
  /** Which I/O queue (modulo the count). */
  readonly queue: number;
  /** For a write: read the same blocks back right after, through a placement of its own. */
  readonly readBack: boolean;
}

/** Everything a case is made of; shrinking works on this. */
export interface FuzzCaseParams {
  /** Seed of the placement policy laying out every data pointer. */
  readonly placementSeed: number;
  readonly adminQueue: FuzzQueueParams;
  readonly ioQueues: readonly FuzzQueueParams[];
  readonly commands: readonly FuzzCommandParams[];
}

/** Where a queue pair's rings are and how deep they are. */
interface CaseQueue {
  readonly qid: number;
  readonly sqAddr: bigint;
  readonly cqAddr: bigint;
  readonly depth: number;
}

/** The one namespace every case uses. */
const NSID = 1;
/** Controller page the replay programs (CC.MPS = 0). */
const PAGE = 4096;
const MAX_COMMANDS = 6;
const MAX_IO_QUEUES = 3;
const ADMIN_MAX_DEPTH = 64;
const IO_MAX_DEPTH = 256;
/** Tries to find a free spot for a ring near the address drawn (a placement arena may sit there). */
const RING_ATTEMPTS = 64;
/** Jump between tries once the neighbours are taken: far beyond any placement arena. */
const RING_JUMP = 1n << 36n;
/**
 * With bounded RAM, the rings get the start of it and the placement the rest, so that a policy's
 * arena never takes the room the rings need (the rings of a case need at most ~100 KiB).
 */
const RING_REGION_BYTES = 8 * 1024 * 1024;
/** Edges the ring addresses aim at inside bounded RAM: 64 KiB and 1 MiB. */
const RING_EDGES = [64n * 1024n, 1024n * 1024n] as const;
/** How far (in pages) around an edge a ring address lands. */
const RING_EDGE_REACH = 2;
/** Layouts drawn before a case gives up on one its target's behaviour cannot take (a skipped case). */
const LAYOUT_ATTEMPTS = 16;

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

/** The parameters of a case on `target`, as a fast-check arbitrary. */
export function fuzzCaseArbitrary(target: FuzzTarget): fc.Arbitrary<FuzzCaseParams> {
  const rings = target.ram === undefined ? undefined : splitRam(target.ram).rings;
  const address = (span: number) =>
    rings === undefined ? hostAddress({ profile: target.profile, align: PAGE, span }) : boundedRingAddress(rings, span);
  const queue = (maxDepth: number, common: readonly number[]) =>
    fc.record({
      sq: address(maxDepth * 64),
      cq: address(maxDepth * 16),
      depth: fc.oneof(fc.constantFrom(...common), fc.integer({ min: 2, max: maxDepth })),
    });
  const command = fc.record({
    command: fc.oneof(
      { weight: 9, arbitrary: nvmCommand({ blocks: target.blocks, maxBlocks: maxBlocks(target) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'identify' as const }) },
    ),
    queue: fc.nat({ max: MAX_IO_QUEUES - 1 }),
    readBack: fc.boolean(),
  });
  return fc.record({
    placementSeed: fc.nat(),
    adminQueue: queue(ADMIN_MAX_DEPTH, [2, 4, 32]),
    ioQueues: fc.array(queue(IO_MAX_DEPTH, [2, 3, 4, 16, 64]), { minLength: 1, maxLength: MAX_IO_QUEUES }),
    commands: fc.array(command, { minLength: 1, maxLength: MAX_COMMANDS }),
  });
}

/** The concrete case of `params`: memory with bytes, queue addresses, raw commands and expectations. */
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

const SUCCESS = ['0/00h'];

class CaseBuilder {
  private readonly target: FuzzTarget;
  private readonly params: FuzzCaseParams;
  /** A scratch host the placement policy lays commands out in; its bytes become the case's memory. */
  private readonly memory = new SimulatedHostMemory();
  private readonly model: NamespaceModel;
  private readonly sgl: SglCapability;
  private readonly mdtsBytes: number;
  /** Invalid placements break every data pointer on purpose: statuses are checked, data is not. */
  private readonly checkData: boolean;
  private readonly used: HostRange[] = [];
  private readonly commands: { readonly qid: number; readonly command: CaseCommand }[] = [];
  private readonly behaviour: CaseBehaviour;
  /** Where rings may go (bounded RAM only). */
  private readonly ringRegion: HostRange | undefined;
  private readonly placementRam: HostRange | undefined;

  constructor(target: FuzzTarget, params: FuzzCaseParams) {
    this.target = target;
    this.params = params;
    new MsiDoorbell().install(this.memory);
    const config = resolveConfig(fuzzController(target));
    this.mdtsBytes = config.mdtsBytes;
    this.sgl = {
      support: config.options.sglSupport,
      bitBucket: config.options.sglBitBucket,
      excessLength: config.options.sglExcessLength,
      mptrSgl: false,
    };
    this.model = new NamespaceModel(target.blockSize, target.blocks);
    this.checkData = target.placement !== 'invalid';
    this.behaviour = target.behaviour ?? 'spec';
    const split = target.ram === undefined ? undefined : splitRam(target.ram);
    this.ringRegion = split?.rings;
    this.placementRam = split?.placement;
  }

  build(seed: number | undefined, description: string): CaseFile {
    const { target, params } = this;
    const policy = createPlacement(target.placement, this.memory, {
      seed: params.placementSeed,
      profile: target.profile,
      ...(this.placementRam === undefined ? {} : { ram: this.placementRam }),
    });
    const adminQueue = this.queue(0, params.adminQueue);
    const ioQueues = params.ioQueues.map((q, i) => this.queue(i + 1, q));
    const layout = (qid: number, length: number, toDevice: boolean, command?: CommandContext): CommandLayout => {
      const request = {
        qid,
        length,
        toDevice,
        sgl: this.sgl,
        pageSize: PAGE,
        ...(command === undefined ? {} : { command }),
      };
      for (let attempt = 0; attempt < LAYOUT_ATTEMPTS; attempt++) {
        const l = policy.layout(request);
        if (!behaviourAvoids(this.behaviour, l)) return l;
        l.release();
      }
      throw new PlacementError(
        'NO_SPACE',
        `no layout the target's documented behaviour takes in ${LAYOUT_ATTEMPTS} draws`,
      );
    };
    params.commands.forEach((p, i) => {
      const payloadSeed = createRandom(params.placementSeed).fork(`command-${i}`).seed;
      const c = p.command;
      if (c.kind === 'identify') {
        const spec = identifyCommand(Cns.CONTROLLER);
        this.add(0, spec, layout(0, spec.data?.length ?? 0, false));
        return;
      }
      const qid = (ioQueues[p.queue % ioQueues.length] as CaseQueue).qid;
      const context = this.context(c);
      switch (c.kind) {
        case 'write': {
          const payload = patternBytes(c.nlb * target.blockSize, payloadSeed);
          const spec = lbaCommand(NvmOpcode.WRITE, context, payload);
          const l = layout(qid, spec.data?.length ?? 0, true, context);
          scatter(this.memory, l, payload);
          this.add(qid, spec, l);
          this.model.write(c.slba, payload);
          if (p.readBack) this.read(qid, c, layout(qid, payload.length, false, context));
          return;
        }
        case 'read':
          this.read(qid, c, layout(qid, c.nlb * target.blockSize, false, context));
          return;
        case 'write-zeroes':
          this.add(qid, writeZeroesCommand(NSID, BigInt(c.slba), c.nlb));
          this.model.zero(c.slba, c.nlb);
          return;
        case 'trim': {
          const spec = dsmCommand(NSID, [{ cattr: 0, nlb: c.nlb, slba: BigInt(c.slba) }], { ad: true });
          const l = layout(qid, spec.data?.length ?? 0, true);
          scatter(this.memory, l, spec.data?.payload);
          this.add(qid, spec, l);
          // nvme-epf reports DLFEAT read behaviour 001b: deallocated blocks read as zero (QEMU keeps them).
          if (deallocateZeroes(this.behaviour)) this.model.zero(c.slba, c.nlb);
          return;
        }
        case 'flush':
          this.add(qid, flushCommand(NSID));
          return;
      }
    });
    const ok = { status: SUCCESS };
    const steps: CaseStep[] = [
      {
        do: 'enable',
        admin: {
          sqAddr: adminQueue.sqAddr,
          cqAddr: adminQueue.cqAddr,
          sqSize: adminQueue.depth,
          cqSize: adminQueue.depth,
        },
        expect: { csts: { RDY: 1, CFS: 0 } },
      },
    ];
    for (const q of ioQueues) {
      steps.push({ do: 'create-cq', qid: q.qid, addr: q.cqAddr, size: q.depth, pc: true, expect: ok });
      steps.push({
        do: 'create-sq',
        qid: q.qid,
        addr: q.sqAddr,
        size: q.depth,
        cqid: q.qid,
        qprio: 0,
        pc: true,
        expect: ok,
      });
    }
    this.commands.forEach(({ qid, command }, i) => {
      const id = `c${i}`;
      steps.push({ do: 'submit', qid, commands: [{ ...command, id }], doorbell: true });
      steps.push({ do: 'wait', for: [id] });
    });
    return {
      version: CASE_FILE_VERSION,
      description,
      profile: caseProfile(target.profile),
      controller: fuzzController(target),
      inject: target.inject ?? [],
      ...(seed === undefined ? {} : { seed }),
      interrupts: 'auto',
      memory: this.memoryRegions(),
      steps,
    };
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

  /** A Read whose expected data is what the model says the blocks hold. */
  private read(qid: number, c: NvmCommandPick, l: CommandLayout): void {
    const spec = lbaCommand(NvmOpcode.READ, this.context(c));
    const checks = [];
    if (this.checkData && l.expect === undefined) {
      const blocks = this.model.read(c.slba, c.nlb);
      let off = 0;
      for (const chunk of l.data) {
        if (chunk.kind === 'ram')
          checks.push({
            addr: chunk.addr,
            expected: { kind: 'bytes' as const, bytes: blocks.slice(off, off + chunk.size) },
          });
        off += chunk.size;
      }
    }
    this.add(qid, spec, l, checks);
  }

  /** Adds a raw command from a driver command spec and (for data commands) its layout. */
  private add(qid: number, spec: CommandSpec, l?: CommandLayout, data: CaseCommandExpect['data'] = []): void {
    const cdw = [spec.cdw10, spec.cdw11, spec.cdw12, spec.cdw13, spec.cdw14, spec.cdw15].map((v) => v ?? 0);
    let nsid = spec.nsid ?? 0;
    const patch = l?.patch;
    if (patch?.nsid !== undefined) nsid = patch.nsid;
    if (patch?.slba !== undefined) {
      const { lo, hi } = splitU64(patch.slba);
      cdw[0] = lo;
      cdw[1] = hi;
    }
    if (patch?.nlb !== undefined) cdw[2] = setBits(cdw[2] ?? 0, READ_WRITE.CDW12.NLB, patch.nlb - 1);
    const expect: CaseCommandExpect = {
      status:
        l?.expect === undefined
          ? SUCCESS
          : [...new Set([...l.expect.accept.map(statusCode), ...behaviourAccepts(this.behaviour, l.expect.kind)])],
      ...(data.length === 0 ? {} : { data }),
      ...(l === undefined || !l.data.some((c) => c.kind === 'hole')
        ? {}
        : { faults: l.data.filter((c) => c.kind === 'hole').map(({ addr, size }) => ({ addr, size })) }),
    };
    if (l !== undefined) {
      for (const c of l.data) if (c.kind === 'ram') this.used.push(c);
      this.used.push(...l.structures);
    }
    this.commands.push({
      qid,
      command: {
        opcode: spec.opcode,
        nsid,
        psdt: l?.psdt ?? 0,
        fuse: 0,
        prp1: l === undefined ? 0n : dptrPrp1(l.dptr),
        prp2: l === undefined ? 0n : dptrPrp2(l.dptr),
        mptr: spec.mptr ?? 0n,
        cdw2: 0,
        cdw3: 0,
        cdw: cdw as unknown as CaseCommand['cdw'],
        ...(l === undefined || l.grants.length === 0
          ? {}
          : { grants: l.grants.map(({ addr, size, direction }) => ({ addr, size, direction })) }),
        expect,
      },
    });
  }

  /** Keeps a queue's rings away from everything else; a taken spot moves to a free one nearby or far. */
  private queue(qid: number, q: FuzzQueueParams): CaseQueue {
    return {
      qid,
      depth: q.depth,
      sqAddr: this.ring(q.sq, q.depth * 64),
      cqAddr: this.ring(q.cq, q.depth * 16),
    };
  }

  private ring(want: bigint, bytes: number): bigint {
    const span = BigInt(Math.ceil(bytes / PAGE) * PAGE);
    const region = this.ringRegion;
    const fits = (addr: bigint) =>
      region === undefined ? addr >= 0n : addr >= region.addr && addr + span <= rangeEnd(region);
    // Bounded RAM has no far-away room: search the whole ring region page by page instead.
    const attempts = region === undefined ? RING_ATTEMPTS : region.size / PAGE;
    for (let i = 0; i < attempts; i++) {
      const step = region !== undefined || i < RING_ATTEMPTS / 2 ? BigInt(i) * span : BigInt(i) * RING_JUMP;
      const up = want + step;
      for (const addr of [up, want - step]) {
        if (fits(addr) && this.memory.isFree(addr, Number(span))) {
          this.memory.reserve(addr, Number(span), 'queue');
          return addr;
        }
      }
    }
    throw new Error(`fuzz case: no room for a ring near 0x${want.toString(16)}`);
  }

  /** The RAM the commands use, merged, with the bytes the host wrote there (trailing zeroes left out). */
  private memoryRegions(): CaseMemory[] {
    return mergeRanges(this.used).map((r) => {
      const bytes = new Uint8Array(r.size);
      this.memory.read(r.addr, bytes);
      const end = nonZeroLength(bytes);
      return {
        addr: r.addr,
        size: r.size,
        ...(end === 0 ? {} : { content: { kind: 'bytes' as const, bytes: bytes.slice(0, end) } }),
        // Nothing is granted for the whole case: each command carries the grants of its own layout.
        grant: 'none' as const,
      };
    });
  }
}

const ZERO_PAGE = new Uint8Array(PAGE);

/** Length of `bytes` without its trailing zeroes (read buffers are all zero: skip them a page at a time). */
function nonZeroLength(bytes: Uint8Array): number {
  let end = bytes.length;
  while (end >= PAGE && Buffer.from(bytes.buffer, bytes.byteOffset + end - PAGE, PAGE).equals(ZERO_PAGE)) end -= PAGE;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}
