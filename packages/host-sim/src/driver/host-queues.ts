/**
 * The host's side of one queue pair: ring positions, phase, command identifiers and the commands
 * outstanding (NVMe Base 1.4 §4.1, §4.6; rules of docs/nvme-rules.md §3).
 */
import { CQE_SIZE, SQE_SIZE } from '@epfsim/nvme-spec-types';
import type { GrantId } from '../memory/grant-table.js';
import type { PlacedQueue } from '../placement/layout.js';
import type { PendingCommand } from './pending-command.js';

/** CID = generation (bits 15:12) and tag (11:0), as Linux's `nvme_cid()`: a stale CQE shows up as a wrong generation. */
const CID_TAG_BITS = 12;
const CID_TAG_MASK = (1 << CID_TAG_BITS) - 1;
const CID_GENERATIONS = 16;
/** Largest command identifier (CDW0 bits 31:16). */
const CID_MAX = 0xffff;
/** Largest depth whose tags fit 12 bits. */
export const MAX_QUEUE_DEPTH = 1 << CID_TAG_BITS;

/**
 * The commands outstanding on one SQ, by CID: a Map whose CID entries live in an array indexed by
 * tag. A hash map keyed by ever-new CIDs rehashes every few dozen commands, and each discarded
 * table (promoted to the old generation by then) keeps the commands it held, with their layouts
 * and data, alive until the next full collection; the array never lets go of anything that way.
 * Iteration is in insertion order, as a Map's; other keys fall back to the Map itself.
 */
class CommandsByCid extends Map<number, PendingCommand> {
  private readonly byTag: (PendingCommand | undefined)[] = [];
  /** Insertion order of each tag's command, for iteration. */
  private readonly order: number[] = [];
  private count = 0;
  private sequence = 0;

  override get size(): number {
    return this.count + super.size;
  }

  override get(cid: number): PendingCommand | undefined {
    if (!isCid(cid)) return super.get(cid);
    const cmd = this.byTag[cid & CID_TAG_MASK];
    return cmd !== undefined && cmd.cid === cid ? cmd : super.get(cid);
  }

  override has(cid: number): boolean {
    return this.get(cid) !== undefined || super.has(cid);
  }

  override set(cid: number, cmd: PendingCommand): this {
    if (!isCid(cid) || cmd.cid !== cid) {
      // Not a command under its own CID: the Map itself holds it (and nothing else may shadow it).
      if (isCid(cid) && this.byTag[cid & CID_TAG_MASK]?.cid === cid) this.delete(cid);
      super.set(cid, cmd);
      return this;
    }
    if (super.size > 0) super.delete(cid);
    const tag = cid & CID_TAG_MASK;
    const old = this.byTag[tag];
    if (old !== undefined && old.cid !== cid) {
      // Another CID on the same tag: keep it, under the Map itself.
      super.set(old.cid, old);
      this.byTag[tag] = undefined;
      this.count--;
    }
    if (this.byTag[tag] === undefined) {
      this.count++;
      this.order[tag] = this.sequence++;
    }
    this.byTag[tag] = cmd;
    return this;
  }

  override delete(cid: number): boolean {
    if (!isCid(cid)) return super.delete(cid);
    const tag = cid & CID_TAG_MASK;
    const cmd = this.byTag[tag];
    if (cmd === undefined || cmd.cid !== cid) return super.delete(cid);
    this.byTag[tag] = undefined;
    this.count--;
    return true;
  }

  override clear(): void {
    this.byTag.length = 0;
    this.order.length = 0;
    this.count = 0;
    super.clear();
  }

  override *entries(): MapIterator<[number, PendingCommand]> {
    const tags: number[] = [];
    for (let tag = 0; tag < this.byTag.length; tag++) if (this.byTag[tag] !== undefined) tags.push(tag);
    tags.sort((a, b) => (this.order[a] as number) - (this.order[b] as number));
    for (const tag of tags) {
      const cmd = this.byTag[tag];
      if (cmd !== undefined) yield [cmd.cid, cmd];
    }
    yield* super.entries();
  }

  override *keys(): MapIterator<number> {
    for (const [cid] of this.entries()) yield cid;
  }

  override *values(): MapIterator<PendingCommand> {
    for (const [, cmd] of this.entries()) yield cmd;
  }

  override [Symbol.iterator](): MapIterator<[number, PendingCommand]> {
    return this.entries();
  }

