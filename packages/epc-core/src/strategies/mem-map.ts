import type { Epc } from '../epc.js';
import { EpcError } from '../errors.js';
import { faultError } from './fault-error.js';
import type { TransferDirection, TransferStrategy } from './transfer-strategy.js';

/**
 * The Linux 6.13 loop (`nvmet_pci_epf_mmio_transfer()`): map what the controller
 * allows, copy `pciSize` bytes, unmap, advance. One map is live at a time.
 */
export const memMapStrategy: TransferStrategy = {
  name: 'mem-map',
  description: 'pci_epc_mem_map() loop (Linux 6.13+): the core aligns, the caller loops over partial maps',
  transfer(epc: Epc, pciAddr: bigint, buf: Uint8Array, direction: TransferDirection): EpcError | null {
    let done = 0;
    while (done < buf.length) {
      const map = epc.memMap(done === 0 ? pciAddr : pciAddr + BigInt(done), buf.length - done);
      if (map instanceof EpcError) return map;
      const chunk = done === 0 && map.pciSize === buf.length ? buf : buf.subarray(done, done + map.pciSize);
      const fault = direction === 'fromHost' ? map.read(0, chunk) : map.write(0, chunk);
      epc.memUnmap(map);
      if (fault !== null) return faultError(fault);
      done += map.pciSize;
    }
    return null;
  },
};
