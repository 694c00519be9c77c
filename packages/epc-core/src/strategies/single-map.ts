import { hex } from '../address.js';
import { describeAlignRule } from '../align-addr.js';
import { Atu } from '../atu.js';
import type { Epc } from '../epc.js';
import { EpcError } from '../errors.js';
import { faultError } from './fault-error.js';
import type { TransferDirection } from './transfer-strategy.js';

/**
 * The pre-6.13 way: one `alloc_addr` + `map_addr` for the whole request at an address
 * the function driver chose, then one copy. The controller programs what it is given;
 * when that translation does not reach the requested bytes (the host address was not
 * aligned as the hardware needs), the real code silently moved data to the wrong host
 * address. Here the transfer stops before the copy and says so (EFAULT).
 */
export function singleMapTransfer(
  epc: Epc,
  mapPciAddr: bigint,
  offset: number,
  buf: Uint8Array,
  direction: TransferDirection,
): EpcError | null {
  const mapSize = offset + buf.length;
  const request = { op: 'mapAddr', pciAddr: mapPciAddr, size: mapSize } as const;
  const physBase = epc.memAllocAddr(mapSize);
  if (physBase === null) return epc.noWindow(mapSize).answering(request);
  const slot = epc.mapAddr(physBase, mapPciAddr, mapSize);
  if (slot instanceof EpcError) {
    epc.memFreeAddr(physBase, mapSize);
    return slot;
  }
  const physAddr = physBase + offset;
  const want = mapPciAddr + BigInt(offset);
  const first = Atu.translate(slot, physAddr);
  const last = Atu.translate(slot, physAddr + buf.length - 1);
  let error: EpcError | null = null;
  if (first !== want || last !== want + BigInt(buf.length - 1)) {
    const limit = describeAlignRule(epc.profile.align);
    error = new EpcError(
      'EFAULT',
      `mapping reaches ${hex(first)}, not ${hex(want)}: the controller cannot map this host address as given`,
      { request, ...(limit === undefined ? {} : { limit }) },
    );
  } else {
    const fault = direction === 'fromHost' ? epc.slotRead(slot, physAddr, buf) : epc.slotWrite(slot, physAddr, buf);
    if (fault !== null) error = faultError(fault);
  }
  epc.unmapAddr(physBase);
  epc.memFreeAddr(physBase, mapSize);
  return error;
}

/** Aligns down to the function driver's idea of the controller alignment. */
export function alignDown(pciAddr: bigint, align: number): { mapPciAddr: bigint; offset: number } {
  const offset = Number(pciAddr % BigInt(align));
  return { mapPciAddr: pciAddr - BigInt(offset), offset };
}
