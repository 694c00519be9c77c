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
  const commands = report.commands.map((c) => {
    const reason = c.failures.length === 0 ? undefined : why(c);
    if (reason === undefined) return c;
    const [first, ...rest] = c.failures;
    return { ...c, failures: [`${first} (the function: ${reason})`, ...rest] };
  });
  const cause = account.rootCause;
  const setup =
    cause === undefined || report.setup.length === 0
      ? report.setup
      : [`${report.setup[0]} (the function: ${cause})`, ...report.setup.slice(1)];
  return { ...report, setup, commands, account };
}
