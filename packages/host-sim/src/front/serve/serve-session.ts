/**
 * One `epfsim serve` session: an NBD server whose connections are NVMe block devices on a testbed
 * (connection i on I/O queue ((i − 1) mod queues) + 1), live counters, and a clean stop: stop
 * accepting, let accepted requests finish, NVMe Flush, controller shutdown, then the checks of
 * `epfsim run` over what was served.
 */
import type { NvmeDriver } from '../../host/driver/nvme-driver.js';
import type { Testbed } from '../../host/target/epfsim-target.js';
import { LatencyRecorder } from '../../runs/workload/latency-recorder.js';
import { type RunCheck, runChecks, shutDownObserved } from '../../runs/workload/run-checks.js';
import { functionCounters } from '../../runs/workload/run-report.js';
import { emptyVerify } from '../../runs/workload/verifier.js';
import type { WorkloadResult } from '../../runs/workload/workload-result.js';
import { type NbdServer, startNbdServer } from '../nbd/nbd-server.js';
import type { NbdStats } from '../nbd/stats.js';
import { CommandPump } from './command-pump.js';
import type { ServeConfig, ServeReport } from './exit-report.js';
import { NvmeBlockDevice } from './nvme-block-device.js';
import {
  commandsCompleted,
  emptyNvmeCommandCounters,
  type NvmeCommandCounters,
  statusCounts,
} from './nvme-command-counters.js';
import { nbdRequests } from './progress-line.js';
import { wholeReadPlacement } from './whole-read-placement.js';

const DEFAULT_NSID = 1;
const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

export interface ServeSessionOptions {
  /** Listen on this Unix socket path... */
  readonly unixSocket?: string;
  /** ...or on TCP (a loopback address; port 0 picks a free port). */
  readonly tcp?: { readonly host: string; readonly port: number };
  /** Export name; default '' (the default export). */
  readonly exportName?: string;
  /** The namespace served. Default 1. */
  readonly nsid?: number;
  /** The testbed's seed, for the report. */
  readonly seed: number;
  /** Largest READ/WRITE advertised to clients (split into MDTS-sized commands). Default 32 MiB. */
  readonly maxRequest?: number;
  /** Connection failures that are not the client's fault. */
  readonly onConnectionError?: (error: unknown) => void;
}

export interface ServeSession {
  readonly server: NbdServer;
  readonly config: ServeConfig;
  readonly nvme: Readonly<NvmeCommandCounters>;
  readonly testbed: Testbed;
  readonly driver: NvmeDriver;
  /**
   * Stops serving: no new connection, accepted requests complete, every connection closes; then
   * an NVMe Flush, the controller's shutdown, the checks; the testbed is closed. Idempotent.
   */
  stop(reason: string): Promise<ServeReport>;
}

/**
 * Serves the namespace of an initialised driver. The session owns the testbed from here on: it
 * closes it when it stops, or right away when the server cannot start (NbdServerError).
 */
