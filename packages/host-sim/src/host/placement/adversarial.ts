/**
 * The `adversarial` placement policy: every legal placement, chosen by a seeded generator
 * (docs/nvme-rules.md §5c). PRP1 at any dword offset (up to the last dword of a page); PRP2
 * garbage when reserved (P-2); PRP lists at any qword offset including the last slot of a page,
 * sized to fit exactly or one entry over, chained (P-4..P-6); data pages scattered over the 64-bit
 * space; buffers across 1 MiB, 4 GiB and 2^53, ending at 2^64, and across the active profile's own
 * edges; RAM placed for exactly the bytes used, so any over-read hits a hole (P-8); SGLs of random
 * shapes: single Data Block, Last Segment, Segment chains, zero-length Data Blocks, Bit Buckets on
 * reads when advertised, segments across pages, byte-granular Data Blocks (S-1..S-10). Queues are
 * page aligned next to (optionally across) edges. Everything is legal: a correct controller must
 * complete every command successfully and move exactly the described bytes.
 */
import { PCI_ADDR_LIMIT } from '@epfsim/epc-core';
import { PRP_ENTRY_SIZE, Psdt, SGL_DESCRIPTOR_SIZE, type SglDescriptor } from '@epfsim/nvme-spec-types';
import type { GrantSpec } from '../memory/grant-table.js';
import type { HostRange } from '../memory/host-range.js';
import {
  AdversarialDraws,
  CONTIGUITY_CHOICES,
  DWORD,
  MAX_SEGMENTS,
  MAX_SGL_PIECES,
  ODDS,
  type PageRun,
  PLACE_ATTEMPTS,
  Placements,
  QWORD,
} from './adversarial-draws.js';
import type { EdgeClass } from './edges.js';
import {
  type CommandLayout,
  type DataChunk,
  type DataRequest,
  dataGrants,
  layoutOf,
  type PlacedQueue,
  type PlacementPolicy,
  prpDptr,
  type QueueRequest,
} from './layout.js';
import { prpEntries, slotsToPageEnd, writePrpList } from './prp-builder.js';
import { bitBucket, dataBlock, lastSegmentPointer, segmentPointer, sglDptr, writeSegment } from './sgl-builder.js';

/** The hostile-but-legal host. */
export class AdversarialPlacement extends AdversarialDraws implements PlacementPolicy {
  readonly name = 'adversarial';

  placeQueue(request: QueueRequest): PlacedQueue {
    const ps = request.pageSize;
    const pages = Math.ceil(request.bytes / ps);
    const span = pages * ps;
    const placed = new Placements(this.memory);
    const modes: ('before' | 'after' | 'across')[] =
      this.queueEdges === 'none'
        ? []
        : this.queueEdges === 'across' && pages > 1
          ? ['before', 'after', 'across']
          : ['before', 'after'];
    for (let attempt = 0; attempt < PLACE_ATTEMPTS && modes.length > 0; attempt++) {
      const edge = this.random.pick(this.edges);
      const mode = edge.endOnly ? 'before' : this.random.pick(modes);
      const boundary = this.boundary(edge, span, ps);
      if (boundary === undefined) continue;
      const addr =
        mode === 'before'
          ? boundary - BigInt(span)
          : mode === 'after'
            ? boundary
            : boundary - BigInt(this.random.between(1, pages - 1) * ps);
      if (placed.tryPlace(addr, span)) return this.queue(addr, request, placed, [`queue-${mode}-${edge.name}`]);
    }
    return this.queue(this.freeSpot(span, ps, placed), request, placed, ['queue-random']);
  }

  layout(request: DataRequest): CommandLayout {
    const useSgl = request.qid !== 0 && request.sgl.support !== 'none' && this.random.chance(this.sglRate);
    return useSgl ? this.sglLayout(request) : this.prpLayout(request);
  }

  // ---- PRP ----

