/**
 * Shared line handling for the text trace formats: non-blank lines split on whitespace with their
 * 1-based numbers (LF or CRLF), and strict numeric fields that fail with a located error.
 */
import { TraceFormatError } from './trace-format-error.js';

export interface TraceLine {
  /** 1-based line number in the text. */
  readonly line: number;
  readonly text: string;
  readonly fields: readonly string[];
}

/** Non-blank lines of `text`, from `fromLine` (1-based) on. */
export function* traceLines(text: string, fromLine = 1): Generator<TraceLine> {
  let start = 0;
  let line = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    line++;
    const raw = text.slice(start, end);
    start = end + 1;
    if (line < fromLine) continue;
    const trimmed = raw.trim();
    if (trimmed.length === 0) continue;
    yield { line, text: trimmed, fields: trimmed.split(/\s+/) };
  }
}

/** The first non-blank line, or null for an empty text. */
export function firstTraceLine(text: string): TraceLine | null {
  for (const l of traceLines(text)) return l;
  return null;
}

/** A line quoted in an error message, shortened so the message stays one readable line. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

const UNSIGNED = /^\d+$/;
const UNSIGNED_DECIMAL = /^\d+(\.\d+)?$/;

/** A non-negative decimal integer field, exact (at most 2^53 - 1). */
export function unsignedField(source: string, l: TraceLine, index: number, what: string): number {
  const token = l.fields[index] ?? '';
  if (!UNSIGNED.test(token))
    throw new TraceFormatError(
      source,
      l.line,
      `${what} ${JSON.stringify(token)} is not an unsigned integer in ${quote(l.text)}`,
    );
  const v = Number(token);
  if (!Number.isSafeInteger(v))
    throw new TraceFormatError(source, l.line, `${what} ${token} is too large (above 2^53) in ${quote(l.text)}`);
  return v;
}

/** A non-negative decimal number field, integer or with a fraction. */
export function unsignedDecimalField(source: string, l: TraceLine, index: number, what: string): number {
  const token = l.fields[index] ?? '';
  if (!UNSIGNED_DECIMAL.test(token))
    throw new TraceFormatError(
      source,
      l.line,
      `${what} ${JSON.stringify(token)} is not a non-negative number in ${quote(l.text)}`,
    );
  const v = Number(token);
  if (v > Number.MAX_SAFE_INTEGER)
    throw new TraceFormatError(source, l.line, `${what} ${token} is too large (above 2^53) in ${quote(l.text)}`);
  return v;
}
