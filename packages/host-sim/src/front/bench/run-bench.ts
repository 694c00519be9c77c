import os from 'node:os';
import type { StrategyName } from '@epfsim/epc-core';
import { type Figure, figure, skippedFigure } from './figure.js';
import { huntCatalogue, measureFuzzInChild, measureQemuCampaign, measureWorkerScaling } from './fuzz-bench.js';
import { measureHostilePolls } from './hostile-poll.js';
import {
  type IoBenchResult,
  type IoBenchSetup,
  type IoResults,
  type IoWorkload,
  MAX_QUEUE_ENTRIES,
  measureIoInChild,
} from './io-bench.js';
import { type MachineInfo, machineInfo } from './machine.js';
import { measureMapEfficiency } from './map-efficiency.js';
import { collectGarbage } from './measure.js';
import { measureMemoryInChild } from './memory-run.js';
import { measureNbdInChild, nbdFigure } from './nbd-bench.js';
import { measureRawCopy } from './raw-copy.js';

export interface BenchOptions {
  /** Smaller counts, same figures: a run under a minute. */
  readonly quick: boolean;
  readonly progress?: (line: string) => void;
  /** Only these figure numbers (1..11); absent: all. The raw copy (1) is measured when 2, 3, 4 or 7 need it. */
  readonly figures?: ReadonlySet<number>;
}

/** The benchmark's figure numbers. */
export const FIGURE_NUMBERS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] as const;
/** Figures given as ratios to the raw copy rate (figure 1). */
const RATIO_FIGURES = [2, 3, 4, 7] as const;

export interface BenchReport {
  readonly machine: MachineInfo;
  readonly quick: boolean;
  readonly figures: readonly Figure[];
}

const MAP_EFFICIENCY_PROFILES = ['generic', 'rk3588', 'rk3399', 'stress'] as const;
const MAP_EFFICIENCY_STRATEGIES: readonly StrategyName[] = ['mem-map', 'multi-window'];
const KiB = 1024;
const MiB = 1024 * KiB;
/** Namespace of the I/O figures: as large as the raw copy's arena, filled before it is read. */
const IO_NAMESPACE_BYTES = 256 * MiB;
/** Targets of the issue: 4 KiB IOPS ≥ 0.30 of (1a), 128 KiB bandwidth ≥ 0.40 of (1b). */
const TARGET_4K = 0.3;
const TARGET_128K = 0.4;
/** Issue 17: adversarial placement, 4 KiB and 128 KiB, ≥ 0.10 of the raw copy. */
const TARGET_ADVERSARIAL = 0.1;
/** Issue 17: a campaign case on stress × adversarial, one core; and against QEMU in the same run. */
const TARGET_CAMPAIGN_PER_SECOND = 5_000;
const TARGET_CAMPAIGN_VS_QEMU = 20;
/** The single-command loop's own target (a verified command on a reused testbed). */
const TARGET_FUZZ_PER_SECOND = 10_000;
/** Issue 17: two workers at least 1.6 times one on a two-core machine. */
const TARGET_WORKER_SCALING = 1.6;
/** Scaling: 64 I/O queues lose at most 10 % against one. */
const TARGET_QUEUE_SCALING = 0.9;
const TARGET_PEAK_RSS_MIB = 300;
/** Every catalogued fault must be found within 60 s on one core; a quick run gives up after 10 s. */
const FAULT_TARGET_S = 60;
const FAULT_BUDGET_MS = FAULT_TARGET_S * 1000;
const FAULT_BUDGET_QUICK_MS = 10_000;
/** Issue 15: a host can make the controller slow, never stall it; no single poll() over 100 ms. */
const TARGET_LONGEST_POLL_MS = 100;

