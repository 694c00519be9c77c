/**
 * A run report as text, in the order fio users read: what ran, I/Os and bytes per direction,
 * IOPS and bandwidth, completion latency percentiles, statuses; then the EPC's and the driver's
 * counters; then every check, PASS or FAIL, and a verdict.
 */
import type { IoOp } from './io-request.js';
import type { LatencySummary } from './latency-recorder.js';
import type { TargetRunCounters, TargetRunReport, WorkloadConfig } from './run-report.js';
import type { BlockSizeRange } from './workload-spec.js';

const KIB = 1024;
const MIB = KIB * KIB;
const GIB = MIB * KIB;
const NS_PER_US = 1000;
const NS_PER_S = 1e9;
const THOUSAND = 1000;
const MS_PER_S = 1000;
/** Microsecond figures from this value up print without decimals. */
const WHOLE_US_FROM = 100;
/** Percentiles shown in text (all of fio's are in the JSON). */
const SHOWN_PERCENTILES = ['1', '50', '90', '99', '99.9', '99.99'] as const;
const OP_LABEL: Readonly<Record<IoOp, string>> = { read: 'read ', write: 'write', trim: 'trim ', flush: 'flush' };
const CHECK_WIDTH = 20;

/** Bytes as 4k, 64k, 1m for sizes; whole units only. */
function sizeText(bytes: number): string {
  for (const [unit, scale] of [
    ['g', GIB],
    ['m', MIB],
    ['k', KIB],
  ] as const) {
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return String(bytes);
}

/** A byte amount with a binary unit and one decimal. */
export function bytesText(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  if (bytes >= KIB) return `${(bytes / KIB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** A rate such as IOPS: 950, 12.3k, 1.2M. */
function rateText(n: number): string {
  if (n >= THOUSAND * THOUSAND) return `${(n / THOUSAND / THOUSAND).toFixed(1)}M`;
  if (n >= THOUSAND) return `${(n / THOUSAND).toFixed(1)}k`;
  return n.toFixed(0);
}

function usText(ns: number): string {
  const us = ns / NS_PER_US;
  return us >= WHOLE_US_FROM ? us.toFixed(0) : us.toFixed(1);
}

function bsText(bs: BlockSizeRange): string {
  return bs.min === bs.max ? sizeText(bs.min) : `${sizeText(bs.min)}-${sizeText(bs.max)}`;
}

function workloadLine(w: WorkloadConfig): string {
  const limits = [
    w.numberIos === undefined ? undefined : `${w.numberIos} ${w.kind === 'replay' ? 'requests' : 'I/Os per queue'}`,
    w.runtimeMs === undefined ? undefined : `runtime ${w.runtimeMs / MS_PER_S} s`,
  ].filter((x) => x !== undefined);
  const queueing = `iodepth ${w.iodepth}, ${w.queues} ${w.queues === 1 ? 'queue' : 'queues'}`;
  const verify = `verify ${w.verify ? 'on' : 'off'}`;
  if (w.kind === 'replay') {
    const timing = w.timing === 'honour' ? `honouring arrival times${w.speed === 1 ? '' : ` × ${w.speed}`}` : 'asap';
    return [
      `replay ${w.source} (${w.format}, ${w.traceRequests} requests, ${timing})`,
      queueing,
      ...limits,
      verify,
    ].join(', ');
  }
  const mix = w.rw === 'rw' || w.rw === 'randrw' ? ` rwmixread ${w.rwmixread}` : '';
  const region = `region ${bytesText(w.sizeBytes)}${w.offsetBytes === 0 ? '' : ` at ${w.offsetBytes}`}`;
  return [`${w.rw}${mix}, bs ${bsText(w.blockSize)}`, queueing, ...limits, region, verify].join(', ');
}

function latencyLines(label: string, l: LatencySummary): string[] {
  if (l.count === 0) return [];
  const p = SHOWN_PERCENTILES.map((k) => `p${k} ${usText(l.percentilesNs[k] ?? 0)}`).join(', ');
  return [
    `  ${label} clat (µs): min ${usText(l.minNs)}, avg ${usText(l.meanNs)}, max ${usText(l.maxNs)}, stdev ${usText(l.stddevNs)}`,
    `      ${p}`,
  ];
}

/** The report as lines of text. */
export function formatRunReport(report: TargetRunReport): string[] {
  const { config, results: r, counters, checks } = report;
  const wc = r.wallClock;
  const ns = config.namespace;
  const lines = [
    `epfsim run: ${workloadLine(config.workload)}`,
    `  ${config.target}, placement ${config.placement}, seed ${config.workload.seed}, namespace ${ns.nsid}: ${bytesText(ns.bytes)} of ${ns.blockSize}-byte blocks`,
  ];
  for (const op of ['read', 'write', 'trim', 'flush'] as const) {
    const c = r.byOp[op];
    const m = wc.byOp[op];
    if (c.ios === 0 || m === undefined) continue;
    lines.push(
      `  ${OP_LABEL[op]}: ${c.ios} I/Os, ${bytesText(c.bytes)}; IOPS ${rateText(m.iops)}, BW ${bytesText(m.bytesPerSecond)}/s`,
    );
  }
  lines.push(
    `  total: ${r.ios} I/Os, ${bytesText(r.bytes)} in ${(wc.elapsedNs / NS_PER_S).toFixed(2)} s wall clock; IOPS ${rateText(wc.iops)}, BW ${bytesText(wc.bytesPerSecond)}/s`,
  );
  for (const op of ['read', 'write', 'trim', 'flush'] as const) {
    const m = wc.byOp[op];
    if (m !== undefined) lines.push(...latencyLines(OP_LABEL[op], m.latency));
  }
  lines.push(
    `  status: ${
      Object.entries(r.statuses)
        .map(([s, n]) => `${n} × ${s}`)
        .join('; ') || 'none'
    }`,
  );
  lines.push(...countersAndChecksLines(config.profile, counters, checks));
  return lines;
}

/**
 * The closing lines every report shares (`epfsim run`, `epfsim serve`): the EPC's counters where
 * there is an EPC, the driver's, then each check and the verdict.
 */
export function countersAndChecksLines(
  profile: string,
  counters: TargetRunCounters,
  checks: TargetRunReport['checks'],
): string[] {
  const lines: string[] = [];
  const e = counters.epc;
  const d = counters.driver;
  if (e !== undefined) {
    lines.push(
      `  EPC (${profile}): ${e.memMapCalls} map calls, ${e.partialMaps} partial maps, ${e.memMapFailures} map failures, ${e.atuPrograms} ATU programs, slots high-water ${e.slotsHighWater}, live maps high-water ${e.liveMapsHighWater}`,
      `       ${bytesText(e.bytesFromHost)} from host, ${bytesText(e.bytesToHost)} to host, ${e.dmaTransfers} DMA transfers, ${e.irqsRaised} IRQs raised, ${e.busFaults} bus faults`,
    );
  }
  lines.push(
    `  driver: ${d.submitted} commands submitted, ${d.completed} completed, ${d.interrupts} interrupts, ${d.doorbellWrites} doorbell writes, ${d.steps} device steps`,
    'checks:',
  );
  for (const c of checks.list) {
    const verdict = c.applicable === false ? 'N/A ' : c.passed ? 'PASS' : 'FAIL';
    lines.push(`  ${verdict} ${c.name.padEnd(CHECK_WIDTH)}${c.detail}`);
  }
  const failed = checks.list.filter((c) => !c.passed).map((c) => c.name);
  const applied = checks.list.filter((c) => c.applicable !== false).length;
  const skipped = checks.list.length - applied;
  lines.push(
    failed.length > 0
      ? `FAIL: ${failed.join(', ')}`
      : `PASS: all ${applied} checks passed${skipped === 0 ? '' : ` (${skipped} not applicable)`}`,
  );
  return lines;
}
