/**
 * One accepted NBD request on the block device (proto.md "Request types", "Command flags").
 */
import { type BlockDevice, BlockDeviceError } from './block-device.js';
import {
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
} from './protocol.js';

/** Runs the request; resolves to a READ's bytes (null for the others), rejects with the device's error. */
export async function runOnDevice(
  device: BlockDevice,
  type: number,
  flags: number,
  offset: number,
  length: number,
  data: Uint8Array,
): Promise<Uint8Array | null> {
  const fua = (flags & NBD_CMD_FLAG_FUA) !== 0;
  switch (type) {
    case NBD_CMD_READ: {
      const d = await device.read(offset, length);
      // A short or long buffer would desynchronise the client: refuse it as an I/O error.
      if (d.length !== length)
        throw new BlockDeviceError('EIO', `device returned ${d.length} bytes for a ${length}-byte read`);
      return d;
    }
    case NBD_CMD_WRITE:
      await device.write(offset, data, fua);
      return null;
    case NBD_CMD_FLUSH:
      await device.flush();
      return null;
    case NBD_CMD_TRIM:
      await device.trim(offset, length);
      // FUA on TRIM: the discard must be persistent before the reply.
      if (fua) await device.flush();
      return null;
    case NBD_CMD_WRITE_ZEROES:
      // NO_HOLE needs nothing: the device does not punch holes for writeZeroes.
      await device.writeZeroes(offset, length, fua);
      return null;
    default:
      return null;
  }
}
