/**
 * A user's configuration mistake (an impossible queue count, a namespace that does not fit, an
 * unknown strategy): one clear sentence, thrown by {@link createNvmeFunction} before anything runs.
 * Host misbehaviour never produces this error; it produces an NVMe status or an event instead.
 */
export class NvmeConfigError extends Error {
  override readonly name = 'NvmeConfigError';
  /** The user-error shape every package shares: the brand, and the path of the field at fault. */
  readonly isUserError = true as const;
  readonly path: string;
  /** The configuration field at fault, e.g. `mqes` or `namespaces[1].blocks` (the same as `path`). */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
    this.path = field;
  }
}

/** Guard that works without `instanceof` (protobuf-es style). */
export function isNvmeConfigError(value: unknown): value is NvmeConfigError {
  return value instanceof Error && value.name === 'NvmeConfigError';
}
