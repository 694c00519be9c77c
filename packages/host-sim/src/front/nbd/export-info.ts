/**
 * What a client learns about the export during the handshake: size, transmission flags and block
 * size constraints (proto.md "Transmission flags", "Block size constraints").
 */
import type { BlockDevice } from './block-device.js';
import { NbdServerError } from './nbd-server-error.js';
import {
  NBD_FLAG_CAN_MULTI_CONN,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_SEND_FLUSH,
  NBD_FLAG_SEND_FUA,
  NBD_FLAG_SEND_TRIM,
  NBD_FLAG_SEND_WRITE_ZEROES,
} from './protocol.js';

export interface ExportInfo {
  readonly name: string;
  readonly size: number;
  readonly transmissionFlags: number;
  /** Every offset and length must be a multiple of this (the device's block size). */
  readonly minBlock: number;
  readonly preferredBlock: number;
  /** Largest READ/WRITE accepted: the device's maxRequest, rounded down to `minBlock`. */
  readonly maxBlock: number;
}

/** Block sizes the spec allows for a minimum: a power of two up to 64 KiB. */
const MAX_MIN_BLOCK = 64 * 1024;
/** proto.md recommends a preferred size of 4096 where the device does not say otherwise. */
const DEFAULT_PREFERRED = 4096;
const U32_MAX = 0xffff_ffff;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Throws NbdServerError('BAD_DEVICE') when the device's geometry cannot be advertised. */
export function exportInfoOf(device: BlockDevice, name: string, multiConn: boolean): ExportInfo {
  const { size, blockSize, maxRequest } = device;
  if (!isPowerOfTwo(blockSize) || blockSize > MAX_MIN_BLOCK)
    throw new NbdServerError('BAD_DEVICE', `block size ${blockSize} is not a power of two up to 65536`);
  if (!Number.isSafeInteger(size) || size < 0 || size % blockSize !== 0)
    throw new NbdServerError('BAD_DEVICE', `export size ${size} is not a multiple of the block size ${blockSize}`);
  if (!Number.isSafeInteger(maxRequest) || maxRequest < blockSize)
    throw new NbdServerError('BAD_DEVICE', `maxRequest ${maxRequest} is smaller than the block size ${blockSize}`);
  const maxBlock = Math.floor(Math.min(maxRequest, U32_MAX) / blockSize) * blockSize;
  // preferred is a power of two between min and max (proto.md "Block size constraints").
  let preferredBlock = Math.max(blockSize, DEFAULT_PREFERRED);
  while (preferredBlock > maxBlock) preferredBlock /= 2;
  let transmissionFlags =
    NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES;
  if (multiConn) transmissionFlags |= NBD_FLAG_CAN_MULTI_CONN;
  return { name, size, transmissionFlags, minBlock: blockSize, preferredBlock, maxBlock };
}
