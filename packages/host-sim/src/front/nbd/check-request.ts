/**
 * Validation of one transmission request against the export, before the device sees it.
 * Returns 0 or the NBD error to reply with (proto.md "Error values"):
 * - EINVAL for an unknown command, a flag not documented for the command, a zero length, a
 *   READ over the maximum block size, an offset or length not a multiple of the minimum block
 *   size, and a READ or TRIM past the end;
 * - ENOSPC for a WRITE or WRITE_ZEROES past the end ("a write request including one or more
 *   sectors beyond the size of the device").
 * A WRITE longer than the maximum never gets here: its payload length cannot be trusted, so the
 * connection drops it (reference §4 pitfall 6).
 */
import type { ExportInfo } from './export-info.js';
import {
  NBD_CMD_DISC,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOSPC,
} from './protocol.js';

/**
 * Command flags each command accepts. FUA is valid on every command once NBD_FLAG_SEND_FUA is
 * advertised ("the server MUST accept all commands with this bit set (even by ignoring the bit)").
 */
function allowedFlags(type: number): number {
  return type === NBD_CMD_WRITE_ZEROES ? NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE : NBD_CMD_FLAG_FUA;
}

export function checkRequest(type: number, flags: number, offset: number, length: number, info: ExportInfo): number {
  if ((flags & ~allowedFlags(type)) !== 0) return NBD_EINVAL;
  switch (type) {
    case NBD_CMD_FLUSH:
    case NBD_CMD_DISC:
      // "length and offset are reserved, and MUST be set to all-zero."
      return offset === 0 && length === 0 ? 0 : NBD_EINVAL;
    case NBD_CMD_READ:
    case NBD_CMD_WRITE:
    case NBD_CMD_TRIM:
    case NBD_CMD_WRITE_ZEROES: {
      if (length === 0) return NBD_EINVAL;
      if (type === NBD_CMD_READ && length > info.maxBlock) return NBD_EINVAL;
      if (offset % info.minBlock !== 0 || length % info.minBlock !== 0) return NBD_EINVAL;
      if (offset + length > info.size) {
        return type === NBD_CMD_WRITE || type === NBD_CMD_WRITE_ZEROES ? NBD_ENOSPC : NBD_EINVAL;
      }
      return 0;
    }
    default:
      return NBD_EINVAL;
  }
}
