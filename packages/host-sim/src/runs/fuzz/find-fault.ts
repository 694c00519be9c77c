/**
 * Does the default campaign find a planted bug, and how fast? The campaign runs its cases in order
 * with one named fault injected (docs/faults.md) until the first case fails or the time budget is
 * spent; the failing case is shrunk into a case file. The benchmark's fault figure and the
 * regression cases in test/cases/faults come from here.
 */

import { runCampaignCase, type ShrunkCase, shrinkCampaignCase } from './campaign.js';
import type { CampaignPlan } from './campaign-plan.js';

export interface FaultHunt {
  readonly fault: string;
  /** The first failing case, when one was found within the budget. */
  readonly caseId?: number;
  /** Cases run, the failing one included. */
  readonly cases: number;
  /** Wall-clock time to the first failing case (or of the whole budget when none failed). */
  readonly elapsedMs: number;
  readonly failure?: string;
  readonly shrunk?: ShrunkCase;
}

export interface FaultHuntOptions {
  /** Stop after this long without a failing case. */
  readonly budgetMs: number;
  /** Shrink the failing case into a case file (costs time, not counted in elapsedMs). */
  readonly shrink?: boolean;
}

/** Runs `plan` with `fault` injected into every target until a case fails or the budget is spent. */
export function huntFault(plan: CampaignPlan, fault: string, options: FaultHuntOptions): FaultHunt {
  const injected: CampaignPlan = {
    ...plan,
    targets: plan.targets.map((t) => ({ ...t, inject: [...(t.inject ?? []), fault] })),
  };
  const start = performance.now();
  let cases = 0;
  for (let id = 0; plan.cases === undefined || id < plan.cases; id++) {
    const elapsedMs = performance.now() - start;
    if (elapsedMs > options.budgetMs) return { fault, cases, elapsedMs };
    const outcome = runCampaignCase(injected, id);
    if (outcome.skipped) continue;
    cases++;
    if (outcome.ok) continue;
    const found = { fault, caseId: id, cases, elapsedMs: performance.now() - start, failure: outcome.failure ?? '' };
    return options.shrink === true ? { ...found, shrunk: shrinkCampaignCase(injected, id) } : found;
  }
  return { fault, cases, elapsedMs: performance.now() - start };
}
