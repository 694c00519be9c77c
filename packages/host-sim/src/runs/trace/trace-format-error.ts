/** A trace that cannot be parsed. `message` is one line: `source:line: what is wrong`. */
export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
  readonly isUserError = true as const;
  /** `source:line`: where in the user's trace the problem is. */
  readonly path: string;
  /** File name or other label of the trace. */
  readonly source: string;
  /** 1-based line number. */
  readonly line: number;
  /** The problem, without the location. */
  readonly detail: string;
  constructor(source: string, line: number, detail: string) {
    super(`${source}:${line}: ${detail}`);
    this.source = source;
    this.line = line;
    this.detail = detail;
    this.path = `${source}:${line}`;
  }
}

export function isTraceFormatError(e: unknown): e is TraceFormatError {
  return e instanceof TraceFormatError;
}