  private prpLayout(request: DataRequest): CommandLayout {
    const ps = request.pageSize;
    const placed = new Placements(this.memory);
    const tags: string[] = [];
    const exact = this.random.chance(this.exactRamRate);
    if (exact) tags.push('ram-exact');
    let offset = this.pickPrp1Offset(ps);
    let runs = this.splitRuns(Math.ceil((offset + request.length) / ps));
    let chunks: DataChunk[] | undefined;
    if (this.random.chance(this.edgeRate)) {
      const edge = this.random.pick(this.edges);
      if (edge.endOnly) {
        // The buffer ends exactly at the edge (2^64): its end must fall on a page end.
        offset = (ps - (request.length % ps)) % ps;
        runs = this.splitRuns(Math.ceil((offset + request.length) / ps));
        chunks = this.pinAndPlace(request.length, offset, runs, ps, edge, 'end', placed, exact, tags);
      } else {
        const total = runs.reduce((n, r) => n + r.pages, 0);
        const mode = total > 1 && this.random.chance(ODDS.crossEdge) ? 'cross' : 'start';
        chunks = this.pinAndPlace(request.length, offset, runs, ps, edge, mode, placed, exact, tags);
      }
    }
    if (chunks === undefined) {
      for (const run of runs) delete run.pinned;
      chunks = this.placeRuns(request.length, offset, runs, ps, placed, exact);
      if (chunks === undefined) throw new Error('unpinned runs cannot collide');
    }
    if (offset !== 0) tags.push(offset === ps - DWORD ? 'prp1-last-dword' : 'prp1-offset');
    if (chunks.length > 1) tags.push('data-scattered');
    const entries = prpEntries(chunks, ps);
    const grants: GrantSpec[] = dataGrants(chunks, request.toDevice);
    const structures: HostRange[] = [];
    let prp2 = 0n;
    if (entries.length === 1) {
      // P-2: PRP2 is reserved and must be ignored; put garbage there.
      if (this.random.chance(ODDS.prp2Garbage)) {
        prp2 = this.random.bigBelow(PCI_ADDR_LIMIT);
        tags.push('prp2-garbage');
      }
    } else if (entries.length === 2) {
      prp2 = entries[1] as bigint;
      tags.push('prp2-direct');
    } else {
      const list = entries.slice(1);
      prp2 = this.placePrpList(list, ps, placed, exact, tags, structures);
      for (const s of structures) grants.push({ ...s, direction: 'read' });
    }
    return layoutOf({
      policy: this.name,
      psdt: Psdt.PRP,
      dptr: prpDptr(entries[0] as bigint, prp2),
      length: request.length,
      data: chunks,
      grants,
      structures,
      tags,
      release: () => placed.releaseAll(),
    });
  }

  /** PRP1's offset in its page: 0, a dword, the last dword, or any dword (P-1 legal values). */

  private pickPrp1Offset(ps: number): number {
    const roll = this.random.float();
    if (roll < ODDS.prp1Zero) return 0;
    if (roll < ODDS.prp1FirstDword) return DWORD;
    if (roll < ODDS.prp1LastDword) return ps - DWORD;
    return this.random.below(ps / DWORD) * DWORD;
  }

  /** Splits `pages` into physically contiguous runs; each buffer draws its own contiguity. */

  private splitRuns(pages: number): PageRun[] {
    const contiguity = this.random.pick(CONTIGUITY_CHOICES);
    const runs: PageRun[] = [];
    for (let left = pages; left > 0; ) {
      let n = 1;
      while (n < left && this.random.chance(contiguity)) n++;
      runs.push({ pages: n });
      left -= n;
    }
    return runs;
  }

  /**
   * Pins one run so that the buffer crosses, starts at or ends at an edge, then places all runs.
   * Returns undefined (nothing placed) when no free spot was found for the edge.
   */

