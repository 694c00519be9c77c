/**
 * Putting a sharded campaign back together: the `--json` results of the N shards of one campaign
 * (`epfsim fuzz --shard K/N --json`, run anywhere: a CI job matrix, a batch cluster) merge into the
 * result of the whole campaign, with the same counts the unsharded run gives. Case ids are global,
 * so the union of the shards' cases is the campaign's; the failure kept per profile x placement is
 * the one with the lowest case id, the one the unsharded run would have shrunk.
 */

/** One case as a campaign's JSON lists it. */
export interface CaseJson {
  readonly id: number;
  readonly seed: number;
  readonly profile: string;
  readonly placement: string;
  readonly ok: boolean;
  readonly skipped?: boolean;
  readonly failure?: string;
}

/** A failure (shrunk) as a campaign's JSON lists it. */
export interface FailureJson {
  readonly id: number;
  readonly profile: string;
  readonly placement: string;
  readonly [key: string]: unknown;
}

export interface TargetCountsJson {
  readonly profile: string;
  readonly placement: string;
  readonly cases: number;
  readonly failures: number;
  readonly skipped: number;
}

/** How a `--differential` campaign's cases compared with QEMU. */
export interface DifferentialJson {
  readonly epfsimOptions: string;
  readonly identical: number;
  readonly explained: number;
  readonly undocumented: number;
  readonly known: Readonly<Record<string, number>>;
  readonly undocumentedDifferences: readonly {
    readonly id: number;
    readonly seed: number;
    readonly difference: string;
  }[];
}

/** The fields of `epfsim fuzz --json` a merge reads and writes. */
export interface CampaignJson {
  readonly seed: number;
  /** `K/N`, or `all/N` once merged. */
  readonly shard: string;
  readonly workers: number;
  readonly casesRun: number;
  readonly failed: number;
  readonly skipped: number;
  readonly elapsedMs: number;
  readonly casesPerSecond: number;
  readonly perTarget: readonly TargetCountsJson[];
  readonly failures: readonly FailureJson[];
  readonly cases: readonly CaseJson[];
  readonly differential?: DifferentialJson;
  readonly [key: string]: unknown;
}

/** Shards that do not make one whole campaign. */
export class ShardMergeError extends Error {
  override readonly name = 'ShardMergeError';
  readonly isUserError = true as const;
  /** The shard results file at fault, or '' when the set as a whole is wrong (one missing). */
  readonly path: string;
  constructor(message: string, path = '') {
    super(message);
    this.path = path;
  }
}

function parseShard(text: unknown, source: string): { index: number; count: number } {
  const m = typeof text === 'string' ? /^(\d+)\/(\d+)$/.exec(text) : null;
  if (m === null)
    throw new ShardMergeError(`${source}: no shard K/N (is it the --json output of epfsim fuzz?)`, source);
  return { index: Number(m[1]), count: Number(m[2]) };
}

/**
 * Merges the results of every shard of one campaign. Throws {@link ShardMergeError} when they are
 * not the N shards of one campaign (different seeds or shard counts, a shard missing or twice).
 */
export function mergeShards(
  results: readonly { readonly source: string; readonly json: CampaignJson }[],
): CampaignJson {
  const first = results[0];
  if (first === undefined) throw new ShardMergeError('no shard results to merge');
  const count = parseShard(first.json.shard, first.source).count;
  const seen = new Map<number, string>();
  for (const { source, json } of results) {
    const shard = parseShard(json.shard, source);
    if (json.seed !== first.json.seed)
      throw new ShardMergeError(
        `${source}: seed ${json.seed}, but ${first.source} has seed ${first.json.seed}`,
        source,
      );
    if (shard.count !== count)
      throw new ShardMergeError(`${source}: shard ${json.shard}, but ${first.source} is one of ${count}`, source);
    const twice = seen.get(shard.index);
    if (twice !== undefined) throw new ShardMergeError(`${source}: shard ${json.shard} is also ${twice}`, source);
    seen.set(shard.index, source);
    if (!Array.isArray(json.cases)) throw new ShardMergeError(`${source}: no cases listed`, source);
    if ((json.differential === undefined) !== (first.json.differential === undefined))
      throw new ShardMergeError(`${source}: differential and plain campaign results do not merge`, source);
    if (json.differential?.epfsimOptions !== first.json.differential?.epfsimOptions)
      throw new ShardMergeError(`${source}: differential with other epfsim options than ${first.source}`, source);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((k) => !seen.has(k));
  if (missing.length > 0)
    throw new ShardMergeError(
      `shard${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${count}`).join(', ')} missing`,
    );

  const cases = results.flatMap((r) => r.json.cases).sort((a, b) => a.id - b.id);
  const targets = first.json.perTarget.map((t) => ({ profile: t.profile, placement: t.placement }));
  const perTarget: TargetCountsJson[] = targets.map((t) => {
    const mine = cases.filter((c) => c.profile === t.profile && c.placement === t.placement);
    return {
      ...t,
      cases: mine.filter((c) => c.skipped !== true).length,
      failures: mine.filter((c) => !c.ok && c.skipped !== true).length,
      skipped: mine.filter((c) => c.skipped === true).length,
    };
  });
  const failures: FailureJson[] = [];
  for (const t of targets) {
    const candidates = results
      .flatMap((r) => r.json.failures)
      .filter((f) => f.profile === t.profile && f.placement === t.placement)
      .sort((a, b) => a.id - b.id);
    if (candidates[0] !== undefined) failures.push(candidates[0]);
  }
  const casesRun = cases.filter((c) => c.skipped !== true).length;
  // Shards run side by side: the campaign took as long as its slowest shard.
  const elapsedMs = Math.max(...results.map((r) => r.json.elapsedMs));
  return {
    ...first.json,
    shard: `all/${count}`,
    workers: results.reduce((n, r) => n + r.json.workers, 0),
    casesRun,
    failed: cases.filter((c) => !c.ok && c.skipped !== true).length,
    skipped: cases.filter((c) => c.skipped === true).length,
    elapsedMs,
    casesPerSecond: elapsedMs > 0 ? Math.round((casesRun / elapsedMs) * 1000) : casesRun,
    perTarget,
    failures,
    cases,
    ...(first.json.differential === undefined
      ? {}
      : { differential: mergeDifferential(results.map((r) => r.json.differential as DifferentialJson)) }),
  };
}

/** Agreement counts add up; each known difference's count too. */
function mergeDifferential(parts: readonly DifferentialJson[]): DifferentialJson {
  const known: Record<string, number> = {};
  for (const p of parts) for (const [id, n] of Object.entries(p.known)) known[id] = (known[id] ?? 0) + n;
  const sum = (key: 'identical' | 'explained' | 'undocumented') => parts.reduce((n, p) => n + p[key], 0);
  return {
    epfsimOptions: (parts[0] as DifferentialJson).epfsimOptions,
    identical: sum('identical'),
    explained: sum('explained'),
    undocumented: sum('undocumented'),
    known,
    undocumentedDifferences: parts.flatMap((p) => p.undocumentedDifferences).sort((a, b) => a.id - b.id),
  };
}
