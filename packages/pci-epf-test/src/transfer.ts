import { type Epc, EpcError, type TransferStrategy } from '@epfsim/epc-core';

/**
 * How the function reaches host memory. `mem-map` is the v6.13 loop of pci_epf_test_read() and
 * _write(): map what the controller allows (`pci_epc_mem_map()` may cover only the start of the
 * range), copy `pci_size` bytes, unmap, advance. `single-map` is a broken loop kept for tests: it
 * copies what the first map covers and stops, as a driver that ignores partial maps would. A
 * {@link TransferStrategy} (built-in or a user's) runs in their place, as under the NVMe function.
 */
export type MapLoop = 'mem-map' | 'single-map' | TransferStrategy;

/** Copies host memory at `pciAddr` into `buf`, or returns why it could not. */
export function readHost(epc: Epc, loop: MapLoop, pciAddr: bigint, buf: Uint8Array): EpcError | null {
  return move(epc, loop, pciAddr, buf, 'from');
}

/** Copies `buf` into host memory at `pciAddr`, or returns why it could not. */
export function writeHost(epc: Epc, loop: MapLoop, pciAddr: bigint, buf: Uint8Array): EpcError | null {
  return move(epc, loop, pciAddr, buf, 'to');
}

function move(epc: Epc, loop: MapLoop, pciAddr: bigint, buf: Uint8Array, way: 'from' | 'to'): EpcError | null {
  if (typeof loop === 'object') return loop.transfer(epc, pciAddr, buf, way === 'from' ? 'fromHost' : 'toHost');
  let done = 0;
  while (done < buf.length) {
    const map = epc.memMap(pciAddr + BigInt(done), buf.length - done);
    if (map instanceof EpcError) return map;
    const chunk = buf.subarray(done, done + map.pciSize);
    const fault = way === 'from' ? map.read(0, chunk) : map.write(0, chunk);
    epc.memUnmap(map);
    if (fault !== null)
      return new EpcError(
        'EFAULT',
        `host ${way === 'from' ? 'read' : 'write'} at 0x${fault.addr.toString(16)} refused (${fault.reason})`,
      );
    done += map.pciSize;
    if (loop === 'single-map') return null;
  }
  return null;
}

/** The DMA path (FLAG_USE_DMA): the controller's engine moves the whole buffer. */
export function dmaHost(epc: Epc, pciAddr: bigint, buf: Uint8Array, way: 'from' | 'to'): EpcError | null {
  const fault = way === 'from' ? epc.dmaRead(pciAddr, buf) : epc.dmaWrite(pciAddr, buf);
  return fault === null
    ? null
    : new EpcError('EFAULT', `DMA at 0x${fault.addr.toString(16)} refused (${fault.reason})`);
}
