/**
 * A submission queue as the controller tracks it (NVMe Base 1.4 §4.1): a physically contiguous
 * ring of 64-byte SQEs in host memory, the controller's head, the last tail doorbell value it
 * accepted, and the CQ its completions go to.
 */
import { SQE_SIZE } from '@epfsim/nvme-spec-types';
import type { ResumableCommand } from '../command/resumable-command.js';
import type { CompletionQueue } from './completion-queue.js';

/** Rings up to this many entries keep every entry's address (no bigint arithmetic per fetch). */
const SLOT_CACHE_MAX = 4096;

export class SubmissionQueue {
  readonly qid: number;
  /** Host address of entry 0. */
  readonly base: bigint;
  /** Entries in the ring (QSIZE + 1). */
  readonly size: number;
  readonly cq: CompletionQueue;
  /** Bytes per entry: 64, or 2^CC.IOSQES under the unchecked-entry-sizes fault. */
  readonly entrySize: number;
  /** Next entry the controller fetches; reported as SQHD in every CQE. */
  head = 0;
  /** Tail from the last valid doorbell write. */
  tail = 0;
  /** The doorbell register's value when last looked at (a change means the host wrote it). */
  doorbellSeen = 0;
  /**
   * Set after an invalid tail doorbell write: the controller fetches no more from this
   * queue; the host is expected to delete and recreate it.
   */
  stalled = false;
  /** CIDs an Abort marked while their SQE was still waiting in the ring. */
  abortCids: Set<number> | null = null;
  /** A command fetched from this SQ whose work runs over polls; nothing more is fetched until it completes. */
  inProgress: ResumableCommand | null = null;
  readonly #slots: bigint[] | null;

  constructor(qid: number, base: bigint, size: number, cq: CompletionQueue, entrySize = SQE_SIZE) {
    this.qid = qid;
    this.base = base;
    this.size = size;
    this.cq = cq;
    this.entrySize = entrySize;
    if (size <= SLOT_CACHE_MAX) {
      const slots: bigint[] = new Array(size);
      for (let i = 0; i < size; i++) slots[i] = base + BigInt(i * entrySize);
      this.#slots = slots;
    } else {
      this.#slots = null;
    }
  }

  /** Host address of entry `index`. */
  entryAddress(index: number): bigint {
    return this.#slots?.[index] ?? this.base + BigInt(index * this.entrySize);
  }

  /** Entries submitted but not yet fetched. */
  get pending(): number {
    return (this.tail - this.head + this.size) % this.size;
  }

  /**
   * a new tail is valid when it is inside the ring and does not add more entries than are
   * free, i.e. it does not move past the head into entries not yet fetched.
   */
  acceptsTail(value: number): boolean {
    if (value >= this.size) return false;
    const added = (value - this.tail + this.size) % this.size;
    return this.pending + added < this.size;
  }
}
