import { findProfile, PCI_ADDR_LIMIT } from '@epfsim/epc-core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { addressEdges, hostAddress } from '../../../src/runs/arbitraries/host-address.js';

const rk3399 = findProfile('rk3399')!;
const stress = findProfile('stress')!;

/** True when [addr, addr + span) starts at, ends at or crosses a multiple of `period`. */
function touches(addr: bigint, span: bigint, period: bigint): boolean {
  const first = addr / period;
  const last = (addr + span) / period;
  return addr % period === 0n || (addr + span) % period === 0n || first !== last;
}

describe('hostAddress', () => {
  test.prop([
    fc.record({
      align: fc.constantFrom(1, 4, 8, 4096),
      span: fc.integer({ min: 1, max: 1 << 20 }),
      profile: fc.constantFrom(undefined, rk3399, stress),
    }),
    fc.nat(),
  ])('is aligned and leaves room for the span below 2^64', ({ align, span, profile }, seed) => {
    const arb = hostAddress({ align, span, ...(profile === undefined ? {} : { profile }) });
    for (const addr of fc.sample(arb, { seed, numRuns: 50 })) {
      expect(addr >= 0n).toBe(true);
      expect(addr % BigInt(align)).toBe(0n);
      expect(addr + BigInt(span) <= PCI_ADDR_LIMIT).toBe(true);
    }
  });

  it('aims at page, 64 KiB, 1 MiB, 4 GiB, 2^53, 2^64 and the profile edges', () => {
    const span = 4096n;
    const samples = fc.sample(hostAddress({ profile: stress, align: 4, span: 4096 }), { seed: 7, numRuns: 3000 });
    const periods = [
      ['64KiB', 1n << 16n],
      ['1MiB', 1n << 20n],
      ['4GiB', 1n << 32n],
      ['stress window 32KiB', 32n * 1024n],
      ['stress pass-bits 16KiB', 16n * 1024n],
    ] as const;
    for (const [name, period] of periods) {
      // Uniform 64-bit addresses would touch a 4 GiB edge about once in a million draws.
      const hits = samples.filter((a) => touches(a, span, period)).length;
      expect(hits, name).toBeGreaterThan(samples.length / 50);
    }
    expect(
      samples.some((a) => a <= 1n << 53n && a + span >= 1n << 53n),
      '2^53',
    ).toBe(true);
    expect(
      samples.some((a) => a + span === PCI_ADDR_LIMIT),
      'ends at 2^64',
    ).toBe(true);
    expect(
      samples.some((a) => a > 1n << 53n && !touches(a, span, 1n << 16n)),
      'uniform draws too',
    ).toBe(true);
  });

  it('lists the profile edges with the global ones, each period once', () => {
    const names = addressEdges(stress).map((e) => e.name);
    expect(names).toEqual(
      expect.arrayContaining(['page', '64KiB', '1MiB', '4GiB', '2^53', '2^64', 'pass-bits-16KiB', 'window-32KiB']),
    );
    // RK3399's 1 MiB pass-through limit and windows are the global 1 MiB edge.
    expect(addressEdges(rk3399).map((e) => e.name)).not.toContain('pass-bits-1MiB');
  });

  it('rejects impossible options', () => {
    expect(() => hostAddress({ align: 3 })).toThrow(RangeError);
    expect(() => hostAddress({ span: 0 })).toThrow(RangeError);
  });
});
