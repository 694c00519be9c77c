/**
 * A command in execution and everything that is its own: the SQE view and answer fields
 * ({@link Command}), its parsed data pointer segments, SGL1's 16 bytes, its LBA range and its
 * bounce buffer. The Linux function keeps the same per command in struct nvmet_pci_epf_iod.
 * Requests come from a {@link RequestPool}, so the hot path allocates nothing.
 */
import { SGL_DESCRIPTOR_SIZE, SQE_SIZE } from '@epfsim/nvme-spec-types';
import type { DataSegment } from '../data-pointer/index.js';
import { LbaRange } from '../io/lba-range.js';
import type { SubmissionQueue } from '../queues/submission-queue.js';
import type { BounceBuffers } from '../transfer/bounce-buffers.js';
import { Command } from './command.js';

/** A detached request keeps a segment list this long at most when it goes back to the pool. */
const SEGMENTS_KEPT = 64;

export class Request extends Command {
  /** The data pointer as parsed for this command (PRP entries or SGL descriptors, merged). */
  segments: DataSegment[] = [];
  /** SGL1 (DPTR), copied out of the SQE for the SGL parser. */
  readonly sgl1 = new Uint8Array(SGL_DESCRIPTOR_SIZE);
  /** SLBA and NLB once checked (Read, Write, Compare, Verify, Write Zeroes). */
  readonly range = new LbaRange();
  readonly #buffers: BounceBuffers;
  /** This request's own copy of its SQE, once it outlives the fetch buffer (a command over polls). */
  #ownSqe: DataView | undefined;
  /** Loaded by {@link loadCopyOf}: it ran over polls and may hold a long segment list. */
  #detached = false;

  constructor(view: DataView, buffers: BounceBuffers) {
    super(view);
    this.#buffers = buffers;
  }

  /** The bounce buffer, `n` bytes (at most {@link bounceLimit}). */
  bounce(n: number): Uint8Array {
    return this.#buffers.primary(n);
  }

  /** A second buffer of `n` bytes, for a command that holds two copies at once (Compare). */
  bounce2(n: number): Uint8Array {
    return this.#buffers.secondary(n);
  }

  /** The most one bounce buffer holds; a command of more runs in pieces over polls. */
  get bounceLimit(): number {
    return this.#buffers.limit;
  }

  /** Loads a copy of `from`'s SQE (the fetch buffer is reused by the commands that follow), with cleared answers. */
  loadCopyOf(from: Request): void {
    let own = this.#ownSqe;
    if (own === undefined) {
      own = new DataView(new ArrayBuffer(SQE_SIZE));
      this.#ownSqe = own;
    }
    new Uint8Array(own.buffer).set(new Uint8Array(from.view.buffer, from.view.byteOffset + from.base, SQE_SIZE));
    this.load(own, 0, from.sq as SubmissionQueue);
    this.#detached = true;
  }

  /** Called by the pool: the long segment list of a transfer over polls is not kept. */
  recycle(): void {
    if (!this.#detached) return;
    this.#detached = false;
    if (this.segments.length > SEGMENTS_KEPT) this.segments = [];
  }
}

/** Free requests; {@link acquire} makes one only when all are in use (a command over polls holds one). */
export class RequestPool {
  readonly #free: Request[] = [];
  readonly #fetchView: DataView;
  readonly #buffers: BounceBuffers;

  constructor(fetchView: DataView, buffers: BounceBuffers) {
    this.#fetchView = fetchView;
    this.#buffers = buffers;
  }

  acquire(): Request {
    return this.#free.pop() ?? new Request(this.#fetchView, this.#buffers);
  }

  release(request: Request): void {
    request.recycle();
    this.#free.push(request);
  }
}
