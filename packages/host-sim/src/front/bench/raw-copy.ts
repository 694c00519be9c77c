import { measureRate } from './measure.js';

/** Larger than any last-level cache on the machines we run on, so copies miss as real I/O does. */
const COPY_ARENA_BYTES = 256 * 1024 * 1024;
const SMALL = 4096;
const LARGE = 128 * 1024;

export interface RawCopyRates {
  /** Random 4 KiB Buffer.copy operations per second. */
  readonly copies4kPerSecond: number;
  /** 128 KiB Buffer.copy bandwidth, bytes per second. */
  readonly bandwidth128kBytesPerSecond: number;
}

/** The machine's ceiling: what a JavaScript copy of the same sizes achieves with nothing else around it. */
export function measureRawCopy(opsScale: number, repetitions: number): RawCopyRates {
  const src = Buffer.alloc(COPY_ARENA_BYTES, 1);
  const dst = Buffer.alloc(COPY_ARENA_BYTES);
  const blocks4k = COPY_ARENA_BYTES / SMALL;
  const blocks128k = COPY_ARENA_BYTES / LARGE;
  let seed = 0x9e3779b9;
  const next = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const small = measureRate(
    (ops) => {
      for (let i = 0; i < ops; i++) {
        const s = next(blocks4k) * SMALL;
        src.copy(dst, next(blocks4k) * SMALL, s, s + SMALL);
      }
      return ops;
    },
    Math.round(400_000 * opsScale),
    repetitions,
  );
  const large = measureRate(
    (ops) => {
      for (let i = 0; i < ops; i++) {
        const s = next(blocks128k) * LARGE;
        src.copy(dst, next(blocks128k) * LARGE, s, s + LARGE);
      }
      return ops;
    },
    Math.round(40_000 * opsScale),
    repetitions,
  );
  return { copies4kPerSecond: small.perSecond, bandwidth128kBytesPerSecond: large.perSecond * LARGE };
}
