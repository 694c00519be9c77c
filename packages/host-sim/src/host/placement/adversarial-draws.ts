/**
 * Where the adversarial host draws its addresses from: seeded picks next to and across the edges
 * that break controllers (1 MiB, 4 GiB, 2^53, 2^64 and the profile's own), in bands over the 64-bit
 * space, placed only where host memory is free. {@link AdversarialPlacement} builds its layouts on it.
 */
import { type EpcProfile, PCI_ADDR_LIMIT } from '@epfsim/epc-core';
import { SGL_DESCRIPTOR_SIZE } from '@epfsim/nvme-spec-types';
import { PlacementError } from '../errors.js';
import type { HostMemory } from '../memory/host-memory.js';
import { alignDownBig, type HostRange, rangeEnd } from '../memory/host-range.js';
import { createRandom, type Random } from '../random.js';
import { type EdgeClass, edgeClasses, edgesWithin } from './edges.js';
import type { PlacedQueue, QueueRequest } from './layout.js';

export const DWORD = 4;
export const QWORD = 8;
/** Attempts to find a free spot before giving up on an edge (or, for free placement, at all). */
export const PLACE_ATTEMPTS = 64;
/** Address bands a random placement draws from, roughly log-uniform over the 64-bit space. */
export const BANDS: readonly (readonly [bigint, bigint])[] = [
  [1n << 20n, 1n << 32n],
  [1n << 32n, 1n << 40n],
  [1n << 40n, 1n << 53n],
  [1n << 53n, PCI_ADDR_LIMIT],
];
/** Most data pieces of one SGL (before zero-length and bit-bucket extras). */
export const MAX_SGL_PIECES = 8;
/** Most segments in a Segment chain. */
export const MAX_SEGMENTS = 4;
/**
 * How often each shape is drawn. Defaults of the options, then the odds inside a layout; tuned so
 * that a few hundred layouts reach every shape and edge (the tests check that they do).
 */
export const ODDS = {
  edge: 0.7,
  exactRam: 0.5,
  sgl: 0.5,
  /** With an edge and several pages: cross it (else start at it). */
  crossEdge: 0.75,
  /** PRP2 garbage when it is reserved. */
  prp2Garbage: 0.5,
  /** PRP1 offset: cumulative thresholds for 0, one dword, the last dword; else any dword. */
  prp1Zero: 0.25,
  prp1FirstDword: 0.35,
  prp1LastDword: 0.5,
  bitBucket: 0.25,
  zeroLengthBlock: 0.15,
  /** A lone RAM Data Block goes in SGL1 (else in a Last Segment). */
  sgl1DataBlock: 0.6,
  segmentChain: 0.5,
  segmentAcrossPage: 0.3,
} as const;
/** Per-buffer contiguity of PRP pages: all scattered, mostly scattered, mostly contiguous, contiguous. */
export const CONTIGUITY_CHOICES = [0, 0.3, 0.8, 1] as const;

export interface AdversarialPlacementOptions {
  readonly seed?: number;
  /** The controller profile whose own edges (region alignment, pass-through limit, windows) are targeted. */
  readonly profile?: EpcProfile;
  /** Probability that a buffer crosses (or starts or ends at) an edge. Default 0.7. */
  readonly edgeRate?: number;
  /** Queues: anywhere, next to edges (default), or also across them. */
  readonly queueEdges?: 'none' | 'near' | 'across';
  /** Probability that RAM is placed for exactly the bytes used rather than whole pages. Default 0.5. */
  readonly exactRamRate?: number;
  /** Probability of an SGL on an I/O queue when the controller supports SGLs. Default 0.5. */
  readonly sglRate?: number;
  /**
   * The only host RAM there is (QEMU's guest RAM): every placement then lands inside it, and the
   * edges aimed at are those inside it (see {@link edgesWithin}). Default: the whole 64-bit space.
   */
  readonly ram?: HostRange;
}

/** What one layout placed, so that release frees it. */
export class Placements {
  readonly ranges: HostRange[] = [];
  private readonly memory: HostMemory;

  constructor(memory: HostMemory) {
    this.memory = memory;
  }

  /** Places [addr, addr + size) if it is free; false otherwise. */
  tryPlace(addr: bigint, size: number): boolean {
    if (size <= 0) return true;
    if (!this.memory.isFree(addr, size)) return false;
    this.ranges.push(this.memory.place(addr, size));
    return true;
  }

  releaseAll(): void {
    for (const r of this.ranges.splice(0)) this.memory.free(r);
  }
}

/** A run of physically contiguous pages of a PRP buffer. */
export interface PageRun {
  pages: number;
  /** Address of the run's first page when pinned to an edge. */
  pinned?: bigint;
}

/** The address draws of the hostile-but-legal host, for its layouts. */
export abstract class AdversarialDraws {
  readonly edges: readonly EdgeClass[];

  protected readonly memory: HostMemory;

  protected readonly random: Random;

  protected readonly edgeRate: number;

  protected readonly queueEdges: 'none' | 'near' | 'across';

  protected readonly exactRamRate: number;

  protected readonly sglRate: number;
  /** Address bands placements draw from, and the bounds every placement keeps to. */

  protected readonly bands: readonly (readonly [bigint, bigint])[];

  protected readonly lo: bigint;

  protected readonly hi: bigint;

