/**
 * Differential runs of generated cases (`epfsim fuzz --differential`): each case file the fuzzer
 * builds is replayed on the epfsim function and on QEMU 7.2 from the same starting state (case
 * memory placed with its bytes, a zeroed namespace, the controller reset), then compared command
 * by command (completion, status SCT/SC/DNR, the bytes each command left in the memory it may
 * write) and by namespace contents. Every difference is classified against the known differences,
 * as the corpus check does; one QEMU serves every case.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NvmeFunctionOptions } from '@epfsim/nvme-epf';
import { AdminOpcode, encodeSqe, isSuccess, sqe } from '@epfsim/nvme-spec-types';
import { type CaseFile, type CaseStepKind, caseCommandSqe } from '../../runs/case-file/case-file.js';
import { replayCase } from '../../runs/case-file/replay-case.js';
import { type CaseReport, type CommandReport, opcodeText } from '../../runs/case-file/replay-report.js';
import type { CaseRunner } from '../../runs/fuzz/fuzz-case.js';
import { QemuCaseRunner } from '../qemu/qemu-case-runner.js';
import type { QemuOptions } from '../qemu/qemu-process.js';
import { KNOWN_DIFFERENCES, type KnownDifference } from './known-differences.js';
import {
  type CommandOutcome,
  type Difference,
  type DifferenceField,
  describeOutcome,
  formatDifference,
  hexBytes,
  type Observation,
  sameStatus,
} from './outcome.js';
import { readImage } from './target-pair.js';

/** How a case compared. */
export type CaseVerdict = 'identical' | 'explained' | 'undocumented';

export interface GeneratedCaseResult {
  readonly epfsim: CaseReport;
  readonly qemu: CaseReport;
  /** Every difference, each with the known difference it matches (undefined: undocumented). */
  readonly differences: readonly Difference[];
  readonly verdict: CaseVerdict;
}

export interface GeneratedDifferentialOptions {
  /** QEMU's configuration; its namespace must be the case's. */
  readonly qemu: QemuOptions;
  /** epfsim behaviour options (default: the specification's). */
  readonly epfsimOptions?: Partial<NvmeFunctionOptions>;
  readonly knownDifferences?: readonly KnownDifference[];
}

/** Largest namespace compared after every case: it is read whole on both targets. */
export const DIFFERENTIAL_MAX_NAMESPACE_BYTES = 64 * 1024 * 1024;
/** Chunk of the namespace images compared at a time. */
const IMAGE_CHUNK = 1024 * 1024;
/** Case label in differences; the campaign knows the case id and seed. */
const GENERATED = 'generated';
/** Generated cases carry no rule of their own (an invalid kind's rule is in the case's expectations). */
const NO_RULE = '-';

/** Two replays of one case, compared. */
export function compareCaseReports(
  c: CaseFile,
  epfsim: CaseReport,
  qemu: CaseReport,
  images: { readonly epfsim: string; readonly qemu: string; readonly bytes: number } | undefined,
  known: readonly KnownDifference[] = KNOWN_DIFFERENCES,
): GeneratedCaseResult {
  const differences: Difference[] = [];
  const setupE = bringUpFailure(epfsim);
  const setupQ = bringUpFailure(qemu);
  if ((setupE === undefined) !== (setupQ === undefined)) {
    differences.push(difference(-1, 'queue set-up', 'completion', setupE ?? 'ok', setupQ ?? 'ok', undefined));
  }
  const steps = Math.min(epfsim.commands.length, qemu.commands.length);
  const observations: Observation[] = [];
  for (let i = 0; i < steps; i++) {
    const e = epfsim.commands[i] as CommandReport;
    const o = observation(e, qemu.commands[i] as CommandReport);
    observations.push(o);
    const label = opcodeText(e.qid, e.opcode);
    const found = compareStep(o);
    if (found === undefined) continue;
    const match = (field: DifferenceField) => known.find((k) => k.matches({ ...o, field }))?.id;
    const why =
      match(found.field) ?? (found.field === 'data' ? consequence(differences, observations, known) : undefined);
    differences.push(difference(i, label, found.field, found.epfsim, found.qemu, why));
  }
  if (images !== undefined) {
    const ns = compareImages(images.epfsim, images.qemu, images.bytes, c);
    if (ns !== undefined) {
      const why = consequence(differences, observations, known);
      differences.push(difference(-1, 'namespace after the case', 'namespace', ns.epfsim, ns.qemu, why));
    }
  }
  const verdict: CaseVerdict =
    differences.length === 0
      ? 'identical'
      : differences.every((d) => d.known !== undefined)
        ? 'explained'
        : 'undocumented';
  return { epfsim, qemu, differences, verdict };
}

