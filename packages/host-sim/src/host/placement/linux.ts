/**
 * The `linux` placement policy: where drivers/nvme/host/pci.c puts things (docs/nvme-rules.md
 * §5a). 4 KiB controller pages; data pages from the page allocator; the simple PRP1/PRP2 path when
 * one segment has (offset mod 4K) + len ≤ 8K; short PRP lists (≤ 32 entries) in 256-byte blocks of
 * the small DMA pool, longer ones in pages of the page pool, chained at slot 511 by moving the last
 * data entry into slot 0 of the new page; SGLs only on I/O queues of an SGL-capable controller when
 * the average segment reaches `sgl_threshold`, as one Data Block or a Last Segment of Data Blocks.
 */
import { PRP_ENTRY_SIZE, Psdt, SGL_DESCRIPTOR_SIZE } from '@epfsim/nvme-spec-types';
import type { GrantSpec } from '../memory/grant-table.js';
import type { HostMemory } from '../memory/host-memory.js';
import type { HostRange } from '../memory/host-range.js';
import { createRandom, type Random } from '../random.js';
import { DmaPool, type DmaPoolOrder } from './dma-pool.js';
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

/** `NVME_CTRL_PAGE_SIZE`: Linux always programs CC.MPS = 0. */
export const LINUX_CTRL_PAGE_SIZE = 4096;
/** `NVME_SMALL_POOL_SIZE`: the small DMA pool's block size. */
export const LINUX_SMALL_POOL_SIZE = 256;
/** Block alignment with `NVME_QUIRK_DMAPOOL_ALIGN_512`. */
export const LINUX_POOL_ALIGN_512 = 512;
/** Entries of a PRP list that fit a small pool block (256 / 8). */
export const LINUX_SMALL_POOL_PRPS = LINUX_SMALL_POOL_SIZE / PRP_ENTRY_SIZE;
/** SGL descriptors that fit a small pool block (256 / 16). */
export const LINUX_SMALL_POOL_SGLS = LINUX_SMALL_POOL_SIZE / SGL_DESCRIPTOR_SIZE;
/** PRP entries per list page (4096 / 8); slot 511 chains. */
export const LINUX_PRPS_PER_PAGE = LINUX_CTRL_PAGE_SIZE / PRP_ENTRY_SIZE;
/** `sgl_threshold` module parameter default: 32 KiB. */
export const LINUX_SGL_THRESHOLD = 32 * 1024;
/** `NVME_MAX_SEGS`: at most one page of SGL descriptors, never chained. */
export const LINUX_MAX_SGL_SEGS = 256;
/** Block-layer `dma_alignment` 3: buffers are at least dword aligned. */
const LINUX_DMA_ALIGN = 4;
/** Buffer start offsets: cumulative odds of page aligned and sector aligned; the rest any dword. */
const OFFSET_ODDS = { page: 0.5, sector: 0.75 } as const;
/** A typical O_DIRECT / sector alignment. */
const SECTOR = 512;
/** Default arena: 1 GiB of RAM at 4 GiB, as the RAM bank above the PCI hole on x86. */
const DEFAULT_ARENA_BASE = 0x1_0000_0000n;
const DEFAULT_ARENA_BYTES = 1024 * 1024 * 1024;
/** Default probability that a buffer's next page follows the previous one physically. */
const DEFAULT_CONTIGUITY = 0.5;
/** offsetIn(addr, LINUX_CTRL_PAGE_SIZE) without converting the mask per call. */
const CTRL_PAGE_MASK_N = BigInt(LINUX_CTRL_PAGE_SIZE - 1);
/** Below 2^53 addresses are exact as numbers: offsets and sums there need no bigint arithmetic. */
const SAFE_LIMIT = 2 ** 53;
const SAFE_LIMIT_N = BigInt(SAFE_LIMIT);

