/**
 * `epfsim compare --function pci-epf-test`: the kernel selftest as the workload. For each profile
 * and map loop, the endpoint test function runs every case with its buffers just below a 1 MiB
 * edge (the adversarial placement), so that transfers need partial maps; a row says how many cases
 * failed, which, and what the map loop cost.
 */
import type { EpcProfile } from '@epfsim/epc-core';
import { endpointTestCases } from '../cli/run-endpoint-test.js';
import { strategyLabel } from './strategy-label.js';

/** Failed case names a row shows before "…". */
const FAILED_NAMES_SHOWN = 3;

export interface EndpointTestRow {
  readonly profile: string;
  readonly strategy: string;
  readonly cases: number;
  readonly failed: number;
  readonly failedCases: readonly string[];
  readonly mapCalls: number;
  readonly partialMaps: number;
}

export function compareEndpointTest(
  profiles: readonly EpcProfile[],
  strategies: readonly string[],
  seed: number,
): EndpointTestRow[] {
  return profiles.flatMap((profile) =>
    strategies.map((strategy) => {
      const cases = endpointTestCases({ profile, placement: 'adversarial', seed, alignment: 0, strategy });
      const failed = cases.filter((c) => !c.ok);
      return {
        profile: profile.name,
        strategy: strategyLabel(strategy),
        cases: cases.length,
        failed: failed.length,
        failedCases: failed.map((c) => c.name),
        mapCalls: cases.reduce((n, c) => n + c.mapCalls, 0),
        partialMaps: cases.reduce((n, c) => n + c.partialMaps, 0),
      };
    }),
  );
}

export function formatEndpointTestCompare(rows: readonly EndpointTestRow[]): string[] {
  const width = Math.max('strategy'.length, ...rows.map((r) => r.strategy.length));
  const lines: string[] = [];
  let profile = '';
  for (const r of rows) {
    if (r.profile !== profile) {
      profile = r.profile;
      lines.push('', `${profile}:`, `  ${'strategy'.padEnd(width)}  failed  map calls  partial maps  failed cases`);
    }
    const shown = r.failedCases.slice(0, FAILED_NAMES_SHOWN).join(', ');
    const more = r.failedCases.length > FAILED_NAMES_SHOWN ? ', …' : '';
    lines.push(
      `  ${r.strategy.padEnd(width)}  ${`${r.failed}/${r.cases}`.padStart(6)}  ${String(r.mapCalls).padStart(9)}  ${String(r.partialMaps).padStart(12)}  ${r.failed === 0 ? '-' : shown + more}`,
    );
  }
  return lines;
}
