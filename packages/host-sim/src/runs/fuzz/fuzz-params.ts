/**
 * The parameters of a fuzz case (bring-up and host actions) and the fast-check arbitrary that
 * draws them; shrinking works on these, and the case builder turns them into a case file.
 */
import fc from 'fast-check';
import type { HostRange } from '../../host/memory/host-range.js';
import { hostAddress } from '../arbitraries/host-address.js';
import { type NvmCommandPick, nvmCommand } from '../arbitraries/nvm-command.js';
import type { CaseCc } from '../case-file/case-file.js';
import {
  ADMIN_MAX_DEPTH,
  IO_MAX_DEPTH,
  MAX_ACTIONS,
  MAX_BATCH,
  MAX_IO_QUEUES,
  PAGE,
  PAST_RING,
  RING_EDGE_REACH,
  RING_EDGES,
  RING_RESERVE,
} from './fuzz-constants.js';
import { type FuzzTarget, maxBlocks, protocolActions, splitRam } from './fuzz-target.js';

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
export const INVALID_CC: readonly { field: keyof CaseCc; values: readonly number[] }[] = [
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
      /** For each write: read the same blocks back once the batch has completed, in a batch of their own. */
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

/** Page-aligned ring addresses in `region`: uniform, or a few pages around a 64 KiB or 1 MiB edge. */
export function boundedRingAddress(region: HostRange, span: number): fc.Arbitrary<bigint> {
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

/** Arbitraries already built, by target: a campaign draws every case of a target from one. */
const arbitraries = new WeakMap<FuzzTarget, fc.Arbitrary<FuzzCaseParams>>();

/** The parameters of a case on `target`, as a fast-check arbitrary (built once per target object). */
export function fuzzCaseArbitrary(target: FuzzTarget): fc.Arbitrary<FuzzCaseParams> {
  let arbitrary = arbitraries.get(target);
  if (arbitrary === undefined) {
    arbitrary = buildCaseArbitrary(target);
    arbitraries.set(target, arbitrary);
  }
  return arbitrary;
}

function buildCaseArbitrary(target: FuzzTarget): fc.Arbitrary<FuzzCaseParams> {
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