  override forEach(
    callback: (value: PendingCommand, key: number, map: Map<number, PendingCommand>) => void,
    thisArg?: unknown,
  ): void {
    for (const [cid, cmd] of this.entries()) callback.call(thisArg, cmd, cid, this);
  }
}

/** A 16-bit command identifier. */
function isCid(key: number): boolean {
  return Number.isInteger(key) && key >= 0 && key <= CID_MAX;
}

/** The host address of every entry of a ring, computed once (no bigint arithmetic per command). */
function slotAddresses(base: bigint, depth: number, entrySize: number): bigint[] {
  const out: bigint[] = new Array(depth);
  for (let i = 0; i < depth; i++) out[i] = base + BigInt(i * entrySize);
  return out;
}

export class HostCompletionQueue {
  readonly qid: number;
  readonly depth: number;
  readonly placed: PlacedQueue;
  readonly grant: GrantId;
  /** MSI/MSI-X vector; undefined when the CQ has interrupts disabled (IEN = 0). */
  readonly vector: number | undefined;
  readonly sqs: HostSubmissionQueue[] = [];
  head = 0;
  /** Phase tag of new entries: 1 on the first pass. */
  phase = 1;
  private readonly slots: readonly bigint[];

  constructor(qid: number, depth: number, placed: PlacedQueue, grant: GrantId, vector: number | undefined) {
    this.qid = qid;
    this.depth = depth;
    this.placed = placed;
    this.grant = grant;
    this.vector = vector;
    this.slots = slotAddresses(placed.range.addr, depth, CQE_SIZE);
  }

  get base(): bigint {
    return this.placed.range.addr;
  }

  /** Host address of entry `slot`. */
  slotAddress(slot: number): bigint {
    return this.slots[slot] as bigint;
  }

  /** Consumes one entry: head moves on, and the phase flips when it wraps. */
  advance(): void {
    this.head++;
    if (this.head === this.depth) {
      this.head = 0;
      this.phase ^= 1;
    }
  }
}

export class HostSubmissionQueue {
  readonly qid: number;
  readonly depth: number;
  readonly placed: PlacedQueue;
  readonly grant: GrantId;
  readonly cq: HostCompletionQueue;
  readonly outstanding: Map<number, PendingCommand> = new CommandsByCid();
  tail = 0;
  /** The controller's head as the last plausible SQHD said. */
  head = 0;
  private readonly freeTags: number[] = [];
  private readonly generation: Uint8Array;
  private readonly slots: readonly bigint[];

  constructor(qid: number, depth: number, placed: PlacedQueue, grant: GrantId, cq: HostCompletionQueue) {
    if (depth > MAX_QUEUE_DEPTH) throw new RangeError(`queue depth ${depth} exceeds ${MAX_QUEUE_DEPTH}`);
    this.qid = qid;
    this.depth = depth;
    this.placed = placed;
    this.grant = grant;
    this.cq = cq;
    this.generation = new Uint8Array(depth);
    for (let tag = depth - 1; tag >= 0; tag--) this.freeTags.push(tag);
    this.slots = slotAddresses(placed.range.addr, depth, SQE_SIZE);
  }

  get base(): bigint {
    return this.placed.range.addr;
  }

  /** Host address of entry `slot`. */
  slotAddress(slot: number): bigint {
    return this.slots[slot] as bigint;
  }

  /** A queue of N slots holds N − 1 commands; a tag must be free too. */
  get full(): boolean {
    return (this.tail + 1) % this.depth === this.head || this.freeTags.length === 0;
  }

  /** Slots between `from` and `to` going forward around the ring. */
  distance(from: number, to: number): number {
    return (to - from + this.depth) % this.depth;
  }

  /** A new CID, unique among this SQ's outstanding commands. */
  allocateCid(): number {
    const tag = this.freeTags.pop();
    if (tag === undefined) throw new RangeError(`SQ ${this.qid}: no free command identifier`);
    const gen = ((this.generation[tag] ?? 0) + 1) % CID_GENERATIONS;
    this.generation[tag] = gen;
    return (gen << CID_TAG_BITS) | tag;
  }

  /** Returns a CID's tag once its command is over. */
  releaseCid(cid: number): void {
    this.freeTags.push(cid & CID_TAG_MASK);
  }

  /** Takes the next slot; returns its index. */
  push(): number {
    const slot = this.tail;
    this.tail = (this.tail + 1) % this.depth;
    return slot;
  }
}
