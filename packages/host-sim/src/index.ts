/**
 * @epfsim/host-sim: the simulated host, and everything that runs on it. Layered as the folders
 * of src/ are: the host model (host memory with an IOMMU-like grant table, placement policies,
 * the NVMe host driver, the in-process testbed), the runs (workloads, trace replay, case files,
 * fuzz campaigns), the reference (QEMU over qtest, the differential runner) and the front ends,
 * which are the `epfsim` command. This index is the public API; the rest is internal.
 */

export type { NvmeDriverOptions } from './host/driver/driver-options.js';
export { NvmeDriver } from './host/driver/nvme-driver.js';
// ---- host model ----
export { HostSimConfigError, NvmeDriverError, PlacementError } from './host/errors.js';
export { type HostMemory, type IsolationViolation, SimulatedHostMemory } from './host/memory/host-memory.js';
export type { CommandLayout, PlacementPolicy } from './host/placement/layout.js';
export { createPlacement, PLACEMENT_NAMES, type PlacementName } from './host/placement/placement-factory.js';
export {
  loadPlugin,
  loadPlugins,
  type NvmeFunctionFactory,
  type PluginKind,
  type PluginRef,
} from './host/plugins/user-modules.js';
export { createTestbed, type Testbed, type TestbedOptions } from './host/target/epfsim-target.js';
export { type FunctionAccount, formatFunctionAccount, functionAccount } from './host/target/function-account.js';
export type { NvmeTarget } from './host/target/target.js';
// ---- reference ----
export {
  bringUpDriver,
  epfsimTestbed,
  type OpenTarget,
  openTarget,
  type TargetChoice,
} from './reference/open-target.js';
export { qemuAvailable } from './reference/qemu/qemu-process.js';
export { QemuTarget } from './reference/qemu/qemu-target.js';
// ---- runs ----
export type { CaseFile, CaseStep } from './runs/case-file/case-file.js';
export { caseFileJsonSchema } from './runs/case-file/case-schema.js';
export { parseCaseFile } from './runs/case-file/parse-case-file.js';
export { type ReplayOptions, replayCase } from './runs/case-file/replay-case.js';
export { type CaseReport, firstFailure } from './runs/case-file/replay-report.js';
export { serializeCaseFile } from './runs/case-file/serialize-case-file.js';
export { type CampaignOptions, type CampaignResult, runCampaign } from './runs/fuzz/campaign.js';
export type { CampaignPlan, Shard } from './runs/fuzz/campaign-plan.js';
export type { FuzzTarget } from './runs/fuzz/fuzz-target.js';
export { type CampaignJson, mergeShards, ShardMergeError } from './runs/fuzz/merge-shards.js';
export { parseTrace, TraceFormatError } from './runs/trace/index.js';
export { formatRunReport } from './runs/workload/format-report.js';
export { type RunReport, runOnTestbed, type TargetRunReport } from './runs/workload/run-report.js';
export { runWorkload, type WorkloadRunOptions } from './runs/workload/workload-engine.js';
export type { WorkloadResult } from './runs/workload/workload-result.js';
export {
  type GeneratedWorkload,
  type ReplayWorkload,
  WORKLOAD_DEFAULTS,
  type WorkloadSpec,
} from './runs/workload/workload-spec.js';
