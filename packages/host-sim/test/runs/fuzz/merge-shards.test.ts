import { describe, expect, it } from 'vitest';
import { type CampaignJson, type CaseJson, mergeShards, ShardMergeError } from '../../../src/runs/fuzz/merge-shards.js';

const TARGETS = [
  { profile: 'stress', placement: 'linux' },
  { profile: 'stress', placement: 'invalid' },
];

/** The JSON shard K of N of a campaign of `total` cases, where the cases in `failing` fail. */
function shard(k: number, n: number, total: number, failing: readonly number[], seed = 1): CampaignJson {
  const cases: CaseJson[] = [];
  for (let id = k - 1; id < total; id += n) {
    const t = TARGETS[id % TARGETS.length]!;
    const ok = !failing.includes(id);
    cases.push({ id, seed: id * 7, ...t, ok, ...(ok ? {} : { failure: `case ${id}` }) });
  }
  const failures = TARGETS.flatMap((t) => {
    const f = cases.find((c) => !c.ok && c.profile === t.profile && c.placement === t.placement);
    return f === undefined ? [] : [{ id: f.id, ...t, failure: f.failure }];
  });
  return {
    seed,
    shard: `${k}/${n}`,
    workers: 1,
    casesRun: cases.length,
    failed: cases.filter((c) => !c.ok).length,
    skipped: 0,
    elapsedMs: 100 * k,
    casesPerSecond: 0,
    perTarget: TARGETS.map((t) => {
      const mine = cases.filter((c) => c.profile === t.profile && c.placement === t.placement);
      return { ...t, cases: mine.length, failures: mine.filter((c) => !c.ok).length, skipped: 0 };
    }),
    failures,
    cases,
  };
}

describe('merging the shards of a campaign', () => {
  it('gives the unsharded counts, every case once, and per target the failure with the lowest id', () => {
    const failing = [5, 8, 9, 13];
    const whole = shard(1, 1, 30, failing);
    const merged = mergeShards([3, 1, 2].map((k) => ({ source: `s${k}`, json: shard(k, 3, 30, failing) })));
    expect(merged.shard).toBe('all/3');
    expect(merged.cases).toEqual(whole.cases);
    expect(merged.casesRun).toBe(whole.casesRun);
    expect(merged.failed).toBe(whole.failed);
    expect(merged.perTarget).toEqual(whole.perTarget);
    expect(merged.failures.map((f) => f.id)).toEqual(whole.failures.map((f) => f.id));
    expect(merged.elapsedMs).toBe(300);
  });

  it.each([
    [[shard(1, 3, 9, []), shard(2, 3, 9, [])], 'shard 3/3 missing'],
    [[shard(1, 2, 9, []), shard(1, 2, 9, [])], 'is also'],
    [[shard(1, 2, 9, []), shard(2, 2, 9, [], 7)], 'seed 7'],
    [[shard(1, 2, 9, []), shard(2, 3, 9, [])], 'is one of 2'],
  ])('refuses shards that are not one whole campaign (%#)', (jsons, message) => {
    const run = () => mergeShards(jsons.map((json, i) => ({ source: `s${i}`, json })));
    expect(run).toThrow(ShardMergeError);
    expect(run).toThrow(message);
  });

  it('adds up the differential agreement of differential shards, and refuses a plain shard among them', () => {
    const diff = (identical: number, known: Record<string, number>, undocumentedIds: number[]) => ({
      epfsimOptions: 'defaults',
      identical,
      explained: Object.values(known).reduce((a, b) => a + b, 0),
      undocumented: undocumentedIds.length,
      known,
      undocumentedDifferences: undocumentedIds.map((id) => ({ id, seed: id, difference: `d${id}` })),
    });
    const merged = mergeShards([
      { source: 'a', json: { ...shard(1, 2, 10, []), differential: diff(3, { x: 1 }, [6]) } },
      { source: 'b', json: { ...shard(2, 2, 10, []), differential: diff(2, { x: 2, y: 1 }, [1]) } },
    ]);
    expect(merged.differential).toEqual({
      epfsimOptions: 'defaults',
      identical: 5,
      explained: 4,
      undocumented: 2,
      known: { x: 3, y: 1 },
      undocumentedDifferences: [
        { id: 1, seed: 1, difference: 'd1' },
        { id: 6, seed: 6, difference: 'd6' },
      ],
    });
    const mixed = () =>
      mergeShards([
        { source: 'a', json: { ...shard(1, 2, 10, []), differential: diff(3, {}, []) } },
        { source: 'b', json: shard(2, 2, 10, []) },
      ]);
    expect(mixed).toThrow('b: differential and plain campaign results do not merge');
  });
});
