import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { epfsim } from './run-cli.js';

/** The real traces committed with the repository (MQSim samples; examples/traces/README.md). */
const trace = (name: string) => fileURLToPath(new URL(`../examples/traces/${name}`, import.meta.url));
const STACK_FRAME = /\bat .*\.js:\d+/;

function expectUsageError(r: ReturnType<typeof epfsim>, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(r.stdout).toBe('');
}

describe('epfsim run', () => {
  it('runs 2000 verified I/Os and prints IOPS, latency, counters and checks', () => {
    const r = epfsim('run', '--number-ios', '2000');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^epfsim run: randrw rwmixread 50, bs 4k, iodepth 32, 1 queue, 2000 I\/Os per queue/);
    expect(r.stdout).toMatch(/total: 2000 I\/Os, .* IOPS [\d.]+k?, BW /);
    expect(r.stdout).toMatch(/read {2}clat \(µs\): min [\d.]+, avg [\d.]+, max [\d.]+.*\n\s+p1 [\d.]+, p50 [\d.]+/);
    expect(r.stdout).toMatch(/EPC \(rk3588\): \d+ map calls, \d+ partial maps, .*ATU programs, slots high-water \d+/);
    expect(r.stdout).toMatch(/PASS verify/);
    expect(r.stdout).toMatch(/PASS isolation/);
    expect(r.stdout).toMatch(/PASS leaks/);
    expect(r.stdout).toMatch(/PASS: all 10 checks passed\n$/);
  });

  it('--json prints one object with config, results, counters and checks', () => {
    const r = epfsim('run', '--number-ios', '500', '--queues', '2', '--bs', '512-16k', '--profile', 'stress', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['version', 'config', 'results', 'counters', 'checks', 'account']);
    expect(report.config).toMatchObject({
      profile: 'stress',
      placement: 'adversarial',
      workload: { kind: 'generate', rw: 'randrw', blockSize: { min: 512, max: 16384 }, queues: 2, numberIos: 500 },
    });
    expect(report.results).toMatchObject({ ios: 1000, errors: 0, end: 'number-ios', queueIds: [1, 2] });
    expect(report.results.verify.mismatchedBlocks).toBe(0);
    expect(report.results.wallClock.iops).toBeGreaterThan(0);
    expect(report.results.wallClock.latency.percentilesNs['99.9']).toBeGreaterThan(0);
    for (const counter of ['memMapCalls', 'partialMaps', 'slotsHighWater', 'atuPrograms', 'busFaults', 'irqsRaised'])
      expect(report.counters.epc).toHaveProperty(counter);
    expect(report.counters.epc.partialMaps).toBeGreaterThan(0);
    expect(report.checks.passed).toBe(true);
    expect(report.checks.list.map((c: { name: string }) => c.name)).toContain('isolation');
  });

  it.each([
    [['--rw', 'sideways'], /--rw: 'sideways' is not one of read, write/],
    [['--bs', '3x'], /--bs: '3x' is not a size/],
    [['--iodepth', '0'], /--iodepth: 0 is outside 1\.\.1023/],
    [['--profile', 'nope'], /unknown profile 'nope'/],
    [['--bs', '1000'], /bs 1000 is not a multiple of the 512-byte logical block/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--replay-timing', 'honour'], /--replay-timing needs --replay FILE/],
    [['--placement', 'invalid'], /breaks rules on purpose/],
  ])('%j is a usage error: exit 2, one line, no stack', (args, message) => {
    expectUsageError(epfsim('run', ...args), message);
  });

  it('--help describes the workload and testbed flags', () => {
    const r = epfsim('run', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--rw', '--bs', '--iodepth', '--queues', '--size', '--number-ios', '--runtime', '--replay'])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('--profile');
  });
});

describe('epfsim run --replay', () => {
  it('replays the whole TPC-C trace (6,999 requests) with verification', () => {
    const r = epfsim('run', '--replay', trace('tpcc-small.trace'), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.config.workload).toMatchObject({ kind: 'replay', format: 'disksim', traceRequests: 6999 });
    expect(report.results).toMatchObject({ ios: 6999, errors: 0, end: 'trace-end' });
    expect(report.results.byOp.write.ios).toBe(2618);
    expect(report.results.verify.mismatchedBlocks).toBe(0);
    expect(report.results.verify.blocksWithData).toBeGreaterThan(0);
    expect(report.checks.passed).toBe(true);
  });

  it('replays the whole web-search trace (24,783 requests, some above MDTS) with verification, 4 queues', () => {
    const r = epfsim('run', '--replay', trace('wsrch-small.trace'), '--queues', '4', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.config.workload.traceRequests).toBe(24_783);
    // Requests longer than 512 KiB go as several commands.
    expect(report.results.ios).toBeGreaterThan(24_783);
    expect(report.results.errors).toBe(0);
    expect(report.results.verify.mismatchedBlocks).toBe(0);
    expect(report.checks.passed).toBe(true);
  });

  it('honours arrival times of the first 500 TPC-C requests at 10x speed', () => {
    const r = epfsim(
      'run',
      '--replay',
      trace('tpcc-small.trace'),
      '--number-ios',
      '500',
      '--replay-timing',
      'honour',
      '--replay-speed',
      '10',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/honouring arrival times × 10/);
    expect(r.stdout).toMatch(/total: 500 I\/Os/);
  });

  it('a missing or malformed trace file is a usage error', () => {
    expectUsageError(epfsim('run', '--replay', '/nonexistent/trace.log'), /--replay: cannot read .*ENOENT/);
    const bad = join(tmpdir(), `epfsim-bad-trace-${process.pid}.log`);
    writeFileSync(bad, 'fio version 2 iolog\n/dev/x read 0\n');
    expectUsageError(epfsim('run', '--replay', bad), /--replay: .*:2: /);
    expectUsageError(epfsim('run', '--replay', bad, '--rw', 'read'), /--rw does not apply to --replay/);
  });
});
