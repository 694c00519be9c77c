/**
 * A failed replay explained by the function itself: each failed command's line gets the EPC error
 * behind its status (errno, the refused request, the profile limit), and a failed setup the event
 * that set CSTS.CFS. The report carries the whole account for `--json` and `--verbose`.
 */
import type { Testbed } from '../target/epfsim-target.js';
import { functionAccount, functionCommandErrors } from '../target/function-account.js';
import type { CaseReport, CommandReport } from './replay-case.js';

/** `report` with the function's account of `testbed`: unchanged when it passed and no events were asked for. */
export function withFunctionAccount(report: CaseReport, testbed: Testbed, events: boolean): CaseReport {
  if (report.ok && !events) return report;
  const account = functionAccount(testbed, { events });
  const errors = functionCommandErrors(testbed.fn.trace);
  const why = (c: CommandReport): string | undefined => {
    const e = errors.findLast((x) => x.qid === c.qid && x.cid === c.cid);
    return e?.epc?.text;
  };
  // The status line is the one a root cause explains; a refused access already names its reason.
  const commands = report.commands.map((c) => {
    const at = c.failures.findIndex((f) => f.startsWith('status '));
    const reason = at < 0 ? undefined : why(c);
    if (reason === undefined) return c;
    return { ...c, failures: c.failures.map((f, i) => (i === at ? `${f} (the function: ${reason})` : f)) };
  });
  // A setup step explains itself by its status, unless the function set CSTS.CFS or the EPC refused it.
  const lastError = account.commandErrors.at(-1);
  const cause =
    account.fatal !== undefined
      ? account.rootCause
      : lastError?.epc !== undefined
        ? `${lastError.epc.text}`
        : undefined;
  const setup =
    cause === undefined || report.setup.length === 0
      ? report.setup
      : [`${report.setup[0]} (the function: ${cause})`, ...report.setup.slice(1)];
  return { ...report, setup, commands, account };
}
