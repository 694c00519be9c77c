/**
 * Any profile that validation accepts can be brought up and mapped without an exception: the
 * profile file is hostile (windows near 2^52 and 2^53, huge pages, alignments and interrupt
 * chunks, overlapping windows), validation either refuses it with an EpcConfigError or the EPC,
 * the NVMe function, bring-up, I/O and raw memMap calls all run without throwing.
 */
import {
  EpcConfigError,
  EpcError,
  type EpcProfile,
  parseProfile,
  STRATEGY_NAMES,
  type StrategyName,
} from '@epfsim/epc-core';
import { NvmOpcode } from '@epfsim/nvme-spec-types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pattern, ScriptedHost } from './helpers/scripted-host.js';

const MAX_EXPONENT = 53;
const pow2 = (min = 0, max = MAX_EXPONENT) => fc.integer({ min, max }).map((e) => 2 ** e);
/** A size: anything up to 2^53, often a power of two. */
const size = fc.oneof(pow2(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
const physBase = fc.oneof(
  fc.constantFrom(0, 2 ** 52 - 2 ** 20, 2 ** 52 - 4096, 2 ** 52, 2 ** 53 - 1),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);
/** Windows anywhere, of any size and page: mostly refused (overlaps, past 2^52, too many pages). */
const hostileWindows = fc.array(fc.record({ physBase, size, pageSize: pow2() }), { minLength: 1, maxLength: 4 });
/** Windows as boards have them, back to back from a base, sometimes ending at 2^52. */
const boardWindows = fc
  .record({
    base: fc.oneof(
      fc.integer({ min: 0, max: 2 ** 20 }).map((k) => k * 2 ** 30),
      fc.constant(-1),
    ),
    windows: fc.array(fc.record({ size: pow2(12, 26), pageSize: pow2(0, 20) }), { minLength: 1, maxLength: 4 }),
  })
  .map(({ base, windows }) => {
    const total = windows.reduce((n, w) => n + w.size, 0);
    // -1: the last window ends exactly at the 2^52 limit.
    let next = base === -1 ? 2 ** 52 - total : base;
    return windows.map((w) => {
      const physBase = next;
      next += w.size;
      return { physBase, size: w.size, pageSize: Math.min(w.pageSize, w.size) };
    });
  });
const align = fc.oneof(
  fc.constant({ kind: 'none' }),
  fc.record({ kind: fc.constant('dwc'), regionAlign: fc.oneof(pow2(8, 20), pow2(8, MAX_EXPONENT)) }),
  fc.record({
    kind: fc.constant('pass-bits'),
    minBits: fc.integer({ min: 1, max: 20 }),
    maxBits: fc.integer({ min: 8, max: 40 }),
    sizeGranule: fc.oneof(fc.constant('pow2'), pow2(0, 16), pow2(0, MAX_EXPONENT)),
  }),
);
const atu = fc.oneof(
  fc.constant({ kind: 'unlimited' }),
  fc.record({
    kind: fc.constant('dwc'),
    slots: fc.integer({ min: 1, max: 16 }),
    regionAlign: pow2(8, 24),
    regionLimit: pow2(20, MAX_EXPONENT - 1),
  }),
  fc.constant({ kind: 'region-per-window' }),
  fc.record({ kind: fc.constant('cadence'), maxRegions: fc.integer({ min: 3, max: 32 }) }),
  fc.constant({ kind: 'window-per-mapping' }),
);
const irq = fc.record(
  {
    msi: fc.boolean(),
    msix: fc.boolean(),
    intx: fc.constant(true),
    mapping: fc.constantFrom('direct', 'transient', 'reserved', 'register'),
    reservedSize: fc.oneof(
      { weight: 4, arbitrary: pow2(8, 20) },
      { weight: 1, arbitrary: pow2() },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
    ),
  },
  { requiredKeys: ['msi', 'msix', 'intx', 'mapping'] },
);
const profileData = fc.record({
  name: fc.constant('hostile'),
  windows: fc.oneof({ weight: 1, arbitrary: hostileWindows }, { weight: 4, arbitrary: boardWindows }),
  align,
  atu,
  irq,
  barAlign: fc.oneof({ weight: 6, arbitrary: pow2(7, 20) }, { weight: 1, arbitrary: pow2() }),
});
/** Where the raw memMap calls aim: low memory, 4 GiB and 2^53 edges, and the top of the 64-bit space. */
const mapRequest = fc.record({
  addr: fc.oneof(
    fc.bigInt({ min: 0n, max: 1n << 40n }),
    fc.constantFrom(0xffff_f000n, 1n << 53n, (1n << 64n) - 4096n, (1n << 64n) - 1n),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  ),
  size: fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), pow2(0, 40)),
});

/**
 * Runs a step of the scripted host. The host may see no completion: the controller reported a
 * fatal status (its maps cannot reach the host's queues), or the profile translates addresses the
 * way its hardware would and the CQE landed elsewhere (a Cadence ATU with no align_addr, as
 * epc-mapping.md §3.4 says). Any other exception fails the property.
 */
function step(h: ScriptedHost, f: () => void): boolean {
  try {
    f();
  } catch (e) {
    if (!(e instanceof Error && e.message.startsWith('no completion'))) throw e;
    return false;
  }
  return h.ready && !h.fatal;
}

function bringUpAndMap(profile: EpcProfile, strategy: StrategyName, maps: { addr: bigint; size: number }[]): void {
  const h = new ScriptedHost({ profile, config: { strategy } });
  h.enable();
  // A profile may be one the controller cannot work with (it then reports CSTS.CFS), never one that throws.
  expect(h.ready || h.fatal).toBe(true);
  const length = 8192;
  const buf = h.alloc(length + 4096) + 4n;
  h.write(buf, pattern(length));
  const io = (opcode: number) => () => {
    const cqe = h.run(1, { opcode, nsid: 1, ...h.prps(buf, length), cdw12: length / 512 - 1 });
    expect(cqe.sqid).toBe(1);
  };
  if (step(h, () => h.createPair(1, 16)) && step(h, io(NvmOpcode.WRITE))) step(h, io(NvmOpcode.READ));
  h.disable();
  for (const m of maps) {
    const map = h.epc.memMap(m.addr, m.size);
    if (!(map instanceof EpcError)) {
      expect(map.pciSize).toBeGreaterThan(0);
      h.epc.memUnmap(map);
    }
  }
  h.fn.close();
  expect(h.epc.liveMaps).toHaveLength(0);
}

describe('profile validation', () => {
  it('a profile it accepts can be brought up and mapped without an exception', () => {
    let accepted = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        profileData,
        fc.constantFrom(...STRATEGY_NAMES),
        fc.array(mapRequest, { maxLength: 8 }),
        (data, strategy, maps) => {
          runs++;
          let profile: EpcProfile;
          try {
            profile = parseProfile(data, 'hostile.json');
          } catch (e) {
            expect(e).toBeInstanceOf(EpcConfigError);
            expect((e as Error).message).not.toContain('\n');
            return;
          }
          accepted++;
          bringUpAndMap(profile, strategy, maps);
        },
      ),
    );
    // The property is not vacuous: a good share of the generated files pass validation.
    expect(accepted).toBeGreaterThan(runs / 5);
  });
});
