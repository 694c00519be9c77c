/**
 * Which cases a campaign runs and where: case `id` goes to target `id mod targets` with its own
 * seed derived from the campaign seed, so every case is reproducible alone; a shard K/N takes the
 * ids ≡ K−1 (mod N), and within a process the worker threads claim those in turn. The shards
 * together are exactly the unsharded campaign.
 */
import type { PluginRef } from '../../host/plugins/user-modules.js';
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
  /** User modules the targets name (profiles, strategies): worker threads load them before running. */
  readonly plugins?: readonly PluginRef[];
}

/** The seed of case `id` of a campaign seeded `seed`: a 32-bit mix (murmur3's finaliser). */
export function caseSeed(seed: number, id: number): number {
  let h = (seed ^ Math.imul(id + 1, 0x9e37_79b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85eb_ca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2_ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The id of the case at `position` in this process's shard (0, 1, 2, … in order), or undefined past
 * the campaign's end. Workers claim positions as they go, so a slow target slows no one worker.
 */
export function idAt(plan: CampaignPlan, position: number): number | undefined {
  const id = plan.shard.index + plan.shard.count * position;
  return plan.cases === undefined || id < plan.cases ? id : undefined;
}

/** The target of case `id`. */
export function targetOf(plan: CampaignPlan, id: number): number {
  return id % plan.targets.length;
}
