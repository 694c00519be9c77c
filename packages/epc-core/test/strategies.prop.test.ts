import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { MiB } from '../src/address.js';
import { type EpcError, isEpcError } from '../src/errors.js';
import { STRATEGIES } from '../src/strategies/index.js';
import { hostRange, pattern } from './arbitraries.js';
import { testbed } from './helpers.js';

/** fls64(a ^ (a + s - 1)). */
function varyingBits(a: bigint, s: bigint): number {
  return (a ^ (a + s - 1n)).toString(2).replace(/^0$/, '').length;
}

/** Whether one translation of [a, a+s) at a 2^n-aligned CPU address reaches the right bytes (pass-through ATUs). */
function passThroughReaches(a: bigint, s: bigint, bits: number): boolean {
  return a % (1n << BigInt(bits)) === 0n && varyingBits(a, s) <= bits;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
const ceilLog2 = (v: bigint) => (v - 1n).toString(2).replace(/^0$/, '').length;

/**
 * When a single exact mapping of [a, a+s) works, per controller family: written from
 * the controller rules in docs/epc-mapping.md §3, independently of the implementation.
 */
const singleMapWorks: Record<string, (a: bigint, s: bigint) => boolean> = {
  generic: () => true,
  rcar: () => true,
  dwc: (a) => a % 0x10000n === 0n,
  rk3588: (a) => a % 0x10000n === 0n,
  imx8m: (a) => a % 0x10000n === 0n,
  rk3399: (a, s) => s <= BigInt(MiB) && passThroughReaches(a, s, clamp(varyingBits(a, s), 8, 20)),
  cadence: (a, s) => passThroughReaches(a, s, Math.max(8, ceilLog2(s))),
  stress: (a, s) => a % 256n === 0n && s <= 0x10000n,
};

const PROFILES = Object.keys(singleMapWorks);

function run(name: 'legacy' | 'epf-align', profileName: string, r: { addr: bigint; size: number }): EpcError | null {
  const { epc, host } = testbed(profileName, [r]);
  const data = pattern(r.size, 3);
  const error = STRATEGIES[name].transfer(epc, r.addr, data, 'toHost');
  if (error === null) {
    const back = new Uint8Array(r.size);
    host.hostRead(r.addr, back);
    expect(Buffer.compare(back, data)).toBe(0);
  }
  expect(epc.counters.slotsInUse).toBe(0);
  return error;
}

describe('legacy and epf-align fail on exactly the inputs their predicate says', () => {
  test.prop([fc.constantFrom(...PROFILES), hostRange(1 * MiB)])('legacy: exact-address single map', (p, r) => {
    const error = run('legacy', p, r);
    expect(isEpcError(error)).toBe(!singleMapWorks[p]!(r.addr, BigInt(r.size)));
  });

  test.prop([fc.constantFrom(...PROFILES), hostRange(1 * MiB)])(
    'epf-align: aligned down to epc_features->align',
    (p, r) => {
      const { epc } = testbed(p);
      const align = BigInt(epc.profile.barAlign);
      const mapAddr = r.addr - (r.addr % align);
      const mapSize = r.addr - mapAddr + BigInt(r.size);
      const error = run('epf-align', p, r);
      expect(isEpcError(error)).toBe(!singleMapWorks[p]!(mapAddr, mapSize));
    },
  );
});