export function runBench(options: BenchOptions): BenchReport {
  const scale = options.quick ? 0.25 : 1;
  const repetitions = options.quick ? 3 : 5;
  const say = options.progress ?? (() => {});
  const figures: Figure[] = [];
  const want = (n: number): boolean => options.figures === undefined || options.figures.has(n);

  say('raw copy rate');
  const needRaw = want(1) || RATIO_FIGURES.some(want);
  const raw = needRaw ? measureRawCopy(scale, repetitions) : { copies4kPerSecond: 0, bandwidth128kBytesPerSecond: 0 };
  if (want(1))
    figures.push(
      figure({
        id: '1a',
        title: 'raw random 4 KiB Buffer.copy',
        value: raw.copies4kPerSecond,
        unit: 'copies/s',
        limit: null,
        target: null,
      }),
      figure({
        id: '1b',
        title: 'raw 128 KiB Buffer.copy bandwidth',
        value: raw.bandwidth128kBytesPerSecond / 2 ** 20,
        unit: 'MiB/s',
        limit: null,
        target: null,
      }),
    );

  for (const profile of want(6) ? MAP_EFFICIENCY_PROFILES : []) {
    for (const strategy of MAP_EFFICIENCY_STRATEGIES) {
      say(`map efficiency ${profile} ${strategy}`);
      const m = measureMapEfficiency(profile, strategy, options.quick ? 500 : 2000, 6);
      figures.push(
        figure({
          id: `6-${profile}-${strategy}`,
          title: `map calls per least-possible map, ${strategy} on ${profile} (${m.segments} segments)`,
          value: m.mapCalls / m.leastMaps,
          unit: 'ratio',
          limit: null,
          target: 1,
          targetIsMax: true,
          targetOn: 'value',
          note: `${m.mapCalls} map calls, least possible ${m.leastMaps}`,
        }),
      );
    }
  }
  const limit4k = raw.copies4kPerSecond;
  const limit128k = raw.bandwidth128kBytesPerSecond / MiB;
  const iops4k = (id: string, title: string, r: IoBenchResult, target: number | null, note?: string): Figure =>
    figure({
      id,
      title,
      value: r.iops,
      unit: 'IOPS',
      limit: limit4k,
      target,
      note: `ratio to (1a)${note === undefined ? '' : `; ${note}`}`,
    });
  const bw128k = (id: string, title: string, r: IoBenchResult, target: number | null): Figure =>
    figure({
      id,
      title,
      value: r.bytesPerSecond / MiB,
      unit: 'MiB/s',
      limit: limit128k,
      target,
      note: `ratio to (1b); ${Math.round(r.iops).toLocaleString('en-US')} IOPS`,
    });
  const ops4k = options.quick ? 20_000 : 50_000;
  const ops128k = options.quick ? 2_000 : 5_000;
  const rand4k = { pattern: 'random', ioBytes: 4 * KiB, queueDepth: 32, ops: ops4k, repetitions } as const;
  const seq128k = { pattern: 'sequential', ioBytes: 128 * KiB, queueDepth: 32, ops: ops128k, repetitions } as const;
  const base = { queues: 1, queueEntries: 64, namespaceBytes: IO_NAMESPACE_BYTES } as const;

  // Each child process warms the whole stack up first (the JIT needs tens of thousands of commands).
  const warmUp = [
    { ...rand4k, ops: options.quick ? 15_000 : 30_000, repetitions: 1 },
    { ...seq128k, ops: options.quick ? 500 : 1_000, repetitions: 1 },
  ];
  const io: RunIo = (what, setup, workloads, warm = warmUp) => {
    say(`${what} (child process)`);
    return measureIoInChild({ setup, warmUp: warm, workloads });
  };
  // 2, 3: generic controller, Linux placement.
  if (want(2) || want(3)) {
    const generic = { ...base, profile: 'generic', placement: 'linux' } as const;
    const [r4k, r128k] = io('4 KiB random and 128 KiB sequential reads, generic / linux', generic, [rand4k, seq128k]);
    figures.push(
      iops4k('2', '4 KiB random read, QD32, 1 I/O queue, generic, linux placement, mem-map', r4k, TARGET_4K),
      bw128k('3', '128 KiB sequential read, QD32, 1 I/O queue, generic, linux placement, mem-map', r128k, TARGET_128K),
    );
  }
  // 4: the same two on real controllers with the adversarial placement.
  for (const profile of want(4) ? (['rk3588', 'rk3399'] as const) : []) {
    const adv = { ...base, profile, placement: 'adversarial' } as const;
    const adv4k = { ...rand4k, ops: options.quick ? 3_000 : 10_000 };
    const adv128k = { ...seq128k, ops: options.quick ? 600 : 2_000 };
    const what = `4 KiB random and 128 KiB sequential reads, ${profile} / adversarial`;
    const once = [adv4k, adv128k].map((w) => ({ ...w, repetitions: 1 }));
    const [r4k, r128k] = io(what, adv, [adv4k, adv128k], once);
    figures.push(
      iops4k(`4-${profile}-4k`, `4 KiB random read, QD32, ${profile}, adversarial placement`, r4k, TARGET_ADVERSARIAL),
      bw128k(
        `4-${profile}-128k`,
        `128 KiB sequential read, QD32, ${profile}, adversarial placement`,
        r128k,
        TARGET_ADVERSARIAL,
      ),
    );
  }

  // 5: fuzz throughput.
  if (want(5)) measureFuzz(options.quick, repetitions, say, figures);
  if (want(7)) measureScaling(options.quick, rand4k, base, io, iops4k, figures);
  if (want(8)) figures.push(memoryFigure(options.quick, say));
  if (want(10)) faultFigures(options.quick, say, figures);
  if (want(11)) figures.push(hostileFigure(options.quick, repetitions, say));
  // 9: fio through `epfsim serve` against nbdkit memory (child process; skipped without fio or nbdkit).
  if (want(9)) {
    say('fio 4 KiB random reads through epfsim serve and nbdkit memory (child process)');
    figures.push(nbdFigure(measureNbdInChild(options.quick)));
  }
  return { machine: machineInfo(), quick: options.quick, figures };
}

