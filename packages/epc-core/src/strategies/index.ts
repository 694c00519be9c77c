import { dmaStrategy } from './dma.js';
import { epfAlignStrategy } from './epf-align.js';
import { legacyStrategy } from './legacy.js';
import { memMapStrategy } from './mem-map.js';
import { multiWindowStrategy } from './multi-window.js';
import type { StrategyName, TransferStrategy } from './transfer-strategy.js';

export const STRATEGIES: Readonly<Record<StrategyName, TransferStrategy>> = {
  legacy: legacyStrategy,
  'epf-align': epfAlignStrategy,
  'mem-map': memMapStrategy,
  'multi-window': multiWindowStrategy,
  dma: dmaStrategy,
};

export {
  STRATEGY_NAMES,
  type StrategyName,
  type TransferDirection,
  type TransferStrategy,
} from './transfer-strategy.js';
