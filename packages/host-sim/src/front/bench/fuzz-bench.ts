/**
 * Fuzz throughput, two ways: the `epfsim fuzz` campaign's own cases (each a case file of one to six
 * commands, replayed on a fresh testbed), and a loop of single-command cases on one reused testbed
 * (a fresh adversarial layout per command: place, write, read back through another layout, verify,
 * release), which is what a campaign's inner loop could be.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findProfile, PROFILE_NAMES } from '@epfsim/epc-core';
import { FAULT_CATALOGUE } from '@epfsim/nvme-epf';
import { isSuccess } from '@epfsim/nvme-spec-types';
import { NvmeDriver } from '../../host/driver/nvme-driver.js';
import { expectedReadBytes } from '../../host/placement/layout.js';
import { createPlacement, PLACEMENT_NAMES } from '../../host/placement/placement-factory.js';
import { createTestbed } from '../../host/target/epfsim-target.js';
import { qemuAvailable } from '../../reference/qemu/qemu-process.js';
import { runCampaignCase } from '../../runs/fuzz/campaign.js';
import type { CampaignPlan } from '../../runs/fuzz/campaign-plan.js';
import { type FaultHunt, huntFault } from '../../runs/fuzz/find-fault.js';
import { runJsonChild } from './json-child.js';
import { median } from './measure.js';

const PROFILE = 'stress';
/** The namespace of `epfsim fuzz` by default. */
const DEFAULT_NAMESPACE_BYTES = 1 << 30;
const BLOCK = 512;
const NSID = 1;
/** Namespace of the loop: 8 MiB. */
const LOOP_BLOCKS = 16 * 1024;
/** Largest command of the loop: 32 blocks (16 KiB, several partial maps on `stress`). */
const LOOP_MAX_BLOCKS = 32;
/** Random bytes the loop's payloads are cut from. */
const POOL_BYTES = 1 << 20;

export interface FuzzRate {
  /** Cases per second, median of the repetitions. */
  readonly perSecond: number;
  readonly cases: number;
  readonly failed: number;
  readonly skipped: number;
}

/**
 * Campaign cases (runCampaignCase, one thread) on `stress` with adversarial placement for `ms` per
 * repetition: the default stateful cases, or (`protocol` false) placed I/O alone, as before them.
 */
function measureCampaign(ms: number, repetitions: number, protocol = true): FuzzRate {
  const profile = findProfile(PROFILE);
  if (profile === undefined) throw new Error(`no profile ${PROFILE}`);
  const plan: CampaignPlan = {
    targets: [{ profile, placement: 'adversarial', strategy: 'mem-map', blockSize: BLOCK, blocks: 1 << 16, protocol }],
    seed: 1,
    cases: undefined,
    shard: { index: 0, count: 1 },
  };
  let id = 0;
  let cases = 0;
  let failed = 0;
  let skipped = 0;
  const runFor = (budget: number, count: boolean): number => {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < budget) {
      const outcome = runCampaignCase(plan, id++);
      n++;
      if (!count) continue;
      cases++;
      if (outcome.skipped) skipped++;
      else if (!outcome.ok) failed++;
    }
    return n / ((performance.now() - start) / 1000);
  };
  runFor(ms / 4, false);
  const rates: number[] = [];
  for (let r = 0; r < repetitions; r++) rates.push(runFor(ms, true));
  return { perSecond: median(rates), cases, failed, skipped };
}

/** One of figure 5's in-process measurements, as a child process runs it. */
export type FuzzMeasurement =
  | { readonly kind: 'campaign'; readonly ms: number; readonly repetitions: number; readonly protocol: boolean }
  | { readonly kind: 'loop'; readonly cases: number; readonly repetitions: number };

/** Runs `m` in this process (the child's side of {@link measureFuzzInChild}). */
export function runFuzzMeasurement(m: FuzzMeasurement): FuzzRate {
  return m.kind === 'campaign'
    ? measureCampaign(m.ms, m.repetitions, m.protocol)
    : measureCommandLoop(m.cases, m.repetitions);
}

/** Runs `m` in a child process (fuzz-child.js, see json-child.ts). */
export function measureFuzzInChild(m: FuzzMeasurement): FuzzRate {
  return runJsonChild<FuzzRate>('fuzz benchmark', new URL('./fuzz-child.js', import.meta.url), m);
}

/** Room for the `--json` result of a QEMU campaign (one line per case). */
const QEMU_RESULT_BYTES = 64 << 20;

/** Cases per second of one `epfsim fuzz` run in a child process, from its `--json` summary. */
function fuzzInChild(args: readonly string[], resultBytes: number): FuzzRate | { readonly unavailable: string } {
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const child = spawnSync(process.execPath, [cli, 'fuzz', ...args, '--json'], {
    encoding: 'utf8',
    maxBuffer: resultBytes,
  });
  if (child.status !== 0 && child.status !== 1)
    return {
      unavailable: `epfsim fuzz ${args.join(' ')} exited ${child.status ?? child.signal}: ${child.stderr.trim()}`,
    };
  const r = JSON.parse(child.stdout) as { casesRun: number; failed: number; skipped: number; elapsedMs: number };
  return { perSecond: r.casesRun / (r.elapsedMs / 1000), cases: r.casesRun, failed: r.failed, skipped: r.skipped };
}

