import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isNvmeDriverError } from '../../host/errors.js';
import { type FunctionAccount, formatFunctionAccount, functionAccount } from '../../host/target/function-account.js';
import { MAX_IODEPTH, MAX_QUEUES } from '../../runs/workload/workload-spec.js';
import { isNbdServerError } from '../nbd/nbd-server-error.js';
import { formatServeReport } from '../serve/exit-report.js';
import { type ServeSample, sampleOf, serveProgressLine } from '../serve/progress-line.js';
import { type ServeSession, startServeSession } from '../serve/serve-session.js';
import type { CommandContext } from './command.js';
import {
  INVALID_PLACEMENT,
  type OpenTestbed,
  openTestbed,
  resolveTestbedFlags,
  TESTBED_FLAGS,
  TESTBED_FLAGS_HELP,
} from './common-options.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { parseInteger } from './options.js';
import { createProgress } from './progress.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage-error.js';

const DEFAULT_QUEUES = 4;
const DEFAULT_IODEPTH = 32;
/** TCP serving is for this machine only: the simulator has no access control. */
const LOOPBACK = '127.0.0.1';
const MAX_PORT = 65_535;
/** How often the live counters are looked at (the progress sink decides what it prints). */
const SAMPLE_MS = 100;
/** Exit code of a second signal, which stops without the report: 128 + SIGINT, as a shell reports it. */
const EXIT_FORCED = 130;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const KiB = 1024;
/** The region the suggested fio command writes and verifies: seconds, not minutes, on a simulated controller. */
const FIO_SUGGESTED_KIB = 16 * KiB;

export const SERVE_HELP = `usage: epfsim serve [--socket PATH | --port N] [options] [--json]

Serves the simulated namespace over NBD, on a Unix socket or a loopback TCP port, to unmodified
clients (fio --ioengine=nbd, nbdcopy, nbdinfo, qemu-img). Every request becomes NVMe commands
the host driver submits to the simulated controller (READ/WRITE split at MDTS, FUA as the FUA
bit, FLUSH, TRIM as Dataset Management deallocate, WRITE_ZEROES as Write Zeroes), so every byte
crosses the EPC's outbound windows with the chosen profile, strategy and placement.

Prints the URI and a fio command line, then live counters on stderr. SIGINT or SIGTERM stops it:
accepted requests complete, an NVMe Flush, the controller's shutdown, then the report of
'epfsim run' (EPC counters, isolation, protocol, EPC contract and leak checks), with the
function's own account when a command failed (--verbose: always, with its event trace). Exit 0
when every check passes, 1 when one fails, 2 for a bad option. A second signal exits at once
(130). --json prints the report as JSON (docs/json/serve.schema.json).

listen:
  --socket PATH       Unix socket (default: epfsim-serve-PID.sock in the temporary directory); a
                      socket another server listens on is refused, a stale one replaced
  --port N            loopback TCP port (${LOOPBACK}) instead; 0 picks a free port
  --export NAME       export name (default: the default export, '')

concurrency:
  --queues N          I/O queues, 1..${MAX_QUEUES} (default ${DEFAULT_QUEUES}); connection i uses queue ((i - 1) mod N) + 1
  --iodepth N         commands in flight per I/O queue, 1..${MAX_IODEPTH} (default ${DEFAULT_IODEPTH}); NBD requests
                      in flight beyond it wait for room

${TESTBED_FLAGS_HELP}

Example:
  epfsim serve --socket /tmp/epfsim.sock --profile rk3399 --ns-size 64m &
  fio --name=check --ioengine=nbd --uri='nbd+unix:///?socket=/tmp/epfsim.sock' \\
      --rw=randwrite --bs=4k --iodepth=32 --size=16m --verify=crc32c --verify_state_save=0`;

const SERVE_FLAGS = {
  ...TESTBED_FLAGS,
  socket: { type: 'string' },
  port: { type: 'string' },
  export: { type: 'string' },
  queues: { type: 'string' },
  iodepth: { type: 'string' },
} as const;

type Listen = { readonly unixSocket: string } | { readonly tcp: { readonly host: string; readonly port: number } };

function listenFlags(values: { socket?: string | undefined; port?: string | undefined }): Listen {
  if (values.socket !== undefined && values.port !== undefined)
    throw new UsageError('give --socket or --port, not both');
  if (values.port !== undefined)
    return { tcp: { host: LOOPBACK, port: parseInteger(values.port, '--port', 0, MAX_PORT) } };
  if (values.socket !== undefined && values.socket.trim() === '') throw new UsageError('--socket: the path is empty');
  return { unixSocket: values.socket ?? join(tmpdir(), `epfsim-serve-${process.pid}.sock`) };
}

/** The fio command line that exercises the export: random 4 KiB writes over its first 16 MiB, verified with crc32c. */
function fioCommandFor(uri: string, iodepth: number, exportBytes: number): string {
  const sizeKiB = Math.min(FIO_SUGGESTED_KIB, Math.floor(exportBytes / KiB));
  return (
    `fio --name=epfsim --ioengine=nbd --uri='${uri}' --rw=randwrite --bs=4k --iodepth=${iodepth} ` +
    `--size=${sizeKiB}k --verify=crc32c --verify_state_save=0`
  );
}

