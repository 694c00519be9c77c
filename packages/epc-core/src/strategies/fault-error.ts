import { hex } from '../address.js';
import { EpcError } from '../errors.js';
import type { BusFault } from '../host-bus.js';

/** A refused outbound access, as the error a transfer returns. */
export function faultError(fault: BusFault): EpcError {
  return new EpcError(
    'EFAULT',
    `host ${fault.direction} of ${hex(fault.addr)}+${hex(fault.size)} refused (${fault.reason})`,
  );
}
