/**
 * Which cases a campaign runs and where: case `id` goes to target `id mod targets` with its own
 * seed derived from the campaign seed, so every case is reproducible alone; a shard K/N takes the
 * ids ≡ K−1 (mod N), and within a process worker w of W takes every W-th of those. The slices of
 * all shards and workers together are exactly the unsharded campaign.
 */
import type { FuzzTarget } from './fuzz-case.js';

/** One shard of a campaign: `index` in [0, count). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Everything a process (or a worker thread) needs to run its cases; structured-clone safe. */
export interface CampaignPlan {
  readonly targets: readonly FuzzTarget[];
  readonly seed: number;
  /** Cases in the whole campaign (all shards); undefined when only time bounds it. */
  readonly cases: number | undefined;
  readonly shard: Shard;
}

/** The seed of case `id` of a campaign seeded `seed`: a 32-bit mix (murmur3's finaliser). */
export function caseSeed(seed: number, id: number): number {
  let h = (seed ^ Math.imul(id + 1, 0x9e37_79b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85eb_ca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2_ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The ids worker `worker` of `workers` runs in this process's shard, in order; endless when the
 * plan has no case count (a time budget ends it).
 */
export function* sliceIds(plan: CampaignPlan, worker = 0, workers = 1): Generator<number> {
  const stride = plan.shard.count * workers;
  for (
    let id = plan.shard.index + plan.shard.count * worker;
    plan.cases === undefined || id < plan.cases;
    id += stride
  ) {
    yield id;
  }
}

/** The target of case `id`. */
export function targetOf(plan: CampaignPlan, id: number): number {
  return id % plan.targets.length;
}
