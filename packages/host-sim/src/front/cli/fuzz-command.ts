import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROFILE_NAMES, STRATEGY_NAMES } from '@epfsim/epc-core';
import { PLACEMENT_NAMES } from '../../host/placement/placement-factory.js';
import { loadedPlugins } from '../../host/plugins/user-modules.js';
import { formatFunctionAccount } from '../../host/target/function-account.js';
import { qemuFuzzTarget, qemuOptionsFor } from '../../reference/differential/fuzz-target.js';
import {
  type CaseVerdict,
  DIFFERENTIAL_MAX_NAMESPACE_BYTES,
  GeneratedCaseDifferential,
} from '../../reference/differential/generated-case.js';
import { QEMU_COMPAT_OPTIONS } from '../../reference/differential/known-differences.js';
import { type Difference, formatDifference } from '../../reference/differential/outcome.js';
import { QemuCaseRunner } from '../../reference/qemu/qemu-case-runner.js';
import { replayCase } from '../../runs/case-file/replay-case.js';
import { type CaseReport, firstFailure } from '../../runs/case-file/replay-report.js';
import { serializeCaseFile } from '../../runs/case-file/serialize-case-file.js';
import {
  type CampaignFailure,
  type CampaignOptions,
  type CampaignResult,
  type CaseOutcome,
  runCampaign,
} from '../../runs/fuzz/campaign.js';
import type { CampaignPlan, Shard } from '../../runs/fuzz/campaign-plan.js';
import type { CaseRunner, FuzzTarget } from '../../runs/fuzz/fuzz-case.js';
import type { CommandContext } from './command.js';
import { resolveTestbedFlags, TESTBED_DEFAULTS, TESTBED_FLAGS } from './common-options.js';
import { fuzzEndpointTest } from './fuzz-endpoint-test.js';
import { fuzzMerge } from './fuzz-merge.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { parseDuration, parseInteger } from './options.js';
import { checkOutDir, ensureDir } from './out-dir.js';
import { createProgress } from './progress.js';
import { parseFunction } from './run-endpoint-test.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage-error.js';

const DEFAULT_CASES = 1000;
/** A differential case costs a QEMU replay and two namespace reads: ~50 cases/s, a few seconds. */
const DEFAULT_DIFFERENTIAL_CASES = 200;
/** Namespaces are compared whole after each differential case: keep them small by default. */
const DEFAULT_DIFFERENTIAL_NS_SIZE = '8m';
const MAX_WORKERS = 256;
const PERCENT = 100;

export const FUZZ_HELP = `usage: epfsim fuzz [options]

Fuzzes where the host puts things and what the host does. Each case is a fresh testbed brought
up at fuzzed addresses (admin and I/O queues: shared CQs, IEN = 0, CQs smaller than their SQs,
8 or 64 KiB pages, Number of Queues, an outstanding AER), then up to twelve host actions: placed
I/O in batches before one doorbell, Identify, commands that fail before they run, queue creation
with each field wrong, deletion, delete-and-recreate, raw doorbells past the ring or to queues
that do not exist, a held CQ head, coalescing, resets, shutdowns and invalid enables. A model of
the controller and of the namespace writes what the specification says into every step; the
replay also checks one CQE per command, no post into a full CQ, interrupts against IEN and IV,
nothing touched outside the host's grants, no fault except where a case puts data in a hole, and
no leaked outbound mapping. A failing case is shrunk by fast-check and written as a case file
that 'epfsim replay' reproduces without the generator.

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
  --function NAME               nvme (default) | pci-epf-test: fuzz where the host puts the Linux
                                endpoint test function's buffers (near 1 MiB edges, anywhere, any
                                driver alignment; read, write, copy, DMA), each case checked by CRC-32,
                                leaks and bus faults; takes --profile, --seed and --cases; or
                                FILE.mjs, your own NVMe function module (as in 'epfsim run')
  --merge FILE...               merge the --json results of the N shards of one campaign into the
                                whole campaign's result (same counts as the unsharded run); exit 1
                                when any shard's case failed
  --out DIR                     where case files are written (default: the current directory);
                                checked (created, written to) before the campaign starts
  --json                        the result as JSON on stdout (cases run, failures, counts per
                                profile x placement, cases/s, every case's id and seed;
                                docs/json/fuzz.schema.json)
  --verbose                     with each failure, the function's event trace on its shrunk case
controller:
  --strategy NAME               ${STRATEGY_NAMES.join(' | ')} (default ${TESTBED_DEFAULTS.strategy})
  --ns-size SIZE                namespace size (default ${TESTBED_DEFAULTS.nsSize}; ${DEFAULT_DIFFERENTIAL_NS_SIZE} with --differential)
  --block-size 512|4096         logical block size (default ${TESTBED_DEFAULTS.blockSize})
  --inject NAME                 inject a named fault (docs/faults.md; repeatable): the campaign should
                                find it, and the case file it writes carries the fault
  --target epfsim|qemu          where cases run (default epfsim). qemu: one QEMU 7.2 replays every
                                case (reset and zeroed between cases), placements stay in its guest
                                RAM, cases expect QEMU's documented behaviour (docs/qemu-differences.md)
                                and the EPC checks are not applicable; needs --workers 1
reference:
  --differential                run each case on epfsim and on QEMU from the same state and compare
                                status per command, the data each command wrote and the namespace;
                                a difference no known difference explains fails the case. Prints the
                                agreement rate (identical / explained / undocumented). Default
                                ${DEFAULT_DIFFERENTIAL_CASES} cases
  --compat                      with --differential: epfsim runs with QEMU_COMPAT_OPTIONS instead of
                                the specification's defaults

A failure names its root cause as the function saw it (the EPC error behind a Data Transfer
Error, the event that set CSTS.CFS), in the failure line and in the case file's description.

exit status: 0 no case failed; 1 a case failed (its shrunk case file is written and its path
printed); 2 bad flags.`;

