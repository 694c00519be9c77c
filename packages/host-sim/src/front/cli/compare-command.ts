import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_PROFILES, type EpcProfile, PROFILE_NAMES, STRATEGY_NAMES } from '@epfsim/epc-core';
import {
  COMPARE_PLACEMENTS,
  COMPARE_WORKLOADS,
  compareMatrix,
  DEFAULT_IOS,
  QUICK_IOS,
  QUICK_PROFILES,
} from '../compare/compare-matrix.js';
import type { CompareReport } from '../compare/compare-report.js';
import { type CompareProgress, runCompare } from '../compare/compare-runner.js';
import { compareEndpointTest, formatEndpointTestCompare } from '../compare/endpoint-test-compare.js';
import { formatCompareReport } from '../compare/format-table.js';
import { renderReportHtml } from '../compare/report-html.js';
import type { CommandContext } from './command.js';
import { resolveTestbedFlags, TESTBED_DEFAULTS } from './common-options.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { parseInteger, parseStrategy } from './options.js';
import { checkOutDir, ensureDir } from './out-dir.js';
import { createProgress } from './progress.js';
import { resolveProfile } from './resolve-profile.js';
import { parseFunction } from './run-endpoint-test.js';
import { EXIT_OK, UsageError } from './usage-error.js';

/** The most I/Os per cell --ios accepts (a cell of 128 KiB I/Os then moves 128 GiB). */
const MAX_IOS = 1_000_000;
const ALL = 'all';
const PERCENT = 100;
const MS_PER_S = 1000;
export const REPORT_JSON = 'report.json';
export const REPORT_HTML = 'report.html';

export const COMPARE_HELP = `usage: epfsim compare [options] [--json]

Runs the same seeded workloads (${COMPARE_WORKLOADS.map((w) => w.name).join(', ')}) under the
${COMPARE_PLACEMENTS.join(' and ')} placements on every controller profile with every transfer
strategy, and prints a table per profile: commands failed (and with which status), map calls
and ATU programs per command, partial maps, slot high-water mark, bytes per map and the
simulator's own throughput. It also writes ${REPORT_JSON} and a self-contained ${REPORT_HTML}
(inline SVG: failure rates, map calls per command, where failing host addresses sat); with
--json, only when --out names where.
Failed commands are results, not errors: exit 0 when the comparison ran, 2 for a bad option.

options:
  --quick              a reduced matrix (profiles ${QUICK_PROFILES.join(', ')}; ${QUICK_IOS} I/Os per cell)
  --profile NAME|FILE  a profile to compare (repeatable; 'all' or default: ${PROFILE_NAMES.join(', ')})
  --strategy NAME|FILE.mjs
                       a strategy to compare (repeatable; 'all' or default: ${STRATEGY_NAMES.join(', ')});
                       a module is your own map loop, listed by the name it gives itself
  --ios N              I/Os per cell (default ${DEFAULT_IOS}, ${QUICK_IOS} with --quick)
  --seed N             seed of the placements, offsets and data (default ${TESTBED_DEFAULTS.seed})
  --function NAME      nvme (default): the NVMe workloads above; pci-epf-test: the kernel selftest
                       as the workload (its read, write and copy cases with buffers just below a
                       1 MiB edge), each strategy as the endpoint test function's map loop
  --out DIR            where ${REPORT_JSON} and ${REPORT_HTML} go (default: the current directory,
                       or nowhere with --json); checked before the matrix runs
  --json               the report (the same as ${REPORT_JSON}) on stdout instead of the tables
                       (docs/json/compare.schema.json); files are written only with --out

The same seed gives the same counts; only the throughput columns vary from run to run.`;

/** Names with `all` expanded, duplicates dropped, order kept. */
function expandAll(given: readonly string[], all: readonly string[]): string[] {
  return [...new Set(given.flatMap((n) => (n === ALL ? all : [n])))];
}

