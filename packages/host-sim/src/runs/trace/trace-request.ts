/**
 * The normalized request stream every trace format parses into: what a replayer submits, when.
 */

export type TraceOp = 'read' | 'write' | 'trim' | 'flush';

export interface TraceRequest {
  /** Arrival time from the start of the trace (the trace's own origin), in nanoseconds. */
  readonly timeNs: number;
  readonly op: TraceOp;
  /** Byte offset; 0 for a flush. */
  readonly offset: number;
  /** Bytes; 0 for a flush, positive otherwise. */
  readonly length: number;
}

/** The formats `parseTrace` reads. */
export type TraceFormat = 'iolog' | 'disksim';

export interface ParsedTrace {
  readonly format: TraceFormat;
  readonly requests: TraceRequest[];
  /** Bytes touched: the largest offset + length of any request (0 for none). */
  readonly span: number;
}