/** Figure 5: fuzz throughput, a whole campaign case and the single-command loop. */
function measureFuzz(quick: boolean, repetitions: number, say: (line: string) => void, figures: Figure[]): void {
  say('fuzz campaign cases on stress (child process)');
  const campaign = measureFuzzInChild({ kind: 'campaign', ms: quick ? 1_000 : 3_000, repetitions, protocol: true });
  figures.push(
    figure({
      id: '5',
      title: 'fuzz campaign cases per second, stress, adversarial placement (runCampaignCase, one thread)',
      value: campaign.perSecond,
      unit: 'cases/s',
      limit: null,
      target: TARGET_CAMPAIGN_PER_SECOND,
      targetOn: 'value',
      note:
        `${campaign.cases} cases (${campaign.failed} failed, ${campaign.skipped} skipped); each case is a bring-up ` +
        'and up to 12 host actions (placed I/O batches and host-protocol actions) replayed on a fresh testbed',
    }),
  );
  say('the same campaign on QEMU (epfsim fuzz --target qemu, child process)');
  const qemu = measureQemuCampaign(quick ? 100 : 400);
  const qemuTitle = 'fuzz campaign cases per second against `epfsim fuzz --target qemu` on the same cases';
  figures.push(
    'unavailable' in qemu
      ? skippedFigure('5-qemu', qemuTitle, 'cases/s', qemu.unavailable)
      : figure({
          id: '5-qemu',
          title: qemuTitle,
          value: campaign.perSecond,
          unit: 'cases/s',
          limit: qemu.perSecond,
          target: TARGET_CAMPAIGN_VS_QEMU,
          note: `QEMU: ${qemu.perSecond.toFixed(0)} cases/s over ${qemu.cases} cases (${qemu.failed} failed), its process started once for the campaign`,
        }),
  );
  say('fuzz campaign cases on stress, placed I/O only (child process)');
  const placedOnly = measureFuzzInChild({ kind: 'campaign', ms: quick ? 1_000 : 3_000, repetitions, protocol: false });
  figures.push(
    figure({
      id: '5-placed',
      title: 'fuzz campaign cases per second, as (5) but placed I/O and Identify only (no host-protocol actions)',
      value: placedOnly.perSecond,
      unit: 'cases/s',
      limit: null,
      target: null,
      note: `${placedOnly.cases} cases; (5) over this is what the stateful actions cost: ${(campaign.perSecond / placedOnly.perSecond).toFixed(2)}`,
    }),
  );
  say('single-command fuzz loop on stress (child process)');
  const loop = measureFuzzInChild({ kind: 'loop', cases: quick ? 5_000 : 10_000, repetitions });
  figures.push(
    figure({
      id: '5-loop',
      title: 'verified single-command cases per second, stress, adversarial layouts, one reused testbed',
      value: loop.perSecond,
      unit: 'cases/s',
      limit: null,
      target: TARGET_FUZZ_PER_SECOND,
      targetOn: 'value',
      note: `${loop.cases} cases, ${loop.failed} failed; a case: write 1–32 blocks through a fresh adversarial layout, read them back through another, compare, release`,
    }),
  );
  say('epfsim fuzz --workers 2 against --workers 1 (child processes, each alone)');
  const scaling = measureWorkerScaling(quick ? 1_500 : 6_000, quick ? 1 : 2);
  const scalingTitle = '`epfsim fuzz --workers 2` against `--workers 1`, default campaign (every profile × placement)';
  figures.push(
    'unavailable' in scaling
      ? skippedFigure('5-workers', scalingTitle, 'cases/s', scaling.unavailable)
      : figure({
          id: '5-workers',
          title: scalingTitle,
          value: scaling.two,
          unit: 'cases/s',
          limit: scaling.one,
          target: TARGET_WORKER_SCALING,
          note: `${scaling.cases} cases per run; one worker: ${scaling.one.toFixed(0)} cases/s; ${os.availableParallelism()} cores`,
        }),
  );
}

