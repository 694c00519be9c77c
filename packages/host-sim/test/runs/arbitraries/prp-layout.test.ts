import { findProfile } from '@epfsim/epc-core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { prpLayout, prpListPageUse, writePrpLayout } from '../../../src/runs/arbitraries/prp-layout.js';
import { hostMemory } from '../../support/fixtures.js';
import { chunksAsRanges, walk } from '../../support/reference-walker.js';
import { roundTrip } from './layout-support.js';

describe('prpLayout', () => {
  test.prop([prpLayout({ profile: findProfile('rk3399')! })])(
    'places a legal PRP description of exactly its buffer',
    (spec) => {
      const memory = hostMemory();
      const layout = writePrpLayout(memory, spec, false);
      fc.pre(layout !== undefined); // only the MSI doorbell window can be in the way
      expect(layout.length).toBe(spec.length);
      expect(walk(memory, layout)).toEqual(chunksAsRanges(layout.data));
      for (const g of layout.grants) expect(memory.isRam(g.addr, g.size)).toBe(true);
      layout.release();
      for (const c of layout.data) expect(memory.isFree(c.addr, c.size)).toBe(true);
    },
  );

  it('reaches lists mid-page, in the last slot, chained, and PRP2 garbage', () => {
    const tags = new Set<string>();
    for (const spec of fc.sample(prpLayout(), { seed: 3, numRuns: 400 })) {
      const layout = writePrpLayout(hostMemory(), spec, true);
      for (const t of layout?.tags ?? []) tags.add(t);
    }
    for (const t of [
      'prp1-offset',
      'prp1-last-dword',
      'prp2-garbage',
      'prp2-direct',
      'list-mid-page',
      'list-chained',
    ]) {
      expect(tags, t).toContain(t);
    }
  });

  it('counts list slots as the specification chains them (P-5, P-6)', () => {
    expect(prpListPageUse(2, 0xff0, 4096)).toEqual([2]);
    expect(prpListPageUse(3, 0xff0, 4096)).toEqual([2, 2]);
    expect(prpListPageUse(512, 0, 4096)).toEqual([512]);
    expect(prpListPageUse(513, 0, 4096)).toEqual([512, 2]);
  });

  test.prop(
    [
      fc.constantFrom('rk3399', 'stress', 'rk3588'),
      prpLayout({ maxLength: 128 * 1024 }),
      prpLayout({ maxLength: 128 * 1024 }),
    ],
    { numRuns: 30 },
  )('moves the right bytes through the controller both ways', (profile, w, r) => {
    fc.pre(
      roundTrip(
        profile,
        (tb) => writePrpLayout(tb.memory, w, true),
        (tb) => writePrpLayout(tb.memory, r, false),
      ),
    );
  });
});
