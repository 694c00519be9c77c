import { flagOf } from './user-error.js';

/**
 * Typed errors for the third kind of failure: the environment or the caller asked for something
 * that cannot be done (an unknown profile, a controller that never becomes ready, a buffer a
 * placement policy cannot describe). A broken invariant of host-sim itself throws a plain
 * Error/RangeError instead, and a misbehaving controller is recorded (protocol violations,
 * statuses), never thrown.
 */

/** A bad option or name given to host-sim. */
export class HostSimConfigError extends Error {
  override readonly name = 'HostSimConfigError';
  readonly isUserError = true as const;
  /** The option at fault when the message names one (`--queues: …`), else ''. */
  readonly path: string;
  readonly code: 'UNKNOWN_PROFILE' | 'UNKNOWN_PLACEMENT' | 'BAD_OPTION' | 'BAD_MODULE';
  constructor(code: HostSimConfigError['code'], message: string) {
    super(message);
    this.code = code;
    this.path = flagOf(message);
  }
}

/** The controller cannot be brought up or used: the Linux driver's probe would fail here. */
export class NvmeDriverError extends Error {
  override readonly name = 'NvmeDriverError';
  readonly code:
    | 'READY_TIMEOUT'
    | 'FATAL_STATUS'
    | 'UNSUPPORTED'
    | 'SHUTDOWN_TIMEOUT'
    | 'ADMIN_FAILED'
    | 'NOT_READY'
    | 'NO_SUCH_QUEUE'
    | 'QUEUE_FULL';
  constructor(code: NvmeDriverError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** A placement policy cannot describe the requested transfer (too long for SPDK's tracker, no room left). */
export class PlacementError extends Error {
  override readonly name = 'PlacementError';
  /** A user error: the placement and sizes the user chose do not fit together (no one field is at fault). */
  readonly isUserError = true as const;
  readonly path = '';
  readonly code: 'TOO_LARGE' | 'NO_SPACE' | 'NOT_APPLICABLE';
  constructor(code: PlacementError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export function isHostSimConfigError(e: unknown): e is HostSimConfigError {
  return e instanceof HostSimConfigError;
}

export function isNvmeDriverError(e: unknown): e is NvmeDriverError {
  return e instanceof NvmeDriverError;
}

export function isPlacementError(e: unknown): e is PlacementError {
  return e instanceof PlacementError;
}
