import { BUILTIN_PROFILES } from '@epfsim/epc-core';
import { Psdt, SglType } from '@epfsim/nvme-spec-types';
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { AdversarialPlacement } from '../../../src/host/placement/adversarial.js';
import { edgeClasses, profileEdges } from '../../../src/host/placement/edges.js';
import { type CommandLayout, dptrPrp1, dptrPrp2, NO_SGL } from '../../../src/host/placement/layout.js';
import { prpEntries } from '../../../src/host/placement/prp-builder.js';
import { hostMemory, PAGE, request, SGL_BYTE, SGL_DWORD } from '../../support/fixtures.js';
import { chunksAsRanges, walk } from '../../support/reference-walker.js';

/** Lengths that need PRP1 only, PRP2 direct, a list, and a chained list. */
const LENGTHS = [512, 4096, 6144, 12 * 1024, 64 * 1024, 600 * 4096];

function collectTags(profileName: string, layouts: number, sgl = SGL_BYTE): Set<string> {
  const profile = BUILTIN_PROFILES.find((p) => p.name === profileName)!;
  const memory = hostMemory();
  const adv = new AdversarialPlacement(memory, { seed: 11, profile });
  const tags = new Set<string>();
  for (let i = 0; i < layouts; i++) {
    const layout = adv.layout(request({ length: LENGTHS[i % LENGTHS.length]!, sgl, toDevice: i % 3 === 0 }));
    for (const t of layout.tags) tags.add(t);
    layout.release();
  }
  return tags;
}

/** Checks the legality rules of a PRP layout: PRP1 dword aligned, later entries page aligned, lists qword aligned. */
function checkPrpLegal(memory: ReturnType<typeof hostMemory>, layout: CommandLayout): void {
  const entries = prpEntries(layout.data, PAGE);
  expect(dptrPrp1(layout.dptr) % 4n).toBe(0n);
  for (const e of entries.slice(1)) expect(e % BigInt(PAGE)).toBe(0n);
  if (entries.length > 2) expect(dptrPrp2(layout.dptr) % 8n).toBe(0n);
  for (const s of layout.structures.slice(1)) expect(s.addr % BigInt(PAGE)).toBe(0n);
  for (const s of layout.structures) expect(memory.isRam(s.addr, s.size)).toBe(true);
}

