/**
 * Runs one cell of the comparison: bring a fresh testbed up with the cell's profile, strategy and
 * placement, run the seeded workload through `runOnTestbed` (verified, checked, shut down), and
 * keep what the comparison needs. A controller that fails is a result, never an exception: a
 * failed command counts with its status, and a controller that never comes up counts every
 * planned command as failed (not run), with the reason.
 */

import { formatStatus, STATUS_SUCCESS } from '@epfsim/nvme-spec-types';
import type { NvmeDriver } from '../../host/driver/nvme-driver.js';
import { isNvmeDriverError, isPlacementError } from '../../host/errors.js';
import { bringUpDriver, epfsimTestbed } from '../../reference/open-target.js';
import { runOnTestbed } from '../../runs/workload/run-report.js';
import type { WorkloadProgress } from '../../runs/workload/workload-engine.js';
import type { WorkloadEnd } from '../../runs/workload/workload-result.js';
import { WORKLOAD_DEFAULTS, type WorkloadSpec } from '../../runs/workload/workload-spec.js';
import { COMPARE_IODEPTH, COMPARE_REGION_BYTES, type CompareCell } from './compare-matrix.js';
import { strategyLabel } from './strategy-label.js';
import { type CommandCosts, type FailedAccessSummary, TransferRecorder } from './transfer-recorder.js';

/** The namespace every cell writes to: `epfsim run`'s default, 1 GiB of 512-byte blocks (sparse RAM). */
const NAMESPACE = { blockSize: 512, bytes: 2 ** 30 } as const;
/** Commands that never ran (the controller did not come up, or gave out during the run). */
export const NOT_RUN = 'not run';
const SUCCESS_KEY = formatStatus(STATUS_SUCCESS);

/** Wall-clock figures of the simulator itself: they vary from run to run and machine to machine. */
export interface CellWallClock {
  readonly elapsedNs: number;
  readonly iops: number;
  readonly bytesPerSecond: number;
}

export interface CellResult {
  readonly profile: string;
  readonly strategy: string;
  readonly placement: string;
  readonly workload: string;
  /** Commands the workload asked for. */
  readonly planned: number;
  /** Why the controller never came up; absent when it did. */
  readonly bringUpError?: string;
  /** Why the run ended (`bring-up` when it never started). */
  readonly end: WorkloadEnd | 'bring-up';
  /** Commands completed, successfully or not. */
  readonly completed: number;
  /** Commands that did not succeed, including those never run. */
  readonly failed: number;
  /** The failed commands by status (as `formatStatus` prints it), or {@link NOT_RUN}. */
  readonly failures: Readonly<Record<string, number>>;
  /** Map calls, ATU programs, partial maps and bytes of the workload's commands. */
  readonly costs: CommandCosts;
  /** Highest number of translation slots in use at once, bring-up included. */
  readonly slotsHighWater: number;
  /** Workload commands by their number of map calls: `{ "3": 120 }` means 120 commands made 3 calls. */
  readonly mapCallsHistogram: Readonly<Record<string, number>>;
  readonly failedAccesses: FailedAccessSummary;
  readonly wallClock: CellWallClock;
}

export interface RunCellOptions {
  readonly ios: number;
  readonly seed: number;
  readonly onProgress?: (progress: WorkloadProgress) => void;
}

function histogram(values: readonly number[]): Record<string, number> {
  const bins: Record<string, number> = {};
  for (const v of values) bins[v] = (bins[v] ?? 0) + 1;
  return bins;
}

function workloadSpec(cell: CompareCell, options: RunCellOptions): WorkloadSpec {
  return {
    kind: 'generate',
    rw: cell.workload.rw,
    blockSize: { min: cell.workload.blockSize, max: cell.workload.blockSize },
    offsetBytes: 0,
    sizeBytes: COMPARE_REGION_BYTES,
    rwmixread: WORKLOAD_DEFAULTS.rwmixread,
    nsid: WORKLOAD_DEFAULTS.nsid,
    iodepth: COMPARE_IODEPTH,
    queues: 1,
    verify: true,
    seed: options.seed,
    numberIos: options.ios,
  };
}

/** Runs one cell on a fresh testbed. */
export async function runCell(cell: CompareCell, options: RunCellOptions): Promise<CellResult> {
  const testbed = epfsimTestbed({ ...cell, namespaceBytes: NAMESPACE.bytes, blockSize: NAMESPACE.blockSize });
  const recorder = new TransferRecorder(testbed);
  const identity = {
    profile: cell.profile.name,
    strategy: strategyLabel(cell.strategy),
    placement: cell.placement,
    workload: cell.workload.name,
    planned: options.ios,
  };
  let driver: NvmeDriver;
  try {
    // The recorder is attached before bring-up: on a strict controller the first failure is often
    // the bring-up's own Identify.
    ({ driver } = bringUpDriver(
      testbed,
      { ...cell, seed: options.seed },
      // One slot more than in flight: a full ring leaves one empty.
      { ioQueues: 1, ioQueueDepth: COMPARE_IODEPTH + 1 },
    ));
  } catch (error) {
    if (!isNvmeDriverError(error) && !isPlacementError(error)) throw error;
    recorder.detach();
    testbed.close();
    return {
      ...identity,
      bringUpError: error.message,
      end: 'bring-up',
      completed: 0,
      failed: options.ios,
      failures: { [NOT_RUN]: options.ios },
      costs: recorder.costs(0),
      slotsHighWater: testbed.epc.counters.slotsHighWater,
      mapCallsHistogram: {},
      failedAccesses: recorder.failedAccesses(),
      wallClock: { elapsedNs: 0, iops: 0, bytesPerSecond: 0 },
    };
  }
  recorder.startWorkload(options.ios);
  const report = await runOnTestbed(
    { testbed, driver },
    workloadSpec(cell, options),
    options.onProgress === undefined ? {} : { onProgress: options.onProgress },
  );
  recorder.detach();
  const results = report.results;
  const failures: Record<string, number> = {};
  for (const [status, count] of Object.entries(results.statuses)) if (status !== SUCCESS_KEY) failures[status] = count;
  const notRun = options.ios - results.ios;
  if (notRun > 0) failures[NOT_RUN] = notRun;
  return {
    ...identity,
    end: results.end,
    completed: results.ios,
    failed: results.errors + Math.max(notRun, 0),
    failures,
    costs: recorder.costs(results.ios),
    slotsHighWater: report.counters.epc.slotsHighWater,
    mapCallsHistogram: histogram(recorder.mapCallsPerCommand(results.ios)),
    failedAccesses: recorder.failedAccesses(),
    wallClock: {
      elapsedNs: results.wallClock.elapsedNs,
      iops: results.wallClock.iops,
      bytesPerSecond: results.wallClock.bytesPerSecond,
    },
  };
}
