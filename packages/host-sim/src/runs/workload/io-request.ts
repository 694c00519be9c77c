/** One I/O a workload submits, in logical blocks of the namespace. */

/** Read, Write, Dataset Management (deallocate) or Flush. */
export type IoOp = 'read' | 'write' | 'trim' | 'flush';

export const IO_OPS: readonly IoOp[] = ['read', 'write', 'trim', 'flush'];

export interface IoRequest {
  readonly op: IoOp;
  /** First logical block (0 for a flush). */
  readonly slba: number;
  /** Logical blocks, ≥ 1 (0 for a flush). */
  readonly nlb: number;
  /** Arrival time from the start of the workload in nanoseconds (replays honour it on request; 0 when generated). */
  readonly timeNs: number;
}

/** True when the two requests touch a common block and at least one of them changes it. */
export function requestsConflict(a: IoRequest, b: IoRequest): boolean {
  if (a.op === 'flush' || b.op === 'flush') return false;
  if (a.op === 'read' && b.op === 'read') return false;
  return a.slba < b.slba + b.nlb && b.slba < a.slba + a.nlb;
}
