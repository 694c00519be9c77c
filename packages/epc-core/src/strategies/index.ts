import type { Epc } from '../epc.js';
import type { EpcError } from '../errors.js';
import { dmaStrategy } from './dma.js';
import { epfAlignStrategy } from './epf-align.js';
import { legacyStrategy } from './legacy.js';
import { memMapStrategy } from './mem-map.js';
import { multiWindowStrategy } from './multi-window.js';
import type { StrategyName, TransferDirection, TransferStrategy } from './transfer-strategy.js';
import { userStrategy } from './user-strategy.js';

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

/** User strategies by key (the path of the module each came from). */
const userStrategies = new Map<string, TransferStrategy>();

/**
 * Registers a user's strategy module under `key` (its path): configurations then name it by that
 * key as they name a built-in strategy. The module's value is checked ({@link userStrategy}).
 */
export function registerStrategy(key: string, value: unknown): TransferStrategy {
  const strategy = observed(userStrategy(key, value));
  userStrategies.set(key, strategy);
  return strategy;
}

/** The strategy a configuration names: a built-in one by name, or a registered user one by key. */
export function strategyFor(key: string): TransferStrategy | undefined {
  return Object.hasOwn(STRATEGIES, key) ? STRATEGIES[key as StrategyName] : userStrategies.get(key);
}

export { faultError } from './fault-error.js';
export {
  STRATEGY_NAMES,
  type StrategyName,
  type TransferDirection,
  type TransferObserver,
  type TransferStrategy,
} from './transfer-strategy.js';
export type { UserStrategyModule } from './user-strategy.js';
