import { describe, expect, it } from 'vitest';
import { Random } from '../../src/host/random.js';

describe('Random', () => {
  it('is deterministic from its seed', () => {
    const a = new Random(42);
    const b = new Random(42);
    const xs = Array.from({ length: 100 }, () => a.u32());
    expect(Array.from({ length: 100 }, () => b.u32())).toEqual(xs);
    expect(new Random(43).u32()).not.toBe(xs[0]);
  });

  it('stays in range', () => {
    const r = new Random(7);
    for (let i = 0; i < 1000; i++) {
      const n = r.below(10);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(10);
      const b = r.bigBelow(1n << 64n);
      expect(b >= 0n && b < 1n << 64n).toBe(true);
      const c = r.between(-3, 3);
      expect(c >= -3 && c <= 3).toBe(true);
    }
  });

  it('reaches the whole 64-bit range', () => {
    const r = new Random(9);
    let high = false;
    for (let i = 0; i < 200; i++) if (r.bigBelow(1n << 64n) >= 1n << 63n) high = true;
    expect(high).toBe(true);
  });

  it('forks streams that do not depend on draws made before', () => {
    const a = new Random(5);
    const b = new Random(5);
    a.u32();
    expect(a.fork('x').u32()).toBe(b.fork('x').u32());
    expect(a.fork('x').u32()).not.toBe(a.fork('y').u32());
  });
});