/** `addr + n` (n ≥ 0): one bigint made from a number sum when the result stays below 2^53. */
function addBig(addr: bigint, n: number): bigint {
  if (addr < SAFE_LIMIT_N) {
    const sum = Number(addr) + n;
    if (sum < SAFE_LIMIT) return BigInt(sum);
  }
  return addr + BigInt(n);
}
/** Longest physically contiguous run of pages a buffer gets (a 2 MiB huge page). */
const MAX_RUN_PAGES = 512;

export interface LinuxPlacementOptions {
  readonly seed?: number;
  /** Where the policy's RAM starts, and how much (page aligned). */
  readonly arenaBase?: bigint;
  readonly arenaBytes?: number;
  /** `sgl_threshold`; 0 disables SGLs. */
  readonly sglThreshold?: number;
  /** `NVME_QUIRK_DMAPOOL_ALIGN_512`: small pool blocks aligned to 512 bytes. */
  readonly poolAlign512?: boolean;
  /** Probability that the next page of a buffer follows the previous one physically (0: every page scattered). */
  readonly contiguity?: number;
  /** Where a buffer starts in its first page: always 0, or a mix of 0, sector and dword offsets. */
  readonly firstOffset?: 'zero' | 'mixed';
  readonly poolOrder?: DmaPoolOrder;
}

/** The Linux NVMe PCI driver's placement. */
export class LinuxPlacement implements PlacementPolicy {
  readonly name = 'linux';
  private readonly memory: HostMemory;
  private readonly random: Random;
  private readonly pages: PageAllocator;
  private readonly smallPool: DmaPool;
  private readonly pagePool: DmaPool;
  private readonly sglThreshold: number;
  private readonly contiguity: number;
  private readonly firstOffset: 'zero' | 'mixed';

  constructor(memory: HostMemory, options: LinuxPlacementOptions = {}) {
    this.memory = memory;
    this.random = createRandom(options.seed ?? 1);
    this.pages = new PageAllocator(
      memory,
      options.arenaBase ?? DEFAULT_ARENA_BASE,
      options.arenaBytes ?? DEFAULT_ARENA_BYTES,
      LINUX_CTRL_PAGE_SIZE,
      this.random.fork('pages'),
    );
    const order = options.poolOrder ?? 'shuffled';
    const smallBlock = options.poolAlign512 ? LINUX_POOL_ALIGN_512 : LINUX_SMALL_POOL_SIZE;
    this.smallPool = new DmaPool(this.pages, smallBlock, this.random.fork('small-pool'), order);
    this.pagePool = new DmaPool(this.pages, LINUX_CTRL_PAGE_SIZE, this.random.fork('page-pool'), order);
    this.sglThreshold = options.sglThreshold ?? LINUX_SGL_THRESHOLD;
    this.contiguity = options.contiguity ?? DEFAULT_CONTIGUITY;
    this.firstOffset = options.firstOffset ?? 'mixed';
  }

  /** Pages of the arena in use (buffers, pools, queues): back to the pool pages alone once all is released. */
  get pagesInUse(): number {
    return this.pages.inUse;
  }

  /** `dma_alloc_coherent()`: whole pages, contiguous, page aligned. */
  placeQueue(request: QueueRequest): PlacedQueue {
    return this.pages.placeZeroed(request.bytes, ['dma-coherent']);
  }

