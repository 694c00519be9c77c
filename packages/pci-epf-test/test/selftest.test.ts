/** The kernel selftest's cases on every built-in profile, with and without the driver's alignment. */
import { BUILTIN_PROFILES } from '@epfsim/epc-core';
import { describe, expect, it } from 'vitest';
import { runSelftest, SELFTEST_SIZES } from '../src/index.js';

describe('pci_endpoint selftest on the endpoint test function', () => {
  it.each(BUILTIN_PROFILES.map((p) => [p.name, p] as const))(
    '%s: every case passes, unaligned and aligned',
    (_, profile) => {
      for (const alignment of [0, profile.barAlign]) {
        const cases = runSelftest({ profile, alignment, misalign: 0x123 });
        const failed = cases.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
        expect(failed).toEqual([]);
        const transfers = cases.filter((c) => /^(READ|WRITE|COPY) /.test(c.name));
        expect(transfers.length).toBe(SELFTEST_SIZES.length * 3 * (profile.hasDma ? 2 : 1));
      }
    },
  );
});
