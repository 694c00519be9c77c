import type { StrategyName } from '@epfsim/epc-core';
import { type Figure, figure } from './figure.js';
import { type MachineInfo, machineInfo } from './machine.js';
import { measureMapEfficiency } from './map-efficiency.js';
import { measureRawCopy } from './raw-copy.js';

export interface BenchOptions {
  /** Smaller counts, same figures: a run under a minute. */
  readonly quick: boolean;
  readonly progress?: (line: string) => void;
}

export interface BenchReport {
  readonly machine: MachineInfo;
  readonly quick: boolean;
  readonly figures: readonly Figure[];
}

const MAP_EFFICIENCY_PROFILES = ['generic', 'rk3588', 'rk3399', 'stress'] as const;
const MAP_EFFICIENCY_STRATEGIES: readonly StrategyName[] = ['mem-map', 'multi-window'];

export function runBench(options: BenchOptions): BenchReport {
  const scale = options.quick ? 0.25 : 1;
  const repetitions = options.quick ? 3 : 5;
  const say = options.progress ?? (() => {});
  const figures: Figure[] = [];

  say('raw copy rate');
  const raw = measureRawCopy(scale, repetitions);
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

  for (const profile of MAP_EFFICIENCY_PROFILES) {
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
  return { machine: machineInfo(), quick: options.quick, figures };
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
