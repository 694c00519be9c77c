/**
 * A fast-check arbitrary of 64-bit host (PCI) addresses biased to the edges where mapping bugs
 * live. Uniform 64-bit values almost never land on a page or window boundary, so most values are
 * drawn next to one: a page (4 KiB), 64 KiB (DesignWare region alignment), 1 MiB, 4 GiB, 2^53 (the
 * last integer a double holds exactly), the top of the space (2^64, where a buffer may only end) and
 * the given profile's own edges (its alignment rule, pass-through limit and window sizes).
 */
import type { EpcProfile } from '@epfsim/epc-core';
import { KiB, PCI_ADDR_LIMIT } from '@epfsim/epc-core';
import fc from 'fast-check';
import { alignDownBig } from '../../host/memory/host-range.js';
import { type EdgeClass, edgeClasses } from '../../host/placement/edges.js';

/** Edges of every host besides those in `placement/edges.ts`: the 4 KiB page and DesignWare's 64 KiB. */
const EXTRA_EDGES: readonly EdgeClass[] = [
  { name: 'page', period: BigInt(4 * KiB), single: false, endOnly: false },
  { name: '64KiB', period: BigInt(64 * KiB), single: false, endOnly: false },
];
/** Multiples of an edge drawn most often: the first few (low addresses, where most hosts have RAM). */
const SMALL_MULTIPLE = 16;
/** Weights of the two families: next to an edge, or anywhere. */
const EDGE_WEIGHT = 4;
const UNIFORM_WEIGHT = 1;

export interface HostAddressOptions {
  /** A controller profile whose own edges (alignment, pass-through limit, window sizes) are targeted too. */
  readonly profile?: EpcProfile;
  /** The address is a multiple of this power of two (4 for a dword, 4096 for a page). Default 1. */
  readonly align?: number;
  /** Bytes that must fit from the address: `addr + span ≤ 2^64`. Default 1. */
  readonly span?: number;
}

/** The edges {@link hostAddress} aims at for `profile`: page, 64 KiB, 1 MiB, 4 GiB, 2^53, 2^64 and the profile's. */
export function addressEdges(profile?: EpcProfile): EdgeClass[] {
  const edges = [...EXTRA_EDGES];
  for (const e of edgeClasses(profile)) if (!edges.some((x) => x.period === e.period)) edges.push(e);
  return edges;
}

/**
 * Host addresses, `align`-aligned, with room for `span` bytes below 2^64: mostly just before, at or
 * just after an edge (so that `[addr, addr + span)` starts, ends or straddles it), sometimes
 * uniform over the whole space. Shrinks toward the first edge's first multiple.
 */
export function hostAddress(options: HostAddressOptions = {}): fc.Arbitrary<bigint> {
  const align = BigInt(options.align ?? 1);
  const span = BigInt(options.span ?? 1);
  if (align <= 0n || (align & (align - 1n)) !== 0n)
    throw new RangeError(`hostAddress: align ${align} is not a power of two`);
  if (span <= 0n || span > PCI_ADDR_LIMIT / 2n) throw new RangeError(`hostAddress: span ${span} out of range`);
  const highest = alignDownBig(PCI_ADDR_LIMIT - span, Number(align));
  const fit = (addr: bigint): bigint => {
    const a = alignDownBig(addr < 0n ? 0n : addr, Number(align));
    // bigints: Math.min does not apply.
    if (a > highest) return highest;
    return a;
  };
  const edges = addressEdges(options.profile);
  const nearEdge = fc
    .record({
      edge: fc.constantFrom(...edges),
      multiple: fc.oneof(fc.integer({ min: 1, max: SMALL_MULTIPLE }), fc.bigInt({ min: 1n, max: PCI_ADDR_LIMIT })),
      // Where the range sits against the edge: starts at it, ends at it, or straddles it by `cut` bytes.
      where: fc.constantFrom('start', 'end', 'straddle', 'just-before', 'just-after'),
      cut: fc.bigInt({ min: 0n, max: span }),
    })
    .map(({ edge, multiple, where, cut }) => {
      const boundary = edgePoint(edge, BigInt(multiple));
      if (edge.endOnly) return fit(boundary - span);
      switch (where) {
        case 'start':
          return fit(boundary);
        case 'end':
          return fit(boundary - span);
        case 'straddle':
          return fit(boundary - cut);
        case 'just-before':
          return fit(boundary - span - align);
        default:
          return fit(boundary + align);
      }
    });
  const uniform = fc.bigInt({ min: 0n, max: highest }).map(fit);
  return fc.oneof({ arbitrary: nearEdge, weight: EDGE_WEIGHT }, { arbitrary: uniform, weight: UNIFORM_WEIGHT });
}

/** The `multiple`-th boundary of an edge class, kept inside the 64-bit space. */
function edgePoint(edge: EdgeClass, multiple: bigint): bigint {
  if (edge.single) return edge.period;
  const count = PCI_ADDR_LIMIT / edge.period;
  return (((multiple - 1n) % count) + 1n) * edge.period;
}