  private pinAndPlace(
    length: number,
    offset: number,
    runs: PageRun[],
    ps: number,
    edge: EdgeClass,
    mode: 'cross' | 'start' | 'end',
    placed: Placements,
    exact: boolean,
    tags: string[],
  ): DataChunk[] | undefined {
    const total = runs.reduce((n, r) => n + r.pages, 0);
    for (let attempt = 0; attempt < PLACE_ATTEMPTS / 8; attempt++) {
      const boundary = this.boundary(edge, total * ps, ps);
      if (boundary === undefined) return undefined;
      // Page index (in the whole buffer) that starts at the boundary.
      const at = mode === 'start' ? 0 : mode === 'end' ? total : this.random.between(1, total - 1);
      // The run holding pages at−1 and at must be one run: merge runs around the boundary.
      const merged = mergeAround(runs, at);
      const { run, firstPage } = merged;
      for (const r of merged.runs) delete r.pinned;
      run.pinned = boundary - BigInt((at - firstPage) * ps);
      const chunks = this.placeRuns(length, offset, merged.runs, ps, placed, exact);
      if (chunks !== undefined) {
        runs.splice(0, runs.length, ...merged.runs);
        tags.push(mode === 'cross' ? `straddle-${edge.name}` : `${mode}-at-${edge.name}`);
        return chunks;
      }
    }
    return undefined;
  }

  /** Places every run (pinned ones where pinned) and returns the data chunks; undefined if a pinned run collides. */

