/**
 * What the host driver saw the controller do wrong. Every CQE is validated (SQID, CID known and
 * outstanding, SQHD plausible, phase and CQ capacity); anything off is recorded here, never
 * silently ignored, and never thrown: a fuzzing run wants the whole list.
 */

export type ProtocolViolationKind =
  /** The CQE names an SQ that does not exist or does not feed this CQ. */
  | 'cqe-unknown-sqid'
  /** The CQE's CID is not outstanding on that SQ: invented, stale (earlier generation) or completed twice. */
  | 'cqe-unknown-cid'
  /** SQHD is not a slot of the SQ, or it moved backwards or past the tail the host wrote. */
  | 'cqe-sqhd'
  /** More new entries than the CQ can hold between two head doorbells: a post into a full CQ. */
  | 'cq-overflow'
  /** A controller state the host did not ask for: RDY set while disabled, CFS during operation. */
  | 'controller-state';

export interface ProtocolViolation {
  readonly kind: ProtocolViolationKind;
  /** The CQ (or, for state violations, 0). */
  readonly qid: number;
  readonly cid?: number;
  /** The target's time (ms) when it was seen. */
  readonly at: number;
  readonly detail: string;
}

/** How many violations are kept in full; later ones are only counted. */
export const VIOLATION_LOG_LIMIT = 10_000;
