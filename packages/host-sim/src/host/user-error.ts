/**
 * The one shape of a user's mistake, whichever package finds it (a flag, a profile, a controller
 * configuration, a case file, a trace, shard results): an Error with the `isUserError` brand and
 * the `path` of the offending value in the user's input — a flag (`--size`), a field
 * (`windows[1].size`, `steps[3].expect`), a file and line (`trace.log:12`), or '' when the input
 * as a whole is wrong. The message is one line and starts with the path. The CLI prints it as it
 * is and exits 2; nothing else about the error matters to it.
 */
export interface UserError extends Error {
  readonly isUserError: true;
  readonly path: string;
}

/** True for an error of the user-error shape, from any package (a structural check, not `instanceof`). */
export function isUserError(error: unknown): error is UserError {
  return (
    error instanceof Error &&
    (error as { isUserError?: unknown }).isUserError === true &&
    typeof (error as { path?: unknown }).path === 'string'
  );
}

/** The flag a message about a flag starts with (`--size: …`), or ''. */
export function flagOf(message: string): string {
  return /^(--[a-z][a-z0-9-]*)\b/.exec(message)?.[1] ?? '';
}
