import { Psdt, SglType } from '@epfsim/nvme-spec-types';
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { dptrPrp1, dptrPrp2, NO_SGL } from '../../../src/host/placement/layout.js';
import {
  LINUX_MAX_SGL_SEGS,
  LINUX_PRPS_PER_PAGE,
  LINUX_SMALL_POOL_PRPS,
  LINUX_SMALL_POOL_SIZE,
  LinuxPlacement,
} from '../../../src/host/placement/linux.js';
import { prpEntries } from '../../../src/host/placement/prp-builder.js';
import { hostMemory, PAGE, request, SGL_BYTE } from '../../support/fixtures.js';
import { chunksAsRanges, walk } from '../../support/reference-walker.js';

function u64At(memory: ReturnType<typeof hostMemory>, addr: bigint): bigint {
  const b = new Uint8Array(8);
  memory.read(addr, b);
  return new DataView(b.buffer).getBigUint64(0, true);
}

describe('linux placement', () => {
  it('one segment within two pages: PRP1/PRP2 without a list (the simple path)', () => {
    const memory = hostMemory();
    const linux = new LinuxPlacement(memory, { seed: 1, contiguity: 1 });
    for (let i = 0; i < 200; i++) {
      const length = 512 * (1 + (i % 16));
      const layout = linux.layout(request({ length, sgl: SGL_BYTE }));
      const first = layout.data[0]!;
      const offset = Number(first.addr % BigInt(PAGE));
      if (layout.data.length === 1 && offset + length <= 2 * PAGE) {
        expect(layout.tags).toEqual(['prp-simple']);
        expect(layout.psdt).toBe(Psdt.PRP);
        expect(dptrPrp1(layout.dptr)).toBe(first.addr);
        expect(dptrPrp2(layout.dptr)).toBe(length > PAGE - offset ? first.addr + BigInt(PAGE - offset) : 0n);
        expect(layout.structures).toEqual([]);
      }
      expect(offset % 4).toBe(0);
      layout.release();
    }
  });

  it('PRP lists of ≤ 32 entries come from the 256-byte pool: PRP2 is a multiple of 0x100, often mid-page', () => {
    const memory = hostMemory();
    const linux = new LinuxPlacement(memory, { seed: 2, contiguity: 0 });
    let midPage = 0;
    let small = 0;
    for (let i = 0; i < 300; i++) {
      const length = PAGE * (3 + (i % 30));
      const layout = linux.layout(request({ length, qid: 0 }));
      const entries = prpEntries(layout.data, PAGE);
      const listEntries = entries.length - 1;
      const prp2 = dptrPrp2(layout.dptr);
      if (listEntries > 1 && listEntries <= LINUX_SMALL_POOL_PRPS) {
        small++;
        expect(layout.tags).toContain('prp-list-small-pool');
        expect(prp2 % BigInt(LINUX_SMALL_POOL_SIZE)).toBe(0n);
        if (prp2 % BigInt(PAGE) !== 0n) midPage++;
        expect(layout.structures).toEqual([{ addr: prp2, size: listEntries * 8 }]);
      }
      layout.release();
    }
    expect(small).toBeGreaterThan(100);
    expect(midPage).toBeGreaterThan(small / 2);
  });

  it('longer PRP lists come from the page pool, page aligned', () => {
    const memory = hostMemory();
    const linux = new LinuxPlacement(memory, { seed: 3, firstOffset: 'zero' });
    const layout = linux.layout(request({ length: 40 * PAGE, qid: 0 }));
    expect(layout.tags).toEqual(['prp-list-page-pool']);
    expect(dptrPrp2(layout.dptr) % BigInt(PAGE)).toBe(0n);
    layout.release();
  });

  it('chains at slot 511 by moving the last data entry into slot 0 of the new page', () => {
    const memory = hostMemory();
    const linux = new LinuxPlacement(memory, { seed: 4, firstOffset: 'zero', contiguity: 0 });
    // 514 pages: PRP1 plus 513 list entries; page one holds 511 of them and the pointer.
    const layout = linux.layout(request({ length: 514 * PAGE, qid: 0 }));
    const entries = prpEntries(layout.data, PAGE);
    expect(entries).toHaveLength(514);
    expect(layout.tags).toEqual(['prp-list-page-pool', 'prp-list-chained']);
    const [page1, page2] = layout.structures;
    expect(page1).toEqual({ addr: dptrPrp2(layout.dptr), size: LINUX_PRPS_PER_PAGE * 8 });
    expect(page2!.addr % BigInt(PAGE)).toBe(0n);
    expect(page2!.size).toBe(2 * 8);
    expect(u64At(memory, page1!.addr + 510n * 8n)).toBe(entries[511]);
    expect(u64At(memory, page1!.addr + 511n * 8n)).toBe(page2!.addr);
    // The entry Linux first wrote to slot 511 now sits in slot 0 of the new page.
    expect(u64At(memory, page2!.addr)).toBe(entries[512]);
    expect(u64At(memory, page2!.addr + 8n)).toBe(entries[513]);
    expect(walk(memory, layout)).toEqual(chunksAsRanges(layout.data));
    layout.release();
  });

  it('a list that exactly fills a page does not chain (the bhyve bug, V-25)', () => {
    const memory = hostMemory();
    const linux = new LinuxPlacement(memory, { seed: 5, firstOffset: 'zero', contiguity: 0 });
    const layout = linux.layout(request({ length: 513 * PAGE, qid: 0 }));
    expect(layout.tags).toEqual(['prp-list-page-pool']);
    expect(layout.structures).toHaveLength(1);
    expect(layout.structures[0]!.size).toBe(512 * 8);
    layout.release();
  });

  it('SGLs only on I/O queues of an SGL controller, when the average segment reaches sgl_threshold', () => {
    const memory = hostMemory();
    const contiguous = new LinuxPlacement(memory, { seed: 6, contiguity: 1, firstOffset: 'zero' });
    const single = contiguous.layout(request({ length: 64 * 1024, sgl: SGL_BYTE }));
    expect(single.tags).toEqual(['sgl-single-data-block']);
    expect(single.psdt).toBe(Psdt.SGL_MPTR_CONTIG);
    expect(single.dptr[15]! >> 4).toBe(SglType.DATA_BLOCK);
    single.release();
    const admin = contiguous.layout(request({ length: 64 * 1024, qid: 0, sgl: SGL_BYTE }));
    expect(admin.psdt).toBe(Psdt.PRP);
    admin.release();
    const noSgl = contiguous.layout(request({ length: 64 * 1024, sgl: NO_SGL }));
    expect(noSgl.psdt).toBe(Psdt.PRP);
    noSgl.release();
    const scattered = new LinuxPlacement(memory, { seed: 7, contiguity: 0, arenaBase: 0x2_0000_0000n });
    const pages = scattered.layout(request({ length: 64 * 1024, sgl: SGL_BYTE }));
    // 4 KiB segments are below the 32 KiB threshold.
    expect(pages.psdt).toBe(Psdt.PRP);
    pages.release();
  });

  it('several large segments: a Last Segment of Data Blocks in a pool block, never chained', () => {
    const memory = hostMemory();
    const linux = new LinuxPlacement(memory, { seed: 8, contiguity: 0.99, firstOffset: 'zero' });
    let lists = 0;
    for (let i = 0; i < 40; i++) {
      const layout = linux.layout(request({ length: 1024 * 1024, sgl: SGL_BYTE }));
      if (layout.tags.includes('sgl-list-small-pool') || layout.tags.includes('sgl-list-page-pool')) {
        lists++;
        expect(layout.dptr[15]! >> 4).toBe(SglType.LAST_SEGMENT);
        const n = layout.data.length;
        expect(n).toBeLessThanOrEqual(LINUX_MAX_SGL_SEGS);
        expect(new DataView(layout.dptr.buffer).getUint32(8, true)).toBe(n * 16);
        if (n <= 16) expect(dptrPrp1(layout.dptr) % BigInt(LINUX_SMALL_POOL_SIZE)).toBe(0n);
        expect(walk(memory, layout)).toEqual(chunksAsRanges(layout.data));
      }
      layout.release();
    }
    expect(lists).toBeGreaterThan(0);
  });

  propTest.prop([
    fc.integer({ min: 1, max: 1024 }),
    fc.integer({ min: 0, max: 2 ** 31 }),
    fc.constantFrom(0, 0.5, 1),
    fc.boolean(),
    fc.boolean(),
  ])(
    'the reference walker reads back exactly the buffer; release returns every page',
    (blocks, seed, contiguity, sgl, admin) => {
      const memory = hostMemory();
      const linux = new LinuxPlacement(memory, { seed, contiguity });
      const before = linux.pagesInUse;
      const layout = linux.layout(request({ length: blocks * 512, qid: admin ? 0 : 1, sgl: sgl ? SGL_BYTE : NO_SGL }));
      expect(layout.data.reduce((n, c) => n + c.size, 0)).toBe(blocks * 512);
      expect(walk(memory, layout)).toEqual(chunksAsRanges(layout.data));
      for (const c of layout.data) expect(memory.isRam(c.addr, c.size)).toBe(true);
      layout.release();
      // Pool pages stay with their pool, as in Linux; buffer pages go back.
      expect(linux.pagesInUse - before).toBeLessThanOrEqual(2);
      expect(() => layout.release()).toThrow();
    },
  );
});
