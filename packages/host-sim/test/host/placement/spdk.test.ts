import { Psdt, SglType } from '@epfsim/nvme-spec-types';
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { PlacementError } from '../../../src/host/errors.js';
import { dptrPrp1, dptrPrp2, NO_SGL } from '../../../src/host/placement/layout.js';
import { prpEntries } from '../../../src/host/placement/prp-builder.js';
import {
  SPDK_MAX_PRP_LIST_ENTRIES,
  SPDK_MAX_SGL_DESCRIPTORS,
  SPDK_PRP_SGL_OFFSET,
  SPDK_TRACKER_SIZE,
  SpdkPlacement,
} from '../../../src/host/placement/spdk.js';
import { hostMemory, PAGE, request, SGL_BYTE, SGL_DWORD } from '../../support/fixtures.js';
import { chunksAsRanges, walk } from '../../support/reference-walker.js';

describe('spdk placement', () => {
  it('puts the PRP list at tracker + 0x48 and never chains', () => {
    const memory = hostMemory();
    const spdk = new SpdkPlacement(memory, { seed: 1 });
    let lists = 0;
    for (let i = 0; i < 100; i++) {
      const length = PAGE * (1 + (i % 64)) + 512 * (i % 3);
      const layout = spdk.layout(request({ length, qid: 0 }));
      const entries = prpEntries(layout.data, PAGE);
      expect(layout.psdt).toBe(Psdt.PRP);
      expect(dptrPrp1(layout.dptr)).toBe(entries[0]);
      if (entries.length > 2) {
        lists++;
        const prp2 = dptrPrp2(layout.dptr);
        expect(prp2 % BigInt(SPDK_TRACKER_SIZE)).toBe(BigInt(SPDK_PRP_SGL_OFFSET));
        expect(layout.structures).toEqual([{ addr: prp2, size: (entries.length - 1) * 8 }]);
        expect(layout.tags).toEqual(['spdk-prp-list-tracker']);
      } else {
        expect(dptrPrp2(layout.dptr)).toBe(entries[1] ?? 0n);
        expect(layout.structures).toEqual([]);
      }
      expect(walk(memory, layout)).toEqual(chunksAsRanges(layout.data));
      layout.release();
    }
    expect(lists).toBeGreaterThan(50);
  });

  it('fills the tracker with 503 list entries at most (V-13..V-16)', () => {
    const memory = hostMemory();
    const spdk = new SpdkPlacement(memory, { seed: 2, bufferOffset: 'page' });
    const max = spdk.layout(request({ length: (SPDK_MAX_PRP_LIST_ENTRIES + 1) * PAGE, qid: 0 }));
    expect(prpEntries(max.data, PAGE)).toHaveLength(SPDK_MAX_PRP_LIST_ENTRIES + 1);
    expect((dptrPrp2(max.dptr) % BigInt(PAGE)) + BigInt(max.structures[0]!.size)).toBe(BigInt(PAGE));
    max.release();
    expect(() => spdk.layout(request({ length: (SPDK_MAX_PRP_LIST_ENTRIES + 2) * PAGE, qid: 0 }))).toThrow(
      PlacementError,
    );
    expect(spdk.hugePagesInUse).toBe(0);
  });

  it('uses SGLs on every I/O queue of an SGL controller: one Data Block, or a Last Segment at tracker + 0x48', () => {
    const memory = hostMemory();
    const spdk = new SpdkPlacement(memory, { seed: 3 });
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const length = 2 * 1024 * 1024 - PAGE * (i % 4);
      const layout = spdk.layout(request({ length, sgl: i % 2 === 0 ? SGL_BYTE : SGL_DWORD }));
      expect(layout.psdt).toBe(Psdt.SGL_MPTR_CONTIG);
      seen.add(layout.tags[0]!);
      const type = layout.dptr[15]! >> 4;
      if (layout.data.length === 1) expect(type).toBe(SglType.DATA_BLOCK);
      else {
        expect(type).toBe(SglType.LAST_SEGMENT);
        expect(dptrPrp1(layout.dptr) % BigInt(SPDK_TRACKER_SIZE)).toBe(BigInt(SPDK_PRP_SGL_OFFSET));
        expect(layout.data.length).toBeLessThanOrEqual(SPDK_MAX_SGL_DESCRIPTORS);
      }
      expect(walk(memory, layout)).toEqual(chunksAsRanges(layout.data));
      layout.release();
    }
    expect(seen).toEqual(new Set(['spdk-sgl-data-block', 'spdk-sgl-list-tracker']));
    const admin = spdk.layout(request({ length: 3 * PAGE, qid: 0, sgl: SGL_BYTE }));
    expect(admin.psdt).toBe(Psdt.PRP);
    admin.release();
  });

  it('reuses trackers last-in first-out, as its free list does', () => {
    const memory = hostMemory();
    const spdk = new SpdkPlacement(memory, { seed: 4, bufferOffset: 'page' });
    const a = spdk.layout(request({ length: 4 * PAGE, qid: 0 }));
    const b = spdk.layout(request({ length: 4 * PAGE, qid: 0 }));
    expect(dptrPrp2(a.dptr)).not.toBe(dptrPrp2(b.dptr));
    b.release();
    const c = spdk.layout(request({ length: 4 * PAGE, qid: 0 }));
    expect(dptrPrp2(c.dptr)).toBe(dptrPrp2(b.dptr));
    a.release();
    c.release();
  });

  propTest.prop([fc.integer({ min: 1, max: 2048 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.boolean()])(
    'the reference walker reads back exactly the buffer; buffers are dword aligned',
    (blocks, seed, sgl) => {
      const memory = hostMemory();
      const spdk = new SpdkPlacement(memory, { seed });
      const layout = spdk.layout(request({ length: blocks * 512, sgl: sgl ? SGL_BYTE : NO_SGL }));
      expect(layout.data[0]!.addr % 4n).toBe(0n);
      expect(walk(memory, layout)).toEqual(chunksAsRanges(layout.data));
      layout.release();
      expect(spdk.hugePagesInUse).toBe(0);
    },
  );
});
