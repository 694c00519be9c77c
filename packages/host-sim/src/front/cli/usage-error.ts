import { flagOf, type UserError } from '../../host/user-error.js';

/**
 * A mistake in what the user asked for (a flag, a profile file, a case file). The CLI
 * prints its message as one line and exits with {@link USAGE_EXIT_CODE}; never a stack.
 */
export class UsageError extends Error implements UserError {
  override readonly name = 'UsageError';
  readonly isUserError = true as const;
  /** The flag at fault, taken from the message (`--size: …`), or ''. */
  readonly path: string;
  constructor(message: string) {
    super(message);
    this.path = flagOf(message);
  }
}

/** Exit codes: 0 all good, 1 an expectation or check failed, 2 bad input from the user. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const USAGE_EXIT_CODE = 2;
