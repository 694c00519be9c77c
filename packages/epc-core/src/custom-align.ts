/**
 * A controller's own `align_addr` rule, supplied by a user's profile module as a function: for a
 * controller whose mapping rule is none of the built-in kinds. A profile names its rule by a key
 * (the module's path) so that the profile stays plain data, copyable to worker threads and into
 * case files; the function itself lives in this registry, loaded once per thread.
 *
 * The function is the user's code, so its answer is checked on every call against the contract
 * `pci_epc_mem_map()` relies on: the map starts at or below the request, covers its first byte,
 * and ends at or below 2^64. A rule that breaks it is the user's error, named with the request.
 */
import { hex, PCI_ADDR_LIMIT } from './address.js';
import type { AlignedRange } from './align-addr.js';
import { EpcConfigError } from './errors.js';

/** A profile module's `alignAddr(pciAddr, size)`: where to map, how much, and where the request starts in it. */
export type AlignAddrFunction = (pciAddr: bigint, size: number) => AlignedRange;

const rules = new Map<string, AlignAddrFunction>();

/** Registers `fn` under `key` (a profile module's path); a profile's `{ kind: 'custom', key }` rule calls it. */
export function registerAlignRule(key: string, fn: AlignAddrFunction): void {
  rules.set(key, fn);
}

export function isAlignRuleRegistered(key: string): boolean {
  return rules.has(key);
}

/** Calls rule `key` for a request and checks its answer; a broken answer is an {@link EpcConfigError}. */
export function customAlignAddr(key: string, pciAddr: bigint, size: number): AlignedRange {
  const fn = rules.get(key);
  if (fn === undefined) throw new EpcConfigError('align.key', `no alignAddr rule loaded from ${key}`);
  const call = `alignAddr(${hex(pciAddr)}, ${hex(size)}) of ${key}`;
  let r: unknown;
  try {
    r = fn(pciAddr, size);
  } catch (e) {
    throw new EpcConfigError('align', `${call} threw: ${e instanceof Error ? e.message : String(e)}`);
  }
  const broken = (why: string) => new EpcConfigError('align', `${call} ${why}`);
  if (typeof r !== 'object' || r === null) throw broken('returned no { mapPciAddr, mapSize, offset }');
  const { mapPciAddr, mapSize, offset } = r as Record<string, unknown>;
  if (typeof mapPciAddr !== 'bigint') throw broken('returned a mapPciAddr that is not a bigint');
  if (!Number.isSafeInteger(mapSize) || (mapSize as number) < 1) throw broken(`returned mapSize ${String(mapSize)}`);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw broken(`returned offset ${String(offset)}`);
  const range = { mapPciAddr, mapSize: mapSize as number, offset: offset as number };
  if (range.mapPciAddr < 0n || range.mapPciAddr + BigInt(range.mapSize) > PCI_ADDR_LIMIT)
    throw broken(`returned a map past 2^64 (${hex(range.mapPciAddr)}+${hex(range.mapSize)})`);
  if (range.mapPciAddr + BigInt(range.offset) !== pciAddr || range.offset >= range.mapSize)
    throw broken(
      `returned a map that does not cover the start of the request (${hex(range.mapPciAddr)}+${hex(range.mapSize)}, offset ${hex(range.offset)})`,
    );
  return range;
}
