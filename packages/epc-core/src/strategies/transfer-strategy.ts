import type { Epc } from '../epc.js';
import type { EpcError } from '../errors.js';

/** `fromHost`: the function reads host memory (a Write command); `toHost`: it writes (a Read). */
export type TransferDirection = 'fromHost' | 'toHost';

/**
 * One way for a function driver to move `buf` to or from host PCI address `pciAddr`
 * over an EPC. It moves every byte, or returns the typed error of the step that failed
 * (and then may have moved part of the data, as the real code would have).
 */
export interface TransferStrategy {
  /** A built-in strategy's {@link StrategyName}, or a user strategy's own name. */
  readonly name: string;
  readonly description: string;
  transfer(epc: Epc, pciAddr: bigint, buf: Uint8Array, direction: TransferDirection): EpcError | null;
}

export const STRATEGY_NAMES = ['legacy', 'epf-align', 'mem-map', 'multi-window', 'dma'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/**
 * Watches transfers (set on {@link Epc.transferObserver}): called after each one with the host
 * range it was asked to move and its result (null: every byte moved).
 */
export type TransferObserver = (
  pciAddr: bigint,
  size: number,
  direction: TransferDirection,
  error: EpcError | null,
) => void;