/** Resolves with the first stop signal; a second one exits at once. */
function waitForStopSignal(ctx: CommandContext): { signal: Promise<string>; dispose(): void } {
  let stopping = false;
  let resolveSignal: (name: string) => void = () => {};
  const signal = new Promise<string>((resolve) => {
    resolveSignal = resolve;
  });
  const onSignal = (name: NodeJS.Signals): void => {
    if (stopping) {
      ctx.err(`epfsim serve: ${name} again: exiting without the report`);
      process.exit(EXIT_FORCED);
    }
    stopping = true;
    resolveSignal(name);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return {
    signal,
    dispose: () => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
    },
  };
}

/** `epfsim serve`: the namespace over NBD until a signal, then the report and the checks. */
export async function serveCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: SERVE_FLAGS, strict: true, allowPositionals: false });
  const choice = resolveTestbedFlags(values);
  if (choice.placement === INVALID_PLACEMENT)
    throw new UsageError(`--placement ${INVALID_PLACEMENT} breaks rules on purpose: use it with 'epfsim fuzz'`);
  const queues = parseInteger(values.queues ?? String(DEFAULT_QUEUES), '--queues', 1, MAX_QUEUES);
  const iodepth = parseInteger(values.iodepth ?? String(DEFAULT_IODEPTH), '--iodepth', 1, MAX_IODEPTH);
  const listen = listenFlags(values);
  // Installed before the controller comes up: a signal from now on stops cleanly.
  const stop = waitForStopSignal(ctx);
  try {
    let bed: OpenTestbed;
    let setupAccount: FunctionAccount | undefined;
    try {
      // A ring of N entries holds N − 1 commands.
      bed = openTestbed(choice, { ioQueues: queues, ioQueueDepth: iodepth + 1 }, (testbed) => {
        setupAccount = functionAccount(testbed, { events: ctx.verbose });
      });
    } catch (error) {
      if (!isNvmeDriverError(error)) throw error;
      const line = `the controller did not come up: ${error.message}`;
      if (ctx.json) {
        const failure = { version: JSON_OUTPUT_VERSION, ok: false, error: line, account: setupAccount };
        ctx.out(JSON.stringify(failure, null, 2));
      }
      ctx.err(`epfsim serve: ${line}`);
      if (!ctx.json && setupAccount !== undefined) for (const l of formatFunctionAccount(setupAccount)) ctx.err(l);
      return EXIT_FAILED;
    }
    let session: ServeSession;
    try {
      session = await startServeSession(bed, {
        ...listen,
        seed: choice.seed,
        ...(values.export === undefined ? {} : { exportName: values.export }),
        onConnectionError: (e) => ctx.err(`epfsim serve: connection failed: ${e instanceof Error ? e.message : e}`),
      });
    } catch (error) {
      if (isNbdServerError(error)) throw new UsageError(error.message);
      throw error;
    }
    return await serveUntilStopped(ctx, session, stop.signal);
  } finally {
    stop.dispose();
  }
}

async function serveUntilStopped(ctx: CommandContext, session: ServeSession, signal: Promise<string>): Promise<number> {
  const { config } = session;
  // Under --json stdout carries the report alone.
  const say = ctx.json ? ctx.err : ctx.out;
  say(
    `epfsim serve: listening on ${config.uri} (${config.namespace.bytes} bytes of ${config.namespace.blockSize}-byte blocks, ` +
      `${config.target}, placement ${config.placement}, ${config.ioQueues.length} I/O queues x ${config.queueDepth} in flight)`,
  );
  say(`epfsim serve: try  ${fioCommandFor(config.uri, config.queueDepth, config.namespace.bytes)}`);
  say('epfsim serve: Ctrl-C (SIGINT) or SIGTERM stops it and prints the report');
  const progress = createProgress({ stream: ctx.stderr, enabled: !ctx.json });
  const sample = (): ServeSample =>
    sampleOf(performance.now(), session.server.stats, session.nvme, session.testbed.epc.counters);
  let last = sample();
  const timer = setInterval(() => {
    progress.update(() => {
      const now = sample();
      const line = serveProgressLine(now, last);
      last = now;
      return line;
    });
  }, SAMPLE_MS);
  const reason = await signal;
  clearInterval(timer);
  progress.done();
  ctx.err(`epfsim serve: ${reason}: finishing accepted requests, NVMe Flush, shutdown`);
  const stopped = await session.stop(reason);
  const account = functionAccount(session.testbed, { events: ctx.verbose });
  const report = { version: JSON_OUTPUT_VERSION, ...stopped, account };
  if (ctx.json) ctx.out(JSON.stringify(report, null, 2));
  else {
    for (const line of formatServeReport(report)) ctx.out(line);
    if (!report.checks.passed || report.nvme.failed > 0 || ctx.verbose)
      for (const line of formatFunctionAccount(account)) ctx.out(line);
  }
  if (report.checks.passed) return EXIT_OK;
  const failed = report.checks.list.filter((c) => !c.passed).map((c) => c.name);
  ctx.err(`epfsim serve: FAIL: ${failed.join(', ')}${account.rootCause === undefined ? '' : `; ${account.rootCause}`}`);
  return EXIT_FAILED;
}
