/**
 * A fuzz campaign: cases spread over the targets (profile × placement), each case one fast-check
 * run of the case parameters with its own seed, replayed on a fresh testbed; every failing case is
 * reported, and the first one of each target is shrunk by fast-check's own shrinker into the
 * smallest case that still fails. Cases can run in worker threads and in shards (see
 * {@link idAt}); which cases run and how each ends depends only on the plan, never on the split.
 */
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { isPlacementError } from '../../host/errors.js';
import type { CaseFile } from '../case-file/case-file.js';
import { type CaseReport, firstFailure } from '../case-file/replay-report.js';
import { type CampaignPlan, caseSeed, idAt, type Shard, targetOf } from './campaign-plan.js';
import {
  buildFuzzCase,
  type CaseRunner,
  type FuzzCaseParams,
  type FuzzTarget,
  fuzzCaseArbitrary,
  runFuzzCase,
} from './fuzz-case.js';

/** Shrinking stops accepting smaller failures after this many case runs. */
export const DEFAULT_SHRINK_RUNS = 400;

/** How one case ended. */
export interface CaseOutcome {
  readonly id: number;
  readonly seed: number;
  /** Index in the plan's targets. */
  readonly target: number;
  readonly ok: boolean;
  /** The placement could not lay the case out (no free spot): not run, neither passed nor failed. */
  readonly skipped: boolean;
  /** The first thing that went wrong, when it failed. */
  readonly failure?: string;
}

/** A failing case after shrinking. */
export interface ShrunkCase {
  readonly params: FuzzCaseParams;
  readonly caseFile: CaseFile;
  readonly report: CaseReport;
  /** Case runs spent shrinking. */
  readonly shrinkRuns: number;
  /** fast-check's replay path of the counterexample (with the case seed). */
  readonly path: string;
  /**
   * False when the case passed when run again: its outcome depends on something outside the case
   * (timing, a reference's state). The case file is then the case as first run, unshrunk.
   */
  readonly reproduced: boolean;
}

export interface CampaignFailure {
  readonly outcome: CaseOutcome;
  readonly shrunk: ShrunkCase;
}

export interface TargetCounts {
  readonly profile: string;
  readonly placement: string;
  readonly cases: number;
  readonly failures: number;
  readonly skipped: number;
}

export interface CampaignResult {
  readonly seed: number;
  readonly shard: Shard;
  readonly workers: number;
  readonly casesRun: number;
  readonly failed: number;
  readonly skipped: number;
  readonly elapsedMs: number;
  /** Every case run, by id. */
  readonly outcomes: readonly CaseOutcome[];
  readonly perTarget: readonly TargetCounts[];
  /** The first failing case of each target that had one, shrunk. */
  readonly failures: readonly CampaignFailure[];
}

export interface CampaignOptions {
  /** Worker threads (1: run in this thread). Workers need the built package (dist). */
  readonly workers?: number;
  /** Stop starting cases after this many milliseconds. */
  readonly timeMs?: number;
  /** Case runs shrinking may spend per failure. Default {@link DEFAULT_SHRINK_RUNS}. */
  readonly shrinkRuns?: number;
  /** Called after every case, for progress. */
  readonly onCase?: (outcome: CaseOutcome) => void;
  /** Called before each shrink starts. */
  readonly onShrink?: (outcome: CaseOutcome) => void;
  /**
   * How a case runs (default: replayed on a fresh in-process testbed). Another target's runner
   * (QEMU's) lives in this thread: it needs `workers` = 1.
   */
  readonly runCase?: CaseRunner;
}

/** A case's verdict as a fast-check property; `seen` gets every replay report. */
function caseProperty(
  target: FuzzTarget,
  seen: (params: FuzzCaseParams, report: CaseReport) => boolean,
  runCase?: CaseRunner,
) {
  return fc.property(fuzzCaseArbitrary(target), (params) => {
    let report: CaseReport;
    try {
      report = runFuzzCase(target, params, runCase).report;
    } catch (error) {
      // The placement found no room for this layout: not a case at all.
      fc.pre(!isPlacementError(error));
      throw error;
    }
    return seen(params, report);
  });
}

/** Runs case `id` of `plan` once (no shrinking). Throws when the generator itself breaks. */
export function runCampaignCase(plan: CampaignPlan, id: number, runCase?: CaseRunner): CaseOutcome {
  const t = targetOf(plan, id);
  const seed = caseSeed(plan.seed, id);
  let failure: string | undefined;
  const details = fc.check(
    caseProperty(
      plan.targets[t] as FuzzTarget,
      (_, report) => {
        failure = firstFailure(report);
        return report.ok;
      },
      runCase,
    ),
    { seed, numRuns: 1, endOnFailure: true },
  );
  if (details.failed && details.counterexample === null) return { id, seed, target: t, ok: false, skipped: true };
  if (details.failed && failure === undefined) throw details.errorInstance;
  return details.failed
    ? { id, seed, target: t, ok: false, skipped: false, failure: failure ?? 'failed' }
    : { id, seed, target: t, ok: true, skipped: details.numRuns === 0 };
}

/**
 * Shrinks failing case `id` with fast-check (same seed, so the same first value), spending at
 * most `budget` case runs; returns the smallest failing case found, as a case file.
 */
