import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectTraceFormat, parseTrace, type TraceRequest } from '../../../src/runs/trace/index.js';

/** The MQSim samples committed with the repository (examples/traces/README.md). */
const TRACES = new URL('../../../../../examples/traces/', import.meta.url);

function readTrace(name: string): string {
  return readFileSync(new URL(name, TRACES), 'utf8');
}

const SAMPLE = `938944000 13 93230992 32 0
939855000 13 213913104 16 0
941044000 13 305785200 16 1
941495000 7 247725136 16 0
`;

describe('DiskSim ASCII traces', () => {
  it('parses time (ns), start sector and size (512-byte sectors), type 1 = read / 0 = write', () => {
    const t = parseTrace(SAMPLE, { source: 'tpcc.trace' });
    expect(t.format).toBe('disksim');
    expect(t.requests[0]).toEqual({ timeNs: 938944000, op: 'write', offset: 93230992 * 512, length: 32 * 512 });
    expect(t.requests[2]).toEqual({ timeNs: 941044000, op: 'read', offset: 305785200 * 512, length: 16 * 512 });
    expect(t.span).toBe((305785200 + 16) * 512);
  });

  it('keeps one device when asked', () => {
    const t = parseTrace(SAMPLE, { source: 'tpcc.trace', device: 7 });
    expect(t.requests).toEqual([{ timeNs: 941495000, op: 'write', offset: 247725136 * 512, length: 8192 }]);
  });

  it('reports malformed lines with their line number', () => {
    const bad: [string, string][] = [
      ['1 0 8 8 1\n2 0 8 8\n', 't:2: expected 5 fields "time_ns device sector sectors type", got 4 in "2 0 8 8"'],
      ['1 0 8 8 1\n2 0 8 8 2\n', 't:2: type "2" is neither 1 (read) nor 0 (write) in "2 0 8 8 2"'],
      ['1 0 8 8 1\n\n3 0 x 8 1\n', 't:3: start sector "x" is not an unsigned integer in "3 0 x 8 1"'],
      ['1 0 8 0 1\n', 't:1: request of 0 sectors in "1 0 8 0 1"'],
      ['1 0 8 8 1\n-2 0 8 8 1\n', 't:2: arrival time "-2" is not a non-negative number in "-2 0 8 8 1"'],
    ];
    for (const [text, message] of bad)
      expect(() => parseTrace(text, { source: 't', format: 'disksim' })).toThrow(message);
  });
});

describe('format detection', () => {
  it('detects iolog, DiskSim, and neither', () => {
    expect(detectTraceFormat('fio version 2 iolog\n')).toBe('iolog');
    expect(detectTraceFormat('\n\nfio version 3 iolog\r\n1 f add\r\n')).toBe('iolog');
    expect(detectTraceFormat(SAMPLE)).toBe('disksim');
    expect(detectTraceFormat('version,time,op,size,lbn\n1,33898,2a,512,42932745\n')).toBeNull();
    expect(detectTraceFormat('')).toBeNull();
  });

  it('refuses an unknown format with a located one-line error', () => {
    expect(() => parseTrace('\nversion,time,op,size,lbn\n', { source: 'cp.csv' })).toThrow(
      /^cp\.csv:2: unknown trace format: expected an iolog header/,
    );
    expect(() => parseTrace('  \n', { source: 'e' })).toThrow('e:1: empty trace');
  });
});

function summary(requests: readonly TraceRequest[]) {
  let reads = 0;
  let writes = 0;
  let ordered = true;
  let nonNegative = true;
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    if (r.op === 'read') reads++;
    if (r.op === 'write') writes++;
    if (r.timeNs < 0 || r.offset < 0 || r.length <= 0) nonNegative = false;
    if (i > 0 && r.timeNs < requests[i - 1]!.timeNs) ordered = false;
  }
  return { count: requests.length, reads, writes, ordered, nonNegative };
}

describe('the real MQSim traces in examples/traces', () => {
  it('tpcc-small.trace: 6,999 requests, reads and writes, times non-decreasing', () => {
    const t = parseTrace(readTrace('tpcc-small.trace'), { source: 'tpcc-small.trace' });
    expect(t.format).toBe('disksim');
    const s = summary(t.requests);
    expect(s).toMatchObject({ count: 6999, ordered: true, nonNegative: true });
    expect(s.reads).toBeGreaterThan(0);
    expect(s.writes).toBeGreaterThan(0);
    expect(s.reads + s.writes).toBe(6999);
    // About 137 ms of a TPC-C run (examples/traces/README.md).
    const duration = t.requests.at(-1)!.timeNs - t.requests[0]!.timeNs;
    expect(duration).toBeGreaterThan(100e6);
    expect(duration).toBeLessThan(200e6);
    expect(t.span).toBeGreaterThan(2 ** 37);
  });

  it('wsrch-small.trace: 24,783 requests (no final newline), 24,779 reads and 4 writes', () => {
    const text = readTrace('wsrch-small.trace');
    expect(text.endsWith('\n')).toBe(false);
    const t = parseTrace(text, { source: 'wsrch-small.trace' });
    expect(summary(t.requests)).toEqual({ count: 24783, reads: 24779, writes: 4, ordered: true, nonNegative: true });
  });
});
