/**
 * An NBD request as the connection keeps it (proto.md "Request message"): decoded once from its
 * 28-byte header, counted by command.
 */
import {
  NBD_CMD_DISC,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_REQUEST_MAGIC,
  REQUEST,
  requestOffset,
} from './protocol.js';
import type { NbdStats } from './stats.js';

export interface NbdRequest {
  readonly type: number;
  readonly flags: number;
  readonly handleHi: number;
  readonly handleLo: number;
  readonly offset: number;
  readonly length: number;
}

/** A WRITE whose header has been read and whose payload is still arriving. */
export interface PendingWrite extends NbdRequest {
  /** Non-zero: the request is refused; the payload is read and dropped to stay in sync. */
  readonly errno: number;
  buffer: Buffer | null;
  filled: number;
  /** Payload bytes taken from the server's budget so far (as they arrive). */
  acquired: number;
}

/** The request whose header is at `b[base..]`, or null when its magic is wrong (the stream is out of sync). */
export function decodeRequest(b: Buffer, base: number): NbdRequest | null {
  if (b.readUInt32BE(base + REQUEST.MAGIC) !== NBD_REQUEST_MAGIC) return null;
  return {
    type: b.readUInt16BE(base + REQUEST.TYPE),
    flags: b.readUInt16BE(base + REQUEST.FLAGS),
    handleHi: b.readUInt32BE(base + REQUEST.HANDLE),
    handleLo: b.readUInt32BE(base + REQUEST.HANDLE + 4),
    offset: requestOffset(b, base),
    length: b.readUInt32BE(base + REQUEST.LENGTH),
  };
}

/** Counts a received request by command, the ones answered with an error included. */
export function countRequest(stats: NbdStats, type: number): void {
  const r = stats.requests;
  switch (type) {
    case NBD_CMD_READ:
      r.read++;
      return;
    case NBD_CMD_WRITE:
      r.write++;
      return;
    case NBD_CMD_DISC:
      r.disc++;
      return;
    case NBD_CMD_FLUSH:
      r.flush++;
      return;
    case NBD_CMD_TRIM:
      r.trim++;
      return;
    case NBD_CMD_WRITE_ZEROES:
      r.writeZeroes++;
      return;
    default:
      r.other++;
  }
}
