import { describe, expect, it } from 'vitest';
import { GiB, KiB, MiB, PCI_ADDR_LIMIT } from '../src/address.js';
import type { EpcMap } from '../src/epc-map.js';
import { EpcContractError, EpcError } from '../src/errors.js';
import type { EpcProfile } from '../src/profile.js';
import { profile, testbed } from './helpers.js';

function mapOk(result: EpcMap | EpcError): EpcMap {
  if (result instanceof EpcError) throw new Error(`unexpected ${result}`);
  return result;
}

function errno(result: EpcMap | EpcError): string {
  return result instanceof EpcError ? result.errno : 'mapped';
}

describe('memMap: the fields and the partial-mapping rule of pci_epc_mem_map()', () => {
  it('RK3399: pciAddr 0xFF00, size 0x200 maps from 0x0 with mapSize 0x10100 (docs/epc-mapping.md §3.2)', () => {
    const { epc } = testbed('rk3399');
    const map = mapOk(epc.memMap(0xff00n, 0x200));
    expect(map.mapPciAddr).toBe(0n);
    expect(map.mapSize).toBe(0x10100);
    expect(map.offset).toBe(0xff00);
    expect(map.pciSize).toBe(0x200);
    expect(map.physAddr).toBe(map.physBase + 0xff00);
  });

  it('RK3399: a range crossing 1 MiB is truncated at the boundary; the caller loops', () => {
    const { epc } = testbed('rk3399');
    const map = mapOk(epc.memMap(0xfff00n, 0x200));
    expect(map.pciSize).toBe(0x100);
    expect(map.mapPciAddr).toBe(0n);
    expect(map.mapSize).toBe(1 * MiB);
    const next = mapOk(epc.memMap(0x100000n, 0x100));
    expect(next.mapPciAddr).toBe(0x100000n);
    expect(next.mapSize).toBe(0x100);
    expect(epc.counters.partialMaps).toBe(1);
  });

  it('RK3399: sizes round up to 256 B and pass-through bits never go below 8', () => {
    const { epc } = testbed('rk3399');
    const map = mapOk(epc.memMap(0x1234_5604n, 4));
    expect(map.mapPciAddr).toBe(0x1234_5600n);
    expect(map.offset).toBe(4);
    expect(map.mapSize).toBe(0x100);
  });

  it('RK3399: 31 data regions (one is kept for interrupts), then ENOMEM', () => {
    const { epc } = testbed('rk3399');
    for (let i = 0; i < 31; i++) mapOk(epc.memMap(BigInt(i) * 0x100000n, 64));
    expect(errno(epc.memMap(0x4000_0000n, 64))).toBe('ENOMEM');
    expect(epc.counters.slotsHighWater).toBe(31);
  });

  it('RK3399: a second translation in a taken region is EBUSY', () => {
    const { epc } = testbed('rk3399');
    const phys = epc.memAllocAddr(64)!;
    expect(epc.mapAddr(phys, 0n, 64)).not.toBeInstanceOf(EpcError);
    const again = epc.mapAddr(phys, 0x100000n, 64);
    expect(again).toBeInstanceOf(EpcError);
    expect((again as EpcError).errno).toBe('EBUSY');
  });

  it('DWC: aligns down to the 64 KiB region and pads to the window page, never truncating', () => {
    const { epc } = testbed('rk3588');
    const map = mapOk(epc.memMap(0x1_2345_6789n, 0x2000));
    expect(map.mapPciAddr).toBe(0x1_2345_0000n);
    expect(map.offset).toBe(0x6789);
    expect(map.mapSize).toBe(0x10000);
    expect(map.pciSize).toBe(0x2000);
    const big = mapOk(epc.memMap(0xfff0n, 4 * MiB));
    expect(big.pciSize).toBe(4 * MiB);
    expect(big.mapSize).toBe(4 * MiB + 64 * KiB);
  });

  it('DWC: a request larger than the window fails with ENOMEM', () => {
    const { epc } = testbed('imx8m');
    expect(errno(epc.memMap(0n, 129 * MiB))).toBe('ENOMEM');
  });

  it('DWC i.MX8M: 4 iATU slots, the fifth map is EINVAL ("No free outbound window")', () => {
    const { epc } = testbed('imx8m');
    for (let i = 0; i < 4; i++) mapOk(epc.memMap(BigInt(i) * 0x10000n, 16));
    const fifth = epc.memMap(0x100000n, 16);
    expect(errno(fifth)).toBe('EINVAL');
    expect((fifth as EpcError).message).toMatch(/no free outbound window/);
    expect(epc.counters.memMapFailures).toBe(1);
  });

  it('DWC: a region may not cross a region_limit boundary on the CPU side', () => {
    const crossing: EpcProfile = {
      ...profile('dwc'),
      windows: [{ physBase: 4 * GiB - 128 * KiB, size: 256 * KiB, pageSize: 64 * KiB }],
    };
    const { epc } = testbed(crossing);
    // The window spans 4 GiB: a block on either side maps, a block across it does not.
    mapOk(epc.memMap(0n, 64 * KiB)); // CPU [4G-128K, 4G-64K)
    mapOk(epc.memMap(0x10_0000n, 128 * KiB)); // CPU [4G, 4G+128K)
    const { epc: epc2 } = testbed(crossing);
    const whole = epc2.memMap(0n, 256 * KiB);
    expect(errno(whole)).toBe('EINVAL');
    expect((whole as EpcError).message).toMatch(/region_limit/);
  });

  it('DWC: with 4 KiB window pages the iATU base-alignment check fails (the glue-driver caveat)', () => {
    const small: EpcProfile = {
      ...profile('dwc'),
      windows: [{ physBase: 0x4000_0000, size: 1 * MiB, pageSize: 4 * KiB }],
    };
    const { epc } = testbed(small);
    mapOk(epc.memMap(0n, 16)); // a 4 KiB block at the window base, which happens to be 64 KiB aligned
    const second = epc.memMap(0x10000n, 16);
    expect(errno(second)).toBe('EINVAL');
    expect((second as EpcError).message).toMatch(/CPU address .* not aligned/);
  });

  it('Cadence: 30 usable regions (region 0 for interrupts, the last rejected), then EINVAL', () => {
    const { epc } = testbed('cadence');
    for (let i = 0; i < 30; i++) mapOk(epc.memMap(BigInt(i) * 0x1000n, 256));
    expect(errno(epc.memMap(0x10_0000n, 256))).toBe('EINVAL');
  });

  it('Cadence: regions are powers of two of at least 256 B', () => {
    const { epc } = testbed('cadence');
    const map = mapOk(epc.memMap(0x1_0000_0010n, 0x300));
    expect(map.mapSize).toBe(0x400);
    expect(map.mapPciAddr).toBe(0x1_0000_0000n);
  });

  it('R-Car: four windows, one mapping each', () => {
    const { epc } = testbed('rcar');
    const maps = [0, 1, 2, 3].map((i) => mapOk(epc.memMap(BigInt(i) * 0x1000n, 0x1000)));
    expect(maps.map((m) => m.physBase)).toEqual([0xfe10_0000, 0xfe20_0000, 0x3000_0000, 0x3800_0000]);
    expect(errno(epc.memMap(0x10000n, 16))).toBe('ENOMEM');
    epc.memUnmap(maps[1]!);
    expect(mapOk(epc.memMap(0x10000n, 16)).physBase).toBe(0xfe20_0000);
  });

  it('stress: partial maps at every 16 KiB boundary and slot exhaustion after 3 maps', () => {
    const { epc } = testbed('stress');
    const first = mapOk(epc.memMap(0x3f00n, 0x1000));
    expect(first.pciSize).toBe(0x100);
    mapOk(epc.memMap(0x4000n, 0xf00));
    mapOk(epc.memMap(0x9000n, 0x100));
    expect(errno(epc.memMap(0xa000n, 0x100))).toBe('EINVAL');
  });

  it('generic: identity mapping, no slot limit', () => {
    const { epc } = testbed('generic');
    for (let i = 0; i < 100; i++) {
      const map = mapOk(epc.memMap(BigInt(i) * 4099n + 3n, 777));
      expect(map.mapPciAddr).toBe(map.pciAddr);
      expect(map.offset).toBe(0);
      expect(map.mapSize).toBe(777);
    }
  });
});

