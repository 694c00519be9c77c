/** Shared test fixtures: host memory with the MSI window reserved, data requests, SGL capabilities. */
import { SimulatedHostMemory } from '../../src/host/memory/host-memory.js';
import { MsiDoorbell } from '../../src/host/memory/msi-doorbell.js';
import { type DataRequest, NO_SGL, type SglCapability } from '../../src/host/placement/layout.js';

export const PAGE = 4096;

/** SGLS 01b with Bit Buckets, as nvme-epf advertises by default. */
export const SGL_BYTE: SglCapability = Object.freeze({
  support: 'byte',
  bitBucket: true,
  excessLength: false,
  mptrSgl: false,
});

/** SGLS 10b: dword-granular Data Blocks, no Bit Buckets. */
export const SGL_DWORD: SglCapability = Object.freeze({
  support: 'dword',
  bitBucket: false,
  excessLength: false,
  mptrSgl: false,
});

/** Host memory as a testbed builds it (the MSI doorbell window reserved). */
export function hostMemory(): SimulatedHostMemory {
  const memory = new SimulatedHostMemory();
  new MsiDoorbell().install(memory);
  return memory;
}

/** A data request with defaults: I/O queue 1, a read, no SGLs, 4 KiB pages. */
export function request(fields: Partial<DataRequest> & { length: number }): DataRequest {
  return { qid: 1, toDevice: false, sgl: NO_SGL, pageSize: PAGE, ...fields };
}
