/**
 * The comparison as text: a table per profile, a row per strategy, then the status names used.
 * Per-command figures cover the workload's commands (bring-up and shutdown excluded); "sim" figures
 * are the simulator's own wall-clock throughput, not a model of the hardware's.
 */
import { formatStatus } from '@epfsim/nvme-spec-types';
import { STATUS_HOST_ABORTED } from '../../host/driver/completion.js';
import { COMPARE_IODEPTH } from './compare-matrix.js';
import type { CompareReport, ProfileTable, StrategyRow } from './compare-report.js';
import { NOT_RUN } from './run-cell.js';

const KIB = 1024;
const MIB = KIB * KIB;
const THOUSAND = 1000;
const PERCENT = 100;
const NONE = '-';
/** `0/04h` out of `0/04h Data Transfer Error (DNR)`. */
const STATUS_CODE = /^\S+/;

export const TABLE_COLUMNS = [
  'strategy',
  'failed',
  'failed %',
  'map calls/cmd',
  'ATU/cmd',
  'partial maps',
  'slots hw',
  'bytes/map',
  'sim IOPS',
  'sim MiB/s',
  'failures by status',
] as const;

function decimal(n: number | null, digits = 2): string {
  return n === null ? NONE : n.toFixed(digits);
}

function bytesText(n: number | null): string {
  if (n === null) return NONE;
  if (n >= MIB) return `${(n / MIB).toFixed(1)} MiB`;
  if (n >= KIB) return `${(n / KIB).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

function rateText(n: number): string {
  if (n >= THOUSAND * THOUSAND) return `${(n / THOUSAND / THOUSAND).toFixed(1)}M`;
  if (n >= THOUSAND) return `${(n / THOUSAND).toFixed(1)}k`;
  return n.toFixed(0);
}

/** `0/04h ×30, not run ×50`, most frequent first. */
export function failuresText(row: StrategyRow): string {
  const entries = Object.entries(row.failures).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (entries.length === 0) return NONE;
  const parts = entries.map(([status, n]) => `${status === NOT_RUN ? NOT_RUN : STATUS_CODE.exec(status)![0]} ×${n}`);
  const text = parts.join(', ');
  return row.bringUpFailures > 0 ? `${text} (no bring-up in ${row.bringUpFailures} cells)` : text;
}

/** The cells of one row, in {@link TABLE_COLUMNS} order. */
export function rowCells(row: StrategyRow): string[] {
  const ran = row.commands > 0;
  return [
    row.strategy,
    `${row.failed}/${row.planned}`,
    `${(row.failureRate * PERCENT).toFixed(1)}%`,
    decimal(row.mapCallsPerCommand),
    decimal(row.atuProgramsPerCommand),
    String(row.partialMaps),
    String(row.slotsHighWater),
    bytesText(row.bytesPerMap),
    ran ? rateText(row.wallClock.iops) : NONE,
    ran ? (row.wallClock.bytesPerSecond / MIB).toFixed(1) : NONE,
    failuresText(row),
  ];
}

/** Columns padded to their widest cell; numbers right-aligned. */
function aligned(rows: readonly (readonly string[])[]): string[] {
  const widths = TABLE_COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const leftAligned = new Set([0, TABLE_COLUMNS.length - 1]);
  return rows.map((r) =>
    r
      .map((cell, i) => (leftAligned.has(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function formatProfileTable(table: ProfileTable): string[] {
  return [
    `${table.profile}: ${table.description}`,
    ...aligned([[...TABLE_COLUMNS], ...table.rows.map(rowCells)]).map((line) => `  ${line}`),
  ];
}

/** The host's own status for commands a controller reset took away (3/71h), which has no spec name here. */
const HOST_ABORTED = formatStatus(STATUS_HOST_ABORTED);

/** Every status that appears, with its full name. */
function statusLegend(report: CompareReport): string[] {
  const names = new Set<string>();
  for (const t of report.tables) for (const r of t.rows) for (const s of Object.keys(r.failures)) names.add(s);
  names.delete(NOT_RUN);
  return [...names]
    .sort()
    .map((s) => (s === HOST_ABORTED ? `${s} = aborted by the host's controller reset (NVME_SC_HOST_ABORTED_CMD)` : s));
}

export function formatCompareReport(report: CompareReport): string[] {
  const m = report.matrix;
  const lines = [
    `epfsim compare: ${m.profiles.length} profiles x ${m.strategies.length} strategies x placements ${m.placements.join(', ')} x workloads ${m.workloads.map((w) => w.name).join(', ')}; ${report.ios} I/Os per cell, iodepth ${COMPARE_IODEPTH}, seed ${report.seed}`,
    '',
  ];
  for (const table of report.tables) lines.push(...formatProfileTable(table), '');
  const legend = statusLegend(report);
  if (legend.length > 0) lines.push(`statuses: ${legend.join('; ')}`);
  lines.push(
    `${NOT_RUN}: commands the workload could not issue because the controller never came up or failed during the run.`,
    `per-command figures cover the workload's commands (SQE fetch share, PRP/SGL lists, data, CQE post, interrupt maps on DWC-style controllers); sim IOPS and MiB/s are the simulator's wall-clock speed (${(report.elapsedMs / THOUSAND).toFixed(1)} s in all).`,
  );
  return lines;
}