  layout(request: DataRequest): CommandLayout {
    const { segments: data, release: releaseBuffer } = this.allocateBuffer(request.length);
    const segments: readonly HostRange[] = data;
    const ioQueue = request.qid !== 0;
    const sglCapable = ioQueue && request.sgl.support !== 'none' && this.sglThreshold > 0;
    const first = data[0] as DataChunk;
    const grants = dataGrants(data, request.toDevice);

    if (data.length === 1) {
      // nvme_pci_setup_data_simple(): one segment within two controller pages needs no list.
      const offset =
        first.addr < SAFE_LIMIT_N ? Number(first.addr) % LINUX_CTRL_PAGE_SIZE : Number(first.addr & CTRL_PAGE_MASK_N);
      if (offset + first.size <= 2 * LINUX_CTRL_PAGE_SIZE) {
        const firstPart = LINUX_CTRL_PAGE_SIZE - offset;
        const prp2 = first.size > firstPart ? addBig(first.addr, firstPart) : 0n;
        return layoutOf({
          policy: this.name,
          length: request.length,
          data,
          psdt: Psdt.PRP,
          dptr: prpDptr(first.addr, prp2),
          grants,
          structures: [],
          tags: ['prp-simple'],
          release: releaseBuffer,
        });
      }
      if (sglCapable) {
        return layoutOf({
          policy: this.name,
          length: request.length,
          data,
          psdt: Psdt.SGL_MPTR_CONTIG,
          dptr: sglDptr(dataBlock(first.addr, first.size)),
          grants,
          structures: [],
          tags: ['sgl-single-data-block'],
          release: releaseBuffer,
        });
      }
    }
    const base = { policy: this.name, length: request.length, data };
    // nvme_pci_use_sgls(): the average segment must reach sgl_threshold.
    if (sglCapable && request.length / segments.length >= this.sglThreshold && segments.length <= LINUX_MAX_SGL_SEGS) {
      return this.sglLayout(base, segments, grants, releaseBuffer);
    }
    return this.prpLayout(base, segments, grants, releaseBuffer);
  }