export function shrinkCampaignCase(
  plan: CampaignPlan,
  id: number,
  budget = DEFAULT_SHRINK_RUNS,
  runCase?: CaseRunner,
): ShrunkCase {
  const target = plan.targets[targetOf(plan, id)] as FuzzTarget;
  const seed = caseSeed(plan.seed, id);
  let runs = 0;
  let smallest: { params: FuzzCaseParams; report: CaseReport } | undefined;
  let first: { params: FuzzCaseParams; report: CaseReport } | undefined;
  const details = fc.check(
    caseProperty(
      target,
      (params, report) => {
        first ??= { params, report };
        // Past the budget every candidate "passes": fast-check then keeps the smallest failure so far.
        if (runs++ >= budget) return true;
        if (!report.ok) smallest = { params, report };
        return report.ok;
      },
      runCase,
    ),
    { seed, numRuns: 1 },
  );
  if (!details.failed || smallest === undefined) {
    if (first === undefined) throw new Error(`case ${id} (seed ${seed}) did not run again`);
    const caseFile = buildFuzzCase(target, first.params, seed);
    return { ...first, caseFile, shrinkRuns: runs, path: '', reproduced: false };
  }
  const params = details.counterexample?.[0] ?? smallest.params;
  const caseFile = buildFuzzCase(target, params, seed);
  return {
    params,
    caseFile,
    report: smallest.params === params ? smallest.report : runFuzzCase(target, params, runCase).report,
    shrinkRuns: Math.min(runs, budget),
    path: details.counterexamplePath ?? '',
    reproduced: true,
  };
}

/** Runs this process's slice of `plan` (all of it unless sharded), then shrinks what failed. */
export async function runCampaign(plan: CampaignPlan, options: CampaignOptions = {}): Promise<CampaignResult> {
  const start = Date.now();
  const deadline = options.timeMs === undefined ? Number.POSITIVE_INFINITY : start + options.timeMs;
  const workers = Math.max(1, options.workers ?? 1);
  if (options.runCase !== undefined && workers > 1) throw new RangeError('a custom case runner needs workers = 1');
  const outcomes: CaseOutcome[] = [];
  const record = (o: CaseOutcome) => {
    outcomes.push(o);
    options.onCase?.(o);
  };
  if (workers === 1) {
    let position = 0;
    runClaimed(plan, () => position++, deadline, record, options.runCase);
  } else await runInWorkers(plan, workers, deadline, record);
  const elapsedMs = Date.now() - start;
  outcomes.sort((a, b) => a.id - b.id);
  const failures: CampaignFailure[] = [];
  for (let t = 0; t < plan.targets.length; t++) {
    const first = outcomes.find((o) => o.target === t && !o.ok && !o.skipped);
    if (first === undefined) continue;
    options.onShrink?.(first);
    failures.push({ outcome: first, shrunk: shrinkCampaignCase(plan, first.id, options.shrinkRuns, options.runCase) });
  }
  return {
    seed: plan.seed,
    shard: plan.shard,
    workers,
    casesRun: outcomes.filter((o) => !o.skipped).length,
    failed: outcomes.filter((o) => !o.ok && !o.skipped).length,
    skipped: outcomes.filter((o) => o.skipped).length,
    elapsedMs,
    outcomes,
    perTarget: plan.targets.map((target, t) => {
      const mine = outcomes.filter((o) => o.target === t);
      return {
        profile: target.profile.name,
        placement: target.placement,
        cases: mine.filter((o) => !o.skipped).length,
        failures: mine.filter((o) => !o.ok && !o.skipped).length,
        skipped: mine.filter((o) => o.skipped).length,
      };
    }),
    failures,
  };
}

/**
 * Runs the cases at the positions `claim` hands out (see {@link idAt}) until the campaign ends or
 * `deadline` (epoch ms) passes.
 */
export function runClaimed(
  plan: CampaignPlan,
  claim: () => number,
  deadline: number,
  done: (outcome: CaseOutcome) => void,
  runCase?: CaseRunner,
): void {
  for (;;) {
    if (Date.now() >= deadline) return;
    const id = idAt(plan, claim());
    if (id === undefined) return;
    done(runCampaignCase(plan, id, runCase));
  }
}

/** Positions a worker claims at once: few, so the last cases spread over every worker. */
export const CLAIM_CHUNK = 4;

/** What a campaign worker thread gets. */
export interface WorkerData {
  readonly plan: CampaignPlan;
  /** One Int32: the next position no worker has claimed. */
  readonly next: SharedArrayBuffer;
  readonly deadline: number;
}

/** What a campaign worker thread posts. */
export type WorkerMessage =
  | { readonly kind: 'case'; readonly outcome: CaseOutcome }
  | { readonly kind: 'error'; readonly message: string; readonly stack: string };

function runInWorkers(
  plan: CampaignPlan,
  workers: number,
  deadline: number,
  record: (o: CaseOutcome) => void,
): Promise<void> {
  const url = new URL('./campaign-worker.js', import.meta.url);
  // Cases differ in cost by target (an adversarial placement costs more): a fixed split of ids
  // left one worker idle while the other ran the dear targets; claiming positions balances them.
  const next = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const runs = Array.from({ length: workers }, (_, worker) => {
    const data: WorkerData = { plan, next, deadline };
    return new Promise<void>((resolve, reject) => {
      const thread = new Worker(url, { workerData: data });
      thread.on('message', (m: WorkerMessage) => {
        if (m.kind === 'case') record(m.outcome);
        else reject(Object.assign(new Error(m.message), { stack: m.stack }));
      });
      thread.on('error', reject);
      thread.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`fuzz worker ${worker} exited with code ${code}`)),
      );
    });
  });
  return Promise.all(runs).then(() => undefined);
}
