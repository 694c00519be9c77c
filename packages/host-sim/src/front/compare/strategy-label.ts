import { strategyFor } from '@epfsim/epc-core';

/** How tables and charts name a strategy: a built-in by its name, a user module by the name it gives itself. */
export function strategyLabel(key: string): string {
  return strategyFor(key)?.name ?? key;
}
