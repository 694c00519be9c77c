import type { Epc } from '../epc.js';
import type { EpcError } from '../errors.js';
import { faultError } from './fault-error.js';
import type { TransferDirection, TransferStrategy } from './transfer-strategy.js';

/** An eDMA-like channel: the engine takes the raw PCI address and needs no window. */
export const dmaStrategy: TransferStrategy = {
  name: 'dma',
  description: 'eDMA-like channel: raw PCI addresses, no outbound window',
  transfer(epc: Epc, pciAddr: bigint, buf: Uint8Array, direction: TransferDirection): EpcError | null {
    const fault = direction === 'fromHost' ? epc.dmaRead(pciAddr, buf) : epc.dmaWrite(pciAddr, buf);
    return fault === null ? null : faultError(fault);
  },
};
