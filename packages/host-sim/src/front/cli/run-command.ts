import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isNvmeDriverError } from '../../host/errors.js';
import { type FunctionAccount, formatFunctionAccount, functionAccount } from '../../host/target/function-account.js';
import { type OpenTarget, openTarget } from '../../reference/open-target.js';
import { QtestError } from '../../reference/qemu/qtest-client.js';
import { parseTrace } from '../../runs/trace/parse-trace.js';
import { isTraceFormatError } from '../../runs/trace/trace-format-error.js';
import { formatRunReport } from '../../runs/workload/format-report.js';
import { runOnTestbed } from '../../runs/workload/run-report.js';
import { isRwMode, RW_MODES } from '../../runs/workload/rw-mode.js';
import type { WorkloadProgress } from '../../runs/workload/workload-engine.js';
import {
  type BlockSizeRange,
  MAX_IODEPTH,
  MAX_QUEUES,
  PERCENT,
  REPLAY_TIMINGS,
  type ReplayWorkload,
  WORKLOAD_DEFAULTS,
  type WorkloadSpec,
} from '../../runs/workload/workload-spec.js';
import type { CommandContext } from './command.js';
import {
  INVALID_PLACEMENT,
  resolveTestbedFlags,
  TESTBED_FLAGS,
  TESTBED_FLAGS_HELP,
  type TestbedChoice,
} from './common-options.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { parseChoice, parseDuration, parseInteger, parseSize } from './options.js';
import { createProgress } from './progress.js';
import { parseFunction, runEndpointTest } from './run-endpoint-test.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage-error.js';

export const RUN_HELP = `usage: epfsim run [options] [--json]

Runs an NVMe workload in fio's terms (or replays a block trace) through the host driver,
the NVMe endpoint function and the simulated EPC, verifies every byte read, and reports
I/Os, IOPS, bandwidth and completion latency (wall clock), the EPC's counters, and the
isolation, protocol and leak checks. With --target qemu the same workload runs on QEMU's
NVMe controller: data, statuses, protocol and timeouts are checked; the EPC counters and
the isolation, bus-fault, EPC-contract and leak checks are not applicable (N/A). Exit 0
when every check passes, 1 when one fails, 2 for a bad option.

workload (fio names):
  --rw MODE              ${RW_MODES.join(' | ')} (default ${WORKLOAD_DEFAULTS.rw})
  --bs SIZE[-SIZE]       block size, or a range such as 4k-64k (default ${WORKLOAD_DEFAULTS.blockSize})
  --iodepth N            commands in flight per queue, 1..${MAX_IODEPTH} (default ${WORKLOAD_DEFAULTS.iodepth})
  --queues N             I/O queues, one fio job each: in flight <= iodepth x queues (default ${WORKLOAD_DEFAULTS.queues})
  --offset SIZE          start of the region used (default 0)
  --size SIZE            bytes of the region used (default ${WORKLOAD_DEFAULTS.size}, or to the end of the
                         namespace if that is nearer: most reads then find data the run wrote)
  --number-ios N         I/Os per queue (default ${WORKLOAD_DEFAULTS.numberIos}, or unbounded with --runtime)
  --runtime DURATION     stop after this wall-clock time, e.g. 10s, 500ms, 2m
  --rwmixread PCT        percentage of reads in rw and randrw (default ${WORKLOAD_DEFAULTS.rwmixread})
  --no-verify            do not check data read back (default: every byte read is checked; a
                         workload that reads nothing reports verify as N/A, as fio verifies reads)

function:
  --function NAME        nvme (default): the NVMe endpoint function under the workload above;
                         pci-epf-test: the kernel's endpoint test function under its selftest
                         (BAR, interrupts, read/write/copy of 1 B to 1 MB, with DMA where the
                         controller has it), buffers placed linux or adversarial (the default:
                         each starts just below a 1 MiB edge), checked by CRC-32, leaks and faults
  --function FILE.mjs    your own NVMe function: a module whose default export is
                         createFunction(epc, config) returning an NvmeFunction; it runs where nvme
                         runs, under the same driver, placements, workload and checks
  --alignment N          pci-epf-test: the host driver's buffer alignment (default 0)

replay:
  --replay FILE          replay a trace (fio iolog v2/v3, or DiskSim ASCII) fitted onto the
                         namespace, with the same queues and verification; --number-ios N
                         replays its first N requests
  --replay-timing MODE   asap (default) or honour: no request before its time offset
  --replay-speed N       with honour: divide arrival times by N (2 replays twice as fast)

${TESTBED_FLAGS_HELP}

output:
  --json                 the report as JSON (docs/json/run.schema.json)
  --verbose              also print the function's event trace (what it objected to, and why)

When the controller does not come up or a command fails, the report ends with the function's
own account: the event that set CSTS.CFS, the failed commands with the EPC error behind them
(errno, the refused memMap request, the profile limit it hit). Ctrl-C stops issuing I/O, lets
the commands in flight complete and prints the report so far (exit 130).

The seed also drives offsets, sizes, the read/write mix and the data written: the same
seed gives the same I/Os and the same counters; only the wall-clock figures vary.

examples:
  epfsim run --rw randread --bs 4k --iodepth 32 --queues 4 --profile rk3399
  epfsim run --replay examples/traces/tpcc-small.trace --replay-timing honour
  epfsim run --backend disk.img --rw write --size 64m     # keep the data for a later run`;

