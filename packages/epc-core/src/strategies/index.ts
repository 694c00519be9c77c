import type { Epc } from '../epc.js';
import type { EpcError } from '../errors.js';
import { dmaStrategy } from './dma.js';
import { epfAlignStrategy } from './epf-align.js';
import { legacyStrategy } from './legacy.js';
import { memMapStrategy } from './mem-map.js';
import { multiWindowStrategy } from './multi-window.js';
import type { StrategyName, TransferDirection, TransferStrategy } from './transfer-strategy.js';

/** `strategy`, reporting each transfer to the EPC's {@link Epc.transferObserver} when one is set. */
function observed(strategy: TransferStrategy): TransferStrategy {
  return {
    name: strategy.name,
    description: strategy.description,
    transfer(epc: Epc, pciAddr: bigint, buf: Uint8Array, direction: TransferDirection): EpcError | null {
      const error = strategy.transfer(epc, pciAddr, buf, direction);
      if (epc.transferObserver !== null) epc.transferObserver(pciAddr, buf.length, direction, error);
      return error;
    },
  };
}

export const STRATEGIES: Readonly<Record<StrategyName, TransferStrategy>> = {
  legacy: observed(legacyStrategy),
  'epf-align': observed(epfAlignStrategy),
  'mem-map': observed(memMapStrategy),
  'multi-window': observed(multiWindowStrategy),
  dma: observed(dmaStrategy),
};

export { faultError } from './fault-error.js';
export {
  STRATEGY_NAMES,
  type StrategyName,
  type TransferDirection,
  type TransferObserver,
  type TransferStrategy,
} from './transfer-strategy.js';
