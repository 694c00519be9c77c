export { BlockPattern, type BlockStamp } from './block-pattern.js';
export { bytesText, formatRunReport } from './format-report.js';
export { IoGenerator, type IoGeneratorConfig } from './io-generator.js';
export { type IoGeometry, ioGeometry, type NamespaceLimits } from './io-geometry.js';
export { IO_OPS, type IoOp, type IoRequest, requestsConflict } from './io-request.js';
export { GeneratedSource, type IoSource, TraceSource, traceToRequests } from './io-source.js';
export { LATENCY_PERCENTILES, LatencyRecorder, type LatencySummary } from './latency-recorder.js';
export {
  CHECK_NAMES,
  type CheckName,
  countLeaks,
  type RunCheck,
  runChecks,
  type ShutdownObservation,
} from './run-checks.js';
export {
  type FunctionCounters,
  type RunConfig,
  type RunCounters,
  type RunReport,
  runOnTestbed,
  type TargetRunCounters,
  type TargetRunReport,
  type WorkloadConfig,
} from './run-report.js';
export { isRwMode, RW_MODE_INFO, RW_MODES, type RwMix, type RwMode, type RwModeInfo } from './rw-mode.js';
export {
  type DeallocatedReads,
  deallocatedReads,
  MISMATCH_LOG_LIMIT,
  type Mismatch,
  Verifier,
  type VerifyRegion,
  type VerifySummary,
} from './verifier.js';
export {
  MAX_VERIFIED_BLOCKS,
  runWorkload,
  type WorkloadProgress,
  type WorkloadRunOptions,
} from './workload-engine.js';
export type {
  OpCounts,
  OpMeasured,
  WallClockFigures,
  WorkloadEnd,
  WorkloadResult,
} from './workload-result.js';
export {
  type BlockSizeRange,
  type GeneratedWorkload,
  MAX_IODEPTH,
  MAX_QUEUES,
  PERCENT,
  REPLAY_TIMINGS,
  type ReplayTiming,
  type ReplayWorkload,
  WORKLOAD_DEFAULTS,
  type WorkloadCommon,
  type WorkloadSpec,
} from './workload-spec.js';
