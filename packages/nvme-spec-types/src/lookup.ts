/** Reverse lookup for the `as const` code tables of this package (opcodes, FIDs, LIDs, …). */

/** Builds `code → key` for a table of unique codes; the key is the spec-derived constant name. */
export function nameLookup<K extends string>(table: Readonly<Record<K, number>>): (code: number) => K | undefined {
  const names = new Map<number, K>((Object.keys(table) as K[]).map((name) => [table[name], name]));
  return (code) => names.get(code);
}
