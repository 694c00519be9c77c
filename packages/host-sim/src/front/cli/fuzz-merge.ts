import { readFileSync } from 'node:fs';
import { type CampaignJson, mergeShards, ShardMergeError } from '../../runs/fuzz/merge-shards.js';
import type { CommandContext } from './command.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage-error.js';

/**
 * `epfsim fuzz --merge FILE…`: the `--json` results of the N shards of one campaign, wherever they
 * ran, become the whole campaign's result, printed as `fuzz` prints one (and with `--json`, in the
 * same schema with shard `all/N`). Exit 1 when a case failed in any shard, as the campaign would.
 */
export function fuzzMerge(ctx: CommandContext, files: readonly string[]): number {
  if (files.length === 0) throw new UsageError('--merge: name the --json result file of every shard');
  let merged: CampaignJson;
  try {
    merged = mergeShards(files.map((source) => ({ source, json: readShard(source) })));
  } catch (error) {
    if (error instanceof ShardMergeError) throw new UsageError(`--merge: ${error.message}`);
    throw error;
  }
  if (ctx.json) ctx.out(JSON.stringify({ ...merged, version: JSON_OUTPUT_VERSION }, null, 2));
  else for (const line of mergedLines(merged, files.length)) ctx.out(line);
  return merged.failed === 0 ? EXIT_OK : EXIT_FAILED;
}

function readShard(path: string): CampaignJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--merge: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--merge: ${path} is not JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UsageError(`--merge: ${path} is not the --json output of epfsim fuzz`);
  const missing = ['seed', 'shard', 'elapsedMs', 'workers', 'perTarget', 'failures', 'cases'].filter(
    (k) => !(k in json),
  );
  if (missing.length > 0)
    throw new UsageError(`--merge: ${path} is not the --json output of epfsim fuzz (no ${missing.join(', ')})`);
  return json as CampaignJson;
}

function mergedLines(m: CampaignJson, shards: number): string[] {
  const d = m.differential;
  return [
    `epfsim fuzz --merge: ${shards} shards, ${m.casesRun} cases (${m.casesPerSecond} cases/s over ` +
      `${(m.elapsedMs / 1000).toFixed(1)} s, the slowest shard), seed ${m.seed}, ${m.failed} failed` +
      (m.skipped > 0 ? `, ${m.skipped} skipped (no room to place)` : ''),
    ...m.perTarget.map((t) => `  ${t.profile} x ${t.placement}: ${t.cases} cases, ${t.failures} failed`),
    ...m.failures.flatMap((f) => [
      `FAILED ${f.profile} x ${f.placement}: case ${f.id} (seed ${String(f.seed)}): ${String(f.failure)}`,
      ...(typeof f.caseFile === 'string' ? [`  case file (on the machine that ran its shard): ${f.caseFile}`] : []),
    ]),
    ...(d === undefined
      ? []
      : [
          `differential: ${d.identical}/${d.identical + d.explained + d.undocumented} cases identical, ` +
            `${d.explained} explained by known differences, ${d.undocumented} with undocumented differences`,
          ...d.undocumentedDifferences.map((u) => `  UNDOCUMENTED case ${u.id} (seed ${u.seed}): ${u.difference}`),
        ]),
  ];
}
