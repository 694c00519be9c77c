import { findProfile } from '@epfsim/epc-core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { PlacementName } from '../../../src/host/placement/placement-factory.js';
import { caseCommands } from '../../../src/runs/case-file/case-file.js';
import { parseCaseFile } from '../../../src/runs/case-file/parse-case-file.js';
import { replayCase } from '../../../src/runs/case-file/replay-case.js';
import { firstFailure } from '../../../src/runs/case-file/replay-report.js';
import { serializeCaseFile } from '../../../src/runs/case-file/serialize-case-file.js';
import { runCampaign, runCampaignCase } from '../../../src/runs/fuzz/campaign.js';
import { type CampaignPlan, caseSeed, idAt } from '../../../src/runs/fuzz/campaign-plan.js';
import type { CaseRunner, FuzzTarget } from '../../../src/runs/fuzz/fuzz-case.js';

function target(profile: string, placement: PlacementName, strategy: FuzzTarget['strategy'] = 'mem-map'): FuzzTarget {
  return { profile: findProfile(profile)!, placement, strategy, blockSize: 512, blocks: 1 << 21 };
}

const plan = (fields: Partial<CampaignPlan> = {}): CampaignPlan => ({
  targets: [target('stress', 'adversarial'), target('rk3399', 'linux'), target('rk3588', 'invalid')],
  seed: 42,
  cases: 24,
  shard: { index: 0, count: 1 },
  ...fields,
});

describe('campaign slices', () => {
  test.prop([fc.nat({ max: 300 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 })])(
    'shards together run every case exactly once, however their workers interleave their claims',
    (cases, shards, workers) => {
      const seen: number[] = [];
      for (let s = 0; s < shards; s++) {
        const p = plan({ cases, shard: { index: s, count: shards } });
        // Workers claim positions from one counter, in whatever order they get to it.
        let next = 0;
        const done = new Array<boolean>(workers).fill(false);
        for (let turn = 0; done.includes(false); turn = (turn + 1) % workers) {
          if (done[turn]) continue;
          const id = idAt(p, next++);
          if (id === undefined) done[turn] = true;
          else seen.push(id);
        }
      }
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: cases }, (_, i) => i));
    },
  );

  it('gives every case its own seed from the campaign seed', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, id) => caseSeed(1, id)));
    expect(seeds.size).toBe(1000);
    expect(caseSeed(1, 5)).toBe(caseSeed(1, 5));
    expect(caseSeed(2, 5)).not.toBe(caseSeed(1, 5));
  });
});

describe('campaigns', () => {
  it('run clean on valid and invalid placements, and the shards together equal the whole', async () => {
    const whole = await runCampaign(plan());
    expect(whole.failed).toBe(0);
    expect(whole.casesRun + whole.skipped).toBe(24);
    expect(whole.perTarget.map((t) => t.cases + t.skipped)).toEqual([8, 8, 8]);
    const parts = await Promise.all([0, 1, 2].map((index) => runCampaign(plan({ shard: { index, count: 3 } }))));
    const union = parts.flatMap((p) => p.outcomes).sort((a, b) => a.id - b.id);
    expect(union).toEqual(whole.outcomes);
  });

  it('are deterministic: a case id gives the same case and the same verdict', () => {
    const p = plan();
    expect(runCampaignCase(p, 7)).toEqual(runCampaignCase(p, 7));
  });

  it('stop starting cases when the time budget is spent', async () => {
    const r = await runCampaign(plan({ cases: undefined }), { timeMs: 300 });
    expect(r.casesRun).toBeGreaterThan(0);
    expect(r.elapsedMs).toBeLessThan(5000);
  });

  it('find a genuine failure, shrink it, and the case file reproduces it without the generator', async () => {
    // epf-align aligns to RK3399's 256-byte BAR alignment and cannot reach across the 1 MiB
    // translation limit: adversarial buffers there fail with 0/04h.
    const p = plan({ targets: [target('rk3399', 'adversarial', 'epf-align')], cases: 10 });
    const r = await runCampaign(p, { shrinkRuns: 150 });
    expect(r.failed).toBeGreaterThan(0);
    expect(r.failures).toHaveLength(1);
    const f = r.failures[0]!;
    expect(f.outcome.failure).toMatch(/0\/04h Data Transfer Error/);
    const shrunk = f.shrunk;
    expect(shrunk.report.ok).toBe(false);
    expect(caseCommands(shrunk.caseFile).length).toBeLessThanOrEqual(2);
    expect(shrunk.caseFile.seed).toBe(f.outcome.seed);
    // Through the file format and back, replayed on its own.
    const file = parseCaseFile(JSON.parse(JSON.stringify(serializeCaseFile(shrunk.caseFile))));
    expect(file).toEqual(shrunk.caseFile);
    const replayed = replayCase(file);
    expect(replayed.ok).toBe(false);
    expect(firstFailure(replayed)).toBe(firstFailure(shrunk.report));
  });

  it('report a failure that does not happen again as such, with the case as first run', async () => {
    // A runner whose verdict depends on something outside the case: only its first run fails.
    let runs = 0;
    const flaky: CaseRunner = (c) => {
      const report = replayCase(c);
      return runs++ === 0 ? { ...report, ok: false, failures: ['failed once'] } : report;
    };
    const p = plan({ targets: [target('rk3588', 'linux')], cases: 1 });
    const r = await runCampaign(p, { runCase: flaky });
    expect(r.failed).toBe(1);
    const f = r.failures[0]!;
    expect(f.outcome.failure).toBe('failed once');
    expect(f.shrunk.reproduced).toBe(false);
    expect(f.shrunk.caseFile.seed).toBe(f.outcome.seed);
    expect(f.shrunk.report.ok).toBe(true);
  });
});
