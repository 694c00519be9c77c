/**
 * One fuzz case: a fast-check value of parameters and the case file they make. A case is a bring-up
 * (admin queue, controller page, Number of Queues, an outstanding AER, the I/O queue pairs: shared
 * CQs, IEN = 0, CQs smaller than their SQs) followed by host actions: placed I/O in batches before
 * one doorbell, Identify, commands that fail before execution, queue creation with every invalid
 * field, deletion, delete-and-recreate, raw doorbell writes of invalid values, a held CQ head,
 * interrupt coalescing, resets, shutdowns and invalid enables. A model of the controller
 * (controller-model.ts) and of the namespace (block-model.ts) runs alongside and writes what the
 * specification says into every step's expectations; the case file is then replayed on a fresh
 * testbed by the same function as `epfsim replay`, so what the campaign checks is exactly what a
 * case file reproduces. Shrinking works on the parameters (fast-check's shrinker): an action
 * removed, the model recomputes the rest.
 */
import type { CaseFile } from '../case-file/case-file.js';
import { replayCase } from '../case-file/replay-case.js';
import type { CaseReport } from '../case-file/replay-report.js';
import { CaseBuilder } from './case-builder.js';
import type { FuzzCaseParams } from './fuzz-params.js';
import type { FuzzTarget } from './fuzz-target.js';

/** The concrete case of `params`: memory, steps and every expectation. */
export function buildFuzzCase(target: FuzzTarget, params: FuzzCaseParams, seed?: number, description = ''): CaseFile {
  return new CaseBuilder(target, params).build(seed, description);
}

/** Runs a case file to its report: {@link replayCase} on a fresh testbed, or another target's runner. */
export type CaseRunner = (caseFile: CaseFile) => CaseReport;

/** Builds and replays a case (on a fresh in-process testbed unless `run` says otherwise). */
export function runFuzzCase(
  target: FuzzTarget,
  params: FuzzCaseParams,
  run: CaseRunner = replayCase,
): { caseFile: CaseFile; report: CaseReport } {
  const caseFile = buildFuzzCase(target, params);
  return { caseFile, report: run(caseFile) };
}

export {
  CREATE_FLAWS,
  type CreateFlaw,
  EARLY_FAILURES,
  type EarlyFailure,
  type FuzzAction,
  type FuzzBringUpParams,
  type FuzzCaseParams,
  type FuzzIoQueueParams,
  type FuzzQueueParams,
  fuzzCaseArbitrary,
  POWER_EVENTS,
  type PowerEvent,
} from './fuzz-params.js';
export { type FuzzControllerSettings, type FuzzTarget, fuzzController } from './fuzz-target.js';