const RUN_FLAGS = {
  ...TESTBED_FLAGS,
  rw: { type: 'string' },
  bs: { type: 'string' },
  iodepth: { type: 'string' },
  queues: { type: 'string' },
  offset: { type: 'string' },
  size: { type: 'string' },
  'number-ios': { type: 'string' },
  runtime: { type: 'string' },
  rwmixread: { type: 'string' },
  verify: { type: 'boolean' },
  replay: { type: 'string' },
  'replay-timing': { type: 'string' },
  'replay-speed': { type: 'string' },
  function: { type: 'string' },
  alignment: { type: 'string' },
} as const;

/** Flags of the NVMe workload, meaningless for the endpoint test function. */
const NVME_ONLY_FLAGS = [...Object.keys(RUN_FLAGS).filter((k) => !(k in TESTBED_FLAGS))].filter(
  (k) => k !== 'function' && k !== 'alignment',
);
const ENDPOINT_TEST_TESTBED_FLAGS = ['profile', 'placement', 'seed', 'strategy'];

/** `run --function pci-epf-test`: the kernel selftest on the profile's EPC. */
function endpointTest(ctx: CommandContext, values: RunFlagValues): number {
  const given = Object.keys(values).filter((k) => values[k as keyof RunFlagValues] !== undefined);
  const foreign = given.find(
    (k) => NVME_ONLY_FLAGS.includes(k) || (k in TESTBED_FLAGS && !ENDPOINT_TEST_TESTBED_FLAGS.includes(k)),
  );
  if (foreign !== undefined) throw new UsageError(`--${foreign}: not for --function pci-epf-test`);
  const choice = resolveTestbedFlags({ ...values, placement: 'linux' });
  return runEndpointTest(ctx, {
    profile: choice.profile,
    placement: values.placement ?? 'adversarial',
    seed: choice.seed,
    ...(values.strategy === undefined ? {} : { strategy: choice.strategy }),
    alignment: values.alignment === undefined ? 0 : parseInteger(values.alignment, '--alignment', 0, 1 << 30),
  });
}

/** Flags that describe generated I/O, meaningless for a replay. */
const GENERATOR_ONLY_FLAGS = ['rw', 'bs', 'offset', 'size', 'rwmixread'] as const;
const PROGRESS_NS_PER_S = 1e9;
const POSITIVE_DECIMAL = /^\d+(\.\d+)?$/;
/** A zero size in any of parseSize's spellings (it refuses zero, which only --offset allows). */
const ZERO_SIZE = /^0+[kmgt]?(i?b)?$/i;
const MS_PER_S = 1000;

type RunFlagValues = ReturnType<typeof parseRunArgs>;

function parseRunArgs(args: readonly string[]) {
  return parseArgs({ args: [...args], options: RUN_FLAGS, strict: true, allowPositionals: false, allowNegative: true })
    .values;
}

/** `4k` or `4k-64k`. */
function parseBlockSizeRange(text: string): BlockSizeRange {
  const parts = text.split('-');
  if (parts.length > 2) throw new UsageError(`--bs: '${text}' is not a size or a range such as 4k-64k`);
  const min = parseSize(parts[0] ?? '', '--bs');
  const max = parts[1] === undefined ? min : parseSize(parts[1], '--bs');
  if (min > max) throw new UsageError(`--bs: the range '${text}' runs backwards`);
  return { min, max };
}

function parseSpeed(text: string): number {
  const speed = Number(text);
  if (!POSITIVE_DECIMAL.test(text.trim()) || !(speed > 0))
    throw new UsageError(`--replay-speed: '${text}' is not a positive number`);
  return speed;
}