function progressLine(p: CompareProgress): string {
  const c = p.cell;
  const share = Math.floor((p.cellsDone / p.cells) * PERCENT);
  return `compare: ${p.cellsDone}/${p.cells} cells (${share}%), ${(p.elapsedMs / MS_PER_S).toFixed(1)} s [${c.profile.name} ${c.strategy} ${c.placement} ${c.workload.name}: ${p.ios} I/Os]`;
}

function writeReports(out: string, report: CompareReport): string[] {
  const files: [string, string][] = [
    [join(out, REPORT_JSON), `${JSON.stringify(report, null, 2)}\n`],
    [join(out, REPORT_HTML), renderReportHtml(report)],
  ];
  ensureDir(out, '--out');
  for (const [path, text] of files) {
    try {
      writeFileSync(path, text);
    } catch (error) {
      throw new UsageError(`--out: cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  return files.map(([path]) => path);
}

/** The endpoint test function's selftest as compare's workload: a table per profile, or `--json` rows. */
function compareEndpointTestCommand(
  ctx: CommandContext,
  profiles: readonly EpcProfile[],
  strategies: readonly string[],
  seed: number,
): number {
  const rows = compareEndpointTest(profiles, strategies, seed);
  if (ctx.json)
    ctx.out(JSON.stringify({ version: JSON_OUTPUT_VERSION, function: 'pci-epf-test', seed, rows }, null, 2));
  else {
    ctx.out(
      `epfsim compare --function pci-epf-test: the kernel selftest per row (with DMA cases where the controller has an engine), buffers just below a 1 MiB edge, seed ${seed}`,
    );
    for (const line of formatEndpointTestCompare(rows)) ctx.out(line);
  }
  return EXIT_OK;
}

/** `epfsim compare`: every strategy on every profile, as tables, report.json and report.html. */
export async function compareCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: 'boolean' },
      profile: { type: 'string', multiple: true },
      strategy: { type: 'string', multiple: true },
      ios: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      function: { type: 'string' },
    },
    allowPositionals: false,
    strict: true,
  });
  const quick = values.quick ?? false;
  const profiles =
    values.profile === undefined ? undefined : expandAll(values.profile, PROFILE_NAMES).map(resolveProfile);
  const strategies =
    values.strategy === undefined ? undefined : expandAll(values.strategy, STRATEGY_NAMES).map((s) => parseStrategy(s));
  const ios = values.ios === undefined ? undefined : parseInteger(values.ios, '--ios', 1, MAX_IOS);
  const { seed } = resolveTestbedFlags({ seed: values.seed });
  if (parseFunction(values.function).name === 'pci-epf-test') {
    const other = (['quick', 'ios', 'out'] as const).find((k) => values[k] !== undefined);
    if (other !== undefined) throw new UsageError(`--${other}: not for --function pci-epf-test`);
    return compareEndpointTestCommand(ctx, profiles ?? BUILTIN_PROFILES, strategies ?? STRATEGY_NAMES, seed);
  }
  // --json is the report on stdout: files in the current directory only when asked for.
  const out = values.out ?? (ctx.json ? undefined : process.cwd());
  if (out !== undefined) checkOutDir(out, '--out');

  const matrix = compareMatrix({
    quick,
    seed,
    ...(profiles === undefined ? {} : { profiles }),
    ...(strategies === undefined ? {} : { strategies }),
    ...(ios === undefined ? {} : { ios }),
  });
  const progress = createProgress({ stream: ctx.stderr, enabled: !ctx.json });
  const report = await runCompare(matrix, { onProgress: (p) => progress.update(() => progressLine(p)) });
  progress.done();
  const written = out === undefined ? [] : writeReports(out, report);
  if (ctx.json) {
    ctx.out(JSON.stringify(report, null, 2));
  } else {
    for (const line of formatCompareReport(report)) ctx.out(line);
    ctx.out(`reports: ${written.join(', ')}`);
  }
  return EXIT_OK;
}