/** `epfsim fuzz`: a campaign over profiles × placements; failures shrink into case files. */
export async function fuzzCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...TESTBED_FLAGS,
      merge: { type: 'boolean' },
      function: { type: 'string' },
      profile: { type: 'string', multiple: true },
      placement: { type: 'string', multiple: true },
      cases: { type: 'string' },
      time: { type: 'string' },
      workers: { type: 'string' },
      shard: { type: 'string' },
      out: { type: 'string' },
      differential: { type: 'boolean' },
      compat: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.merge === true) {
    const campaign = Object.keys(values).filter((k) => k !== 'merge');
    if (campaign.length > 0) throw new UsageError(`--merge: takes only the shards' files, not --${campaign[0]}`);
    return fuzzMerge(ctx, positionals);
  }
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument '${positionals[0]}' (shard results to merge go after --merge)`);
  const fn = parseFunction(values.function);
  if (fn.name === 'pci-epf-test') {
    const other = Object.keys(values).find((k) => !['function', 'profile', 'seed', 'cases'].includes(k));
    if (other !== undefined) throw new UsageError(`--${other}: not for --function pci-epf-test`);
    const profiles = expandAll(values.profile ?? [TESTBED_DEFAULTS.profile], PROFILE_NAMES).map(
      (profile) => resolveTestbedFlags({ profile, placement: 'linux' }).profile,
    );
    const seed = resolveTestbedFlags({
      placement: 'linux',
      ...(values.seed === undefined ? {} : { seed: values.seed }),
    }).seed;
    const cases =
      values.cases === undefined ? DEFAULT_CASES : parseInteger(values.cases, '--cases', 1, Number.MAX_SAFE_INTEGER);
    return fuzzEndpointTest(ctx, profiles, cases, seed);
  }
  const differential = values.differential ?? false;
  if (values.compat === true && !differential) throw new UsageError('--compat needs --differential');
  if (differential && values.target !== undefined && values.target !== 'qemu')
    throw new UsageError(`--differential compares epfsim with QEMU: --target ${values.target} does not apply`);
  const nsSize = values['ns-size'] ?? (differential ? DEFAULT_DIFFERENTIAL_NS_SIZE : undefined);
  const profiles = expandAll(values.profile ?? [TESTBED_DEFAULTS.profile], PROFILE_NAMES);
  const placements = expandAll(values.placement ?? [TESTBED_DEFAULTS.placement], PLACEMENT_NAMES);
  const targets: FuzzTarget[] = [];
  let seed = 0;
  let onQemu = differential;
  for (const profile of profiles) {
    for (const placement of placements) {
      const choice = resolveTestbedFlags({ ...values, 'ns-size': nsSize, profile, placement });
      seed = choice.seed;
      onQemu ||= choice.target === 'qemu';
      const target: FuzzTarget = {
        profile: choice.profile,
        placement: choice.placement,
        strategy: choice.strategy,
        ...(fn.module === undefined ? {} : { implementation: fn.module }),
        blockSize: choice.blockSize,
        blocks: choice.namespaceBytes / choice.blockSize,
        ...(choice.faults === undefined ? {} : { inject: choice.faults }),
      };
      // A differential case's verdict is the comparison: it keeps the layouts QEMU mishandles.
      targets.push(onQemu ? qemuFuzzTarget(target, differential ? 'spec' : 'qemu-7.2') : target);
    }
  }
  const first = targets[0] as FuzzTarget;
  if (differential && first.blocks * first.blockSize > DIFFERENTIAL_MAX_NAMESPACE_BYTES) {
    throw new UsageError(
      `--ns-size: at most ${DIFFERENTIAL_MAX_NAMESPACE_BYTES >> 20}m with --differential (both namespaces are compared whole after every case)`,
    );
  }
  const timeMs = values.time === undefined ? undefined : parseDuration(values.time, '--time');
  if (timeMs !== undefined && !(timeMs > 0)) throw new UsageError(`--time: '${values.time}' must be longer than 0`);
  const cases =
    values.cases === undefined
      ? timeMs === undefined
        ? differential
          ? DEFAULT_DIFFERENTIAL_CASES
          : DEFAULT_CASES
        : undefined
      : parseInteger(values.cases, '--cases', 1, Number.MAX_SAFE_INTEGER);
  const workers = values.workers === undefined ? 1 : parseInteger(values.workers, '--workers', 1, MAX_WORKERS);
  if (onQemu && workers > 1)
    throw new UsageError('--workers: one QEMU serves the whole campaign; run several with --shard K/N instead');
  const shard = values.shard === undefined ? { index: 0, count: 1 } : parseShard(values.shard);
  const out = values.out ?? process.cwd();
  // A failure found after an hour must not be lost to an unwritable folder: check it now.
  checkOutDir(out, '--out');

  const plan: CampaignPlan = { targets, seed, cases, shard, plugins: loadedPlugins() };
  const label = (o: CaseOutcome) => {
    const t = targets[o.target] as FuzzTarget;
    return `${t.profile.name} x ${t.placement}`;
  };
  const progress = createProgress({ stream: ctx.stderr, enabled: !ctx.json });
  const started = performance.now();
  let run = 0;
  let failed = 0;
  const total = cases === undefined ? undefined : sliceSize(cases, shard);
  const reference = onQemu
    ? await openReference(first, differential, values.compat === true)
    : { runCase: undefined, verdict: () => undefined, close: () => {} };
  const tally: Tally = { identical: 0, explained: 0, undocumented: 0, known: new Map(), undocumentedList: [] };
  const options: CampaignOptions = {
    workers,
    ...(timeMs === undefined ? {} : { timeMs }),
    ...(reference.runCase === undefined ? {} : { runCase: reference.runCase }),
    onCase: (o) => {
      run++;
      if (!o.ok && !o.skipped) failed++;
      if (differential && !o.skipped) count(tally, o, reference.verdict());
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
  };
  let result: CampaignResult;
  try {
    result = await runCampaign(plan, options);
  } finally {
    reference.close();
  }
  progress.done();
  const written = result.failures.map((f) => writeCase(f, plan, out, values));
  const compat = values.compat === true;
  // The function's whole trace on each shrunk case (it replays in a moment, without the generator).
  const traced =
    ctx.verbose && !onQemu ? result.failures.map((f) => replayCase(f.shrunk.caseFile, { events: true })) : [];
  if (ctx.json) {
    const json = { version: JSON_OUTPUT_VERSION, ...resultJson(result, plan, written, traced) };
    ctx.out(JSON.stringify(differential ? { ...json, differential: tallyJson(tally, compat) } : json, null, 2));
  } else {
    report(ctx, result, plan, written, traced);
    if (onQemu && !differential)
      ctx.out('  target qemu: the EPC checks (isolation, bus faults, leaks) are not applicable');
    if (differential) for (const line of tallyLines(tally, compat)) ctx.out(line);
  }
  return result.failed === 0 ? EXIT_OK : EXIT_FAILED;
}

/** How differential cases compared, over the campaign's main pass (shrinking runs not counted). */
interface Tally {
  identical: number;
  explained: number;
  undocumented: number;
  /** Known difference id → differences seen. */
  readonly known: Map<string, number>;
  readonly undocumentedList: { readonly id: number; readonly seed: number; readonly difference: Difference }[];
}

/** What a campaign on QEMU runs its cases with. */
interface Reference {
  readonly runCase: CaseRunner | undefined;
  /** The verdict and differences of the last differential case (undefined: not differential, or skipped). */
  verdict(): { verdict: CaseVerdict; differences: readonly Difference[] } | undefined;
  close(): void;
}

/** Starts the one QEMU of the campaign (every target shares its namespace configuration). */
async function openReference(target: FuzzTarget, differential: boolean, compat: boolean): Promise<Reference> {
  const qemu = qemuOptionsFor(target);
  if (!differential) {
    const runner = await QemuCaseRunner.start(qemu);
    return { runCase: (c) => runner.run(c), verdict: () => undefined, close: () => runner.close() };
  }
  const diff = await GeneratedCaseDifferential.start({ qemu, epfsimOptions: compat ? QEMU_COMPAT_OPTIONS : {} });
  return {
    runCase: diff.runCase,
    verdict: () => {
      const last = diff.last;
      diff.last = undefined;
      return last;
    },
    close: () => diff.close(),
  };
}

function count(t: Tally, o: CaseOutcome, v: ReturnType<Reference['verdict']>): void {
  if (v === undefined) return;
  t[v.verdict]++;
  for (const d of v.differences) {
    if (d.known !== undefined) t.known.set(d.known, (t.known.get(d.known) ?? 0) + 1);
    else t.undocumentedList.push({ id: o.id, seed: o.seed, difference: d });
  }
}

function percent(n: number, total: number): string {
  return total === 0 ? '0.0' : ((n / total) * PERCENT).toFixed(1);
}

function tallyLines(t: Tally, compat: boolean): string[] {
  const total = t.identical + t.explained + t.undocumented;
  const options = compat ? 'QEMU_COMPAT_OPTIONS' : 'specification defaults';
  return [
    `differential (epfsim with ${options} vs QEMU 7.2): ${t.identical}/${total} cases identical (${percent(t.identical, total)}%), ` +
      `${t.explained} explained by known differences, ${t.undocumented} with undocumented differences`,
    ...[...t.known].map(([id, n]) => `  known ${id}: ${n} difference(s)`),
    ...t.undocumentedList.map((u) => `  UNDOCUMENTED case ${u.id} (seed ${u.seed}): ${formatDifference(u.difference)}`),
  ];
}

function tallyJson(t: Tally, compat: boolean): Record<string, unknown> {
  return {
    epfsimOptions: compat ? 'QEMU_COMPAT_OPTIONS' : 'defaults',
    identical: t.identical,
    explained: t.explained,
    undocumented: t.undocumented,
    known: Object.fromEntries(t.known),
    undocumentedDifferences: t.undocumentedList.map((u) => ({
      id: u.id,
      seed: u.seed,
      difference: formatDifference(u.difference),
    })),
  };
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
  const description = `${commandLine}: case ${f.outcome.id} (case seed ${f.outcome.seed}), ${shrinkText(f)}`;
  ensureDir(out, '--out');
  try {
    writeFileSync(path, `${JSON.stringify(serializeCaseFile({ ...f.shrunk.caseFile, description }), null, 2)}\n`);
  } catch (error) {
    throw new UsageError(`--out: cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return path;
}

