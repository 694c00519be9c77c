/**
 * The `spdk` placement policy: where SPDK's PCIe transport puts things (docs/nvme-rules.md
 * §5b, lib/nvme/nvme_pcie_common.c). Each command owns a 4 KiB tracker; its PRP list, or its SGL
 * descriptor array, sits at tracker + 0x48 and never chains (at most 503 PRP entries after PRP1,
 * at most 250 SGL descriptors). Buffers live in 2 MiB huge pages, physically contiguous inside a
 * huge page. SGLs are used on every I/O queue of a controller that supports them.
 */
import { PRP_ENTRY_SIZE, Psdt } from '@epfsim/nvme-spec-types';
import { PlacementError } from '../errors.js';
import type { HostMemory } from '../memory/host-memory.js';
import type { HostRange } from '../memory/host-range.js';
import { createRandom, type Random } from '../random.js';
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
import { PageAllocator } from './page-allocator.js';
import { prpEntries } from './prp-builder.js';
import { dataBlock, lastSegmentPointer, sglDptr, writeSegment } from './sgl-builder.js';

/** Size and alignment of `struct nvme_tracker`. */
export const SPDK_TRACKER_SIZE = 4096;
/** Offset of the PRP list / SGL array `u` in the tracker (`prp_sgl_bus_addr`). */
export const SPDK_PRP_SGL_OFFSET = 0x48;
/** `NVME_MAX_PRP_LIST_ENTRIES`: list entries after PRP1 (the list exactly fills the tracker). */
export const SPDK_MAX_PRP_LIST_ENTRIES = 503;
/** `NVME_MAX_SGL_DESCRIPTORS`. */
export const SPDK_MAX_SGL_DESCRIPTORS = 250;
/** Controller page: SPDK programs MPS = 0 as well. */
export const SPDK_PAGE_SIZE = 4096;
/** Huge page size of SPDK's DMA memory. */
export const SPDK_HUGE_PAGE_SIZE = 2 * 1024 * 1024;
/** SPDK requires dword-aligned buffers (`nvme_pcie_prp_list_append`: -EFAULT otherwise). */
const SPDK_DMA_ALIGN = 4;
/** Buffer start offsets: cumulative odds of page aligned and sector aligned; the rest any dword. */
const OFFSET_ODDS = { page: 0.5, sector: 0.75 } as const;
/** A typical sector alignment of application buffers. */
const SECTOR = 512;
/** Region for trackers and queues (4 KiB pages) at the start of the arena. */
const SMALL_REGION_BYTES = 16 * 1024 * 1024;
const DEFAULT_ARENA_BASE = 0x4_0000_0000n;
const DEFAULT_ARENA_BYTES = 1024 * 1024 * 1024;

export interface SpdkPlacementOptions {
  readonly seed?: number;
  /** Where the policy's RAM starts (2 MiB aligned), and how much. */
  readonly arenaBase?: bigint;
  readonly arenaBytes?: number;
  /** Where a buffer starts in its huge page: page aligned, or a mix of page, sector and dword offsets. */
  readonly bufferOffset?: 'page' | 'mixed';
}

/** SPDK's NVMe PCIe transport placement. */
export class SpdkPlacement implements PlacementPolicy {
  readonly name = 'spdk';
  private readonly memory: HostMemory;
  private readonly random: Random;
  private readonly small: PageAllocator;
  private readonly huge: PageAllocator;
  private readonly trackers: bigint[] = [];
  private readonly bufferOffset: 'page' | 'mixed';

  constructor(memory: HostMemory, options: SpdkPlacementOptions = {}) {
    this.memory = memory;
    this.random = createRandom(options.seed ?? 1);
    const base = options.arenaBase ?? DEFAULT_ARENA_BASE;
    const bytes = options.arenaBytes ?? DEFAULT_ARENA_BYTES;
    this.small = new PageAllocator(memory, base, SMALL_REGION_BYTES, SPDK_PAGE_SIZE, this.random.fork('small'));
    this.huge = new PageAllocator(
      memory,
      base + BigInt(SMALL_REGION_BYTES),
      bytes - SMALL_REGION_BYTES,
      SPDK_HUGE_PAGE_SIZE,
      this.random.fork('huge'),
    );
    this.bufferOffset = options.bufferOffset ?? 'mixed';
  }

  /** Huge pages in use by buffers: 0 once every layout is released. */
  get hugePagesInUse(): number {
    return this.huge.inUse;
  }

  /** `spdk_zmalloc(size, page_size)`: contiguous, page aligned. */
  placeQueue(request: QueueRequest): PlacedQueue {
    return this.small.placeZeroed(request.bytes, ['spdk-zmalloc']);
  }

