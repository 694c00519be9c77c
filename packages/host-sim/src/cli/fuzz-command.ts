import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROFILE_NAMES, STRATEGY_NAMES } from '@epfsim/epc-core';
import { serializeCaseFile } from '../case-file/parse-case-file.js';
import { firstFailure } from '../case-file/replay-case.js';
import { type CampaignFailure, type CampaignResult, type CaseOutcome, runCampaign } from '../fuzz/campaign.js';
import type { CampaignPlan, Shard } from '../fuzz/campaign-plan.js';
import type { FuzzTarget } from '../fuzz/fuzz-case.js';
import { PLACEMENT_NAMES } from '../placement/placement-factory.js';
import type { CommandContext } from './command.js';
import { resolveTestbedFlags, TESTBED_DEFAULTS, TESTBED_FLAGS } from './common-options.js';
import { parseDuration, parseInteger } from './options.js';
import { createProgress } from './progress.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage-error.js';

const DEFAULT_CASES = 1000;
const MAX_WORKERS = 256;

export const FUZZ_HELP = `usage: epfsim fuzz [options]

Fuzzes the host addresses of queues, PRP lists, SGL segments and buffers. Each case is a
fresh testbed with its queues at fuzzed addresses and a few commands (write, read back, read,
write zeroes, deallocate, flush, Identify) laid out by the placement policy at fuzzed
addresses; it passes when valid placements complete with the right data ('invalid' ones with
their expected status), nothing outside the host's grants is touched, no access faults except
where a case puts data in a hole, no outbound mapping leaks and no CQE or interrupt is
malformed. A failing case is shrunk by fast-check and written as a case file that
'epfsim replay' reproduces without the generator.

campaign:
  --profile NAME|FILE.json|all  repeatable (default ${TESTBED_DEFAULTS.profile}); 'all' = ${PROFILE_NAMES.join(', ')}
  --placement NAME|all          repeatable: ${PLACEMENT_NAMES.join(' | ')} (default ${TESTBED_DEFAULTS.placement})
  --cases N                     cases in the campaign, spread over profile x placement
                                (default ${DEFAULT_CASES}, or unbounded with --time)
  --time DURATION               stop starting cases after this long (30s, 2m)
  --seed N                      campaign seed (default ${TESTBED_DEFAULTS.seed}); case i gets its own seed from it
  --workers N                   worker threads, each running a deterministic slice (default 1)
  --shard K/N                   run slice K of N (cases i with i mod N = K-1); the N slices
                                together are exactly the unsharded campaign
  --out DIR                     where case files are written (default: the current directory)
  --json                        the result as JSON on stdout (cases run, failures, counts per
                                profile x placement, cases/s, every case's id and seed)
controller:
  --strategy NAME               ${STRATEGY_NAMES.join(' | ')} (default ${TESTBED_DEFAULTS.strategy})
  --ns-size SIZE                namespace size (default ${TESTBED_DEFAULTS.nsSize})
  --block-size 512|4096         logical block size (default ${TESTBED_DEFAULTS.blockSize})

exit status: 0 no case failed; 1 a case failed (its shrunk case file is written and its path
printed); 2 bad flags.`;

