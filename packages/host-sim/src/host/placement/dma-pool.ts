/**
 * A model of Linux's `dma_pool`: fixed-size blocks carved from pool pages, aligned to the block
 * size, with a LIFO free list. Linux links a new page's blocks in address order; with `shuffled`
 * (the default here) they are linked in a seeded random order instead, which models a pool shared
 * by many queues and CPUs, so that even one command at a time sees blocks mid-page.
 */
import type { Random } from '../random.js';
import type { PageAllocator } from './page-allocator.js';

/** Order in which a fresh pool page's blocks enter the free list. */
export type DmaPoolOrder = 'address' | 'shuffled';

export class DmaPool {
  readonly blockSize: number;
  private readonly pages: PageAllocator;
  private readonly random: Random;
  private readonly order: DmaPoolOrder;
  private readonly freeList: bigint[] = [];

  constructor(pages: PageAllocator, blockSize: number, random: Random, order: DmaPoolOrder = 'shuffled') {
    if (pages.pageSize % blockSize !== 0) throw new RangeError(`pool block ${blockSize} does not divide a page`);
    this.pages = pages;
    this.blockSize = blockSize;
    this.random = random;
    this.order = order;
  }

  /** One block, aligned to the block size. */
  alloc(): bigint {
    if (this.freeList.length === 0) this.grow();
    return this.freeList.pop() as bigint;
  }

  free(addr: bigint): void {
    this.freeList.push(addr);
  }

  private grow(): void {
    const page = this.pages.alloc(1);
    const blocks: bigint[] = [];
    for (let off = 0; off < this.pages.pageSize; off += this.blockSize) blocks.push(page + BigInt(off));
    // The free list pops from the end: reverse so that `address` order hands out offset 0 first.
    blocks.reverse();
    if (this.order === 'shuffled') this.random.shuffle(blocks);
    this.freeList.push(...blocks);
  }
}
