/** Workload fixtures: specs with small defaults, testbeds opened the way `epfsim run` opens them. */
import { type OpenTestbed, openTestbed, resolveTestbedFlags } from '../../../src/front/cli/common-options.js';
import type { IoRequest } from '../../../src/runs/workload/io-request.js';
import type { RunReport } from '../../../src/runs/workload/run-report.js';
import type { GeneratedWorkload, ReplayWorkload } from '../../../src/runs/workload/workload-spec.js';

export const KIB = 1024;
export const MIB = KIB * KIB;

/** A generated workload: verified 4 KiB randrw, iodepth 8, one queue, 500 I/Os in a 1 MiB region. */
export function generated(fields: Partial<GeneratedWorkload> = {}): GeneratedWorkload {
  return {
    kind: 'generate',
    rw: 'randrw',
    blockSize: { min: 4 * KIB, max: 4 * KIB },
    offsetBytes: 0,
    sizeBytes: MIB,
    rwmixread: 50,
    nsid: 1,
    iodepth: 8,
    queues: 1,
    numberIos: 500,
    verify: true,
    seed: 7,
    ...fields,
  };
}

/** A replay of trace requests given in bytes (512-byte multiples), all at time 0 unless given. */
export function replay(
  requests: readonly { op: IoRequest['op']; offset: number; length: number; timeNs?: number }[],
  fields: Partial<ReplayWorkload> = {},
): ReplayWorkload {
  return {
    kind: 'replay',
    source: 'test',
    format: 'iolog',
    requests: requests.map((r) => ({ op: r.op, offset: r.offset, length: r.length, timeNs: r.timeNs ?? 0 })),
    timing: 'asap',
    speed: 1,
    nsid: 1,
    iodepth: 8,
    queues: 1,
    verify: true,
    seed: 7,
    ...fields,
  };
}

/** A testbed as the CLI opens it (64 MiB namespace unless told), with queues sized for the workload. */
export function bed(
  flags: { profile?: string; placement?: string; seed?: string; 'ns-size'?: string; 'block-size'?: string } = {},
  queues = 1,
  iodepth = 8,
): OpenTestbed {
  return openTestbed(resolveTestbedFlags({ 'ns-size': '64m', ...flags }), {
    ioQueues: queues,
    ioQueueDepth: iodepth + 1,
  });
}

/** The report without the figures measured in wall-clock time. */
export function countsOnly(report: RunReport): unknown {
  const { wallClock: _wallClock, ...results } = report.results;
  return { ...report, results };
}

/** Names of the failed checks. */
export function failedChecks(report: RunReport): string[] {
  return report.checks.list.filter((c) => !c.passed).map((c) => c.name);
}