/** A trace file's requests; an unreadable or malformed file is a usage error. */
function readTrace(path: string): Pick<ReplayWorkload, 'format' | 'requests'> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--replay: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    const trace = parseTrace(text, { source: path });
    if (trace.requests.length === 0) throw new UsageError(`--replay: ${path} has no I/O requests`);
    return { format: trace.format, requests: trace.requests };
  } catch (error) {
    if (isTraceFormatError(error)) throw new UsageError(`--replay: ${error.message}`);
    throw error;
  }
}

/** The workload the flags describe. */
function workloadSpec(values: RunFlagValues, choice: TestbedChoice): WorkloadSpec {
  const common = {
    nsid: WORKLOAD_DEFAULTS.nsid,
    iodepth: parseInteger(values.iodepth ?? String(WORKLOAD_DEFAULTS.iodepth), '--iodepth', 1, MAX_IODEPTH),
    queues: parseInteger(values.queues ?? String(WORKLOAD_DEFAULTS.queues), '--queues', 1, MAX_QUEUES),
    verify: values.verify ?? WORKLOAD_DEFAULTS.verify,
    // A file may hold an earlier run's data: only blocks this run wrote are verified.
    ...(choice.backend?.kind === 'file' ? { unwritten: 'unknown' as const } : {}),
    seed: choice.seed,
    ...(values.runtime === undefined ? {} : { runtimeMs: positiveDuration(values.runtime) }),
  };
  const numberIos =
    values['number-ios'] === undefined
      ? undefined
      : parseInteger(values['number-ios'], '--number-ios', 1, Number.MAX_SAFE_INTEGER);
  if (values.replay !== undefined) {
    for (const flag of GENERATOR_ONLY_FLAGS) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --replay`);
    }
    const timing = parseChoice(values['replay-timing'] ?? 'asap', '--replay-timing', REPLAY_TIMINGS);
    if (values['replay-speed'] !== undefined && timing !== 'honour')
      throw new UsageError('--replay-speed needs --replay-timing honour');
    return {
      kind: 'replay',
      source: values.replay,
      ...readTrace(values.replay),
      timing,
      speed: values['replay-speed'] === undefined ? 1 : parseSpeed(values['replay-speed']),
      ...common,
      ...(numberIos === undefined ? {} : { numberIos }),
    };
  }
  for (const flag of ['replay-timing', 'replay-speed'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --replay FILE`);
  }
  const rw = values.rw ?? WORKLOAD_DEFAULTS.rw;
  if (!isRwMode(rw)) throw new UsageError(`--rw: '${rw}' is not one of ${RW_MODES.join(', ')}`);
  const defaultIos = common.runtimeMs === undefined ? WORKLOAD_DEFAULTS.numberIos : undefined;
  const ios = numberIos ?? defaultIos;
  const offsetBytes = parseOffset(values.offset);
  return {
    kind: 'generate',
    rw,
    blockSize: parseBlockSizeRange(values.bs ?? WORKLOAD_DEFAULTS.blockSize),
    offsetBytes,
    sizeBytes: regionSize(values.size, offsetBytes, choice),
    rwmixread: parseInteger(values.rwmixread ?? String(WORKLOAD_DEFAULTS.rwmixread), '--rwmixread', 0, PERCENT),
    ...common,
    ...(ios === undefined ? {} : { numberIos: ios }),
  };
}

/** --size, or the default region capped at what the namespace has from the offset on. */
function regionSize(text: string | undefined, offsetBytes: number, choice: TestbedChoice): number {
  if (text !== undefined) return parseSize(text, '--size');
  const fallback = parseSize(WORKLOAD_DEFAULTS.size, '--size');
  const rest = choice.namespaceBytes - offsetBytes;
  // An offset beyond the namespace is reported by the workload's own check.
  return rest > 0 ? Math.min(fallback, rest) : fallback;
}

/** --offset: a size, or zero. */
function parseOffset(text: string | undefined): number {
  if (text === undefined || ZERO_SIZE.test(text.trim())) return 0;
  return parseSize(text, '--offset');
}

function positiveDuration(text: string): number {
  const ms = parseDuration(text, '--runtime');
  if (!(ms > 0)) throw new UsageError(`--runtime: '${text}' is not a positive duration`);
  return ms;
}