describe('adversarial placement', () => {
  for (const profile of BUILTIN_PROFILES) {
    it(`over many seeds crosses every edge class of ${profile.name}`, () => {
      const tags = collectTags(profile.name, 1200);
      for (const edge of edgeClasses(profile)) {
        const tag = edge.endOnly ? `end-at-${edge.name}` : `straddle-${edge.name}`;
        expect(tags, tag).toContain(tag);
      }
    });
  }

  it('names the profile edges from the profile itself', () => {
    const names = (n: string) => profileEdges(BUILTIN_PROFILES.find((p) => p.name === n)!).map((e) => e.name);
    expect(names('rk3588')).toContain('dwc-region-64KiB');
    expect(names('rk3399')).toEqual(['pass-bits-1MiB', 'window-1MiB']);
    expect(names('stress')).toEqual(['pass-bits-16KiB', 'dwc-region-256B', 'window-64KiB', 'window-32KiB']);
  });

  it('reaches every PRP and SGL shape', () => {
    const tags = collectTags('generic', 1500);
    for (const t of [
      'prp1-offset',
      'prp1-last-dword',
      'prp2-garbage',
      'prp2-direct',
      'list-page-aligned',
      'list-mid-page',
      'list-last-slot',
      'list-exact-fit',
      'list-one-over',
      'list-chained',
      'data-scattered',
      'ram-exact',
      'start-at-4GiB',
      'sgl-single-data-block',
      'sgl-last-segment',
      'sgl-segment-chain',
      'sgl-zero-length',
      'sgl-bit-bucket',
      'sgl-segment-across-page',
      'sgl-byte-granular',
    ]) {
      expect(tags, t).toContain(t);
    }
    expect(collectTags('generic', 200, SGL_DWORD)).toContain('sgl-dword-granular');
  });

  it('a list at the last slot of a page is a lone chain pointer to a page-aligned next page', () => {
    const memory = hostMemory();
    const adv = new AdversarialPlacement(memory, { seed: 3 });
    let found = 0;
    for (let i = 0; i < 400 && found < 5; i++) {
      const layout = adv.layout(request({ length: 64 * 1024, sgl: NO_SGL }));
      if (layout.tags.includes('list-last-slot')) {
        found++;
        expect(dptrPrp2(layout.dptr) % BigInt(PAGE)).toBe(BigInt(PAGE - 8));
        expect(layout.structures[0]!.size).toBe(8);
        expect(layout.structures[1]!.addr % BigInt(PAGE)).toBe(0n);
      }
      layout.release();
    }
    expect(found).toBe(5);
  });

  it('Bit Buckets only on controller-to-host transfers that the controller advertises them for', () => {
    const memory = hostMemory();
    const adv = new AdversarialPlacement(memory, { seed: 4, sglRate: 1 });
    for (let i = 0; i < 300; i++) {
      const toDevice = i % 2 === 0;
      const sgl = i % 4 < 2 ? SGL_BYTE : SGL_DWORD;
      const layout = adv.layout(request({ length: 8192, toDevice, sgl }));
      const buckets = layout.data.some((c) => c.kind === 'bit-bucket');
      if (toDevice || !sgl.bitBucket) expect(buckets).toBe(false);
      if (sgl.support === 'dword') {
        for (const c of layout.data) if (c.kind === 'ram') expect([c.addr % 4n, c.size % 4]).toEqual([0n, 0]);
      }
      layout.release();
    }
  });

  it('places queues page aligned next to edges', () => {
    const memory = hostMemory();
    const adv = new AdversarialPlacement(memory, { seed: 5, queueEdges: 'across' });
    const tags = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const q = adv.placeQueue({ kind: i % 2 ? 'sq' : 'cq', qid: 1, bytes: 64 * 64, pageSize: PAGE });
      expect(q.range.addr % BigInt(PAGE)).toBe(0n);
      expect(memory.isRam(q.range.addr, q.range.size)).toBe(true);
      for (const t of q.tags) tags.add(t.replace(/-[^-]+$/, ''));
      q.release();
    }
    expect(tags).toEqual(new Set(['queue-before', 'queue-after']));
    const big = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const q = adv.placeQueue({ kind: 'sq', qid: 1, bytes: 1024 * 64, pageSize: PAGE });
      for (const t of q.tags) big.add(t.split('-')[1]!);
      q.release();
    }
    expect(big).toContain('across');
  });

  it('is deterministic from its seed', () => {
    const run = (seed: number) => {
      const memory = hostMemory();
      const adv = new AdversarialPlacement(memory, { seed });
      return Array.from({ length: 50 }, (_, i) => {
        const l = adv.layout(request({ length: LENGTHS[i % LENGTHS.length]!, sgl: SGL_BYTE }));
        return { dptr: [...l.dptr], data: l.data, tags: l.tags };
      });
    };
    expect(run(77)).toEqual(run(77));
    expect(run(77)).not.toEqual(run(78));
  });

  propTest.prop([
    fc.integer({ min: 1, max: 1024 }).map((n) => n * 512),
    fc.integer({ min: 0, max: 2 ** 31 }),
    fc.constantFrom(...BUILTIN_PROFILES.map((p) => p.name)),
    fc.constantFrom(NO_SGL, SGL_BYTE, SGL_DWORD),
    fc.boolean(),
  ])(
    'every layout is legal and the reference walker reads back exactly its buffer',
    (length, seed, name, sgl, toDevice) => {
      const memory = hostMemory();
      const profile = BUILTIN_PROFILES.find((p) => p.name === name)!;
      const adv = new AdversarialPlacement(memory, { seed, profile });
      const layout = adv.layout(request({ length, sgl, toDevice }));
      expect(layout.data.reduce((n, c) => n + c.size, 0)).toBe(length);
      for (const c of layout.data) {
        if (c.kind === 'ram') expect(memory.isRam(c.addr, c.size)).toBe(true);
        expect(c.addr + BigInt(c.size) <= 1n << 64n).toBe(true);
      }
      if (layout.psdt === Psdt.PRP) checkPrpLegal(memory, layout);
      else {
        const type = layout.dptr[15]! >> 4;
        expect([SglType.DATA_BLOCK, SglType.SEGMENT, SglType.LAST_SEGMENT]).toContain(type);
        for (const s of layout.structures) expect(s.size % 16).toBe(0);
      }
      expect(walk(memory, layout)).toEqual(chunksAsRanges(layout.data));
      layout.release();
      expect(memory.residentBytes).toBe(0);
    },
  );
});
