/**
 * The differential runner: every case on epfsim and on QEMU 7.2 from the same starting state,
 * compared command by command (status SCT/SC/DNR, DW0 where defined, returned data) and then by
 * namespace contents; each difference is classified against the known differences.
 */
import type { NvmeFunctionOptions } from '@epfsim/nvme-epf';
import { isSuccess } from '@epfsim/nvme-spec-types';
import type { GrantSpec } from '../../host/memory/grant-table.js';
import type { HostRange } from '../../host/memory/host-range.js';
import type { QemuOptions } from '../qemu/qemu-process.js';
import { QEMU_DEFAULTS } from '../qemu/qemu-target.js';
import { type CaseCommand, type CaseSetup, type CaseSpace, type DifferentialCase, POISON } from './case.js';
import { KNOWN_DIFFERENCES, type KnownDifference } from './known-differences.js';
import {
  type CommandOutcome,
  type Difference,
  type DifferenceField,
  describeOutcome,
  hex32,
  hexBytes,
  type Observation,
  sameStatus,
} from './outcome.js';
import { dw0Meaningful, IO_QID, NSID } from './sqe-builder.js';
import {
  DIFFERENTIAL_LAYOUT,
  type DifferentialSide,
  openTargetPair,
  readImage,
  type TargetPair,
  writeImage,
} from './target-pair.js';

/** How to run the check. */
export interface DifferentialOptions {
  /** epfsim controller options (default: the specification's behaviour). */
  readonly epfsimOptions?: Partial<NvmeFunctionOptions>;
  /** QEMU device options; the epfsim namespace and limits follow them. */
  readonly qemuOptions?: Partial<QemuOptions>;
  /** Seed of the host driver's placements (the same on both targets). */
  readonly seed?: number;
  /** Differences to classify against (default {@link KNOWN_DIFFERENCES}). */
  readonly knownDifferences?: readonly KnownDifference[];
  /** Called after each case (progress for the CLI). */
  readonly onCase?: (result: CaseResult) => void;
}

/** One command on both targets. */
export interface StepResult {
  readonly label: string;
  readonly qid: number;
  readonly sqe: Uint8Array;
  readonly compared: boolean;
  readonly epfsim: CommandOutcome;
  readonly qemu: CommandOutcome;
}

/** One case on both targets. */
export interface CaseResult {
  readonly id: string;
  readonly rule: string;
  readonly title: string;
  readonly steps: readonly StepResult[];
  readonly differences: readonly Difference[];
  /** No difference at all. */
  readonly agrees: boolean;
  /** Every difference is a known one. */
  readonly explained: boolean;
}

/** The whole run. */
export interface DifferentialReport {
  readonly epfsimOptions: Partial<NvmeFunctionOptions>;
  readonly qemuOptions: QemuOptions;
  readonly cases: readonly CaseResult[];
  /** Namespace differences outside every case's window (a write that went astray). */
  readonly strays: readonly Difference[];
  /** Every difference, cases first, then strays. */
  readonly differences: readonly Difference[];
  readonly undocumented: readonly Difference[];
  readonly durationMs: number;
}

const poisonCache = { bytes: new Uint8Array(0) };

function poison(size: number): Uint8Array {
  if (poisonCache.bytes.length < size) poisonCache.bytes = new Uint8Array(size).fill(POISON);
  return poisonCache.bytes.subarray(0, size);
}

function readRanges(side: DifferentialSide, ranges: readonly HostRange[]): Uint8Array {
  const total = ranges.reduce((n, r) => n + r.size, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const r of ranges) {
    side.target.memory.read(r.addr, out.subarray(off, off + r.size));
    off += r.size;
  }
  return out;
}

