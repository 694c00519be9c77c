/**
 * Errors of the EPC API, as values (the kernel's ERR_PTR style): every call that can
 * fail returns either its result or an {@link EpcError}. They are not thrown, because a
 * failed map is an ordinary outcome that a function driver must handle.
 */

/** The errno names the kernel's EPC layer returns, plus ERANGE for ranges past 2^64. */
export type Errno = 'EINVAL' | 'ENOMEM' | 'EBUSY' | 'ERANGE' | 'EFAULT' | 'EPERM' | 'ENOSPC';

export class EpcError {
  readonly name = 'EpcError';
  readonly errno: Errno;
  readonly message: string;
  constructor(errno: Errno, message: string) {
    this.errno = errno;
    this.message = message;
  }
  toString(): string {
    return `${this.errno}: ${this.message}`;
  }
}

export function isEpcError(value: unknown): value is EpcError {
  return value instanceof EpcError;
}

/**
 * A broken contract between a function driver and the EPC (access outside a map, use
 * after unmap, double unmap, leak). It is thrown: the function under test has a bug.
 */
export class EpcContractError extends Error {
  override readonly name = 'EpcContractError';
  readonly kind: ContractViolationKind;
  constructor(kind: ContractViolationKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export type ContractViolationKind =
  | 'access-outside-map'
  | 'access-after-unmap'
  | 'double-unmap'
  | 'foreign-unmap'
  | 'leak';

/** A user's mistake (a bad profile file, a bad option): one clear line, no stack. */
export class EpcConfigError extends Error {
  override readonly name = 'EpcConfigError';
}