/** Runs workloads on one testbed in a child process, after a warm-up on the same controller and placement; one result per workload, in order. */
type RunIo = <const W extends readonly IoWorkload[]>(
  what: string,
  setup: IoBenchSetup,
  workloads: W,
  warmUp?: readonly IoWorkload[],
) => IoResults<W>;

/** Figure 7: scaling with I/O queues and with queue depth. */
function measureScaling(
  quick: boolean,
  rand4k: IoWorkload,
  base: Omit<IoBenchSetup, 'profile' | 'placement'>,
  io: RunIo,
  iops4k: (id: string, title: string, r: IoBenchResult, target: number | null, note?: string) => Figure,
  figures: Figure[],
): void {
  // 7: scaling with queues (the same 32 commands in flight, round robin over them) and with queue depth.
  const byQueues: IoBenchResult[] = [];
  for (const queues of [1, 4, 16, 64]) {
    const setup = { ...base, queues, profile: 'generic', placement: 'linux' } as const;
    // fio style, for comparison at 64 queues: QD32 on every queue, so 64 times the commands in flight.
    const fioStyle = { ...rand4k, ops: quick ? 10_000 : 20_000 };
    const [r, all] = io(`4 KiB random reads, ${queues} I/O queues`, setup, [
      { ...rand4k, inFlight: 32 },
      ...(queues === 64 ? [fioStyle] : []),
    ]);
    byQueues.push(r);
    figures.push(
      iops4k(
        `7-queues-${queues}`,
        `4 KiB random read, ${r.inFlight} in flight over ${r.queues} I/O queues, generic, linux`,
        r,
        null,
      ),
    );
    if (all !== undefined) {
      figures.push(
        iops4k(
          '7-queues-64xQD32',
          `4 KiB random read, QD${all.queueDepth} on each of ${all.queues} I/O queues, generic, linux`,
          all,
          null,
          `${all.inFlight} commands in flight`,
        ),
      );
    }
  }
  const one = byQueues[0];
  const most = byQueues[byQueues.length - 1];
  if (one !== undefined && most !== undefined) {
    figures.push(
      figure({
        id: '7-queues-64-vs-1',
        title: `IOPS with ${most.queues} I/O queues over IOPS with 1 (32 commands in flight either way)`,
        value: most.iops / one.iops,
        unit: 'ratio',
        limit: null,
        target: TARGET_QUEUE_SCALING,
        targetOn: 'value',
        note: 'at most 10 % loss',
      }),
    );
  }
  for (const qd of [1, 32, 1024]) {
    const setup = { ...base, queueEntries: qd + 1, profile: 'generic', placement: 'linux' } as const;
    const [r] = io(`4 KiB random reads, QD${qd}`, setup, [{ ...rand4k, queueDepth: qd }]);
    const capped =
      r.queueDepth < qd
        ? `QD${r.queueDepth}: an I/O queue has at most ${MAX_QUEUE_ENTRIES} entries (the driver's io_queue_depth and CAP.MQES + 1) and holds one command fewer`
        : undefined;
    figures.push(
      iops4k(`7-qd-${qd}`, `4 KiB random read, 1 I/O queue, QD${r.queueDepth}, generic, linux`, r, null, capped),
    );
  }
}

