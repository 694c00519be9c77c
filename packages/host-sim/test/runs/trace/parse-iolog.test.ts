import { describe, expect, it } from 'vitest';
import { isTraceFormatError, parseTrace, type TraceFormatError } from '../../../src/runs/trace/index.js';

function failure(text: string): TraceFormatError {
  try {
    parseTrace(text, { source: 'job.iolog' });
  } catch (e) {
    if (isTraceFormatError(e)) return e;
    throw e;
  }
  throw new Error('expected a TraceFormatError');
}

const V2 = `fio version 2 iolog
/dev/nvme0n1 add
/dev/nvme0n1 open
/dev/nvme0n1 write 0 4096
/dev/nvme0n1 read 8192 512

/dev/nvme0n1 wait 1500 0
/dev/nvme0n1 trim 1048576 65536
/dev/nvme0n1 sync 0 0
/dev/nvme0n1 wait 250
/dev/nvme0n1 datasync
/dev/nvme0n1 read 4096 4096
/dev/nvme0n1 close
`;

const V3 = [
  'fio version 3 iolog',
  '73 rec.0.0 add',
  '1378 rec.0.0 open',
  '1384 rec.0.0 read 503808 4096',
  '1402 rec.0.0 write 8192 4096',
  '2000 rec.0.0 trim 0 131072',
  '2500 rec.0.0 sync 0 0',
  '2600 rec.0.0 wait 100 0',
  '3000 rec.0.0 datasync',
  '10001677 rec.0.0 close',
].join('\r\n');

describe('fio iolog v2', () => {
  it('parses I/O, sync/datasync as flush, and wait as time advancing in microseconds', () => {
    const t = parseTrace(V2, { source: 'job.iolog' });
    expect(t.format).toBe('iolog');
    expect(t.requests).toEqual([
      { timeNs: 0, op: 'write', offset: 0, length: 4096 },
      { timeNs: 0, op: 'read', offset: 8192, length: 512 },
      { timeNs: 1_500_000, op: 'trim', offset: 1048576, length: 65536 },
      { timeNs: 1_500_000, op: 'flush', offset: 0, length: 0 },
      { timeNs: 1_750_000, op: 'flush', offset: 0, length: 0 },
      { timeNs: 1_750_000, op: 'read', offset: 4096, length: 4096 },
    ]);
    expect(t.span).toBe(1048576 + 65536);
  });

  it('reports malformed lines with their line number, in one line', () => {
    const cases: [string, number, RegExp][] = [
      ['fio version 2 iolog\nf add\nf read 0\n', 3, /expected "filename read offset length"/],
      ['fio version 2 iolog\nf add\nf write 0 x\n', 3, /length "x" is not an unsigned integer/],
      ['fio version 2 iolog\nf add\n\nf frobnicate 0 1\n', 4, /unknown iolog action "frobnicate"/],
      ['fio version 2 iolog\nf read 0 0\n', 2, /read of length 0/],
      ['fio version 2 iolog\nf add 1\n', 2, /file action add takes no arguments/],
      ['fio version 2 iolog\nf read 0 512 9 9\n', 2, /expected "filename action \[offset length\]"/],
      ['fio version 2 iolog\nf wait\n', 2, /expected "filename action|wait needs a time/],
      ['fio version 2 iolog\nf read 99999999999999999999 512\n', 2, /too large/],
      ['fio version 2 iolog\nf read -5 512\n', 2, /offset "-5" is not an unsigned integer/],
    ];
    for (const [text, line, re] of cases) {
      const e = failure(text);
      expect(e.line, text).toBe(line);
      expect(e.source).toBe('job.iolog');
      expect(e.message).toMatch(new RegExp(`^job\\.iolog:${line}: `));
      expect(e.message).toMatch(re);
      expect(e.message).not.toContain('\n');
    }
  });
});

describe('fio iolog v3', () => {
  it('parses timestamps as microseconds since start (fio writes utime_since_now), CRLF included', () => {
    const t = parseTrace(V3, { source: 'rec.iolog' });
    expect(t.requests).toEqual([
      { timeNs: 1_384_000, op: 'read', offset: 503808, length: 4096 },
      { timeNs: 1_402_000, op: 'write', offset: 8192, length: 4096 },
      { timeNs: 2_000_000, op: 'trim', offset: 0, length: 131072 },
      { timeNs: 2_500_000, op: 'flush', offset: 0, length: 0 },
      { timeNs: 3_000_000, op: 'flush', offset: 0, length: 0 },
    ]);
    expect(t.span).toBe(503808 + 4096);
  });

  it('reports malformed lines with their line number', () => {
    expect(failure('fio version 3 iolog\n0 f add\n12 f read 0\n').line).toBe(3);
    expect(failure('fio version 3 iolog\nx f read 0 512\n').message).toMatch(
      /^job\.iolog:2: timestamp "x" is not an unsigned integer/,
    );
    expect(failure('fio version 3 iolog\n5 f read 0 512 7\n').message).toMatch(/^job\.iolog:2: expected "timestamp/);
    expect(failure('fio version 3 iolog\n5 f scribble 0 512\n').message).toMatch(/unknown iolog action "scribble"/);
  });

  it('rejects unknown headers and versions', () => {
    expect(failure('fio version 1 iolog\nf read 0 512\n').message).toBe(
      'job.iolog:1: unsupported iolog version 1 (versions 2 and 3 are read)',
    );
    expect(() => parseTrace('fio version 9 iolog\n', { source: 'x', format: 'iolog' })).toThrow(
      /unsupported iolog version 9/,
    );
    expect(() => parseTrace('hello\n', { source: 'x', format: 'iolog' })).toThrow(/^x:1: not an iolog header/);
    expect(() => parseTrace('\nfio version 2 iolog\n', { source: 'x', format: 'iolog' })).toThrow(
      /^x:1: missing iolog header/,
    );
  });
});