function progressLine(p: WorkloadProgress): string {
  const seconds = p.elapsedNs / PROGRESS_NS_PER_S;
  const iops = seconds > 0 ? Math.round(p.ios / seconds) : 0;
  const of =
    p.plannedIos !== undefined ? `/${p.plannedIos} I/Os (${Math.floor((p.ios / p.plannedIos) * PERCENT)}%)` : ' I/Os';
  const time =
    p.runtimeMs === undefined ? `${seconds.toFixed(1)} s` : `${seconds.toFixed(1)}/${p.runtimeMs / MS_PER_S} s`;
  return `run: ${p.ios}${of}, ${iops} IOPS, ${p.errors} errors, ${p.mismatchedBlocks} mismatched blocks, ${time}`;
}

/** QEMU failed to start or answered badly while coming up. */
function isQtestError(error: unknown): boolean {
  return error instanceof QtestError;
}

/** Exit status of a run stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const EXIT_INTERRUPTED = 130;

/** The controller never came up: the driver's words, then the function's account of why. */
function bringUpFailed(ctx: CommandContext, error: Error, account: FunctionAccount | undefined): number {
  const line = `the controller did not come up: ${error.message}`;
  if (ctx.json) {
    ctx.out(
      JSON.stringify(
        { version: JSON_OUTPUT_VERSION, ok: false, error: line, ...(account === undefined ? {} : { account }) },
        null,
        2,
      ),
    );
  }
  ctx.err(`epfsim run: ${line}`);
  if (!ctx.json && account !== undefined) for (const l of formatFunctionAccount(account)) ctx.err(l);
  return EXIT_FAILED;
}

/** `epfsim run`: a workload or a replay, verified and checked. */
export async function runCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const values = parseRunArgs(args);
  const fn = parseFunction(values.function);
  if (fn.name === 'pci-epf-test') return endpointTest(ctx, values);
  if (values.alignment !== undefined) throw new UsageError('--alignment: only with --function pci-epf-test');
  const choice = { ...resolveTestbedFlags(values), ...(fn.module === undefined ? {} : { implementation: fn.module }) };
  if (choice.placement === INVALID_PLACEMENT)
    throw new UsageError(`--placement ${INVALID_PLACEMENT} breaks rules on purpose: use it with 'epfsim fuzz'`);
  const spec = workloadSpec(values, choice);
  if (choice.backend?.kind === 'null' && spec.verify)
    throw new UsageError('--backend null keeps no data, so nothing read back can be verified: add --no-verify');
  let bed: OpenTarget;
  let setupAccount: FunctionAccount | undefined;
  try {
    bed = await openTarget(choice, { ioQueues: spec.queues, ioQueueDepth: spec.iodepth + 1 }, (testbed) => {
      setupAccount = functionAccount(testbed, { events: ctx.verbose });
    });
  } catch (error) {
    if (!isNvmeDriverError(error) && !isQtestError(error)) throw error;
    return bringUpFailed(ctx, error as Error, setupAccount);
  }
  const progress = createProgress({ stream: ctx.stderr, enabled: !ctx.json });
  const onProgress = (p: WorkloadProgress) => progress.update(() => progressLine(p));
  // Ctrl-C stops the run and prints what it did; a second Ctrl-C ends the process at once.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  // The in-process testbed is closed by the run; an external target (QEMU) by its own close.
  const run =
    bed.testbed === undefined ? { driver: bed.driver, close: bed.close } : { driver: bed.driver, testbed: bed.testbed };
  let finished: Awaited<ReturnType<typeof runOnTestbed>>;
  try {
    finished = await runOnTestbed(run, spec, { onProgress, signal: interrupt.signal });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  progress.done();
  const account = bed.testbed === undefined ? undefined : functionAccount(bed.testbed, { events: ctx.verbose });
  const report = { version: JSON_OUTPUT_VERSION, ...finished, ...(account === undefined ? {} : { account }) };
  if (ctx.json) ctx.out(JSON.stringify(report, null, 2));
  else {
    for (const line of formatRunReport(report)) ctx.out(line);
    if (account !== undefined && (!report.checks.passed || ctx.verbose))
      for (const line of formatFunctionAccount(account)) ctx.out(line);
  }
  if (report.results.end === 'interrupted') {
    ctx.err('epfsim run: interrupted (Ctrl-C): the report covers the run so far');
    return EXIT_INTERRUPTED;
  }
  if (report.checks.passed) return EXIT_OK;
  const failed = report.checks.list.filter((c) => !c.passed).map((c) => c.name);
  ctx.err(`epfsim run: FAIL: ${failed.join(', ')}${account?.rootCause === undefined ? '' : `; ${account.rootCause}`}`);
  return EXIT_FAILED;
}