describe('memMap: errors and the edges of the 64-bit space', () => {
  it('size 0 is EINVAL', () => {
    const { epc } = testbed('generic');
    expect(errno(epc.memMap(0x1000n, 0))).toBe('EINVAL');
    expect(errno(epc.memMap(0x1000n, -1))).toBe('EINVAL');
    expect(errno(epc.memMap(0x1000n, 1.5))).toBe('EINVAL');
  });

  it('a range that would wrap past 2^64 is ERANGE; one ending exactly at 2^64 works', () => {
    const { epc, host } = testbed('rk3588', [{ addr: PCI_ADDR_LIMIT - 0x1000n, size: 0x1000 }]);
    expect(errno(epc.memMap(PCI_ADDR_LIMIT - 0x10n, 0x11))).toBe('ERANGE');
    expect(errno(epc.memMap(PCI_ADDR_LIMIT, 1))).toBe('EINVAL');
    const map = mapOk(epc.memMap(PCI_ADDR_LIMIT - 0x10n, 0x10));
    expect(map.write(0, new Uint8Array(16).fill(0xab))).toBeNull();
    const back = new Uint8Array(16);
    host.hostRead(PCI_ADDR_LIMIT - 0x10n, back);
    expect([...back]).toEqual(new Array(16).fill(0xab));
  });

  it('addresses above 2^53 are exact', () => {
    const addr = (1n << 53n) + 1n;
    const { epc, host } = testbed('rk3399', [{ addr, size: 8 }]);
    const map = mapOk(epc.memMap(addr, 8));
    expect(map.pciAddr).toBe(addr);
    expect(map.write(0, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))).toBeNull();
    const back = new Uint8Array(8);
    host.hostRead(addr, back);
    expect([...back]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('EpcMap access and the contract checker', () => {
  it('moves bytes to the right host address through the programmed translation', () => {
    const { epc, host } = testbed('rk3399', [{ addr: 0x7_0000_ff00n, size: 0x200 }]);
    const map = mapOk(epc.memMap(0x7_0000_ff00n, 0x200));
    expect(map.write(0x100, Uint8Array.of(9, 8, 7))).toBeNull();
    const back = new Uint8Array(3);
    host.hostRead(0x7_0001_0000n, back);
    expect([...back]).toEqual([9, 8, 7]);
    expect(epc.counters.bytesToHost).toBe(3);
  });

  it('refuses offsets outside [0, pciSize) and use after unmap', () => {
    const { epc } = testbed('generic', [{ addr: 0x1000n, size: 0x1000 }]);
    const map = mapOk(epc.memMap(0x1000n, 0x100));
    expect(() => map.read(0xff, new Uint8Array(2))).toThrow(EpcContractError);
    expect(() => map.read(-1, new Uint8Array(1))).toThrow(EpcContractError);
    epc.memUnmap(map);
    expect(() => map.read(0, new Uint8Array(1))).toThrow(/after unmap/);
    expect(() => epc.memUnmap(map)).toThrow(/not a live map/);
  });

  it('an access to a hole or an ungranted range fails and the host records it', () => {
    const { epc, host } = testbed('generic', [{ addr: 0x1000n, size: 0x1000 }]);
    const map = mapOk(epc.memMap(0x1f00n, 0x200));
    const fault = map.read(0, new Uint8Array(0x200));
    expect(fault?.reason).toBe('hole');
    host.setGrantHook((_addr, _size, direction) => direction === 'read');
    const inside = mapOk(epc.memMap(0x1000n, 0x10));
    expect(inside.read(0, new Uint8Array(0x10))).toBeNull();
    expect(inside.write(0, new Uint8Array(0x10))?.reason).toBe('ungranted');
    expect(host.faults.map((f) => f.reason)).toEqual(['hole', 'ungranted']);
    expect(epc.counters.busFaults).toBe(2);
  });

  it('reports maps left live as leaks', () => {
    const { epc } = testbed('generic');
    const kept = mapOk(epc.memMap(0n, 1));
    mapOk(epc.memMap(0x10n, 1));
    expect(() => epc.checkLeaks(new Set([kept]))).toThrow(/still live/);
    expect(epc.checker.violations.map((v) => v.kind)).toEqual(['leak']);
  });
});

describe('a refused map says what was asked and which profile limit it hit', () => {
  /** One 64 KiB window of 4 KiB pages, no alignment rule. */
  const oneWindow = (): EpcProfile => ({
    ...profile('generic'),
    windows: [{ physBase: 0x4000_0000, size: 64 * KiB, pageSize: 4096 }],
  });

  it('ENOMEM for a block larger than every window names the largest window', () => {
    const { epc } = testbed(oneWindow());
    const refused = epc.memMap(0x10_0000n, 128 * KiB) as EpcError;
    expect(refused).toBeInstanceOf(EpcError);
    expect(refused.request).toEqual({ op: 'memMap', pciAddr: 0x10_0000n, size: 128 * KiB });
    expect(refused.limit).toBe('largest window 0x10000');
    expect(refused.toString()).toBe(
      'ENOMEM: memMap 0x100000+0x20000: no outbound window can hold 0x20000 bytes (largest window 0x10000)',
    );
  });

  it('ENOMEM for a window held by live maps says how much of it they hold', () => {
    const { epc } = testbed(oneWindow());
    const held = mapOk(epc.memMap(0x20_0000n, 48 * KiB));
    const refused = epc.memMap(0x30_0000n, 32 * KiB) as EpcError;
    expect(refused.errno).toBe('ENOMEM');
    expect(refused.limit).toBe(
      'no free 0x8000-byte block: 0x10000 of the 0x10000 bytes of the 1 window that large are held by live maps',
    );
    epc.memUnmap(held);
    expect(epc.memMap(0x30_0000n, 32 * KiB)).not.toBeInstanceOf(EpcError);
  });

  it('a translation slot limit is named in the message, with the request', () => {
    const { epc } = testbed('imx8m');
    const maps = [0, 1, 2, 3].map((i) => mapOk(epc.memMap(BigInt(i * MiB), 16)));
    const refused = epc.memMap(BigInt(8 * MiB), 16) as EpcError;
    expect(refused.toString()).toBe('EINVAL: memMap 0x800000+0x10: no free outbound window (4 iATU slots in use)');
    for (const m of maps) epc.memUnmap(m);
  });
});
