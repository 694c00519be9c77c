/**
 * Host-misbehaviour events: the structured form of v86's "Driver bug:" channel. Every rule the
 * host breaks is answered on the wire (a status, an asynchronous event or CSTS.CFS) and recorded
 * here, so a user hunting a mapping bug can see what the controller objected to and why.
 */
import type { EpcError } from '@epfsim/epc-core';
import type { NvmeStatus } from '@epfsim/nvme-spec-types';

/** What kind of misbehaviour (or notable host-visible event) happened. */
export type TraceKind =
  | 'command-error'
  | 'invalid-doorbell-value'
  | 'doorbell-without-queue'
  | 'controller-fatal'
  | 'enable-failed'
  | 'interrupt-failed'
  | 'cq-fallback'
  | 'reset'
  | 'shutdown';

/** One recorded event. */
export interface TraceEvent {
  readonly kind: TraceKind;
  readonly message: string;
  readonly qid?: number;
  readonly cid?: number;
  /** The opcode of the failed command (command-error). */
  readonly opcode?: number;
  readonly status?: NvmeStatus;
  /** The EPC's answer when the event comes from a refused host access: errno, request, profile limit. */
  readonly epc?: EpcError;
}

/** Events kept; older ones are dropped (the ring is for diagnosis, the counters are in stats). */
export const TRACE_CAPACITY = 1000;

/** A bounded ring of trace events, oldest first when read through {@link TraceRing.events}. */
export class TraceRing {
  readonly #ring: TraceEvent[] = [];
  #next = 0;
  /** Events recorded since creation, including those the ring has dropped. */
  total = 0;

  record(event: TraceEvent): void {
    this.total++;
    if (this.#ring.length < TRACE_CAPACITY) {
      this.#ring.push(event);
      return;
    }
    this.#ring[this.#next] = event;
    this.#next = (this.#next + 1) % TRACE_CAPACITY;
  }

  /** The kept events, oldest first. */
  get events(): TraceEvent[] {
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }
}