/**
 * The same campaign as {@link measureCampaign} (stress, adversarial, seed 1) on QEMU's NVMe
 * controller, run as a user runs it: `epfsim fuzz --target qemu --cases N --json` in a child process.
 */
export function measureQemuCampaign(cases: number): FuzzRate | { readonly unavailable: string } {
  if (!qemuAvailable()) return { unavailable: 'qemu-system-x86_64 is not installed' };
  const args = ['--target', 'qemu', '--profile', PROFILE, '--placement', 'adversarial', '--seed', '1'];
  return fuzzInChild([...args, '--cases', String(cases)], QEMU_RESULT_BYTES);
}

/** Room for a campaign's `--json` summary with its failures. */
const CAMPAIGN_RESULT_BYTES = 16 << 20;

export interface WorkerScaling {
  /** Cases per second with one worker and with two, medians of the repetitions. */
  readonly one: number;
  readonly two: number;
  readonly cases: number;
}

/**
 * `epfsim fuzz --workers 1` against `--workers 2` on the default campaign (every profile ×
 * placement, seed 1), each alone in its own process, alternating so that drift on a shared host
 * falls on both.
 */
export function measureWorkerScaling(
  cases: number,
  repetitions: number,
): WorkerScaling | { readonly unavailable: string } {
  const one: number[] = [];
  const two: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    for (const workers of [1, 2] as const) {
      const args = ['--seed', '1', '--cases', String(cases), '--workers', String(workers)];
      const run = fuzzInChild(args, CAMPAIGN_RESULT_BYTES);
      if ('unavailable' in run) return run;
      (workers === 1 ? one : two).push(run.perSecond);
    }
  }
  return { one: median(one), two: median(two), cases };
}

/**
 * Single-command cases on one `stress` testbed: a write of 1–32 blocks of random bytes at a random
 * LBA and a read of the same blocks, each with its own adversarial layout, and the bytes compared.
 */
function measureCommandLoop(cases: number, repetitions: number): FuzzRate {
  const tb = createTestbed({
    profile: PROFILE,
    strict: false,
    function: {
      strategy: 'mem-map',
      namespaces: [{ blockSize: BLOCK, blocks: LOOP_BLOCKS, backend: { kind: 'ram' } }],
    },
  });
  try {
    const placement = createPlacement('adversarial', tb.memory, { seed: 7, profile: tb.profile });
    const driver = new NvmeDriver(tb.target, { placement, ioQueues: 1, ioQueueDepth: 16 });
    driver.init();
    let rng = 0x2545f491;
    const next = (n: number): number => {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      return (rng >>> 0) % n;
    };
    // Random bytes made once; each case writes a slice at a random dword offset of them.
    const pool = new Uint8Array(POOL_BYTES + LOOP_MAX_BLOCKS * BLOCK);
    for (let b = 0; b < pool.length; b++) pool[b] = next(256);
    let failed = 0;
    let total = 0;
    const run = (n: number): number => {
      for (let i = 0; i < n; i++) {
        const nlb = 1 + next(LOOP_MAX_BLOCKS);
        const lba = BigInt(next(LOOP_BLOCKS - nlb + 1));
        const from = next(POOL_BYTES / 4) * 4;
        const data = pool.subarray(from, from + nlb * BLOCK);
        const written = driver.write(NSID, lba, data);
        const back = driver.read(NSID, lba, nlb);
        // SGL Bit Buckets (adversarial layouts) discard their bytes: those read as zero.
        const same =
          back.data !== undefined &&
          back.layout !== undefined &&
          Buffer.from(back.data.buffer, back.data.byteOffset, back.data.length).equals(
            expectedReadBytes(back.layout, data),
          );
        if (!isSuccess(written.completion.status) || !isSuccess(back.completion.status) || !same) failed++;
        total++;
      }
      return n;
    };
    run(Math.max(1, Math.floor(cases / 4)));
    const rates: number[] = [];
    for (let r = 0; r < repetitions; r++) {
      const start = performance.now();
      run(cases);
      rates.push(cases / ((performance.now() - start) / 1000));
    }
    return { perSecond: median(rates), cases: total, failed, skipped: 0 };
  } finally {
    tb.close();
  }
}

/** The default campaign (every profile x placement, seed 1, 1 GiB namespace) with each catalogued fault in turn. */
export function huntCatalogue(budgetMs: number, say: (line: string) => void): FaultHunt[] {
  const targets = PROFILE_NAMES.flatMap((name) =>
    PLACEMENT_NAMES.map((placement) => ({
      profile: findProfile(name) as NonNullable<ReturnType<typeof findProfile>>,
      placement,
      strategy: 'mem-map' as const,
      blockSize: BLOCK as 512,
      blocks: DEFAULT_NAMESPACE_BYTES / BLOCK,
    })),
  );
  const plan: CampaignPlan = { targets, seed: 1, cases: undefined, shard: { index: 0, count: 1 } };
  return FAULT_CATALOGUE.map((f) => {
    say(`fault ${f.name}`);
    return huntFault(plan, f.name, { budgetMs });
  });
}
