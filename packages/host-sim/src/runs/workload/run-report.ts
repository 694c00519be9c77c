/**
 * One run on a testbed, start to shutdown, as one document: what ran (config), what it did
 * (results), what the EPC, the host driver and the function counted (counters), and the checks.
 * `epfsim run --json` prints it as is.
 */
import type { EpcCounters } from '@epfsim/epc-core';
import type { DriverStats } from '../../host/driver/driver-types.js';
import type { NvmeDriver } from '../../host/driver/nvme-driver.js';
import type { Testbed } from '../../host/target/epfsim-target.js';
import type { TraceFormat } from '../trace/trace-request.js';
import { type RunCheck, runChecks, shutDownObserved } from './run-checks.js';
import type { RwMode } from './rw-mode.js';
import { runWorkload, type WorkloadRunOptions } from './workload-engine.js';
import type { WorkloadResult } from './workload-result.js';
import type { BlockSizeRange, ReplayTiming, WorkloadSpec } from './workload-spec.js';

/** The profile a report names for a target without an EPC. */
const NO_PROFILE = 'none';

/** The workload as configured (a replay without its requests). */
export type WorkloadConfig =
  | {
      readonly kind: 'generate';
      readonly rw: RwMode;
      readonly blockSize: BlockSizeRange;
      readonly offsetBytes: number;
      readonly sizeBytes: number;
      readonly rwmixread: number;
      readonly iodepth: number;
      readonly queues: number;
      readonly numberIos?: number;
      readonly runtimeMs?: number;
      readonly verify: boolean;
      readonly seed: number;
    }
  | {
      readonly kind: 'replay';
      readonly source: string;
      readonly format: TraceFormat;
      readonly traceRequests: number;
      readonly timing: ReplayTiming;
      readonly speed: number;
      readonly iodepth: number;
      readonly queues: number;
      readonly numberIos?: number;
      readonly runtimeMs?: number;
      readonly verify: boolean;
      readonly seed: number;
    };

export interface RunConfig {
  /** The driven controller, e.g. `epfsim:rk3588/mem-map`. */
  readonly target: string;
  readonly profile: string;
  readonly placement: string;
  readonly namespace: { readonly nsid: number; readonly blockSize: number; readonly bytes: number };
  readonly workload: WorkloadConfig;
}

/** The function's own counts, for comparison with the host's. */
export interface FunctionCounters {
  readonly commandsFetched: number;
  readonly commandsCompleted: number;
  readonly interruptsRaised: number;
  readonly cqePostsMapped: number;
  readonly cqePostsTransferred: number;
  readonly dataBytesFromHost: number;
  readonly dataBytesToHost: number;
}

/** A copy of the function's counts as a report shows them. */
export function functionCounters(f: FunctionCounters): FunctionCounters {
  return {
    commandsFetched: f.commandsFetched,
    commandsCompleted: f.commandsCompleted,
    interruptsRaised: f.interruptsRaised,
    cqePostsMapped: f.cqePostsMapped,
    cqePostsTransferred: f.cqePostsTransferred,
    dataBytesFromHost: f.dataBytesFromHost,
    dataBytesToHost: f.dataBytesToHost,
  };
}

export interface RunCounters {
  readonly epc: Readonly<EpcCounters>;
  readonly driver: Readonly<DriverStats>;
  readonly function: FunctionCounters;
}

/** Counters of a run on any target: the EPC's and the function's only where they exist (not on QEMU). */
export interface TargetRunCounters {
  readonly epc?: Readonly<EpcCounters>;
  readonly driver: Readonly<DriverStats>;
  readonly function?: FunctionCounters;
}

/** A run on any target (the in-process function or QEMU). */
export interface TargetRunReport {
  readonly config: RunConfig;
  readonly results: WorkloadResult;
  readonly counters: TargetRunCounters;
  readonly checks: { readonly passed: boolean; readonly list: readonly RunCheck[] };
}

/** A run on the in-process testbed: every counter is there. */
export interface RunReport extends TargetRunReport {
  readonly counters: RunCounters;
}

function describeWorkload(spec: WorkloadSpec, namespaceBytes: number): WorkloadConfig {
  const limits = {
    ...(spec.numberIos === undefined ? {} : { numberIos: spec.numberIos }),
    ...(spec.runtimeMs === undefined ? {} : { runtimeMs: spec.runtimeMs }),
  };
  const common = { iodepth: spec.iodepth, queues: spec.queues, ...limits, verify: spec.verify, seed: spec.seed };
  if (spec.kind === 'replay') {
    return {
      kind: 'replay',
      source: spec.source,
      format: spec.format,
      traceRequests: spec.requests.length,
      timing: spec.timing,
      speed: spec.speed,
      ...common,
    };
  }
  return {
    kind: 'generate',
    rw: spec.rw,
    blockSize: spec.blockSize,
    offsetBytes: spec.offsetBytes,
    sizeBytes: spec.sizeBytes ?? namespaceBytes - spec.offsetBytes,
    rwmixread: spec.rwmixread,
    ...common,
  };
}

/**
 * Runs `spec` on a testbed whose driver is initialised, then shuts the driver down, checks
 * leaks and mappings, and closes the testbed. Without a testbed (an external target such as
 * QEMU: `close` releases it) the EPC counters and checks are left out or not applicable. Throws
 * HostSimConfigError when the workload does not fit (before any I/O).
 */
export async function runOnTestbed(
  bed: { readonly testbed: Testbed; readonly driver: NvmeDriver },
  spec: WorkloadSpec,
  options?: WorkloadRunOptions,
): Promise<RunReport>;
export async function runOnTestbed(
  bed: { readonly testbed?: Testbed; readonly driver: NvmeDriver; readonly close?: () => void },
  spec: WorkloadSpec,
  options?: WorkloadRunOptions,
): Promise<TargetRunReport>;
export async function runOnTestbed(
  bed: { readonly testbed?: Testbed; readonly driver: NvmeDriver; readonly close?: () => void },
  spec: WorkloadSpec,
  options: WorkloadRunOptions = {},
): Promise<TargetRunReport> {
  const { testbed, driver } = bed;
  try {
    const ns = driver.namespaces.get(spec.nsid);
    const namespace = {
      nsid: spec.nsid,
      blockSize: ns?.blockSize ?? 0,
      bytes: ns === undefined ? 0 : Number(ns.nsze) * ns.blockSize,
    };
    const results = await runWorkload(driver, spec, options);
    const shutdown = shutDownObserved(driver, testbed);
    const checks = runChecks(testbed, driver, results, shutdown);
    const f = testbed?.fn.stats;
    return {
      config: {
        target: driver.target.name,
        profile: testbed?.profile.name ?? NO_PROFILE,
        placement: driver.placement.name,
        namespace,
        workload: describeWorkload(spec, namespace.bytes),
      },
      results,
      counters: {
        ...(testbed === undefined ? {} : { epc: { ...testbed.epc.counters } }),
        driver: { ...driver.stats },
        ...(f === undefined
          ? {}
          : {
              function: functionCounters(f),
            }),
      },
      checks: { passed: checks.every((c) => c.passed), list: checks },
    };
  } finally {
    testbed?.close();
    bed.close?.();
  }
}