  private placeRuns(
    length: number,
    offset: number,
    runs: readonly PageRun[],
    ps: number,
    placed: Placements,
    exact: boolean,
  ): DataChunk[] | undefined {
    const chunks: DataChunk[] = [];
    let remaining = length;
    const mark = placed.ranges.length;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i] as PageRun;
      const skip = i === 0 ? offset : 0;
      const size = Math.min(remaining, run.pages * ps - skip);
      let start = run.pinned;
      if (start !== undefined) {
        const ok = exact ? placed.tryPlace(start + BigInt(skip), size) : placed.tryPlace(start, run.pages * ps);
        if (!ok) {
          // Undo this attempt's placements; the caller tries another boundary.
          for (const r of placed.ranges.splice(mark)) this.memory.free(r);
          return undefined;
        }
      } else {
        start = this.freeSpot(run.pages * ps, ps, exact ? undefined : placed);
        if (exact && !placed.tryPlace(start + BigInt(skip), size)) throw new Error('free spot taken');
      }
      chunks.push({ addr: start + BigInt(skip), size, kind: 'ram' });
      remaining -= size;
    }
    return chunks;
  }

  /**
   * Writes the PRP list for `list` (the entries after PRP1) starting at a qword offset chosen to hit
   * the shapes of P-4..P-6, chaining through page-aligned pages. Returns PRP2.
   */

  private placePrpList(
    list: readonly bigint[],
    ps: number,
    placed: Placements,
    exact: boolean,
    tags: string[],
    structures: HostRange[],
  ): bigint {
    const perPage = ps / PRP_ENTRY_SIZE;
    const n = list.length;
    const shapes: string[] = ['list-page-aligned', 'list-mid-page', 'list-last-slot'];
    if (n <= perPage) shapes.push('list-exact-fit');
    if (n >= 2 && n - 1 <= perPage) shapes.push('list-one-over');
    const shape = this.random.pick(shapes);
    const offset =
      shape === 'list-page-aligned'
        ? 0
        : shape === 'list-last-slot'
          ? ps - QWORD
          : shape === 'list-exact-fit'
            ? ps - n * QWORD
            : shape === 'list-one-over'
              ? ps - (n - 1) * QWORD
              : this.random.between(1, perPage - 1) * QWORD;
    tags.push(shape);
    // Lay the chain out first: how many slots each list page uses.
    const used: number[] = [];
    let left = n;
    let slots = slotsToPageEnd(BigInt(offset), ps);
    for (;;) {
      if (left <= slots) {
        used.push(left);
        break;
      }
      used.push(slots);
      left -= slots - 1;
      slots = perPage;
    }
    if (used.length > 1) tags.push('list-chained');
    const pages = used.map((count, i) => {
      const skip = i === 0 ? offset : 0;
      const page = this.freeSpot(ps, ps, exact ? undefined : placed);
      if (exact && !placed.tryPlace(page + BigInt(skip), count * PRP_ENTRY_SIZE)) throw new Error('free spot taken');
      return page + BigInt(skip);
    });
    let next = 1;
    const written = writePrpList(this.memory, list, pages[0] as bigint, () => pages[next++] as bigint, ps);
    structures.push(...written);
    return pages[0] as bigint;
  }

  // ---- SGL ----

  private sglLayout(request: DataRequest): CommandLayout {
    const grain = request.sgl.support === 'dword' ? DWORD : 1;
    const placed = new Placements(this.memory);
    const tags: string[] = [grain === 1 ? 'sgl-byte-granular' : 'sgl-dword-granular'];
    const parts = this.splitLength(request.length, grain);
    const bucketsAllowed = !request.toDevice && request.sgl.bitBucket;
    const items: { chunk: DataChunk; descriptor: SglDescriptor }[] = [];
    const edgePart = this.random.chance(this.edgeRate) ? this.random.below(parts.length) : -1;
    parts.forEach((size, i) => {
      // Keep at least one RAM piece, so the buffer is not all bit bucket.
      if (bucketsAllowed && i > 0 && this.random.chance(ODDS.bitBucket)) {
        items.push({ chunk: { addr: 0n, size, kind: 'bit-bucket' }, descriptor: bitBucket(size) });
        if (!tags.includes('sgl-bit-bucket')) tags.push('sgl-bit-bucket');
        return;
      }
      const addr =
        (i === edgePart && this.placeAcrossEdge(size, grain, placed, tags)) ||
        this.placePiece(size, grain, request.pageSize, placed);
      items.push({ chunk: { addr, size, kind: 'ram' }, descriptor: dataBlock(addr, size) });
    });
    const descriptors: SglDescriptor[] = [];
    for (const item of items) {
      if (this.random.chance(ODDS.zeroLengthBlock)) {
        // A zero-length Data Block is a valid no-op; its address is never used (S-5).
        descriptors.push(dataBlock(this.random.bigBelow(PCI_ADDR_LIMIT), 0));
        if (!tags.includes('sgl-zero-length')) tags.push('sgl-zero-length');
      }
      descriptors.push(item.descriptor);
    }
    if (items.length > 1) tags.push('data-scattered');
    const data = items.map((i) => i.chunk);
    const grants: GrantSpec[] = dataGrants(data, request.toDevice);
    const structures: HostRange[] = [];
    const only = descriptors.length === 1 ? items[0] : undefined;
    let sgl1: SglDescriptor;
    if (only !== undefined && only.chunk.kind === 'ram' && this.random.chance(ODDS.sgl1DataBlock)) {
      sgl1 = only.descriptor;
      tags.push('sgl-single-data-block');
    } else {
      const segments = this.splitSegments(descriptors);
      tags.push(segments.length > 1 ? 'sgl-segment-chain' : 'sgl-last-segment');
      sgl1 = this.writeSegments(segments, request.pageSize, placed, tags, structures);
      for (const s of structures) grants.push({ ...s, direction: 'read' });
    }
    return layoutOf({
      policy: this.name,
      psdt: Psdt.SGL_MPTR_CONTIG,
      dptr: sglDptr(sgl1),
      length: request.length,
      data,
      grants,
      structures,
      tags,
      release: () => placed.releaseAll(),
    });
  }

  /** Splits `length` into 1..8 pieces, each a positive multiple of `grain`. */

  private splitLength(length: number, grain: number): number[] {
    const units = length / grain;
    const count = Math.min(units, this.random.between(1, MAX_SGL_PIECES));
    const cuts = new Set<number>();
    while (cuts.size < count - 1) cuts.add(this.random.between(1, units - 1));
    const sorted = [0, ...[...cuts].sort((a, b) => a - b), units];
    return sorted.slice(1).map((c, i) => (c - (sorted[i] as number)) * grain);
  }

  /** A free spot for `size` bytes at any `grain`-aligned offset; RAM for exactly those bytes or whole pages. */

  private splitSegments(descriptors: readonly SglDescriptor[]): SglDescriptor[][] {
    const carriers = descriptors.map((d, i) => (d.length > 0 ? i : -1)).filter((i) => i >= 0);
    const maxSegments = Math.min(MAX_SEGMENTS, carriers.length);
    const count = maxSegments > 1 && this.random.chance(ODDS.segmentChain) ? this.random.between(2, maxSegments) : 1;
    if (count === 1) return [descriptors.slice()];
    // Cut after distinct carriers (not the last one, so the final segment holds data too).
    const cutAfter = this.random
      .shuffle(carriers.slice(0, -1))
      .slice(0, count - 1)
      .sort((a, b) => a - b);
    const segments: SglDescriptor[][] = [];
    let from = 0;
    for (const c of cutAfter) {
      segments.push(descriptors.slice(from, c + 1));
      from = c + 1;
    }
    segments.push(descriptors.slice(from));
    return segments;
  }

  /**
   * Places and writes the segments: each non-last segment ends with a pointer to the next one
   * (Segment, and Last Segment for the final hop). Returns SGL1: a Last Segment for a single
   * segment, else a Segment.
   */

  private writeSegments(
    segments: readonly SglDescriptor[][],
    ps: number,
    placed: Placements,
    tags: string[],
    structures: HostRange[],
  ): SglDescriptor {
    const counts = segments.map((s, i) => s.length + (i < segments.length - 1 ? 1 : 0));
    const addrs = counts.map((count) => this.placeSegment(count * SGL_DESCRIPTOR_SIZE, ps, placed, tags));
    segments.forEach((segment, i) => {
      const body = segment.slice();
      const next = addrs[i + 1];
      if (next !== undefined) {
        const nextCount = counts[i + 1] as number;
        body.push(
          i + 1 === segments.length - 1 ? lastSegmentPointer(next, nextCount) : segmentPointer(next, nextCount),
        );
      }
      structures.push(writeSegment(this.memory, addrs[i] as bigint, body));
    });
    const first = addrs[0] as bigint;
    return segments.length === 1
      ? lastSegmentPointer(first, counts[0] as number)
      : segmentPointer(first, counts[0] as number);
  }

  /** A qword-aligned spot for a segment, sometimes across a page boundary. */
}

/**
 * Makes pages `at − 1` and `at` (those that exist) part of one run, merging two runs if the
 * boundary falls between them. Returns fresh runs, the run holding the boundary and its first page.
 */
function mergeAround(runs: readonly PageRun[], at: number): { runs: PageRun[]; run: PageRun; firstPage: number } {
  const out: PageRun[] = runs.map((r) => ({ pages: r.pages }));
  const total = out.reduce((n, r) => n + r.pages, 0);
  if (at <= 0) return { runs: out, run: out[0] as PageRun, firstPage: 0 };
  if (at >= total) {
    const run = out.at(-1) as PageRun;
    return { runs: out, run, firstPage: total - run.pages };
  }
  let first = 0;
  for (let i = 0; i < out.length; i++) {
    const run = out[i] as PageRun;
    const end = first + run.pages;
    if (at - 1 < end) {
      if (at === end) {
        run.pages += (out[i + 1] as PageRun).pages;
        out.splice(i + 1, 1);
      }
      return { runs: out, run, firstPage: first };
    }
    first = end;
  }
  throw new Error(`page ${at} is outside the buffer`);
}
