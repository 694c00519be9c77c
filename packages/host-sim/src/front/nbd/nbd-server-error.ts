import { flagOf } from '../../host/user-error.js';

/** The caller asked for a server that cannot exist (bad options, a device with impossible geometry, a busy path). */
export class NbdServerError extends Error {
  override readonly name = 'NbdServerError';
  readonly isUserError = true as const;
  /** The option at fault when the message names one, else ''. */
  readonly path: string;
  readonly code: 'BAD_OPTION' | 'BAD_DEVICE' | 'LISTEN';
  constructor(code: NbdServerError['code'], message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.path = flagOf(message);
  }
}

export function isNbdServerError(e: unknown): e is NbdServerError {
  return e instanceof NbdServerError;
}
