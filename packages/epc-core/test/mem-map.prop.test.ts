import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { MiB } from '../src/address.js';
import { leastMapCount } from '../src/align-addr.js';
import { EpcError } from '../src/errors.js';
import type { AlignRule, EpcProfile } from '../src/profile.js';
import { BUILTIN_PROFILES } from '../src/profiles.js';
import { STRATEGIES } from '../src/strategies/index.js';
import { hostRange, pattern } from './arbitraries.js';
import { testbed } from './helpers.js';

/** Built-in profiles plus random variations of their alignment rules and slot counts. */
const anyProfile: fc.Arbitrary<EpcProfile> = fc.oneof(
  fc.constantFrom(...BUILTIN_PROFILES),
  fc
    .record({
      base: fc.constantFrom(...BUILTIN_PROFILES.filter((p) => p.align.kind === 'pass-bits')),
      maxBitsSeed: fc.integer({ min: 12, max: 20 }),
    })
    .map(({ base, maxBitsSeed }): EpcProfile => {
      const align = base.align as Extract<AlignRule, { kind: 'pass-bits' }>;
      // A mapping never exceeds 2^maxBits, which must fit in the largest window (the loader checks it).
      const maxBits = Math.min(maxBitsSeed, Math.log2(Math.max(...base.windows.map((w) => w.size))));
      return { ...base, name: `${base.name}-max${maxBits}`, align: { ...align, maxBits } };
    }),
  fc.integer({ min: 1, max: 16 }).map((slots): EpcProfile => {
    const dwc = BUILTIN_PROFILES.find((p) => p.name === 'dwc')!;
    return { ...dwc, name: `dwc-${slots}`, atu: { kind: 'dwc', slots, regionAlign: 65536, regionLimit: 2 ** 32 } };
  }),
);

describe('the mem-map loop over any profile and host range', () => {
  test.prop([anyProfile, hostRange(2 * MiB)])(
    'covers exactly the range, obeys the map invariants, leaves nothing',
    (p, r) => {
      const { epc, host } = testbed(p, [r]);
      const data = pattern(r.size, 1);
      let at = r.addr;
      let done = 0;
      while (done < r.size) {
        const map = epc.memMap(at, r.size - done);
        if (map instanceof EpcError) throw new Error(`memMap failed: ${map}`);
        expect(map.pciAddr).toBe(at);
        expect(map.pciSize).toBeGreaterThanOrEqual(1);
        expect(map.offset + map.pciSize).toBeLessThanOrEqual(map.mapSize);
        expect(map.mapPciAddr + BigInt(map.offset)).toBe(map.pciAddr);
        expect(map.physAddr).toBe(map.physBase + map.offset);
        if (p.align.kind === 'dwc') expect(map.mapPciAddr % BigInt(p.align.regionAlign)).toBe(0n);
        if (p.align.kind === 'pass-bits') {
          expect(map.mapPciAddr % 256n).toBe(0n);
          // Never past the next 2^maxBits boundary.
          const limit = 1n << BigInt(p.align.maxBits);
          expect((map.pciAddr + BigInt(map.pciSize) - 1n) / limit).toBe(map.pciAddr / limit);
        }
        expect(map.write(0, data.subarray(done, done + map.pciSize))).toBeNull();
        epc.memUnmap(map);
        at += BigInt(map.pciSize);
        done += map.pciSize;
      }
      expect(done).toBe(r.size);
      const back = new Uint8Array(r.size);
      host.hostRead(r.addr, back);
      expect(Buffer.compare(back, data)).toBe(0);
      expect(host.faultCount).toBe(0);
      expect(epc.liveMaps).toHaveLength(0);
      expect(epc.counters.slotsInUse).toBe(0);
    },
  );
});

describe('mem-map, multi-window and dma never fail for a legal range', () => {
  test.prop([anyProfile, fc.constantFrom('mem-map', 'multi-window', 'dma' as const), hostRange(2 * MiB), fc.boolean()])(
    'moves every byte both ways and leaves no map',
    (p, name, r, toHost) => {
      const { epc, host } = testbed(p, [r]);
      const data = pattern(r.size, 2);
      if (!toHost) host.hostWrite(r.addr, data);
      const buf = toHost ? data.slice() : new Uint8Array(r.size);
      const error = STRATEGIES[name].transfer(epc, r.addr, buf, toHost ? 'toHost' : 'fromHost');
      expect(error).toBeNull();
      const back = new Uint8Array(r.size);
      host.hostRead(r.addr, back);
      expect(Buffer.compare(back, data)).toBe(0);
      if (!toHost) expect(Buffer.compare(buf, data)).toBe(0);
      expect(epc.liveMaps).toHaveLength(0);
      expect(epc.counters.slotsInUse).toBe(0);
    },
  );
});

describe('map efficiency', () => {
  test.prop([anyProfile, fc.constantFrom('mem-map', 'multi-window' as const), hostRange(2 * MiB)])(
    'mem-map and multi-window make exactly the least possible number of maps',
    (p, name, r) => {
      const { epc } = testbed(p, [r]);
      expect(STRATEGIES[name].transfer(epc, r.addr, new Uint8Array(r.size), 'toHost')).toBeNull();
      expect(epc.counters.memMapCalls).toBe(leastMapCount(p.align, r.addr, r.size));
    },
  );
});