function difference(
  step: number,
  command: string,
  field: DifferenceField,
  epfsim: string,
  qemu: string,
  known: string | undefined,
): Difference {
  return { caseId: GENERATED, rule: NO_RULE, step, command, field, epfsim, qemu, known };
}

function outcome(r: CommandReport): CommandOutcome {
  const written = r.written === undefined ? {} : { data: r.written };
  return r.status === undefined
    ? { source: 'host-reset', status: 0, dw0: 0, ...written }
    : { source: 'controller', status: r.status, dw0: 0, ...written };
}

function observation(e: CommandReport, q: CommandReport): Observation {
  const bytes = encodeSqe(sqe(caseCommandSqe(e.command)));
  return { caseId: GENERATED, field: 'status', qid: e.qid, sqe: bytes, epfsim: outcome(e), qemu: outcome(q) };
}

/** The first failure of a bring-up step (enable, queue creation): the case's commands did not run as written. */
function bringUpFailure(r: CaseReport): string | undefined {
  const bringUp = new Set<CaseStepKind>(['enable', 'create-cq', 'create-sq']);
  for (const s of r.steps) if (bringUp.has(s.do) && s.failures[0] !== undefined) return s.failures[0];
  for (const cmd of r.commands)
    if (cmd.qid === 0 && cmd.failures[0] !== undefined && isQueueCreation(cmd.opcode)) return cmd.failures[0];
  return undefined;
}

function isQueueCreation(opcode: number): boolean {
  return opcode === AdminOpcode.CREATE_IO_CQ || opcode === AdminOpcode.CREATE_IO_SQ;
}

/** The first thing that differs in one command: completion, status, then the bytes it wrote. */
function compareStep(o: Observation): { field: DifferenceField; epfsim: string; qemu: string } | undefined {
  const { epfsim: e, qemu: q } = o;
  if (e.source !== q.source) return { field: 'completion', epfsim: describeOutcome(e), qemu: describeOutcome(q) };
  if (e.source !== 'controller') return undefined;
  if (!sameStatus(e.status, q.status)) return { field: 'status', epfsim: describeOutcome(e), qemu: describeOutcome(q) };
  // A failed command's buffer holds whatever each controller got to: only successful data is compared.
  if (!isSuccess(e.status) || e.data === undefined || q.data === undefined) return undefined;
  // Identify data describes the controller itself (vendor, serial, model, limits): not a behaviour to compare.
  if (o.qid === 0 && o.sqe[0] === AdminOpcode.IDENTIFY) return undefined;
  const at = firstDifference(e.data, q.data);
  if (at < 0) return undefined;
  return { field: 'data', epfsim: `${hexBytes(e.data, at)} at +0x${at.toString(16)}`, qemu: hexBytes(q.data, at) };
}

/**
 * The known difference a data or namespace difference follows from: an earlier command of the case
 * that differed in a known way (its status changed what was written), else a command whose effect
 * on the namespace is a known difference (a deallocation QEMU ignores).
 */
function consequence(
  found: readonly Difference[],
  observations: readonly Observation[],
  known: readonly KnownDifference[],
): string | undefined {
  const cause = found.find((d) => d.known !== undefined && (d.field === 'status' || d.field === 'completion'));
  if (cause !== undefined) return cause.known;
  for (const o of observations) {
    const id = known.find((k) => k.matches({ ...o, field: 'namespace' }))?.id;
    if (id !== undefined) return id;
  }
  return undefined;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)) return -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** The first namespace byte that differs between the two images, as report text; undefined when equal. */
