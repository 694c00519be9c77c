/**
 * Timing helpers for benchmarks only (tests never time anything): warm up, repeat,
 * report the median. Wall-clock time from performance.now().
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
export interface Measurement {
  /** Operations per second, median over the repetitions. */
  readonly perSecond: number;
  readonly repetitions: readonly number[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs `run(ops)` once to warm up and then `repetitions` times; `run` performs `ops`
 * operations and returns how many it really did (or nothing for exactly `ops`).
 */
export function measureRate(run: (ops: number) => number | undefined, ops: number, repetitions: number): Measurement {
  run(Math.max(1, Math.floor(ops / 4)));
  const rates: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const start = performance.now();
    const done = run(ops) ?? ops;
    const seconds = (performance.now() - start) / 1000;
    rates.push(done / seconds);
  }
  return { perSecond: median(rates), repetitions: rates };
}

let gc: (() => void) | null | undefined;

/**
 * A full garbage collection between figures, so that one figure's garbage (the raw copy's 512 MiB
 * of arenas, a testbed) is not collected on another's time. Uses `global.gc` when Node runs with
 * --expose-gc, else exposes it for this process; does nothing if neither works.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') {
      gc = exposed;
    } else {
      try {
        setFlagsFromString('--expose-gc');
        gc = runInNewContext('gc') as () => void;
      } catch {
        gc = null;
      }
    }
  }
  gc?.();
}
