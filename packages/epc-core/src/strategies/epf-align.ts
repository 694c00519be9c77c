import type { Epc } from '../epc.js';
import type { EpcError } from '../errors.js';
import { alignDown, singleMapTransfer } from './single-map.js';
import type { TransferDirection, TransferStrategy } from './transfer-strategy.js';

/**
 * The function driver handles alignment itself: it over-allocates by the controller
 * alignment it knows (`epc_features->align`), maps from the aligned-down address and
 * copies at an offset. One mapping per request, so a range the controller cannot
 * cover with one translation (past a window or region limit) fails.
 */
export const epfAlignStrategy: TransferStrategy = {
  name: 'epf-align',
  description: 'the function driver aligns down to epc_features->align and over-allocates (one map per request)',
  transfer(epc: Epc, pciAddr: bigint, buf: Uint8Array, direction: TransferDirection): EpcError | null {
    const { mapPciAddr, offset } = alignDown(pciAddr, epc.profile.barAlign);
    return singleMapTransfer(epc, mapPciAddr, offset, buf, direction);
  },
};
