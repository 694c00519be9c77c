/**
 * What `epfsim serve` reports when it stops: what was served and how, what the NBD clients asked
 * for, the NVMe commands that carried it, the EPC's, the driver's and the function's counters, and
 * the checks of `epfsim run` (isolation, bus faults, protocol, EPC contract, leaks...). `--json`
 * prints it as is.
 */

import { bytesText, countersAndChecksLines } from '../../runs/workload/format-report.js';
import type { RunCheck } from '../../runs/workload/run-checks.js';
import type { RunCounters } from '../../runs/workload/run-report.js';
import type { NbdStats } from '../nbd/stats.js';
import { commandsCompleted, type NvmeCommandCounters, statusCounts } from './nvme-command-counters.js';
import { nbdRequests } from './progress-line.js';

export interface ServeConfig {
  /** The driven controller, e.g. `epfsim:rk3399/mem-map`. */
  readonly target: string;
  readonly profile: string;
  readonly placement: string;
  readonly seed: number;
  readonly namespace: { readonly nsid: number; readonly blockSize: number; readonly bytes: number };
  /** The I/O queues connections are spread over, in order. */
  readonly ioQueues: readonly number[];
  /** Commands in flight per I/O queue (its depth − 1). */
  readonly queueDepth: number;
  /** Socket path or host:port, and the URI clients take. */
  readonly address: string;
  readonly uri: string;
}

export interface ServeReport {
  readonly config: ServeConfig;
  /** What stopped the server (a signal name, or the caller's reason). */
  readonly stoppedBy: string;
  /** Wall clock from listening to stopped. */
  readonly elapsedNs: number;
  readonly nbd: NbdStats;
  readonly nvme: NvmeCommandCounters;
  readonly counters: RunCounters;
  readonly checks: { readonly passed: boolean; readonly list: readonly RunCheck[] };
}

const NS_PER_S = 1e9;

const count = (n: number): string => n.toLocaleString('en-US');

/** The report as lines of text, in the order of `epfsim run`'s. */
export function formatServeReport(report: ServeReport): string[] {
  const { config, nbd, nvme, counters, checks } = report;
  const q = nbd.requests;
  const ns = config.namespace;
  const queues =
    config.ioQueues.length === 1 ? `I/O queue ${config.ioQueues[0]}` : `I/O queues ${config.ioQueues.join(', ')}`;
  const c = nvme.commands;
  const statuses = Object.entries(statusCounts(nvme))
    .map(([s, n]) => `${n} × ${s}`)
    .join('; ');
  const lines = [
    `epfsim serve: ${config.uri}, stopped by ${report.stoppedBy} after ${(report.elapsedNs / NS_PER_S).toFixed(1)} s`,
    `  ${config.target}, placement ${config.placement}, seed ${config.seed}, namespace ${ns.nsid}: ${bytesText(ns.bytes)} of ${ns.blockSize}-byte blocks, ${queues}, ${config.queueDepth} commands in flight each`,
    `  NBD: ${count(nbd.connections)} connections (${count(nbd.connectionsRefused)} refused at the connection limit, ${count(nbd.limitClosures)} closed at a bound), ${count(nbdRequests(nbd))} requests ` +
      `(read ${count(q.read)}, write ${count(q.write)}, flush ${count(q.flush)}, trim ${count(q.trim)}, write zeroes ${count(q.writeZeroes)}, disc ${count(q.disc)}, other ${count(q.other)})`,
    `       ${bytesText(nbd.bytesRead)} read, ${bytesText(nbd.bytesWritten)} written, ${count(nbd.errorReplies)} error replies (${count(nbd.deviceErrors)} device errors, ${count(nbd.protocolErrors)} protocol errors)`,
    `  NVMe: ${count(commandsCompleted(nvme))} commands (read ${count(c.read)}, write ${count(c.write)}, flush ${count(c.flush)}, dataset management ${count(c.dsm)}, write zeroes ${count(c.writeZeroes)}), ` +
      `${count(nvme.splitRequests)} requests split at MDTS or NLB, ${count(nvme.failed)} failed`,
    `  status: ${statuses || 'none'}`,
  ];
  lines.push(...countersAndChecksLines(config.profile, counters, checks));
  return lines;
}
