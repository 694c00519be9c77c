/**
 * One entry point for every trace format: detect (or take) the format, parse, measure the span.
 */
import { DISKSIM_LINE, parseDiskSim } from './parse-disksim.js';
import { IOLOG_HEADER, parseIolog } from './parse-iolog.js';
import { TraceFormatError } from './trace-format-error.js';
import { firstTraceLine } from './trace-lines.js';
import type { ParsedTrace, TraceFormat, TraceRequest } from './trace-request.js';

export interface ParseTraceOptions {
  /** Default 'auto': from the first non-blank line. */
  readonly format?: 'auto' | TraceFormat;
  /** Label for error messages, usually the file name. */
  readonly source: string;
  /** DiskSim only: keep one device's requests. */
  readonly device?: number;
}

/** The format of a trace, from its first non-blank line; null when it is none of them. */
export function detectTraceFormat(text: string): TraceFormat | null {
  const first = firstTraceLine(text);
  if (first === null) return null;
  if (IOLOG_HEADER.test(first.text)) return 'iolog';
  if (DISKSIM_LINE.test(first.text)) return 'disksim';
  return null;
}

/** Bytes touched: the largest offset + length. */
export function traceSpan(requests: readonly TraceRequest[]): number {
  let span = 0;
  for (const r of requests) if (r.offset + r.length > span) span = r.offset + r.length;
  return span;
}

/** Parses a trace into the normalized request stream. Throws TraceFormatError. */
export function parseTrace(text: string, options: ParseTraceOptions): ParsedTrace {
  const { source } = options;
  let format: TraceFormat;
  if (options.format === undefined || options.format === 'auto') {
    const detected = detectTraceFormat(text);
    if (detected === null) {
      const first = firstTraceLine(text);
      throw new TraceFormatError(
        source,
        first?.line ?? 1,
        first === null
          ? 'empty trace'
          : 'unknown trace format: expected an iolog header "fio version 2|3 iolog" or DiskSim lines "time_ns device sector sectors type"',
      );
    }
    format = detected;
  } else {
    format = options.format;
  }
  const requests =
    format === 'iolog'
      ? parseIolog(text, source)
      : parseDiskSim(text, source, options.device !== undefined ? { device: options.device } : {});
  return { format, requests, span: traceSpan(requests) };
}
