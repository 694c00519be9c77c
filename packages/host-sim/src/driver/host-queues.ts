/**
 * The host's side of one queue pair: ring positions, phase, command identifiers and the commands
 * outstanding (NVMe Base 1.4 §4.1, §4.6; rules of reference/nvme-rules.md §3).
 */
import type { GrantId } from '../memory/grant-table.js';
import type { PlacedQueue } from '../placement/layout.js';
import type { PendingCommand } from './pending-command.js';

/** CID = generation (bits 15:12) and tag (11:0), as Linux's `nvme_cid()`: a stale CQE shows up as a wrong generation. */
const CID_TAG_BITS = 12;
const CID_TAG_MASK = (1 << CID_TAG_BITS) - 1;
const CID_GENERATIONS = 16;
/** Largest depth whose tags fit 12 bits. */
export const MAX_QUEUE_DEPTH = 1 << CID_TAG_BITS;

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

  constructor(qid: number, depth: number, placed: PlacedQueue, grant: GrantId, vector: number | undefined) {
    this.qid = qid;
    this.depth = depth;
    this.placed = placed;
    this.grant = grant;
    this.vector = vector;
  }

  get base(): bigint {
    return this.placed.range.addr;
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
  readonly outstanding = new Map<number, PendingCommand>();
  tail = 0;
  /** The controller's head as the last plausible SQHD said. */
  head = 0;
  private readonly freeTags: number[] = [];
  private readonly generation: Uint8Array;

  constructor(qid: number, depth: number, placed: PlacedQueue, grant: GrantId, cq: HostCompletionQueue) {
    if (depth > MAX_QUEUE_DEPTH) throw new RangeError(`queue depth ${depth} exceeds ${MAX_QUEUE_DEPTH}`);
    this.qid = qid;
    this.depth = depth;
    this.placed = placed;
    this.grant = grant;
    this.cq = cq;
    this.generation = new Uint8Array(depth);
    for (let tag = depth - 1; tag >= 0; tag--) this.freeTags.push(tag);
  }

  get base(): bigint {
    return this.placed.range.addr;
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
