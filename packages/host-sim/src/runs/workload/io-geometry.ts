/**
 * A generated workload's sizes in logical blocks of its namespace: the region, the block size
 * range and the alignment of random offsets. Checked against what Identify reported (block size,
 * NSZE, MDTS); a workload that cannot run there is a {@link HostSimConfigError}.
 */
import { HostSimConfigError } from '../../host/errors.js';
import { RW_MODE_INFO } from './rw-mode.js';
import type { GeneratedWorkload } from './workload-spec.js';

/** Where a generated workload runs, in logical blocks. */
export interface IoGeometry {
  readonly blockSize: number;
  /** First block of the region. */
  readonly regionStart: number;
  readonly regionBlocks: number;
  /** Smallest and largest I/O, in blocks. */
  readonly minBlocks: number;
  readonly maxBlocks: number;
  /**
   * Step between I/O sizes and between random offsets: the smallest size when it is a power of
   * two (fio rounds sizes of a bs range down to it, and blockalign defaults to it), else one block.
   */
  readonly granuleBlocks: number;
}

/** What the engine knows of the namespace and controller. */
export interface NamespaceLimits {
  readonly blockSize: number;
  /** Namespace size in blocks. */
  readonly blocks: number;
  /** Largest transfer in bytes (MDTS); 0: no limit. */
  readonly mdtsBytes: number;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function bad(message: string): never {
  throw new HostSimConfigError('BAD_OPTION', message);
}

/** The geometry of `spec` on a namespace; throws {@link HostSimConfigError} when it does not fit. */
export function ioGeometry(spec: GeneratedWorkload, ns: NamespaceLimits): IoGeometry {
  const { blockSize } = ns;
  const { min, max } = spec.blockSize;
  if (min > max) bad(`bs ${min}-${max}: the smallest size is above the largest`);
  for (const size of [min, max]) {
    if (size % blockSize !== 0) bad(`bs ${size} is not a multiple of the ${blockSize}-byte logical block`);
  }
  // Dataset Management carries ranges, not the blocks: MDTS does not limit a trim.
  if (ns.mdtsBytes > 0 && max > ns.mdtsBytes && RW_MODE_INFO[spec.rw].mix !== 'trim') {
    bad(`bs ${max} is above the controller's largest transfer (MDTS ${ns.mdtsBytes} bytes)`);
  }
  if (spec.offsetBytes % blockSize !== 0) bad(`offset ${spec.offsetBytes} is not a multiple of ${blockSize} bytes`);
  const nsBytes = ns.blocks * blockSize;
  if (spec.offsetBytes >= nsBytes) bad(`offset ${spec.offsetBytes} is beyond the ${nsBytes}-byte namespace`);
  const sizeBytes = spec.sizeBytes ?? nsBytes - spec.offsetBytes;
  if (sizeBytes % blockSize !== 0) bad(`size ${sizeBytes} is not a multiple of ${blockSize} bytes`);
  if (spec.offsetBytes + sizeBytes > nsBytes)
    bad(`offset ${spec.offsetBytes} + size ${sizeBytes} is beyond the ${nsBytes}-byte namespace`);
  if (sizeBytes < max) bad(`size ${sizeBytes} is smaller than the largest I/O (bs ${max})`);
  const minBlocks = min / blockSize;
  return {
    blockSize,
    regionStart: spec.offsetBytes / blockSize,
    regionBlocks: sizeBytes / blockSize,
    minBlocks,
    maxBlocks: max / blockSize,
    granuleBlocks: isPowerOfTwo(minBlocks) ? minBlocks : 1,
  };
}
