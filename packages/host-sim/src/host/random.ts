/**
 * A small seeded PRNG (mulberry32) so that every placement and workload is reproducible from one
 * seed: the same seed gives the same addresses, offsets and shapes, bit for bit.
 */

/** 2^32, the range of one draw. */
const U32_RANGE = 2 ** 32;
/** Golden-ratio increment of mulberry32's state (and of the seed mixer). */
const MULBERRY_INCREMENT = 0x6d2b79f5;
/** FNV-1a prime, to mix fork labels into a seed. */
const FNV_PRIME = 0x01000193;
/** Bits per 32-bit draw, for building bigints. */
const U32_BITS = 32n;

/** A deterministic pseudo-random stream. Not cryptographic; fast and well spread. */
export class Random {
  /** The seed this stream started from. */
  readonly seed: number;
  private state: number;

  /** `seed` is any integer; two streams with the same seed produce the same values. */
  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.state = this.seed;
  }

  /** The next 32-bit unsigned value. */
  u32(): number {
    this.state = (this.state + MULBERRY_INCREMENT) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / U32_RANGE;
  }

  /** An integer in [0, n) for 0 < n ≤ 2^53. */
  below(n: number): number {
    if (!(n > 0) || !Number.isSafeInteger(n)) throw new RangeError(`Random.below(${n})`);
    if (n <= U32_RANGE) return Math.floor(this.float() * n);
    return Math.floor(((this.u32() * U32_RANGE + this.u32()) / U32_RANGE / U32_RANGE) * n);
  }

  /** An integer in [lo, hi] (inclusive). */
  between(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`Random.between(${lo}, ${hi})`);
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new RangeError('Random.pick of an empty array');
    return item;
  }

  /** A bigint in [0, n) for n > 0 (any size, e.g. 2^64). */
  bigBelow(n: bigint): bigint {
    if (n <= 0n) throw new RangeError(`Random.bigBelow(${n})`);
    const bits = BigInt(n.toString(2).length);
    const mask = (1n << bits) - 1n;
    for (;;) {
      let value = 0n;
      for (let have = 0n; have < bits; have += U32_BITS) value = (value << U32_BITS) | BigInt(this.u32());
      value &= mask;
      if (value < n) return value;
    }
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }

  /** An independent stream derived from this stream's seed and a label: draws made here do not shift it. */
  fork(label: string): Random {
    let h = this.seed ^ MULBERRY_INCREMENT;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), FNV_PRIME);
    return new Random(h >>> 0);
  }
}

/** A stream from `seed`. */
export function createRandom(seed: number): Random {
  return new Random(seed);
}
