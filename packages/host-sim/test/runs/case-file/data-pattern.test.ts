/** Pattern data: byte i of a pattern depends on (seed, i) alone; kept views equal fresh fills. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { fillPattern, patternSlice, patternView } from '../../../src/runs/case-file/data-pattern.js';

const MiB = 1024 * 1024;

describe('data patterns', () => {
  it('a slice at an offset is the same bytes as the whole pattern there', () => {
    const whole = patternSlice(7, 4096);
    expect(patternSlice(7, 1000, 1001)).toEqual(whole.subarray(1001, 2001));
    expect(patternSlice(8, 16)).not.toEqual(whole.subarray(0, 16));
  });

  it('are the same bytes as when case files were first written with them (a case names a pattern by its seed)', () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(hex(patternSlice(7, 16))).toBe('c13125587e56852c64991e9734e1066a');
    expect(hex(patternSlice(0xdead_beef, 12, 4093))).toBe('d7f28d7a7b2454975001a8a3');
  });

  it('fills a buffer at any byte offset of its memory the same way', () => {
    const backing = new Uint8Array(4096 + 8);
    for (let shift = 0; shift < 4; shift++) {
      const into = backing.subarray(shift, shift + 4096);
      expect(Buffer.from(fillPattern(into, 3, 5)).equals(patternSlice(3, 4096, 5))).toBe(true);
    }
  });

  test.prop(
    [
      fc.array(
        fc.record({
          seed: fc.integer({ min: 0, max: 20 }),
          offset: fc.integer({ min: 0, max: 6 * MiB }),
          length: fc.integer({ min: 0, max: 300_000 }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
    ],
    { numRuns: 30 },
  )('a kept view equals a fresh fill, whatever was asked before it (and past what is kept)', (asks) => {
    for (const { seed, offset, length } of asks) {
      expect(Buffer.from(patternView(seed, length, offset)).equals(patternSlice(seed, length, offset))).toBe(true);
    }
  });
});
