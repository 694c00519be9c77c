import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatStatus } from '@epfsim/nvme-spec-types';
import { formatFunctionAccount } from '../../host/target/function-account.js';
import { loadCasePlugins } from '../../runs/case-file/case-plugins.js';
import { caseFileJsonSchema } from '../../runs/case-file/case-schema.js';
import { parseCaseFile } from '../../runs/case-file/parse-case-file.js';
import { replayCase } from '../../runs/case-file/replay-case.js';
import { CASE_COMMAND_TIMEOUT_MS } from '../../runs/case-file/replay-host.js';
import {
  type CaseReport,
  type CommandReport,
  firstFailure,
  opcodeText,
  statusCode,
} from '../../runs/case-file/replay-report.js';
import type { CommandContext } from './command.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { parseInteger } from './options.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage-error.js';

export const REPLAY_HELP = `usage: epfsim replay FILE [--timeout MS] [--inject NAME]... [--json]
       epfsim replay --schema

Re-runs a case file (written by 'epfsim fuzz', or by hand) on the in-process testbed: the
controller is built from the case's profile and controller configuration, its memory placed
with its content and grants, and its steps run in order on the host queue engine: register
and doorbell writes, queue creation and deletion, batches of commands, delayed head doorbells,
waits, resets and shutdowns. After each step the controller runs until it is idle and every
expectation of the step is checked: whole CQEs (status, DNR, DW0, SQHD, ...), commands that
must never complete, CSTS, interrupts per vector, data. Whatever the case says, a command
completed twice or never, an entry posted into a full CQ, an interrupt for an IEN = 0 CQ or a
missing one, a refused device access the case does not allow, a leaked outbound mapping or a
malformed interrupt message fails it. Version 1 case files are read too.

  --timeout MS    simulated milliseconds a command may take (default ${CASE_COMMAND_TIMEOUT_MS})
  --inject NAME   inject a named fault as well as the case's own (docs/faults.md); repeatable
  --schema        print the JSON Schema of case files (docs/case-file.schema.json) and exit
  --json          print per-step and per-command results as JSON on stdout (docs/json/replay.schema.json)
  --verbose       also print the function's event trace

A failed command or step is followed by the function's own account: the EPC error behind a
Data Transfer Error (errno, the refused memMap request, the profile limit it hit), or the event
that set CSTS.CFS.

exit status: 0 every expectation holds; 1 one failed (the step or command and what it got are
printed); 2 the file cannot be read or is not a valid case (one line naming the field).`;

/** `epfsim replay FILE`: re-run a case file and check its expectations. */
export async function replayCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { timeout: { type: 'string' }, inject: { type: 'string', multiple: true }, schema: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.schema === true) {
    ctx.out(JSON.stringify(caseFileJsonSchema(), null, 2));
    return EXIT_OK;
  }
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError('a case file is required (epfsim replay FILE)');
  if (extra.length > 0) throw new UsageError(`one case file at a time (got ${positionals.length})`);
  const timeoutMs =
    values.timeout === undefined ? CASE_COMMAND_TIMEOUT_MS : parseInteger(values.timeout, '--timeout', 1, 3_600_000);
  const data = readJson(file);
  await loadCasePlugins(data);
  const parsed = parseCaseFile(data, 'case');
  const caseFile = { ...parsed, inject: [...new Set([...parsed.inject, ...(values.inject ?? [])])] };
  const report = replayCase(caseFile, { timeoutMs, events: ctx.verbose });
  if (ctx.json) {
    ctx.out(JSON.stringify(reportJson(file, caseFile.description, report), null, 2));
  } else {
    if (caseFile.description !== '') ctx.out(`case: ${caseFile.description}`);
    let c = 0;
    for (const s of report.steps) {
      const verdict = s.failures.length === 0 ? '' : `  FAILED: ${s.failures.join('; ')}`;
      if ((s.do !== 'submit' && s.do !== 'write-memory') || verdict !== '')
        ctx.out(`  step ${s.index} ${s.do}${verdict}`);
      for (; c < report.commands.length && (report.commands[c] as CommandReport).step === s.index; c++) {
        const cmd = report.commands[c] as CommandReport;
        const status = cmd.status === undefined ? 'no completion' : formatStatus(cmd.status);
        const ok = cmd.failures.length === 0 ? 'ok' : `FAILED: ${cmd.failures.join('; ')}`;
        ctx.out(
          `    ${cmd.label} qid ${cmd.qid} ${opcodeText(cmd.qid, cmd.opcode)} (CID ${cmd.cid}): ${status}  ${ok}`,
        );
      }
    }
    for (const f of report.failures) ctx.out(`FAILED: ${f}`);
    if (report.account !== undefined) for (const line of formatFunctionAccount(report.account)) ctx.out(line);
    const ran = report.commands.length;
    ctx.out(
      report.ok
        ? `${file}: passed (${report.steps.length} steps, ${ran} command${ran === 1 ? '' : 's'}, every expectation holds)`
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
    steps: r.steps,
    commands: r.commands.map((c) => ({
      index: c.index,
      step: c.step,
      label: c.label,
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