/** How shrinking went, and the shrunk case's failure; or that the case did not fail again. */
function shrinkText(f: CampaignFailure): string {
  if (!f.shrunk.reproduced)
    return (
      `not shrunk: it passed when run again, so its outcome depends on something outside the case ` +
      `(timing, the reference's state); the case file is the case as first run. ${f.outcome.failure ?? ''}`
    );
  return `shrunk in ${f.shrunk.shrinkRuns} runs to ${f.shrunk.caseFile.steps.length} step(s): ${firstFailure(f.shrunk.report) ?? ''}`;
}

function rate(r: CampaignResult): number {
  return r.elapsedMs > 0 ? Math.round((r.casesRun / r.elapsedMs) * 1000) : r.casesRun;
}

function report(
  ctx: CommandContext,
  r: CampaignResult,
  plan: CampaignPlan,
  written: readonly string[],
  traced: readonly CaseReport[],
): void {
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
    ctx.out(`  ${shrinkText(f)}`);
    ctx.out(`  case file: ${written[i]}`);
    ctx.out(`  replay it: epfsim replay ${written[i]}`);
    const account = traced[i]?.account ?? f.shrunk.report.account;
    if (account !== undefined) for (const line of formatFunctionAccount(account)) ctx.out(line);
  });
}

function resultJson(
  r: CampaignResult,
  plan: CampaignPlan,
  written: readonly string[],
  traced: readonly CaseReport[],
): Record<string, unknown> {
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
        steps: f.shrunk.caseFile.steps.length,
        failure: firstFailure(f.shrunk.report) ?? f.outcome.failure,
        path: f.shrunk.path,
        reproduced: f.shrunk.reproduced,
      },
      caseFile: written[i],
      ...((traced[i]?.account ?? f.shrunk.report.account) === undefined
        ? {}
        : { account: traced[i]?.account ?? f.shrunk.report.account }),
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
