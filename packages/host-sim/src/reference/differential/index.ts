/**
 * The differential check of epfsim against QEMU 7.2's NVMe controller: a fixed corpus of raw
 * commands, a runner that executes it on both targets and compares every command, and the list of
 * known (documented, deliberate) differences with the epfsim options that reproduce QEMU.
 */
export {
  type CaseCommand,
  type CaseQueue,
  type CaseSetup,
  type CaseSpace,
  type DifferentialCase,
  type MemoryWrite,
  POISON,
} from './case.js';
export { corpusCase, DIFFERENTIAL_CORPUS } from './corpus.js';
export { qemuFuzzTarget, qemuOptionsFor } from './fuzz-target.js';
export {
  type CaseVerdict,
  compareCaseReports,
  DIFFERENTIAL_MAX_NAMESPACE_BYTES,
  GeneratedCaseDifferential,
  type GeneratedCaseResult,
  type GeneratedDifferentialOptions,
} from './generated-case.js';
export { KNOWN_DIFFERENCES, type KnownDifference, knownDifference, QEMU_COMPAT_OPTIONS } from './known-differences.js';
export {
  type CommandOutcome,
  type Difference,
  type DifferenceField,
  describeOutcome,
  formatDifference,
  type Observation,
  sameStatus,
} from './outcome.js';
export { QEMU_DIFFERENCES_DOC, QEMU_DIFFERENCES_REGENERATE, renderQemuDifferences } from './qemu-differences-doc.js';
export {
  type CaseResult,
  type DifferentialOptions,
  type DifferentialReport,
  runDifferential,
  type StepResult,
} from './runner.js';
export { type AgreementRate, agreementRate, formatDifferentialReport } from './summary.js';
export {
  DIFFERENTIAL_LAYOUT,
  type DifferentialSide,
  epfsimFunctionConfig,
  openTargetPair,
  QEMU_MQES,
  QEMU_MSIX_VECTORS,
  type TargetPair,
} from './target-pair.js';
