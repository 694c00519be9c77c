/**
 * A user's own map loop: a {@link TransferStrategy} from a module outside this package, run under
 * the same function, counters and checks as the built-in ones. A user strategy is registered
 * under a key (its module's path), so that configurations, case files and worker threads name it
 * by that key as they name a built-in strategy by its name.
 *
 * A user module need not import this package's classes: `transfer` returns null (or nothing) on
 * success, or an error value, which becomes an {@link EpcError} here: an `EpcError` of any copy of
 * this package, any object with `errno` and `message`, or an `Error`. A `transfer` that throws is
 * reported as the strategy's own failure (EFAULT), not as a crash of the function.
 */
import type { Epc } from '../epc.js';
import { EpcConfigError, EpcError, ERRNOS, type Errno } from '../errors.js';
import type { TransferDirection, TransferStrategy } from './transfer-strategy.js';

/** What a user strategy module provides. */
export interface UserStrategyModule {
  readonly name?: string;
  readonly description?: string;
  transfer(epc: Epc, pciAddr: bigint, buf: Uint8Array, direction: TransferDirection): unknown;
}

/** Checks `value` is a strategy and wraps it; `key` names it in errors. */
export function userStrategy(key: string, value: unknown): TransferStrategy {
  if (typeof value !== 'object' || value === null || typeof (value as UserStrategyModule).transfer !== 'function')
    throw new EpcConfigError(key, 'a strategy module exports { name, transfer(epc, pciAddr, buf, direction) }');
  const user = value as UserStrategyModule;
  const name = typeof user.name === 'string' && user.name !== '' ? user.name : key;
  return {
    name,
    description: typeof user.description === 'string' ? user.description : `user strategy from ${key}`,
    transfer(epc: Epc, pciAddr: bigint, buf: Uint8Array, direction: TransferDirection): EpcError | null {
      let result: unknown;
      try {
        result = user.transfer(epc, pciAddr, buf, direction);
      } catch (e) {
        return new EpcError('EFAULT', `strategy ${name} threw: ${e instanceof Error ? e.message : String(e)}`);
      }
      return epcErrorOf(result, name);
    },
  };
}

/** A user strategy's result as the function sees results: null, or an {@link EpcError}. */
function epcErrorOf(result: unknown, name: string): EpcError | null {
  if (result === null || result === undefined) return null;
  if (result instanceof EpcError) return result;
  if (typeof result === 'object') {
    const { errno, message } = result as { errno?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(result);
    if (typeof errno === 'string')
      return (ERRNOS as readonly string[]).includes(errno)
        ? new EpcError(errno as Errno, text)
        : new EpcError('EFAULT', `${errno}: ${text}`);
    if (result instanceof Error) return new EpcError('EFAULT', text);
  }
  return new EpcError('EINVAL', `strategy ${name} returned ${String(result)}, not null or an error`);
}
