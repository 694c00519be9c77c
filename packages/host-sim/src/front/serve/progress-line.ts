/** The live counters of a serving session as one status line (redrawn on a terminal, printed periodically otherwise). */
import type { EpcCounters } from '@epfsim/epc-core';
import { bytesText } from '../../runs/workload/format-report.js';
import type { NbdStats } from '../nbd/stats.js';
import { commandsCompleted, type NvmeCommandCounters } from './nvme-command-counters.js';

/** What the line shows, taken at one instant. */
export interface ServeSample {
  /** Wall clock, milliseconds. */
  readonly atMs: number;
  readonly requests: number;
  readonly nbd: Readonly<NbdStats>;
  readonly nvme: Readonly<NvmeCommandCounters>;
  readonly epc: Readonly<EpcCounters>;
}

const MS_PER_S = 1000;

/** NBD requests answered (or being answered) so far, of every kind. */
export function nbdRequests(nbd: Readonly<NbdStats>): number {
  const q = nbd.requests;
  return q.read + q.write + q.flush + q.trim + q.writeZeroes + q.disc + q.other;
}

export function sampleOf(
  atMs: number,
  nbd: Readonly<NbdStats>,
  nvme: Readonly<NvmeCommandCounters>,
  epc: Readonly<EpcCounters>,
): ServeSample {
  return { atMs, requests: nbdRequests(nbd), nbd, nvme, epc };
}

/** `now`, with the request rate since `before` (only its time and request count are read: the rest is live). */
export function serveProgressLine(now: ServeSample, before: ServeSample): string {
  const seconds = (now.atMs - before.atMs) / MS_PER_S;
  const rate = seconds > 0 ? Math.round((now.requests - before.requests) / seconds) : 0;
  const { nbd, nvme, epc } = now;
  return (
    `serve: ${nbd.activeConnections} of ${nbd.connections} connections open, ${now.requests} NBD requests (${rate}/s), ` +
    `${bytesText(nbd.bytesRead)} read, ${bytesText(nbd.bytesWritten)} written, ${nbd.errorReplies} error replies; ` +
    `${commandsCompleted(nvme)} NVMe commands, ${nvme.failed} failed; EPC ${epc.memMapCalls} maps, ${epc.partialMaps} partial`
  );
}
