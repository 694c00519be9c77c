import { findProfile } from '@epfsim/epc-core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { sglLayout, writeSglLayout } from '../../../src/runs/arbitraries/sgl-layout.js';
import { hostMemory } from '../../support/fixtures.js';
import { chunksAsRanges, walk } from '../../support/reference-walker.js';
import { roundTrip } from './layout-support.js';

describe('sglLayout', () => {
  test.prop([sglLayout({ bitBuckets: true, profile: findProfile('stress')! })])(
    'places a legal SGL describing exactly its buffer',
    (spec) => {
      const memory = hostMemory();
      const layout = writeSglLayout(memory, spec, false);
      fc.pre(layout !== undefined);
      expect(layout.length).toBe(spec.length);
      expect(walk(memory, layout)).toEqual(chunksAsRanges(layout.data));
      // Every non-last segment carries data (S-11); each segment is qword aligned.
      for (const s of layout.structures) expect(s.addr % 8n).toBe(0n);
      layout.release();
    },
  );

  test.prop([sglLayout({ dwordGranular: true, granule: 512 })])(
    'keeps Data Blocks dword granular when asked (S-9)',
    (spec) => {
      expect(spec.length % 512).toBe(0);
      for (const p of spec.pieces) {
        if (p.kind !== 'data') continue;
        expect(p.addr % 4n).toBe(0n);
        expect(p.size % 4).toBe(0);
      }
    },
  );

  it('reaches every shape: lone Data Block, Last Segment, Segment chains, bit buckets, zero-length blocks', () => {
    const tags = new Set<string>();
    for (const spec of fc.sample(sglLayout({ bitBuckets: true }), { seed: 5, numRuns: 300 })) {
      for (const t of writeSglLayout(hostMemory(), spec, false)?.tags ?? []) tags.add(t);
    }
    for (const t of [
      'sgl-single-data-block',
      'sgl-last-segment',
      'sgl-segment-chain',
      'sgl-bit-bucket',
      'sgl-zero-length',
    ]) {
      expect(tags, t).toContain(t);
    }
  });

  test.prop(
    [
      fc.constantFrom('rk3399', 'stress', 'rk3588', 'cadence'),
      sglLayout({ maxLength: 64 * 1024, granule: 512 }),
      sglLayout({ maxLength: 64 * 1024, granule: 512, bitBuckets: true }),
    ],
    { numRuns: 30 },
  )('moves the right bytes through the controller both ways', (profile, w, r) => {
    fc.pre(
      roundTrip(
        profile,
        (tb) => writeSglLayout(tb.memory, w, true),
        (tb) => writeSglLayout(tb.memory, r, false),
      ),
    );
  });
});