export async function startServeSession(
  bed: { readonly testbed: Testbed; readonly driver: NvmeDriver },
  options: ServeSessionOptions,
): Promise<ServeSession> {
  const { testbed, driver } = bed;
  const nsid = options.nsid ?? DEFAULT_NSID;
  const pump = new CommandPump(driver);
  const nvme = emptyNvmeCommandCounters();
  const placement = wholeReadPlacement(driver.placement);
  const qids = [...driver.ioQueueIds];
  let server: NbdServer;
  let first: NvmeBlockDevice;
  try {
    const deviceOn = (qid: number): NvmeBlockDevice =>
      new NvmeBlockDevice(pump, driver, {
        nsid,
        qid,
        counters: nvme,
        placement,
        ...(options.maxRequest === undefined ? {} : { maxRequest: options.maxRequest }),
      });
    // Made first, so that a namespace or queue that is missing fails before listening.
    first = deviceOn(qids[0] ?? 1);
    server = await startNbdServer({
      deviceFactory: ({ id }) => deviceOn(qids[(id - 1) % qids.length] as number),
      ...(options.unixSocket === undefined ? {} : { unixSocket: options.unixSocket }),
      ...(options.tcp === undefined ? {} : { tcp: options.tcp }),
      ...(options.exportName === undefined ? {} : { exportName: options.exportName }),
      // A Flush covers the namespace, whatever queue it comes on, and a write is only answered
      // after its completion: a flush on one connection makes the writes of all durable.
      multiConn: true,
      onConnectionError: (e) => options.onConnectionError?.(e),
    });
  } catch (error) {
    testbed.close();
    throw error;
  }
  const config: ServeConfig = {
    target: driver.target.name,
    profile: testbed.profile.name,
    placement: driver.placement.name,
    seed: options.seed,
    namespace: { nsid, blockSize: first.blockSize, bytes: first.size },
    ioQueues: qids,
    queueDepth: (driver.queue(qids[0] ?? 1)?.depth ?? 1) - 1,
    address: server.address,
    uri: server.uri,
  };
  const startedNs = performance.now() * NS_PER_MS;
  let stopping: Promise<ServeReport> | undefined;

  const stop = async (reason: string): Promise<ServeReport> => {
    await server.close();
    await pump.idle();
    try {
      await first.flush();
    } catch {
      // Counted with the failed commands (the io-errors check), or the controller is gone (completed).
    }
    const elapsedNs = performance.now() * NS_PER_MS - startedNs;
    const shutdown = shutDownObserved(driver, testbed);
    const nbd = snapshotNbd(server.stats);
    const served = servedAsWorkload(nvme, elapsedNs, qids, config.queueDepth, pump.failure);
    const checks = runChecks(testbed, driver, served, shutdown).map((c) => describeServed(c, nbd, nvme, reason));
    const f = testbed.fn.stats;
    const report: ServeReport = {
      config,
      stoppedBy: reason,
      elapsedNs,
      nbd,
      nvme: structuredClone(nvme),
      counters: {
        epc: { ...testbed.epc.counters },
        driver: { ...driver.stats },
        function: functionCounters(f),
      },
      checks: { passed: checks.every((c) => c.passed), list: checks },
    };
    testbed.close();
    return report;
  };

  return {
    server,
    config,
    nvme,
    testbed,
    driver,
    stop(reason) {
      stopping ??= stop(reason);
      return stopping;
    },
  };
}

function snapshotNbd(stats: Readonly<NbdStats>): NbdStats {
  return { ...stats, requests: { ...stats.requests } };
}

/**
 * What was served, in the shape the run checks read: every NVMe command as an I/O, no data
 * verification (the clients check their own data, as fio's verify does), ended by the user.
 */
function servedAsWorkload(
  nvme: NvmeCommandCounters,
  elapsedNs: number,
  queueIds: readonly number[],
  iodepth: number,
  failure: Error | undefined,
): WorkloadResult {
  const ios = commandsCompleted(nvme);
  const { commands: c, bytes: b } = nvme;
  const bytes = b.read + b.write + b.trim;
  const seconds = elapsedNs / NS_PER_S;
  return {
    ios,
    bytes,
    byOp: {
      read: { ios: c.read, bytes: b.read },
      write: { ios: c.write, bytes: b.write },
      trim: { ios: c.dsm, bytes: b.trim },
      flush: { ios: c.flush, bytes: 0 },
    },
    statuses: statusCounts(nvme),
    errors: nvme.failed,
    verify: emptyVerify(),
    end: failure === undefined ? 'runtime' : 'error',
    ...(failure === undefined ? {} : { error: failure.message }),
    queueIds,
    iodepth,
    wallClock: {
      elapsedNs,
      iops: seconds > 0 ? ios / seconds : 0,
      bytesPerSecond: seconds > 0 ? bytes / seconds : 0,
      latency: new LatencyRecorder().summary(),
      byOp: {},
    },
  };
}

/** The run checks' wording where serving differs from a run: how it ended, and who verifies data. */
function describeServed(c: RunCheck, nbd: NbdStats, nvme: NvmeCommandCounters, reason: string): RunCheck {
  if (c.name === 'completed' && c.passed)
    return {
      ...c,
      detail: `${nbdRequests(nbd)} NBD requests on ${nbd.connections} connections as ${commandsCompleted(nvme)} NVMe commands, stopped by ${reason}`,
    };
  if (c.name === 'verify') return { ...c, detail: 'off: NBD clients check their own data (e.g. fio --verify=crc32c)' };
  return c;
}
