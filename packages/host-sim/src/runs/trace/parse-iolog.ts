/**
 * fio iolog, versions 2 and 3 (fio HOWTO "Trace file format v2" / "v3"; reader: fio `iolog.c`
 * `read_iolog()`).
 *
 * v2: header `fio version 2 iolog`, then
 *   `filename add|open|close`                  file actions (ignored here)
 *   `filename read|write|trim offset length`   bytes
 *   `filename sync|datasync [offset length]`   a flush
 *   `filename wait usecs [length]`             advances the clock ("Wait for offset
 *                                              microseconds ... relative to the previous wait")
 * v3 (fio >= 3.31): header `fio version 3 iolog`; every line starts with a timestamp:
 *   `timestamp filename add|open|close` and `timestamp filename action offset length`.
 *   The timestamp is in microseconds since the job started: fio writes `utime_since_now()`
 *   and replays the difference as a microsecond delay. `wait` is not allowed in v3; fio skips it
 *   with a message, and so does this parser.
 *
 * Several files in one log all map onto the one namespace (their offsets are not separated):
 * fio-recorded logs of one job against one device have a single file.
 */
import { TraceFormatError } from './trace-format-error.js';
import { firstTraceLine, quote, type TraceLine, traceLines, unsignedField } from './trace-lines.js';
import type { TraceOp, TraceRequest } from './trace-request.js';

export const IOLOG_HEADER = /^fio version (\d+) iolog$/;

const FILE_ACTIONS = new Set(['add', 'open', 'close']);
const IO_ACTIONS: Readonly<Record<string, TraceOp>> = {
  read: 'read',
  write: 'write',
  trim: 'trim',
  sync: 'flush',
  datasync: 'flush',
};

const NS_PER_US = 1000;

function ioRequest(
  source: string,
  l: TraceLine,
  op: TraceOp,
  timeNs: number,
  at: number,
  withRange: boolean,
): TraceRequest {
  if (op === 'flush') return { timeNs, op, offset: 0, length: 0 };
  if (!withRange) throw new TraceFormatError(source, l.line, `${op} needs an offset and a length in ${quote(l.text)}`);
  const offset = unsignedField(source, l, at, 'offset');
  const length = unsignedField(source, l, at + 1, 'length');
  if (length === 0) throw new TraceFormatError(source, l.line, `${op} of length 0 in ${quote(l.text)}`);
  return { timeNs, op, offset, length };
}

function badAction(source: string, l: TraceLine, action: string): never {
  throw new TraceFormatError(source, l.line, `unknown iolog action ${JSON.stringify(action)} in ${quote(l.text)}`);
}

function parseV2(text: string, source: string): TraceRequest[] {
  const out: TraceRequest[] = [];
  let clockUs = 0;
  for (const l of traceLines(text, 2)) {
    const n = l.fields.length;
    const action = l.fields[1] ?? '';
    if (n < 2 || n > 4)
      throw new TraceFormatError(source, l.line, `expected "filename action [offset length]", got ${quote(l.text)}`);
    if (FILE_ACTIONS.has(action)) {
      if (n !== 2)
        throw new TraceFormatError(source, l.line, `file action ${action} takes no arguments in ${quote(l.text)}`);
      continue;
    }
    if (action === 'wait') {
      if (n < 3) throw new TraceFormatError(source, l.line, `wait needs a time in microseconds in ${quote(l.text)}`);
      clockUs += unsignedField(source, l, 2, 'wait time');
      continue;
    }
    const op = IO_ACTIONS[action] ?? badAction(source, l, action);
    if (n === 3)
      throw new TraceFormatError(source, l.line, `expected "filename ${action} offset length", got ${quote(l.text)}`);
    out.push(ioRequest(source, l, op, clockUs * NS_PER_US, 2, n === 4));
  }
  return out;
}

function parseV3(text: string, source: string): TraceRequest[] {
  const out: TraceRequest[] = [];
  for (const l of traceLines(text, 2)) {
    const n = l.fields.length;
    if (n !== 3 && n !== 5)
      throw new TraceFormatError(
        source,
        l.line,
        `expected "timestamp filename action" or "timestamp filename action offset length", got ${quote(l.text)}`,
      );
    const timeUs = unsignedField(source, l, 0, 'timestamp');
    const action = l.fields[2] ?? '';
    if (FILE_ACTIONS.has(action)) {
      if (n !== 3)
        throw new TraceFormatError(source, l.line, `file action ${action} takes no arguments in ${quote(l.text)}`);
      continue;
    }
    if (action === 'wait') continue; // fio: "ignoring wait command with version 3"
    const op = IO_ACTIONS[action] ?? badAction(source, l, action);
    out.push(ioRequest(source, l, op, timeUs * NS_PER_US, 3, n === 5));
  }
  return out;
}

/** Parses an iolog (v2 or v3, from its header line). Throws TraceFormatError. */
export function parseIolog(text: string, source: string): TraceRequest[] {
  const header = firstTraceLine(text);
  if (header === null || header.line !== 1)
    throw new TraceFormatError(source, 1, 'missing iolog header "fio version 2 iolog" or "fio version 3 iolog"');
  const m = IOLOG_HEADER.exec(header.text);
  if (m === null)
    throw new TraceFormatError(
      source,
      1,
      `not an iolog header: ${quote(header.text)} (expected "fio version 2|3 iolog")`,
    );
  if (m[1] === '2') return parseV2(text, source);
  if (m[1] === '3') return parseV3(text, source);
  throw new TraceFormatError(source, 1, `unsupported iolog version ${m[1]} (versions 2 and 3 are read)`);
}
