/**
 * The host's side of a queue pair (NVMe Base 1.4 §4.1, §4.6; rules ): ring
 * positions, the phase tag the host expects, the doorbell values it wrote, and the commands
 * outstanding. Several SQs may complete into one CQ.
 */
import { CQE_SIZE, SQE_SIZE } from '@epfsim/nvme-spec-types';
import { CommandIds, type TrackedCommand } from './command-ids.js';

/** The host address of every entry of a ring, computed once (no bigint arithmetic per command). */
function slotAddresses(base: bigint, depth: number, entrySize: number): bigint[] {
  const out: bigint[] = new Array(depth);
  for (let i = 0; i < depth; i++) out[i] = base + BigInt(i * entrySize);
  return out;
}

/** Slots from `from` forward to `to` around a ring of `depth`. */
export function ringDistance(from: number, to: number, depth: number): number {
  return (to - from + depth) % depth;
}

export class HostCq {
  readonly qid: number;
  readonly base: bigint;
  readonly depth: number;
  /** Interrupt vector; undefined when the CQ was created with IEN = 0. */
  readonly vector: number | undefined;
  readonly sqs: HostSq<TrackedCommand>[] = [];
  /** Next slot the host reads. */
  head = 0;
  /** Phase tag of new entries: 1 on the first pass. */
  phase = 1;
  /** Entries consumed since the head doorbell was last written: more than depth − 1 is an overflow. */
  sinceDoorbell = 0;
  /** The host reads entries but does not write the head doorbell until told to (a delayed head doorbell). */
  holdHead = false;
  /** Interrupt count of the vector when this CQ was last emptied (a new entry needs a later interrupt). */
  irqMark = 0;
  /** An overflow was reported since the last head doorbell (reported once per doorbell). */
  overflowReported = false;
  private readonly slots: readonly bigint[];

  constructor(qid: number, base: bigint, depth: number, vector: number | undefined) {
    this.qid = qid;
    this.base = base;
    this.depth = depth;
    this.vector = vector;
    this.slots = slotAddresses(base, depth, CQE_SIZE);
  }

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
    this.sinceDoorbell++;
  }
}

export class HostSq<C extends TrackedCommand> {
  readonly qid: number;
  readonly base: bigint;
  readonly depth: number;
  readonly cq: HostCq;
  readonly commands: CommandIds<C>;
  /** Next slot the host writes. */
  tail = 0;
  /** The tail last written to the doorbell that a correct controller accepts. */
  doorbellTail = 0;
  /** The controller's head as the last plausible SQHD said. */
  head = 0;
  /** Deleted on the controller, kept until the CQEs of its last commands have arrived. */
  retired = false;
  private readonly slots: readonly bigint[];

  constructor(qid: number, base: bigint, depth: number, cq: HostCq) {
    this.qid = qid;
    this.base = base;
    this.depth = depth;
    this.cq = cq;
    this.commands = new CommandIds<C>(depth - 1);
    this.slots = slotAddresses(base, depth, SQE_SIZE);
  }

  slotAddress(slot: number): bigint {
    return this.slots[slot] as bigint;
  }

  /**
   * A queue of N slots holds N − 1 commands, counted from the controller's head as SQHD last
   * said; and every command needs a free CID.
   */
  get full(): boolean {
    return this.ringFull || this.commands.exhausted;
  }

  /** No free slot in the ring. */
  get ringFull(): boolean {
    return (this.tail + 1) % this.depth === this.head;
  }

  /** Entries written but not yet announced by a tail doorbell. */
  get staged(): number {
    return ringDistance(this.doorbellTail, this.tail, this.depth);
  }

  /** Takes the next slot; returns its index. */
  push(): number {
    const slot = this.tail;
    this.tail = (this.tail + 1) % this.depth;
    return slot;
  }
}