/** `epfsim fuzz`: a campaign over profiles × placements; failures shrink into case files. */
export async function fuzzCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      ...TESTBED_FLAGS,
      profile: { type: 'string', multiple: true },
      placement: { type: 'string', multiple: true },
      cases: { type: 'string' },
      time: { type: 'string' },
      workers: { type: 'string' },
      shard: { type: 'string' },
      out: { type: 'string' },
    },
    allowPositionals: false,
    strict: true,
  });
  const profiles = expandAll(values.profile ?? [TESTBED_DEFAULTS.profile], PROFILE_NAMES);
  const placements = expandAll(values.placement ?? [TESTBED_DEFAULTS.placement], PLACEMENT_NAMES);
  const targets: FuzzTarget[] = [];
  let seed = 0;
  for (const profile of profiles) {
    for (const placement of placements) {
      const choice = resolveTestbedFlags({ ...values, profile, placement });
      seed = choice.seed;
      targets.push({
        profile: choice.profile,
        placement: choice.placement,
        strategy: choice.strategy,
        blockSize: choice.blockSize,
        blocks: choice.namespaceBytes / choice.blockSize,
      });
    }
  }
  const timeMs = values.time === undefined ? undefined : parseDuration(values.time, '--time');
  if (timeMs !== undefined && !(timeMs > 0)) throw new UsageError(`--time: '${values.time}' must be longer than 0`);
  const cases =
    values.cases === undefined
      ? timeMs === undefined
        ? DEFAULT_CASES
        : undefined
      : parseInteger(values.cases, '--cases', 1, Number.MAX_SAFE_INTEGER);
  const workers = values.workers === undefined ? 1 : parseInteger(values.workers, '--workers', 1, MAX_WORKERS);
  const shard = values.shard === undefined ? { index: 0, count: 1 } : parseShard(values.shard);
  const out = values.out ?? process.cwd();
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out: ${out} is not a directory`);

  const plan: CampaignPlan = { targets, seed, cases, shard };
  const label = (o: CaseOutcome) => {
    const t = targets[o.target] as FuzzTarget;
    return `${t.profile.name} x ${t.placement}`;
  };
  const progress = createProgress({ stream: ctx.stderr, enabled: !ctx.json });
  const started = performance.now();
  let run = 0;
  let failed = 0;
  const total = cases === undefined ? undefined : sliceSize(cases, shard);
  const result = await runCampaign(plan, {
    workers,
    ...(timeMs === undefined ? {} : { timeMs }),
    onCase: (o) => {
      run++;
      if (!o.ok && !o.skipped) failed++;
      progress.update(() => {
        const s = (performance.now() - started) / 1000;
        const budget = total === undefined ? '' : `/${total}`;
        const time = timeMs === undefined ? '' : `, ${s.toFixed(0)}s of ${(timeMs / 1000).toFixed(0)}s`;
        return `fuzz: ${run}${budget} cases, ${failed} failed, ${(run / s).toFixed(0)} cases/s${time} [${label(o)}]`;
      });
    },
    onShrink: (o) => {
      progress.update(() => `fuzz: shrinking case ${o.id} (${label(o)})`);
    },
  });
  progress.done();
  const written = result.failures.map((f) => writeCase(f, plan, out, values));
  if (ctx.json) ctx.out(JSON.stringify(resultJson(result, plan, written), null, 2));
  else report(ctx, result, plan, written);
  return result.failed === 0 ? EXIT_OK : EXIT_FAILED;
}

/** Names with `all` expanded, duplicates dropped, order kept. */
function expandAll(given: readonly string[], all: readonly string[]): string[] {
  return [...new Set(given.flatMap((n) => (n === 'all' ? all : [n])))];
}

function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const k = Number(match?.[1]);
  const n = Number(match?.[2]);
  if (match === null || !(n >= 1) || !(k >= 1 && k <= n)) {
    throw new UsageError(`--shard: '${text}' is not K/N with 1 <= K <= N (e.g. 2/3)`);
  }
  return { index: k - 1, count: n };
}

/** Cases of `cases` that fall in `shard`. */
function sliceSize(cases: number, shard: Shard): number {
  return Math.max(0, Math.ceil((cases - shard.index) / shard.count));
}

/** A file name part from a profile name (a file profile's name may hold anything). */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Writes a shrunk failure as `epfsim-<profile>-<seed>.case.json`; returns its path. */
function writeCase(
  f: CampaignFailure,
  plan: CampaignPlan,
  out: string,
  values: { strategy?: string | undefined },
): string {
  const t = plan.targets[f.outcome.target] as FuzzTarget;
  const path = join(out, `epfsim-${safeName(t.profile.name)}-${f.outcome.seed}.case.json`);
  const commandLine = [
    'epfsim fuzz',
    `--profile ${t.profile.name}`,
    `--placement ${t.placement}`,
    `--strategy ${values.strategy ?? t.strategy}`,
    `--seed ${plan.seed}`,
  ].join(' ');
  const description =
    `${commandLine}: case ${f.outcome.id} (case seed ${f.outcome.seed}), shrunk in ${f.shrunk.shrinkRuns} runs ` +
    `to ${f.shrunk.caseFile.commands.length} command(s). ${firstFailure(f.shrunk.report) ?? ''}`;
  try {
    mkdirSync(out, { recursive: true });
    writeFileSync(path, `${JSON.stringify(serializeCaseFile({ ...f.shrunk.caseFile, description }), null, 2)}\n`);
  } catch (error) {
    throw new UsageError(`--out: cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return path;
}

