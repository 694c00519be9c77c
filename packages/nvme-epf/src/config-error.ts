/**
 * A user's configuration mistake (an impossible queue count, a namespace that does not fit, an
 * unknown strategy): one clear sentence, thrown by {@link createNvmeFunction} before anything runs.
 * Host misbehaviour never produces this error; it produces an NVMe status or an event instead.
 */
export class NvmeConfigError extends Error {
  override readonly name = 'NvmeConfigError';
  /** Marks an error the user can fix in their input (a CLI prints it without a stack). */
  readonly isUserError = true as const;
  /** Where the offending value sits in the user's config, dotted (`namespaces[0].blocks`); '' when none. */
  readonly path: string;

  constructor(path: string, message: string) {
    // One line: a backend's OS message may carry line breaks.
    const line = message.replace(/\s*\n\s*/g, ' ');
    super(path === '' ? line : `${path}: ${line}`);
    this.path = path;
  }

  /** The same as {@link path} (the name earlier releases used). */
  get field(): string {
    return this.path;
  }
}

/** Guard that works without `instanceof` (protobuf-es style). */
export function isNvmeConfigError(value: unknown): value is NvmeConfigError {
  return value instanceof Error && value.name === 'NvmeConfigError';
}
