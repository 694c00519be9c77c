export {
  COMPARE_IODEPTH,
  COMPARE_PLACEMENTS,
  COMPARE_WORKLOADS,
  type CompareCell,
  type CompareMatrix,
  type ComparePlacement,
  type CompareWorkload,
  compareMatrix,
  DEFAULT_IOS,
  matrixCells,
  QUICK_IOS,
  QUICK_PROFILES,
} from './compare-matrix.js';
export {
  buildReport,
  type CompareReport,
  type ProfileEdges,
  type ProfileTable,
  REPORT_VERSION,
  type StrategyRow,
} from './compare-report.js';
export { type CompareProgress, type CompareRunOptions, runCompare } from './compare-runner.js';
export { type AccessPhase, alignedBlock, type FailedAccess, startAlignment } from './failed-access.js';
export { formatCompareReport } from './format-table.js';
export { renderReportHtml } from './report-html.js';
export { type CellResult, NOT_RUN, runCell } from './run-cell.js';
export { type AccessPosition, type FailedAccessSummary, TransferRecorder } from './transfer-recorder.js';
