/** The comparison's counts come from the seed alone: the same seed gives the same counts, another seed others. */
import { findProfile } from '@epfsim/epc-core';
import { describe, expect, it } from 'vitest';
import { compareMatrix } from '../../../src/front/compare/compare-matrix.js';
import type { CompareReport } from '../../../src/front/compare/compare-report.js';
import { runCompare } from '../../../src/front/compare/compare-runner.js';

const IOS = 12;

/** The report without its wall-clock figures, the only ones allowed to vary. */
function counts(report: CompareReport) {
  return {
    tables: report.tables.map((t) => ({ ...t, rows: t.rows.map(({ wallClock: _, ...row }) => row) })),
    cells: report.cells.map(({ wallClock: _, ...cell }) => cell),
  };
}

function run(seed: number): Promise<CompareReport> {
  const profiles = ['rk3399', 'stress'].map((name) => findProfile(name)!);
  return runCompare(compareMatrix({ profiles, strategies: ['epf-align', 'mem-map'], ios: IOS, seed }));
}

describe('epfsim compare is reproducible from a seed', () => {
  it('the same seed gives identical counts; a different seed moves the adversarial placement and its counts', async () => {
    const first = await run(11);
    const again = await run(11);
    const other = await run(12);
    expect(counts(again)).toEqual(counts(first));
    expect(counts(other)).not.toEqual(counts(first));
    // Not just equal because nothing was counted.
    expect(first.cells.some((c) => c.costs.mapCalls > 0 && c.failedAccesses.total > 0)).toBe(true);
  });
});
