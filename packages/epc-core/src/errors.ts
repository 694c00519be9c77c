/**
 * Errors of the EPC API, as values (the kernel's ERR_PTR style): every call that can
 * fail returns either its result or an {@link EpcError}. They are not thrown, because a
 * failed map is an ordinary outcome that a function driver must handle.
 */

/** The errno names the kernel's EPC layer returns, plus ERANGE for ranges past 2^64. */
export const ERRNOS = ['EINVAL', 'ENOMEM', 'EBUSY', 'ERANGE', 'EFAULT', 'EPERM', 'ENOSPC'] as const;
export type Errno = (typeof ERRNOS)[number];

/** The call an error answers and the host range it was asked for. */
export interface EpcRequest {
  /** `memMap` (pci_epc_mem_map()), `mapAddr` (the raw layer of legacy strategies), `dma`, `irq`. */
  readonly op: 'memMap' | 'mapAddr' | 'dma' | 'irq';
  readonly pciAddr: bigint;
  readonly size: number;
}

/** What an error can say besides its errno and message. */
export interface EpcErrorContext {
  readonly request?: EpcRequest;
  /** The profile limit the request ran into, in words: "largest window 0x8000", "8 iATU slots in use". */
  readonly limit?: string;
}

export class EpcError {
  readonly name = 'EpcError';
  readonly errno: Errno;
  readonly message: string;
  readonly request: EpcRequest | undefined;
  readonly limit: string | undefined;
  constructor(errno: Errno, message: string, context: EpcErrorContext = {}) {
    this.errno = errno;
    this.message = message;
    this.request = context.request;
    this.limit = context.limit;
  }

  /** This error as the answer to `request` (an error that already names its request keeps it). */
  answering(request: EpcRequest): EpcError {
    if (this.request !== undefined) return this;
    return new EpcError(this.errno, this.message, {
      request,
      ...(this.limit === undefined ? {} : { limit: this.limit }),
    });
  }

  /** `ENOMEM: memMap 0x100000+0x40: no outbound window can hold 0x10000 bytes (largest window 0x8000)`. */
  toString(): string {
    const r = this.request;
    const call = r === undefined ? '' : `${r.op} 0x${r.pciAddr.toString(16)}+0x${r.size.toString(16)}: `;
    return `${this.errno}: ${call}${this.message}${this.limit === undefined ? '' : ` (${this.limit})`}`;
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

/**
 * A user's mistake (a bad profile file, a bad option): one clear line, no stack. It has the shape
 * every user error in epfsim has: the `isUserError` brand and the `path` of the offending field in
 * the user's input (`windows[1].size`; '' when the input as a whole is wrong), which the message
 * starts with.
 */
export class EpcConfigError extends Error {
  override readonly name = 'EpcConfigError';
  readonly isUserError = true as const;
  readonly path: string;
  constructor(path: string, problem: string) {
    super(path === '' ? problem : `${path}: ${problem}`);
    this.path = path;
  }
}
