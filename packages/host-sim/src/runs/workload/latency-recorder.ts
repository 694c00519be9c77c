/**
 * Completion latency in wall-clock nanoseconds, submit to reap, in an HDR histogram
 * (node:perf_hooks createHistogram), summarised with fio's clat percentiles.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** fio's default `percentile_list`. */
export const LATENCY_PERCENTILES = [
  1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99,
] as const;

export interface LatencySummary {
  readonly count: number;
  readonly minNs: number;
  readonly maxNs: number;
  readonly meanNs: number;
  readonly stddevNs: number;
  /** Percentile (as written in {@link LATENCY_PERCENTILES}, e.g. "99.9") to nanoseconds. */
  readonly percentilesNs: Readonly<Record<string, number>>;
}

/** The histogram's smallest recordable value: it takes integers ≥ 1. */
const MIN_RECORDABLE_NS = 1;

export class LatencyRecorder {
  private readonly histogram: RecordableHistogram = createHistogram();

  record(ns: number): void {
    this.histogram.record(Math.max(MIN_RECORDABLE_NS, Math.round(ns)));
  }

  get count(): number {
    return this.histogram.count;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const empty = h.count === 0;
    const percentilesNs: Record<string, number> = {};
    for (const p of LATENCY_PERCENTILES) percentilesNs[String(p)] = empty ? 0 : h.percentile(p);
    return {
      count: h.count,
      minNs: empty ? 0 : h.min,
      maxNs: empty ? 0 : h.max,
      meanNs: empty ? 0 : h.mean,
      stddevNs: empty ? 0 : h.stddev,
      percentilesNs,
    };
  }
}