  constructor(memory: HostMemory, options: AdversarialPlacementOptions = {}) {
    this.memory = memory;
    this.random = createRandom(options.seed ?? 1);
    const ram = options.ram;
    this.lo = ram === undefined ? 0n : ram.addr;
    this.hi = ram === undefined ? PCI_ADDR_LIMIT : rangeEnd(ram);
    this.bands = ram === undefined ? BANDS : [[this.lo, this.hi]];
    this.edges =
      ram === undefined ? edgeClasses(options.profile) : edgesWithin(edgeClasses(options.profile), this.lo, this.hi);
    this.edgeRate = options.edgeRate ?? ODDS.edge;
    this.queueEdges = options.queueEdges ?? 'near';
    this.exactRamRate = options.exactRamRate ?? ODDS.exactRam;
    this.sglRate = options.sglRate ?? ODDS.sgl;
  }

  protected placePiece(size: number, grain: number, ps: number, placed: Placements): bigint {
    const exact = this.random.chance(this.exactRamRate);
    for (let attempt = 0; attempt < PLACE_ATTEMPTS; attempt++) {
      const offset = this.random.below(ps / grain) * grain;
      const span = Math.ceil((offset + size) / ps) * ps;
      const page = this.randomBase(span, ps);
      const addr = page + BigInt(offset);
      if (exact ? placed.tryPlace(addr, size) : placed.tryPlace(page, span)) return addr;
    }
    throw new PlacementError('NO_SPACE', 'no free spot for an SGL piece');
  }

  /** Places a piece across (or ending at) an edge; returns its address, or 0n when it found no spot. */

  protected placeAcrossEdge(size: number, grain: number, placed: Placements, tags: string[]): bigint {
    for (let attempt = 0; attempt < PLACE_ATTEMPTS / 8; attempt++) {
      const edge = this.random.pick(this.edges);
      const boundary = this.boundary(edge, size, grain);
      if (boundary === undefined) continue;
      const crossing = !edge.endOnly && size >= 2 * grain;
      const before = crossing ? this.random.between(1, size / grain - 1) * grain : size;
      const addr = boundary - BigInt(before);
      if (placed.tryPlace(addr, size)) {
        tags.push(crossing ? `straddle-${edge.name}` : `end-at-${edge.name}`);
        return addr;
      }
    }
    return 0n;
  }

  /** Splits descriptors into segments; every segment but the last keeps a non-empty data descriptor (S-11). */

  protected placeSegment(bytes: number, ps: number, placed: Placements, tags: string[]): bigint {
    for (let attempt = 0; attempt < PLACE_ATTEMPTS; attempt++) {
      const across = bytes > SGL_DESCRIPTOR_SIZE && this.random.chance(ODDS.segmentAcrossPage);
      const span = Math.ceil(bytes / ps) * ps + ps;
      const page = this.randomBase(span, ps);
      const addr = across
        ? page + BigInt(ps - this.random.between(1, bytes / SGL_DESCRIPTOR_SIZE - 1) * SGL_DESCRIPTOR_SIZE)
        : page + BigInt(this.random.below((ps - Math.min(bytes, ps)) / QWORD + 1) * QWORD);
      if (placed.tryPlace(addr, bytes)) {
        if (across && !tags.includes('sgl-segment-across-page')) tags.push('sgl-segment-across-page');
        return addr;
      }
    }
    throw new PlacementError('NO_SPACE', 'no free spot for an SGL segment');
  }

  // ---- addresses ----

  /** A boundary of `edge` with room for `span` bytes on both sides; aligned to `align` too. */

  protected boundary(edge: EdgeClass, span: number, align: number): bigint | undefined {
    if (edge.single) return edge.period - BigInt(span) >= this.lo ? edge.period : undefined;
    const step = edge.period > BigInt(align) ? edge.period : BigInt(align);
    for (let attempt = 0; attempt < PLACE_ATTEMPTS; attempt++) {
      const boundary = (this.randomBase(span, align) / step + 1n) * step;
      if (boundary > this.lo + BigInt(span) && boundary + BigInt(span) <= this.hi) return boundary;
    }
    return undefined;
  }

  /** A random `align`-aligned address with `span` free bytes, from one of the address bands. */

  protected randomBase(span: number, align: number): bigint {
    const [lo, hi] = this.random.pick(this.bands);
    const room = hi - lo - BigInt(span);
    return alignDownBig(lo + this.random.bigBelow(room > 0n ? room : 1n), align);
  }

  /** A free, page-aligned spot of `span` bytes; placed whole in `placeIn` when given. */

  protected freeSpot(span: number, ps: number, placeIn?: Placements): bigint {
    for (let attempt = 0; attempt < PLACE_ATTEMPTS; attempt++) {
      const addr = this.randomBase(span, ps);
      if (placeIn === undefined ? this.memory.isFree(addr, span) : placeIn.tryPlace(addr, span)) return addr;
    }
    throw new PlacementError('NO_SPACE', `no free spot of ${span} bytes`);
  }

  protected queue(addr: bigint, request: QueueRequest, placed: Placements, tags: string[]): PlacedQueue {
    this.memory.zero(addr, Math.ceil(request.bytes / request.pageSize) * request.pageSize);
    return { range: { addr, size: request.bytes }, tags, release: () => placed.releaseAll() };
  }
}
