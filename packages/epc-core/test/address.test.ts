import { describe, expect, it } from 'vitest';
import { fls64 } from '../src/address.js';

describe('fls64', () => {
  it('is the 1-based index of the top set bit, 0 for 0, at every power-of-two edge of 64 bits', () => {
    expect(fls64(0n)).toBe(0);
    for (let bit = 0; bit < 64; bit++) {
      const p = 1n << BigInt(bit);
      expect(fls64(p)).toBe(bit + 1);
      expect(fls64(p - 1n)).toBe(bit);
      expect(fls64(p | (p - 1n))).toBe(bit + 1);
    }
    expect(fls64((1n << 64n) - 1n)).toBe(64);
  });

  it('refuses a negative value (a caller bug, not host input)', () => {
    expect(() => fls64(-1n)).toThrow(RangeError);
  });
});