function compareImages(
  epfsimPath: string,
  qemuPath: string,
  bytes: number,
  c: CaseFile,
): { epfsim: string; qemu: string } | undefined {
  const blockSize = Number((c.controller.namespaces as { blockSize?: number }[] | undefined)?.[0]?.blockSize ?? 512);
  const e = new Uint8Array(IMAGE_CHUNK);
  const q = new Uint8Array(IMAGE_CHUNK);
  for (let off = 0; off < bytes; off += IMAGE_CHUNK) {
    const n = Math.min(IMAGE_CHUNK, bytes - off);
    readImage(epfsimPath, off, e.subarray(0, n));
    readImage(qemuPath, off, q.subarray(0, n));
    const at = firstDifference(e.subarray(0, n), q.subarray(0, n));
    if (at < 0) continue;
    const where = `LBA ${Math.floor((off + at) / blockSize)} +0x${((off + at) % blockSize).toString(16)}`;
    return { epfsim: `${hexBytes(e, at)} at ${where}`, qemu: hexBytes(q, at) };
  }
  return undefined;
}

/**
 * One QEMU and an epfsim namespace file, replaying generated cases on both. {@link runCase} is a
 * fuzz campaign's case runner: a case fails when it shows an undocumented difference.
 */
export class GeneratedCaseDifferential {
  /** The result of the last case run. */
  last: GeneratedCaseResult | undefined;
  private readonly qemu: QemuCaseRunner;
  private readonly options: GeneratedDifferentialOptions;
  private readonly dir: string;
  private readonly epfsimImage: string;

  private constructor(qemu: QemuCaseRunner, options: GeneratedDifferentialOptions, dir: string) {
    this.qemu = qemu;
    this.options = options;
    this.dir = dir;
    this.epfsimImage = join(dir, 'ns1.img');
  }

  /** Starts QEMU. Throws RangeError for a namespace too large to compare after every case. */
  static async start(options: GeneratedDifferentialOptions): Promise<GeneratedCaseDifferential> {
    if (options.qemu.diskBytes > DIFFERENTIAL_MAX_NAMESPACE_BYTES) {
      throw new RangeError(`a differential namespace is at most ${DIFFERENTIAL_MAX_NAMESPACE_BYTES} bytes`);
    }
    const qemu = await QemuCaseRunner.start(options.qemu);
    return new GeneratedCaseDifferential(qemu, options, mkdtempSync(join(tmpdir(), 'epfsim-fuzz-differential-')));
  }

  /** Runs `c` on both targets and compares. */
  run(c: CaseFile): GeneratedCaseResult {
    const bytes = this.options.qemu.diskBytes;
    // Empty, so the file backend starts from a zeroed namespace (it extends the file).
    writeFileSync(this.epfsimImage, '');
    const epfsim = replayCase(this.onEpfsim(c), { captureWrites: true });
    const qemu = this.qemu.run(c, { captureWrites: true });
    const images = { epfsim: this.epfsimImage, qemu: this.qemu.imagePath, bytes };
    this.last = compareCaseReports(c, epfsim, qemu, images, this.options.knownDifferences);
    return this.last;
  }

  /** {@link run} as a campaign's case runner: ok when every difference is a known one. */
  readonly runCase: CaseRunner = (c) => {
    const result = this.run(c);
    const undocumented = result.differences.filter((d) => d.known === undefined);
    return {
      ok: undocumented.length === 0,
      steps: [],
      commands: [],
      failures: undocumented.map((d) => `undocumented difference: ${formatDifference(d)}`),
      counts: result.epfsim.counts,
    };
  };

  close(): void {
    this.qemu.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The case with epfsim's behaviour options and its namespace in a file, for comparison. */
  private onEpfsim(c: CaseFile): CaseFile {
    const namespaces = (c.controller.namespaces as Record<string, unknown>[] | undefined) ?? [];
    return {
      ...c,
      controller: {
        ...c.controller,
        options: this.options.epfsimOptions ?? {},
        namespaces: namespaces.map((ns) => ({ ...ns, backend: { kind: 'file', path: this.epfsimImage } })),
      },
    };
  }
}