  /** nvme_pci_setup_prps() / nvme_pci_setup_data_prp(). */
  private prpLayout(
    base: Pick<CommandLayout, 'policy' | 'length' | 'data'>,
    segments: readonly HostRange[],
    grants: GrantSpec[],
    releaseBuffer: () => void,
  ): CommandLayout {
    const entries = prpEntries(segments, LINUX_CTRL_PAGE_SIZE);
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
        tags: [entries.length === 1 ? 'prp1-only' : 'prp2-direct'],
        release: releaseBuffer,
      });
    }
    const nprps = entries.length - 1;
    const small = nprps <= LINUX_SMALL_POOL_PRPS;
    const pool = small ? this.smallPool : this.pagePool;
    const listAddr = pool.alloc();
    const lists: { addr: bigint; pool: DmaPool; slots: bigint[] }[] = [{ addr: listAddr, pool, slots: [] }];
    let current = lists[0] as (typeof lists)[number];
    for (const entry of entries.slice(1)) {
      if (current.slots.length === LINUX_PRPS_PER_PAGE) {
        // Chaining: slot 511 moves to slot 0 of the new page and becomes the pointer to it.
        const next = { addr: this.pagePool.alloc(), pool: this.pagePool, slots: [] as bigint[] };
        const moved = current.slots[LINUX_PRPS_PER_PAGE - 1] as bigint;
        current.slots[LINUX_PRPS_PER_PAGE - 1] = next.addr;
        next.slots.push(moved);
        lists.push(next);
        current = next;
      }
      current.slots.push(entry);
    }
    const structures = lists.map((l) => this.writeSlots(l.addr, l.slots));
    const tags = [small ? 'prp-list-small-pool' : 'prp-list-page-pool'];
    if (lists.length > 1) tags.push('prp-list-chained');
    return layoutOf({
      policy: base.policy,
      length: base.length,
      data: base.data,
      psdt: Psdt.PRP,
      dptr: prpDptr(prp1, listAddr),
      grants: [...grants, ...structures.map((s) => ({ ...s, direction: 'read' as const }))],
      structures,
      tags,
      release: () => {
        for (const l of lists) l.pool.free(l.addr);
        releaseBuffer();
      },
    });
  }

  /** nvme_pci_setup_sgls() / nvme_pci_setup_data_sgl(): a Last Segment of Data Blocks, never chained. */
  private sglLayout(
    base: Pick<CommandLayout, 'policy' | 'length' | 'data'>,
    segments: readonly HostRange[],
    grants: GrantSpec[],
    releaseBuffer: () => void,
  ): CommandLayout {
    const small = segments.length <= LINUX_SMALL_POOL_SGLS;
    const pool = small ? this.smallPool : this.pagePool;
    const listAddr = pool.alloc();
    const list = writeSegment(
      this.memory,
      listAddr,
      segments.map((s) => dataBlock(s.addr, s.size)),
    );
    return layoutOf({
      policy: base.policy,
      length: base.length,
      data: base.data,
      psdt: Psdt.SGL_MPTR_CONTIG,
      dptr: sglDptr(lastSegmentPointer(listAddr, segments.length)),
      grants: [...grants, { ...list, direction: 'read' }],
      structures: [list],
      tags: [small ? 'sgl-list-small-pool' : 'sgl-list-page-pool'],
      release: () => {
        pool.free(listAddr);
        releaseBuffer();
      },
    });
  }

  private writeSlots(addr: bigint, slots: readonly bigint[]): HostRange {
    const bytes = new Uint8Array(slots.length * PRP_ENTRY_SIZE);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < slots.length; i++) view.setBigUint64(i * PRP_ENTRY_SIZE, slots[i] as bigint, true);
    this.memory.write(addr, bytes);
    return { addr, size: bytes.length };
  }

  /**
   * A buffer as the block layer hands it over: a dword-aligned start in the first page, then
   * pages from the allocator in runs; physically adjacent runs merge into one segment (a RAM chunk).
   */
  private allocateBuffer(length: number): { segments: DataChunk[]; release: () => void } {
    const offset = this.pickFirstOffset();
    const pagesNeeded = Math.ceil((offset + length) / LINUX_CTRL_PAGE_SIZE);
    const pages = this.pages;
    if (pagesNeeded <= 0) return { segments: [], release: () => {} };
    let firstRun = 1;
    while (firstRun < pagesNeeded && firstRun < MAX_RUN_PAGES && this.random.chance(this.contiguity)) firstRun++;
    const firstAddr = pages.alloc(firstRun);
    if (firstRun === pagesNeeded) {
      // One physically contiguous run (the common case for small buffers): one segment, no arrays.
      return {
        segments: [{ addr: offset === 0 ? firstAddr : addBig(firstAddr, offset), size: length, kind: 'ram' }],
        release: () => pages.free(firstAddr, firstRun),
      };
    }
    const runAddrs: bigint[] = [firstAddr];
    const runPages: number[] = [firstRun];
    for (let left = pagesNeeded - firstRun; left > 0; ) {
      let run = 1;
      while (run < left && run < MAX_RUN_PAGES && this.random.chance(this.contiguity)) run++;
      runAddrs.push(pages.alloc(run));
      runPages.push(run);
      left -= run;
    }
    const segments: { addr: bigint; size: number; kind: 'ram' }[] = [];
    let remaining = length;
    let lastEnd = -1n;
    for (let i = 0; i < runAddrs.length; i++) {
      const skip = i === 0 ? offset : 0;
      const runAddr = runAddrs[i] as bigint;
      const start = skip === 0 ? runAddr : addBig(runAddr, skip);
      const size = Math.min(remaining, (runPages[i] as number) * LINUX_CTRL_PAGE_SIZE - skip);
      const last = segments[segments.length - 1];
      if (last !== undefined && lastEnd === start) last.size += size;
      else segments.push({ addr: start, size, kind: 'ram' });
      // Only a following run can continue this one.
      if (i + 1 < runAddrs.length) lastEnd = addBig(start, size);
      remaining -= size;
    }
    return {
      segments,
      release: () => {
        for (let i = 0; i < runAddrs.length; i++) pages.free(runAddrs[i] as bigint, runPages[i] as number);
      },
    };
  }

  private pickFirstOffset(): number {
    if (this.firstOffset === 'zero') return 0;
    const roll = this.random.float();
    if (roll < OFFSET_ODDS.page) return 0;
    if (roll < OFFSET_ODDS.sector) return this.random.below(LINUX_CTRL_PAGE_SIZE / SECTOR) * SECTOR;
    return this.random.below(LINUX_CTRL_PAGE_SIZE / LINUX_DMA_ALIGN) * LINUX_DMA_ALIGN;
  }
}
