/**
 * What the host saw the controller do wrong. Every CQE is validated and every interrupt is
 * accounted for; anything off is recorded here, never silently ignored and never thrown: a
 * fuzzing run wants the whole list, and a driver keeps going as a real one would.
 */

export type ProtocolViolationKind =
  /** The CQE names an SQ that does not exist or does not feed this CQ. */
  | 'cqe-unknown-sqid'
  /** The CQE's CID was never submitted on that SQ, or belongs to an earlier use of its tag. */
  | 'cqe-unknown-cid'
  /** A second CQE for a command that has already completed: exactly one CQE per command. */
  | 'cqe-duplicate'
  /** SQHD is not a slot of the SQ, or it moved backwards or past the tail the host wrote. */
  | 'cqe-sqhd'
  /** More new entries than the CQ can hold between two head doorbells: a post into a full CQ. */
  | 'cq-overflow'
  /** An interrupt on a vector no interrupt-enabled CQ uses (Q-7: IEN = 0 means no interrupts). */
  | 'interrupt-without-cq'
  /** Entries on an interrupt-enabled CQ with no interrupt on its vector (nor a coalescing reason). */
  | 'missing-interrupt'
  /** A controller state the host did not ask for: RDY set while disabled, CFS during operation. */
  | 'controller-state';

export interface ProtocolViolation {
  readonly kind: ProtocolViolationKind;
  /** The CQ (or the vector for interrupt violations, 0 for state violations). */
  readonly qid: number;
  readonly cid?: number;
  /** The machine's time (ms) when it was seen. */
  readonly at: number;
  readonly detail: string;
}

/** How many violations are kept in full; later ones are only counted. */
export const VIOLATION_LOG_LIMIT = 10_000;