function rate(r: CampaignResult): number {
  return r.elapsedMs > 0 ? Math.round((r.casesRun / r.elapsedMs) * 1000) : r.casesRun;
}

function report(ctx: CommandContext, r: CampaignResult, plan: CampaignPlan, written: readonly string[]): void {
  const shard = r.shard.count > 1 ? `, shard ${r.shard.index + 1}/${r.shard.count}` : '';
  const workers = r.workers > 1 ? `, ${r.workers} workers` : '';
  ctx.out(
    `epfsim fuzz: ${r.casesRun} cases in ${(r.elapsedMs / 1000).toFixed(1)} s (${rate(r)} cases/s${workers}${shard}), ` +
      `seed ${r.seed}, ${r.failed} failed${r.skipped > 0 ? `, ${r.skipped} skipped (no room to place)` : ''}`,
  );
  for (const t of r.perTarget) {
    ctx.out(`  ${t.profile} x ${t.placement}: ${t.cases} cases, ${t.failures} failed`);
  }
  r.failures.forEach((f, i) => {
    const t = plan.targets[f.outcome.target] as FuzzTarget;
    ctx.out(
      `FAILED ${t.profile.name} x ${t.placement}: case ${f.outcome.id} (seed ${f.outcome.seed}): ${f.outcome.failure}`,
    );
    ctx.out(
      `  shrunk in ${f.shrunk.shrinkRuns} runs to ${f.shrunk.caseFile.commands.length} command(s): ${firstFailure(f.shrunk.report)}`,
    );
    ctx.out(`  case file: ${written[i]}`);
    ctx.out(`  replay it: epfsim replay ${written[i]}`);
  });
}

function resultJson(r: CampaignResult, plan: CampaignPlan, written: readonly string[]): Record<string, unknown> {
  const names = (o: CaseOutcome) => {
    const t = plan.targets[o.target] as FuzzTarget;
    return { profile: t.profile.name, placement: t.placement };
  };
  return {
    seed: r.seed,
    shard: `${r.shard.index + 1}/${r.shard.count}`,
    workers: r.workers,
    casesRun: r.casesRun,
    failed: r.failed,
    skipped: r.skipped,
    elapsedMs: r.elapsedMs,
    casesPerSecond: rate(r),
    perTarget: r.perTarget,
    failures: r.failures.map((f, i) => ({
      id: f.outcome.id,
      seed: f.outcome.seed,
      ...names(f.outcome),
      failure: f.outcome.failure,
      shrunk: {
        runs: f.shrunk.shrinkRuns,
        commands: f.shrunk.caseFile.commands.length,
        failure: firstFailure(f.shrunk.report),
        path: f.shrunk.path,
      },
      caseFile: written[i],
    })),
    cases: r.outcomes.map((o) => ({
      id: o.id,
      seed: o.seed,
      ...names(o),
      ok: o.ok,
      ...(o.skipped ? { skipped: true } : {}),
      ...(o.failure === undefined ? {} : { failure: o.failure }),
    })),
  };
}
