/**
 * Address edges where mapping bugs live: the global ones (1 MiB, 4 GiB, 2^53, the top of the
 * 64-bit space) and the active profile's own (DesignWare region alignment, the pass-through limit
 * 2^maxBits of RK3399/Cadence-like controllers, outbound window sizes). Adversarial placement puts
 * buffers and lists across them and queues next to them.
 */
import { type EpcProfile, GiB, MiB, PCI_ADDR_LIMIT } from '@epfsim/epc-core';

/** A family of boundaries: every non-zero multiple of `period`, or the single point `period` when `single`. */
export interface EdgeClass {
  /** Tag suffix, e.g. `4GiB`, `dwc-region-64KiB`, `pass-bits-1MiB`, `window-32KiB`. */
  readonly name: string;
  readonly period: bigint;
  /** Only `period` itself is an edge (2^53), not its multiples. */
  readonly single: boolean;
  /** Data may only end here, never cross (2^64). */
  readonly endOnly: boolean;
}

/** 2^53: the first integer a double cannot hold next to its neighbour; JS address bugs start here. */
export const EDGE_2_53 = 1n << 53n;

/** Edges of every host. */
export const GLOBAL_EDGES: readonly EdgeClass[] = [
  { name: '1MiB', period: BigInt(MiB), single: false, endOnly: false },
  { name: '4GiB', period: BigInt(4 * GiB), single: false, endOnly: false },
  { name: '2^53', period: EDGE_2_53, single: true, endOnly: false },
  { name: '2^64', period: PCI_ADDR_LIMIT, single: true, endOnly: true },
];

/** Ratio between binary units. */
const BINARY_STEP = 1024;

/** A size in the largest binary unit that divides it: 65536 → `64KiB`. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= BINARY_STEP && value % BINARY_STEP === 0 && unit < units.length - 1) {
    value /= BINARY_STEP;
    unit++;
  }
  return `${value}${units[unit]}`;
}

/** The profile's own edges: alignment rule, translation rule and window sizes (deduplicated). */
export function profileEdges(profile: EpcProfile): EdgeClass[] {
  const edges: EdgeClass[] = [];
  const add = (name: string, period: number): void => {
    if (period <= 0 || edges.some((e) => e.name === name)) return;
    edges.push({ name, period: BigInt(period), single: false, endOnly: false });
  };
  const align = profile.align;
  if (align.kind === 'dwc') add(`dwc-region-${formatSize(align.regionAlign)}`, align.regionAlign);
  if (align.kind === 'pass-bits') add(`pass-bits-${formatSize(2 ** align.maxBits)}`, 2 ** align.maxBits);
  const atu = profile.atu;
  if (atu.kind === 'dwc') add(`dwc-region-${formatSize(atu.regionAlign)}`, atu.regionAlign);
  for (const w of profile.windows) add(`window-${formatSize(w.size)}`, w.size);
  return edges;
}

/** Global edges plus the profile's, when one is given. */
export function edgeClasses(profile?: EpcProfile): EdgeClass[] {
  return [...GLOBAL_EDGES, ...(profile === undefined ? [] : profileEdges(profile))];
}

/** DesignWare's 64 KiB region alignment: an edge of every host whose RAM is too small for the 4 GiB one. */
const EDGE_64KIB: EdgeClass = { name: '64KiB', period: BigInt(64 * 1024), single: false, endOnly: false };

/**
 * The edges of `edges` that fall inside [lo, hi), plus the ones a small RAM range still has: 64 KiB
 * and its own end, where a buffer may only end (as at 2^64: one byte more is no RAM). For a target
 * whose host RAM is fixed (QEMU's guest RAM) the 4 GiB, 2^53 and 2^64 edges are out of reach.
 */
export function edgesWithin(edges: readonly EdgeClass[], lo: bigint, hi: bigint): EdgeClass[] {
  const inside = (e: EdgeClass): boolean => {
    if (e.single) return e.period > lo && (e.endOnly ? e.period <= hi : e.period < hi);
    const first = (lo / e.period + 1n) * e.period;
    return first < hi;
  };
  const kept = [...edges, EDGE_64KIB].filter(inside);
  const unique = kept.filter((e, i) => kept.findIndex((x) => x.name === e.name) === i);
  return [...unique, { name: 'ram-end', period: hi, single: true, endOnly: true }];
}