function execute(side: DifferentialSide, cmd: CaseCommand, grants: readonly GrantSpec[]): CommandOutcome {
  try {
    const memory = side.target.memory;
    for (const w of cmd.memory ?? []) memory.write(w.addr, w.bytes);
    for (const r of cmd.returns ?? []) memory.write(r.addr, poison(r.size));
    const completion = side.driver.wait(side.driver.submitRaw(cmd.qid, cmd.sqe, grants));
    const returns = cmd.returns ?? [];
    return {
      source: completion.source,
      status: completion.status,
      dw0: completion.dw0,
      ...(returns.length === 0 ? {} : { data: readRanges(side, returns) }),
    };
  } catch (error) {
    return { source: 'error', status: 0, dw0: 0, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The host address of offset `i` of the concatenated returns. */
function returnsAddress(ranges: readonly HostRange[], i: number): string {
  let off = i;
  for (const r of ranges) {
    if (off < r.size) return `0x${(r.addr + BigInt(off)).toString(16)}`;
    off -= r.size;
  }
  return `+0x${i.toString(16)}`;
}

function firstDifference(a: Uint8Array, b: Uint8Array): { index: number; count: number } | undefined {
  let index = -1;
  let count = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      if (index < 0) index = i;
      count++;
    }
  }
  count += Math.abs(a.length - b.length);
  if (count === 0) return undefined;
  return { index: index < 0 ? n : index, count };
}

interface CaseContext {
  readonly c: DifferentialCase;
  readonly known: readonly KnownDifference[];
  readonly out: Difference[];
}

function classify(ctx: CaseContext, o: Observation): string | undefined {
  return ctx.known.find((k) => k.matches(o))?.id;
}

function record(
  ctx: CaseContext,
  step: number,
  s: StepResult,
  field: DifferenceField,
  epfsim: string,
  qemu: string,
): void {
  const obs: Observation = { caseId: ctx.c.id, field, qid: s.qid, sqe: s.sqe, epfsim: s.epfsim, qemu: s.qemu };
  ctx.out.push({
    caseId: ctx.c.id,
    rule: ctx.c.rule,
    step,
    command: s.label,
    field,
    epfsim,
    qemu,
    known: classify(ctx, obs),
  });
}

function compareStep(ctx: CaseContext, step: number, s: StepResult, cmd: CaseCommand): void {
  const { epfsim: e, qemu: q } = s;
  if (e.source !== 'controller' || q.source !== 'controller') {
    if (e.source !== q.source) record(ctx, step, s, 'completion', describeOutcome(e), describeOutcome(q));
    return;
  }
  if (!sameStatus(e.status, q.status)) {
    record(ctx, step, s, 'status', describeOutcome(e), describeOutcome(q));
    return;
  }
  const opcode = s.sqe[0] ?? 0;
  if ((cmd.dw0 ?? dw0Meaningful(s.qid, opcode)) && e.dw0 !== q.dw0) {
    record(ctx, step, s, 'dw0', `DW0 ${hex32(e.dw0)}`, `DW0 ${hex32(q.dw0)}`);
  }
  if (isSuccess(e.status) && e.data !== undefined && q.data !== undefined) {
    const d = firstDifference(e.data, q.data);
    if (d !== undefined) {
      const at = returnsAddress(cmd.returns ?? [], d.index);
      record(
        ctx,
        step,
        s,
        'data',
        `${hexBytes(e.data, d.index)} at ${at} (${d.count} bytes differ)`,
        `${hexBytes(q.data, d.index)} at ${at}`,
      );
    }
  }
}

/**
 * Classifies a namespace difference: a consequence of the case's known status difference if it
 * has one, else a known difference about namespace contents matching one of its commands.
 */
function classifyNamespace(ctx: CaseContext, steps: readonly StepResult[]): string | undefined {
  const cause = ctx.out.find((x) => x.known !== undefined && (x.field === 'status' || x.field === 'completion'));
  if (cause !== undefined) return cause.known;
  for (const s of steps) {
    if (!s.compared) continue;
    const known = classify(ctx, {
      caseId: ctx.c.id,
      field: 'namespace',
      qid: s.qid,
      sqe: s.sqe,
      epfsim: s.epfsim,
      qemu: s.qemu,
    });
    if (known !== undefined) return known;
  }
  return undefined;
}

/** Compares the case's namespace window (after Flush on both). */
function compareWindow(ctx: CaseContext, pair: TargetPair, space: CaseSpace, steps: readonly StepResult[]): void {
  const bytes = space.blocks * space.blockSize;
  const offset = Number(space.slba) * space.blockSize;
  const e = new Uint8Array(bytes);
  const q = new Uint8Array(bytes);
  readImage(pair.epfsim.imagePath, offset, e);
  readImage(pair.qemu.imagePath, offset, q);
  const d = firstDifference(e, q);
  if (d === undefined) return;
  const lba = space.slba + BigInt(Math.floor(d.index / space.blockSize));
  const at = `LBA ${lba} +0x${(d.index % space.blockSize).toString(16)}`;
  const known = classifyNamespace(ctx, steps);
  // Later cases that reuse the window (more cases than windows) start from the same bytes again.
  writeImage(pair.epfsim.imagePath, offset, q);
  ctx.out.push({
    caseId: ctx.c.id,
    rule: ctx.c.rule,
    step: -1,
    command: 'namespace window after the case',
    field: 'namespace',
    epfsim: `${hexBytes(e, d.index)} at ${at} (${d.count} bytes differ)`,
    qemu: `${hexBytes(q, d.index)} at ${at}`,
    known,
  });
}

function flush(side: DifferentialSide): void {
  try {
    side.driver.flush(NSID, { qid: IO_QID });
  } catch {
    // A broken target shows up in the next comparison; the flush itself is not compared.
  }
}

function caseSpace(pair: TargetPair, slot: number): CaseSpace {
  const l = DIFFERENTIAL_LAYOUT;
  const q = pair.qemuOptions;
  const slots = Math.floor(l.casesBytes / l.slotBytes);
  const windows = Math.floor(q.diskBytes / l.windowBytes);
  const blocks = l.windowBytes / q.blockSize;
  return {
    host: l.cases + BigInt((slot % slots) * l.slotBytes),
    hostBytes: l.slotBytes,
    staging: l.staging,
    stagingBytes: l.stagingBytes,
    slba: BigInt((slot % windows) * blocks),
    blocks,
    blockSize: q.blockSize,
    nsze: BigInt(q.diskBytes / q.blockSize),
    mdtsBytes: q.mdts === 0 ? 0 : 4096 * 2 ** q.mdts,
    queues: pair.queues,
    seed: slot + 1,
  };
}

function runCase(pair: TargetPair, c: DifferentialCase, slot: number, known: readonly KnownDifference[]): CaseResult {
  const space = caseSpace(pair, slot);
  const ctx: CaseContext = { c, known, out: [] };
  const steps: StepResult[] = [];
  const commands = c.build(space);
  commands.forEach((cmd, i) => {
    const s: StepResult = {
      label: cmd.label,
      qid: cmd.qid,
      sqe: cmd.sqe,
      compared: cmd.compare !== false,
      epfsim: execute(pair.epfsim, cmd, pair.grants),
      qemu: execute(pair.qemu, cmd, pair.grants),
    };
    steps.push(s);
    if (s.compared) compareStep(ctx, i, s, cmd);
  });
  flush(pair.epfsim);
  flush(pair.qemu);
  compareWindow(ctx, pair, space, steps);
  const differences = ctx.out;
  return {
    id: c.id,
    rule: c.rule,
    title: c.title,
    steps,
    differences,
    agrees: differences.length === 0,
    explained: differences.every((d) => d.known !== undefined),
  };
}

/** True when a case left a target unusable (a host-side error or a reset): the pair is replaced. */
function broken(r: CaseResult): boolean {
  return r.steps.some((s) => s.epfsim.source !== 'controller' || s.qemu.source !== 'controller');
}

/** Namespace bytes that differ outside the windows of the cases run on this pair. */
function strays(pair: TargetPair, windows: readonly { slba: bigint; blocks: number }[]): Difference[] {
  const q = pair.qemuOptions;
  const chunk = 1 << 20;
  const e = new Uint8Array(chunk);
  const r = new Uint8Array(chunk);
  const found: Difference[] = [];
  for (let off = 0; off < q.diskBytes; off += chunk) {
    const n = Math.min(chunk, q.diskBytes - off);
    readImage(pair.epfsim.imagePath, off, e.subarray(0, n));
    readImage(pair.qemu.imagePath, off, r.subarray(0, n));
    for (let i = 0; i < n; i++) {
      if (e[i] === r[i]) continue;
      const lba = BigInt(Math.floor((off + i) / q.blockSize));
      const inWindow = windows.some((w) => lba >= w.slba && lba < w.slba + BigInt(w.blocks));
      if (inWindow) {
        // Reported with its case; skip to the next block.
        i += q.blockSize - ((off + i) % q.blockSize) - 1;
        continue;
      }
      found.push({
        caseId: '*',
        rule: '-',
        step: -1,
        command: 'namespace outside every case window',
        field: 'namespace',
        epfsim: `${hexBytes(e, i)} at LBA ${lba}`,
        qemu: `${hexBytes(r, i)} at LBA ${lba}`,
        known: undefined,
      });
      return found;
    }
  }
  return found;
}

function setupKey(setup: CaseSetup | undefined): string {
  return JSON.stringify(setup ?? {});
}

/**
 * Runs `cases` on epfsim and QEMU. Cases with the same set-up share one pair of freshly started
 * targets (QEMU starts in about 25 ms); a pair a case broke (timeout, host error) is replaced.
 * Each case gets its own host pages and namespace window (its slot is its index in `cases`).
 * Throws when QEMU cannot be started.
 */
export async function runDifferential(
  cases: readonly DifferentialCase[],
  options: DifferentialOptions = {},
): Promise<DifferentialReport> {
  const started = performance.now();
  const known = options.knownDifferences ?? KNOWN_DIFFERENCES;
  const pairOptions = {
    ...(options.epfsimOptions === undefined ? {} : { epfsimOptions: options.epfsimOptions }),
    ...(options.qemuOptions === undefined ? {} : { qemuOptions: options.qemuOptions }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  };
  const batches = new Map<string, { setup: CaseSetup; items: number[] }>();
  cases.forEach((c, i) => {
    const key = setupKey(c.setup);
    const batch = batches.get(key) ?? { setup: c.setup ?? {}, items: [] };
    batch.items.push(i);
    batches.set(key, batch);
  });
  const results: CaseResult[] = new Array(cases.length);
  const strayDiffs: Difference[] = [];
  let qemuOptions: QemuOptions | undefined;
  for (const batch of batches.values()) {
    let pair = await openTargetPair(batch.setup, pairOptions);
    qemuOptions = pair.qemuOptions;
    let windows: { slba: bigint; blocks: number }[] = [];
    try {
      for (const i of batch.items) {
        const c = cases[i] as DifferentialCase;
        const result = runCase(pair, c, i, known);
        results[i] = result;
        const space = caseSpace(pair, i);
        windows.push({ slba: space.slba, blocks: space.blocks });
        options.onCase?.(result);
        if (broken(result)) {
          strayDiffs.push(...strays(pair, windows));
          pair.close();
          windows = [];
          pair = await openTargetPair(batch.setup, pairOptions);
        }
      }
      strayDiffs.push(...strays(pair, windows));
    } finally {
      pair.close();
    }
  }
  const differences = [...results.flatMap((r) => r.differences), ...strayDiffs];
  return {
    epfsimOptions: options.epfsimOptions ?? {},
    qemuOptions: qemuOptions ?? { ...QEMU_DEFAULTS, ...options.qemuOptions },
    cases: results,
    strays: strayDiffs,
    differences,
    undocumented: differences.filter((d) => d.known === undefined),
    durationMs: performance.now() - started,
  };
}
