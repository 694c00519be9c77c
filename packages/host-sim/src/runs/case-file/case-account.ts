/**
 * A failed replay explained by the function itself: each failed command's line gets the EPC error
 * behind its status (errno, the refused request, the profile limit), and the first failed step the event
 * that set CSTS.CFS. The report carries the whole account for `--json` and `--verbose`.
 */
import type { Testbed } from '../../host/target/epfsim-target.js';
import { functionAccount, functionCommandErrors } from '../../host/target/function-account.js';
import type { CaseReport, CommandReport } from './replay-report.js';

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
  // A command that never completed is explained by what stopped the controller.
  const stopped = account.fatal === undefined ? undefined : account.rootCause;
  const commands = report.commands.map((c) => {
    const status = c.failures.findIndex((f) => f.startsWith('status '));
    const lost = c.failures.findIndex((f) => f.startsWith('no completion'));
    const at = status >= 0 ? status : lost;
    const reason = status >= 0 ? why(c) : lost >= 0 ? stopped : undefined;
    if (reason === undefined) return c;
    return { ...c, failures: c.failures.map((f, i) => (i === at ? `${f} (the function: ${reason})` : f)) };
  });
  // A step explains itself by what it expected, unless the function set CSTS.CFS or the EPC refused it.
  const lastError = account.commandErrors.at(-1);
  const cause =
    account.fatal !== undefined
      ? account.rootCause
      : lastError?.epc !== undefined
        ? `${lastError.epc.text}`
        : undefined;
  // The first step that failed (an enable that never got RDY, say) carries the cause.
  const first = report.steps.findIndex((st) => st.failures.length > 0);
  const steps =
    cause === undefined || first < 0
      ? report.steps
      : report.steps.map((st, i) =>
          i === first
            ? { ...st, failures: st.failures.map((f, j) => (j === 0 ? `${f} (the function: ${cause})` : f)) }
            : st,
        );
  return { ...report, steps, commands, account };
}