  layout(request: DataRequest): CommandLayout {
    const { segments, release: releaseBuffer } = this.allocateBuffer(request.length);
    const tracker = this.takeTracker();
    const release = () => {
      this.trackers.push(tracker);
      releaseBuffer();
    };
    const data: DataChunk[] = segments.map((s) => ({ ...s, kind: 'ram' }));
    const grants = dataGrants(data, request.toDevice);
    const list = tracker + BigInt(SPDK_PRP_SGL_OFFSET);
    const base = { policy: this.name, length: request.length, data };
    try {
      if (request.qid !== 0 && request.sgl.support !== 'none') {
        // nvme_pcie_qpair_build_hw_sgl_request(): one Data Block per contiguous segment.
        if (segments.length === 1) {
          const only = segments[0] as HostRange;
          return layoutOf({
            policy: base.policy,
            length: base.length,
            data: base.data,
            psdt: Psdt.SGL_MPTR_CONTIG,
            dptr: sglDptr(dataBlock(only.addr, only.size)),
            grants,
            structures: [],
            tags: ['spdk-sgl-data-block'],
            release,
          });
        }
        if (segments.length > SPDK_MAX_SGL_DESCRIPTORS) {
          throw new PlacementError(
            'TOO_LARGE',
            `${segments.length} SGL descriptors, SPDK allows ${SPDK_MAX_SGL_DESCRIPTORS}`,
          );
        }
        const written = writeSegment(
          this.memory,
          list,
          segments.map((s) => dataBlock(s.addr, s.size)),
        );
        return layoutOf({
          policy: base.policy,
          length: base.length,
          data: base.data,
          psdt: Psdt.SGL_MPTR_CONTIG,
          dptr: sglDptr(lastSegmentPointer(list, segments.length)),
          grants: [...grants, { ...written, direction: 'read' }],
          structures: [written],
          tags: ['spdk-sgl-list-tracker'],
          release,
        });
      }
      // nvme_pcie_prp_list_append(): PRP2 = 0, the second entry, or the tracker's list.
      const entries = prpEntries(segments, SPDK_PAGE_SIZE);
      if (entries.length - 1 > SPDK_MAX_PRP_LIST_ENTRIES) {
        throw new PlacementError(
          'TOO_LARGE',
          `${entries.length} PRP entries, SPDK allows ${SPDK_MAX_PRP_LIST_ENTRIES + 1}`,
        );
      }
      const prp1 = entries[0] as bigint;
      if (entries.length <= 2) {
        return layoutOf({
          policy: base.policy,
          length: base.length,
          data: base.data,
          psdt: Psdt.PRP,
          dptr: prpDptr(prp1, entries[1] ?? 0n),
          grants,
          structures: [],
          tags: [entries.length === 1 ? 'spdk-prp1-only' : 'spdk-prp2-direct'],
          release,
        });
      }
      const bytes = new Uint8Array((entries.length - 1) * PRP_ENTRY_SIZE);
      const view = new DataView(bytes.buffer);
      for (let i = 1; i < entries.length; i++) view.setBigUint64((i - 1) * PRP_ENTRY_SIZE, entries[i] as bigint, true);
      this.memory.write(list, bytes);
      const written = { addr: list, size: bytes.length };
      return layoutOf({
        policy: base.policy,
        length: base.length,
        data: base.data,
        psdt: Psdt.PRP,
        dptr: prpDptr(prp1, list),
        grants: [...grants, { ...written, direction: 'read' }],
        structures: [written],
        tags: ['spdk-prp-list-tracker'],
        release,
      });
    } catch (e) {
      release();
      throw e;
    }
  }

  /** A free tracker (LIFO, as SPDK's free_tr list). */
  private takeTracker(): bigint {
    const free = this.trackers.pop();
    if (free !== undefined) return free;
    return this.small.alloc(1);
  }

  /**
   * A buffer in huge pages: it starts at a dword-aligned offset of a huge page and continues, if
   * it must, at the start of further huge pages (which are not physically adjacent in general).
   */
  private allocateBuffer(length: number): { segments: HostRange[]; release: () => void } {
    const offset = this.pickOffset(length);
    const count = Math.ceil((offset + length) / SPDK_HUGE_PAGE_SIZE);
    const pages: bigint[] = [];
    for (let i = 0; i < count; i++) pages.push(this.huge.alloc(1));
    const segments: { addr: bigint; size: number }[] = [];
    let remaining = length;
    pages.forEach((page, i) => {
      const start = page + BigInt(i === 0 ? offset : 0);
      const size = Math.min(remaining, SPDK_HUGE_PAGE_SIZE - (i === 0 ? offset : 0));
      const last = segments.at(-1);
      // Adjacent segments merge (SPDK merges physically contiguous iovs into one Data Block).
      if (last !== undefined && last.addr + BigInt(last.size) === start) last.size += size;
      else segments.push({ addr: start, size });
      remaining -= size;
    });
    return {
      segments,
      release: () => {
        for (const page of pages) this.huge.free(page);
      },
    };
  }

  private pickOffset(length: number): number {
    const pagesInHuge = SPDK_HUGE_PAGE_SIZE / SPDK_PAGE_SIZE;
    const page = this.random.below(pagesInHuge) * SPDK_PAGE_SIZE;
    if (this.bufferOffset === 'page') return length >= SPDK_HUGE_PAGE_SIZE ? 0 : page;
    const roll = this.random.float();
    if (roll < OFFSET_ODDS.page) return page;
    if (roll < OFFSET_ODDS.sector) return page + this.random.below(SPDK_PAGE_SIZE / SECTOR) * SECTOR;
    return page + this.random.below(SPDK_PAGE_SIZE / SPDK_DMA_ALIGN) * SPDK_DMA_ALIGN;
  }
}
