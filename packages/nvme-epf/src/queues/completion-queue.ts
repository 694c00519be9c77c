/**
 * A completion queue (NVMe Base 1.4 §4.6): a ring of 16-byte CQEs in host memory, the phase tag
 * (starting at 1 and flipping on every wrap, Q-5), the host's head from the doorbell, and the
 * completions waiting for room when the ring is full, kept in order and posted when the head
 * doorbell moves. Whether the ring is reached through one kept-open map or per post is decided
 * by the controller.
 */
import type { EpcMap } from '@epfsim/epc-core';
import { CQE_SIZE, type NvmeStatus, type Phase } from '@epfsim/nvme-spec-types';
import type { SubmissionQueue } from './submission-queue.js';

/** A completion not yet written to the ring (the ring was full). */
export interface PendingCompletion {
  readonly sq: SubmissionQueue;
  readonly cid: number;
  readonly status: NvmeStatus;
  readonly dw0: number;
  /** Fault cqe-fields-uninitialized: post it without filling SQHD, SQID and CID. */
  readonly staleIds?: boolean;
}

export class CompletionQueue {
  readonly qid: number;
  readonly base: bigint;
  readonly size: number;
  /** Interrupts enabled (Create I/O CQ IEN; always for the admin CQ). */
  readonly ien: boolean;
  /** Interrupt vector (Create I/O CQ IV; 0 for the admin CQ). */
  readonly vector: number;
  /** Bytes per entry: 16, or 2^CC.IOCQES under the unchecked-entry-sizes fault. */
  readonly entrySize: number;
  /** The whole ring mapped once, kept open while the queue lives; null when it is reached per post. */
  map: EpcMap | null = null;
  phase: Phase = 1;
  /** Next slot the controller writes. */
  tail = 0;
  /** Host's head from the last valid doorbell write. */
  head = 0;
  doorbellSeen = 0;
  /** SQs that complete into this CQ (a CQ with SQs cannot be deleted, Q-9). */
  sqCount = 0;
  readonly deferred: PendingCompletion[] = [];

  constructor(qid: number, base: bigint, size: number, ien: boolean, vector: number, entrySize = CQE_SIZE) {
    this.qid = qid;
    this.base = base;
    this.size = size;
    this.ien = ien;
    this.vector = vector;
    this.entrySize = entrySize;
  }

  /** Full when one more entry would make tail equal head; one slot always stays empty. */
  get full(): boolean {
    return (this.tail + 1) % this.size === this.head;
  }

  /** Entries posted that the host has not consumed yet. */
  get unconsumed(): number {
    return (this.tail - this.head + this.size) % this.size;
  }

  /** a head is valid inside the ring and not past the tail (it consumes only posted entries). */
  acceptsHead(value: number): boolean {
    if (value >= this.size) return false;
    return (value - this.head + this.size) % this.size <= this.unconsumed;
  }

  /** Advances the tail after a post; the phase flips when it wraps to slot 0. */
  advanceTail(): void {
    this.tail++;
    if (this.tail === this.size) {
      this.tail = 0;
      this.phase = this.phase === 1 ? 0 : 1;
    }
  }
}
