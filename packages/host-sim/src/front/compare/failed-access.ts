/**
 * A host access the function's strategy could not make, placed against the controller's edges:
 * how aligned its start was, the smallest naturally aligned power-of-two block that holds the
 * range, how far past the edge the controller's own `align_addr` would put the start, and how many
 * maps the range needs at least. A block bigger than the start's alignment means the range crosses
 * an edge its start is not aligned to; a start below the alignment a translation needs is the
 * "unaligned host" case.
 */
import { type Epc, type Errno, fls64, leastMapCount, type TransferDirection } from '@epfsim/epc-core';

/** Alignments are reported up to 2^40 (1 TiB); a start at a bigger power of two counts as that. */
export const MAX_ALIGN_BITS = 40;

/** When the access was made: bringing the controller up, or running the workload. */
export type AccessPhase = 'bring-up' | 'workload';

export interface FailedAccess {
  /** The host PCI address asked for, in hex (JSON has no 64-bit integers). */
  readonly pciAddr: string;
  readonly size: number;
  readonly direction: TransferDirection;
  readonly errno: Errno;
  readonly phase: AccessPhase;
  /** Largest power of two dividing the start address (at most 2^{@link MAX_ALIGN_BITS}). */
  readonly startAlign: number;
  /** Smallest naturally aligned power-of-two block holding the whole range (1 for a single byte). */
  readonly block: number;
  /** The start's offset into the mapping the controller's `align_addr` would make (0: aligned as it needs). */
  readonly controllerOffset: number;
  /** Least number of maps that cover the range on this controller (more than 1: it crosses a map limit). */
  readonly mapsNeeded: number;
}

/** Largest power of two dividing `addr`, capped. */
export function startAlignment(addr: bigint): number {
  let bits = 0;
  while (bits < MAX_ALIGN_BITS && ((addr >> BigInt(bits)) & 1n) === 0n) bits++;
  return 2 ** bits;
}

/** The smallest naturally aligned power-of-two block that holds [addr, addr + size). */
export function alignedBlock(addr: bigint, size: number): number {
  return 2 ** fls64(addr ^ (addr + BigInt(Math.max(size, 1)) - 1n));
}

/** Places one failed access against `epc`'s profile. */
export function describeFailedAccess(
  epc: Epc,
  pciAddr: bigint,
  size: number,
  direction: TransferDirection,
  errno: Errno,
  phase: AccessPhase,
): FailedAccess {
  return {
    pciAddr: `0x${pciAddr.toString(16)}`,
    size,
    direction,
    errno,
    phase,
    startAlign: startAlignment(pciAddr),
    block: alignedBlock(pciAddr, size),
    controllerOffset: epc.alignAddr(pciAddr, size).offset,
    mapsNeeded: leastMapCount(epc.profile.align, pciAddr, size),
  };
}
