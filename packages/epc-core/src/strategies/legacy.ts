import type { Epc } from '../epc.js';
import type { EpcError } from '../errors.js';
import { singleMapTransfer } from './single-map.js';
import type { TransferDirection, TransferStrategy } from './transfer-strategy.js';

/** Exact-address alloc + map of the whole request: the pre-6.13 world that assumed aligned hosts. */
export const legacyStrategy: TransferStrategy = {
  name: 'legacy',
  description: 'alloc_addr + map_addr at the exact host address (pre-6.13; assumes the host aligned its buffers)',
  transfer(epc: Epc, pciAddr: bigint, buf: Uint8Array, direction: TransferDirection): EpcError | null {
    return singleMapTransfer(epc, pciAddr, 0, buf, direction);
  },
};
