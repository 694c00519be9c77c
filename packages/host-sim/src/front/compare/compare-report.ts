/**
 * The comparison as one document (report.json, `epfsim compare --json`): what ran, a table per
 * profile with a row per strategy, and every cell. Counts are deterministic for a seed; only the
 * `wallClock` figures and `elapsedMs` are measured time.
 */

import type { EpcProfile } from '@epfsim/epc-core';
import type { CompareMatrix, CompareWorkload } from './compare-matrix.js';
import type { CellResult } from './run-cell.js';
import { strategyLabel } from './strategy-label.js';

export const REPORT_VERSION = 1;

/** One strategy on one profile, over every placement and workload. */
export interface StrategyRow {
  readonly strategy: string;
  readonly planned: number;
  readonly failed: number;
  /** failed / planned. */
  readonly failureRate: number;
  /** Failed commands by status (or `not run`). */
  readonly failures: Readonly<Record<string, number>>;
  /** Failed and planned commands per placement (the grid's two halves). */
  readonly byPlacement: Readonly<Record<string, { readonly planned: number; readonly failed: number }>>;
  /** Cells whose controller never came up. */
  readonly bringUpFailures: number;
  /** Workload commands the per-command figures cover. */
  readonly commands: number;
  /** null when no command ran. */
  readonly mapCallsPerCommand: number | null;
  readonly atuProgramsPerCommand: number | null;
  readonly partialMaps: number;
  readonly slotsHighWater: number;
  /** Bytes moved per map call; null when the strategy made none (DMA). */
  readonly bytesPerMap: number | null;
  /** Failed host accesses: total, starting where the controller cannot, crossing a map limit. */
  readonly failedAccesses: {
    readonly total: number;
    readonly unalignedStart: number;
    readonly crossesMapLimit: number;
  };
  /** The simulator's own throughput over the row's cells (wall clock). */
  readonly wallClock: { readonly iops: number; readonly bytesPerSecond: number };
}

/** The edges a profile's failures are drawn against (bytes). */
export interface ProfileEdges {
  /** What the function driver knows of the controller's alignment (`epc_features->align`). */
  readonly functionAlign: number;
  /** The start alignment every translation needs (DWC region_align); absent when it depends on the range. */
  readonly controllerAlign?: number;
  /** The edge no single map crosses (2^maxBits on pass-through controllers); absent when maps never stop early. */
  readonly mapLimit?: number;
}

export interface ProfileTable {
  readonly profile: string;
  readonly description: string;
  readonly edges: ProfileEdges;
  readonly rows: readonly StrategyRow[];
}

export interface CompareReport {
  readonly version: typeof REPORT_VERSION;
  readonly tool: 'epfsim compare';
  readonly seed: number;
  readonly ios: number;
  readonly matrix: {
    readonly profiles: readonly string[];
    readonly strategies: readonly string[];
    readonly placements: readonly string[];
    readonly workloads: readonly CompareWorkload[];
  };
  readonly tables: readonly ProfileTable[];
  readonly cells: readonly CellResult[];
  /** Wall-clock time of the whole comparison. */
  readonly elapsedMs: number;
}

const NS_PER_S = 1e9;

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

function perCommand(total: number, commands: number): number | null {
  return commands === 0 ? null : total / commands;
}

/** Sums one (profile, strategy)'s cells into a row. */
export function strategyRow(strategy: string, cells: readonly CellResult[]): StrategyRow {
  const failures: Record<string, number> = {};
  const byPlacement: Record<string, { planned: number; failed: number }> = {};
  let planned = 0;
  let failed = 0;
  let commands = 0;
  let mapCalls = 0;
  let atuPrograms = 0;
  let partialMaps = 0;
  let bytes = 0;
  let slotsHighWater = 0;
  let elapsedNs = 0;
  let ios = 0;
  let ioBytes = 0;
  let bringUpFailures = 0;
  const accesses = { total: 0, unalignedStart: 0, crossesMapLimit: 0 };
  for (const c of cells) {
    planned += c.planned;
    failed += c.failed;
    addCounts(failures, c.failures);
    const p = byPlacement[c.placement] ?? { planned: 0, failed: 0 };
    byPlacement[c.placement] = { planned: p.planned + c.planned, failed: p.failed + c.failed };
    if (c.bringUpError !== undefined) bringUpFailures++;
    commands += c.costs.commands;
    mapCalls += c.costs.mapCalls;
    atuPrograms += c.costs.atuPrograms;
    partialMaps += c.costs.partialMaps;
    bytes += c.costs.bytes;
    slotsHighWater = Math.max(slotsHighWater, c.slotsHighWater);
    accesses.total += c.failedAccesses.total;
    accesses.unalignedStart += c.failedAccesses.unalignedStart;
    accesses.crossesMapLimit += c.failedAccesses.crossesMapLimit;
    elapsedNs += c.wallClock.elapsedNs;
    ios += c.completed;
    ioBytes += (c.wallClock.bytesPerSecond * c.wallClock.elapsedNs) / NS_PER_S;
  }
  const seconds = elapsedNs / NS_PER_S;
  return {
    strategy,
    planned,
    failed,
    failureRate: planned === 0 ? 0 : failed / planned,
    failures,
    byPlacement,
    bringUpFailures,
    commands,
    mapCallsPerCommand: perCommand(mapCalls, commands),
    atuProgramsPerCommand: perCommand(atuPrograms, commands),
    partialMaps,
    slotsHighWater,
    bytesPerMap: mapCalls === 0 ? null : bytes / mapCalls,
    failedAccesses: accesses,
    wallClock: { iops: seconds > 0 ? ios / seconds : 0, bytesPerSecond: seconds > 0 ? ioBytes / seconds : 0 },
  };
}

export function profileEdges(profile: EpcProfile): ProfileEdges {
  const rule = profile.align;
  return {
    functionAlign: profile.barAlign,
    ...(rule.kind === 'dwc' ? { controllerAlign: rule.regionAlign } : {}),
    ...(rule.kind === 'pass-bits' ? { mapLimit: 2 ** rule.maxBits } : {}),
  };
}

/** The report of a finished matrix. */
export function buildReport(matrix: CompareMatrix, cells: readonly CellResult[], elapsedMs: number): CompareReport {
  const tables = matrix.profiles.map((profile) => ({
    profile: profile.name,
    description: profile.description,
    edges: profileEdges(profile),
    rows: matrix.strategies.map(strategyLabel).map((strategy) =>
      strategyRow(
        strategy,
        cells.filter((c) => c.profile === profile.name && c.strategy === strategy),
      ),
    ),
  }));
  return {
    version: REPORT_VERSION,
    tool: 'epfsim compare',
    seed: matrix.seed,
    ios: matrix.ios,
    matrix: {
      profiles: matrix.profiles.map((p) => p.name),
      strategies: matrix.strategies.map(strategyLabel),
      placements: matrix.placements,
      workloads: matrix.workloads,
    },
    tables,
    cells,
    elapsedMs,
  };
}