/** Figure 10: the default campaign with each catalogued fault injected, and the time to its first failing case. */
function faultFigures(quick: boolean, say: (line: string) => void, figures: Figure[]): void {
  for (const hunt of huntCatalogue(quick ? FAULT_BUDGET_QUICK_MS : FAULT_BUDGET_MS, say)) {
    figures.push(
      figure({
        id: `10-${hunt.fault}`,
        title: `default campaign (all profiles x placements, seed 1) with --inject ${hunt.fault}: time to the first failing case`,
        value: hunt.caseId === undefined ? Number.POSITIVE_INFINITY : hunt.elapsedMs / 1000,
        unit: 's',
        limit: null,
        target: FAULT_TARGET_S,
        targetIsMax: true,
        targetOn: 'value',
        note:
          hunt.caseId === undefined
            ? `NOT FOUND in ${hunt.cases} cases`
            : `found at case ${hunt.caseId} (${hunt.cases} cases run): ${hunt.failure}`,
      }),
    );
  }
}

/** Figure 11: the hostile commands of issue 15 (item 3), and the longest single poll() they cause. */
function hostileFigure(quick: boolean, repetitions: number, say: (line: string) => void): Figure {
  say('hostile commands: the longest single poll()');
  collectGarbage();
  const hostile = measureHostilePolls(quick ? 2 : repetitions, (name) => say(`  ${name}`));
  const worst = hostile.reduce((a, b) => (b.longestPollMs > a.longestPollMs ? b : a));
  return figure({
    id: '11',
    title: `longest single poll() over the hostile commands of issue 15 (${hostile.length} scenarios, each on a fresh controller; median of ${quick ? 2 : repetitions} runs after a warm-up)`,
    value: worst.longestPollMs,
    unit: 'ms',
    limit: null,
    target: TARGET_LONGEST_POLL_MS,
    targetIsMax: true,
    targetOn: 'value',
    note: hostile
      .map(
        (h) =>
          `${h.name}: ${h.longestPollMs.toFixed(1)} ms (worst run ${h.worstPollMs.toFixed(1)}), ${h.polls} polls, ${h.statuses}`,
      )
      .join('; '),
  });
}

/** Figure 8: memory of a long run spread over the 64-bit space, in a child process. */
function memoryFigure(quick: boolean, say: (line: string) => void): Figure {
  const commands = quick ? 100_000 : 1_000_000;
  say(`memory: ${commands.toLocaleString('en-US')} commands over the 64-bit space (child process)`);
  collectGarbage();
  const mem = measureMemoryInChild(commands);
  return figure({
    id: '8',
    title: `peak RSS of ${commands.toLocaleString('en-US')} 4 KiB commands, buffers over the whole 64-bit space`,
    value: mem.peakRssKiB / KiB,
    unit: 'MiB',
    limit: null,
    target: TARGET_PEAK_RSS_MIB,
    targetIsMax: true,
    targetOn: 'value',
    note:
      `child process, peak RSS ${mem.peakRssKiB.toLocaleString('en-US')} KiB (VmHWM; resourceUsage().maxRSS ` +
      `${mem.maxRssKiB.toLocaleString('en-US')} KiB counts the parent at fork); generic, adversarial placement, half writes, ` +
      `16 MiB namespace; ${(mem.residentBytes / KiB).toFixed(0)} KiB of host pages left at the end; ${mem.seconds.toFixed(1)} s` +
      (quick ? '; quick run: 100,000 commands instead of 1,000,000' : ''),
  });
}

/** Human-readable table: each figure next to its limit, ratio and target. */
export function formatBench(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}${report.quick ? ' (quick run)' : ''}`,
    '',
  ];
  const num = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
  for (const f of report.figures) {
    const ratio = f.ratio === null ? '' : `  ratio ${f.ratio.toFixed(2)}`;
    const limit = f.limit === null ? '' : `  of ${num(f.limit)}`;
    const target =
      f.target === null ? '' : `  target ${f.targetIsMax ? '<=' : '>='} ${f.target}${f.met ? '  met' : '  MISSED'}`;
    lines.push(
      `${f.id.padEnd(24)} ${f.title}: ${num(f.value)} ${f.unit}${limit}${ratio}${target}${f.note ? `  (${f.note})` : ''}`,
    );
  }
  return lines.join('\n');
}
