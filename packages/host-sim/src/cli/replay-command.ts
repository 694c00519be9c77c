import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatStatus } from '@epfsim/nvme-spec-types';
import { parseCaseFile } from '../case-file/parse-case-file.js';
import {
  CASE_COMMAND_TIMEOUT_MS,
  type CaseReport,
  firstFailure,
  opcodeText,
  replayCase,
  statusCode,
} from '../case-file/replay-case.js';
import { formatFunctionAccount } from '../target/function-account.js';
import type { CommandContext } from './command.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { parseInteger } from './options.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage-error.js';

export const REPLAY_HELP = `usage: epfsim replay FILE [--timeout MS] [--json]

Re-runs a case file (written by 'epfsim fuzz', or by hand) on the in-process testbed: the
controller is built from the case's profile and controller configuration, its memory placed
with its bytes and grants, its admin and I/O queues set up at their addresses, and each
command's raw SQE submitted and waited for, one at a time. Each command's status must be one
of its expect.status and memory must hold its expect.data; any refused device access the case
does not list in expect.faults, a leaked outbound mapping, or a protocol violation (bad CQE,
malformed interrupt message) fails the case too.

  --timeout MS   simulated milliseconds a command may take (default ${CASE_COMMAND_TIMEOUT_MS})
  --json         print per-command results as JSON on stdout (docs/json/replay.schema.json)
  --verbose      also print the function's event trace

A failed command or setup step is followed by the function's own account: the EPC error
behind a Data Transfer Error (errno, the refused memMap request, the profile limit it hit),
or the event that set CSTS.CFS.

exit status: 0 every expectation holds; 1 one failed (the command and what it got are
printed); 2 the file cannot be read or is not a valid case (one line naming the field).`;

/** `epfsim replay FILE`: re-run a case file and check its expectations. */
export function replayCommand(ctx: CommandContext, args: readonly string[]): number {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { timeout: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError('a case file is required (epfsim replay FILE)');
  if (extra.length > 0) throw new UsageError(`one case file at a time (got ${positionals.length})`);
  const timeoutMs =
    values.timeout === undefined ? CASE_COMMAND_TIMEOUT_MS : parseInteger(values.timeout, '--timeout', 1, 3_600_000);
  const caseFile = parseCaseFile(readJson(file), 'case');
  const report = replayCase(caseFile, { timeoutMs, events: ctx.verbose });
  if (ctx.json) {
    ctx.out(JSON.stringify(reportJson(file, caseFile.description, report), null, 2));
  } else {
    if (caseFile.description !== '') ctx.out(`case: ${caseFile.description}`);
    for (const s of report.setup) ctx.out(`setup FAILED: ${s}`);
    for (const c of report.commands) {
      const status = c.status === undefined ? 'no completion' : formatStatus(c.status);
      const verdict = c.failures.length === 0 ? 'ok' : `FAILED: ${c.failures.join('; ')}`;
      ctx.out(`  #${c.index} qid ${c.qid} ${opcodeText(c.qid, c.opcode)}: ${status}  ${verdict}`);
    }
    for (const f of report.failures) ctx.out(`FAILED: ${f}`);
    if (report.account !== undefined) for (const line of formatFunctionAccount(report.account)) ctx.out(line);
    const ran = report.commands.length;
    ctx.out(
      report.ok
        ? `${file}: passed (${ran} command${ran === 1 ? '' : 's'}, every expectation holds)`
        : `${file}: FAILED: ${firstFailure(report)}`,
    );
  }
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

/** The file's JSON, or a one-line UsageError. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read case file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`case file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function reportJson(file: string, description: string, r: CaseReport): Record<string, unknown> {
  return {
    version: JSON_OUTPUT_VERSION,
    file,
    description,
    ok: r.ok,
    setup: r.setup,
    commands: r.commands.map((c) => ({
      index: c.index,
      qid: c.qid,
      opcode: c.opcode,
      command: opcodeText(c.qid, c.opcode),
      cid: c.cid,
      status: c.status === undefined ? null : statusCode(c.status),
      statusText: c.status === undefined ? 'no completion' : formatStatus(c.status),
      ok: c.failures.length === 0,
      failures: c.failures,
    })),
    failures: r.failures,
    counts: r.counts,
    ...(r.account === undefined ? {} : { account: r.account }),
  };
}
