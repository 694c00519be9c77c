/**
 * What the NBD server serves: a byte-addressed block device. It knows nothing of NBD (or NVMe);
 * a front end adapts the simulated namespace to it.
 */
import { NBD_EINVAL, NBD_EIO, NBD_ENOSPC } from './protocol.js';

export interface BlockDevice {
  /** Export size in bytes; a multiple of `blockSize`. */
  readonly size: number;
  /** Minimum (and alignment) block size advertised to clients: a power of two, 512..65536. */
  readonly blockSize: number;
  /** Largest READ/WRITE the server accepts, advertised as the maximum block size (e.g. 32 MiB). */
  readonly maxRequest: number;
  /**
   * Returns exactly `length` bytes. The server sends the returned bytes without copying them, so
   * they must stay unchanged until the reply is written (a fresh buffer or a stable view).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * `data` is a view of the received bytes, valid for as long as the device keeps it (the server
   * never reuses it). `fua`: persist before resolving (NBD_CMD_FLAG_FUA).
   */
  write(offset: number, data: Uint8Array, fua: boolean): Promise<void>;
  /** Makes every write completed so far durable (NBD_CMD_FLUSH). */
  flush(): Promise<void>;
  /** The range is no longer needed; its contents are undefined until rewritten (NBD_CMD_TRIM). */
  trim(offset: number, length: number): Promise<void>;
  /** The range reads back as zeroes (NBD_CMD_WRITE_ZEROES). */
  writeZeroes(offset: number, length: number, fua: boolean): Promise<void>;
}

/** The errno-like failures a device may report; each maps to one NBD error value. */
export const BlockDeviceErrorCode = {
  EIO: 'EIO',
  EINVAL: 'EINVAL',
  ENOSPC: 'ENOSPC',
} as const;
export type BlockDeviceErrorCode = (typeof BlockDeviceErrorCode)[keyof typeof BlockDeviceErrorCode];

/** Thrown (or rejected) by a BlockDevice; the server answers the request with the matching NBD error. */
export class BlockDeviceError extends Error {
  override readonly name = 'BlockDeviceError';
  readonly code: BlockDeviceErrorCode;
  constructor(code: BlockDeviceErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isBlockDeviceError(e: unknown): e is BlockDeviceError {
  return e instanceof BlockDeviceError;
}

/**
 * NBD error value for anything a device threw. A non-BlockDeviceError is a device bug; the client
 * still gets a well-formed EIO rather than a dropped connection.
 */
export function nbdErrnoOf(e: unknown): number {
  if (!isBlockDeviceError(e)) return NBD_EIO;
  switch (e.code) {
    case 'EINVAL':
      return NBD_EINVAL;
    case 'ENOSPC':
      return NBD_ENOSPC;
    default:
      return NBD_EIO;
  }
}
