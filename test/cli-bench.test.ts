import { describe, expect, it } from 'vitest';
import { measureFuzzInChild } from '../packages/host-sim/dist/front/bench/fuzz-bench.js';
import { measureIoInChild } from '../packages/host-sim/dist/front/bench/io-bench.js';
import { epfsim } from './run-cli.js';

/** A small testbed for the I/O child: 1 MiB namespace, short queues. */
const SMALL_SETUP = {
  profile: 'generic',
  placement: 'linux',
  queues: 1,
  queueEntries: 8,
  namespaceBytes: 1 << 20,
} as const;

// The figures themselves are measured by `npm run bench`, never timed in a test.
describe('epfsim bench', () => {
  it('documents its flags', () => {
    const r = epfsim('bench', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--quick');
    expect(r.stdout).toContain('--json');
  });

  it('offers every figure the README reports to --figure, and refuses one past them', () => {
    expect(epfsim('bench', '--help').stdout).toContain('(repeatable; 1..11)');
    const r = epfsim('bench', '--figure', '12');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('epfsim bench: --figure: 12 is outside 1..11');
  });

  it('rejects an unknown flag in one line with exit 2', () => {
    const r = epfsim('bench', '--fast');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("'--fast'");
  });

  it('runs the I/O figures in a child process: one result per workload, each read back and checked there', () => {
    const setup = { ...SMALL_SETUP, profile: 'rk3399', placement: 'adversarial', queues: 2 } as const;
    const small = { pattern: 'random', ioBytes: 4096, queueDepth: 4, ops: 50, repetitions: 1 } as const;
    const [r4k, r128k] = measureIoInChild({
      setup,
      warmUp: [small],
      workloads: [small, { ...small, pattern: 'sequential', ioBytes: 128 * 1024, repetitions: 2 }],
    });
    // What the child ran: queues it got, depth it kept, the repetitions asked for (not their speed).
    expect([r4k.queues, r4k.queueDepth, r4k.inFlight, r4k.repetitions.length]).toEqual([2, 4, 8, 1]);
    expect(r128k.repetitions).toHaveLength(2);
    expect(r128k.bytesPerSecond).toBe(r128k.iops * 128 * 1024);
  });

  it('a failing I/O child is an error naming its cause, not a hang or a silent zero', () => {
    const setup = { ...SMALL_SETUP, profile: 'no-such-profile' } as const;
    expect(() => measureIoInChild({ setup, warmUp: [], workloads: [] })).toThrow(
      /I\/O benchmark failed.*no-such-profile/s,
    );
  });

  it("runs figure 5's loop and campaign in a child process, every case verified there", () => {
    const loop = measureFuzzInChild({ kind: 'loop', cases: 40, repetitions: 2 });
    // A warm-up of a quarter, then two repetitions: every case is counted, none failed.
    expect([loop.cases, loop.failed]).toEqual([10 + 2 * 40, 0]);
    const campaign = measureFuzzInChild({ kind: 'campaign', ms: 50, repetitions: 1, protocol: true });
    expect(campaign.cases).toBeGreaterThan(0);
    expect(campaign.failed).toBe(0);
  });
});
