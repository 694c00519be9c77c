/**
 * Endpoint controller profiles as fast-check values: the built-ins, and variations of each family
 * (DesignWare slot counts, region alignments and window sizes; RK3399-like pass-through windows;
 * Cadence region counts; R-Car window sets; stress-sized tiny windows). Every variation goes
 * through epc-core's profile loader, so it is a profile a user could have written in a file.
 */
import { BUILTIN_PROFILES, type EpcProfile, findProfile, GiB, KiB, MiB, parseProfile } from '@epfsim/epc-core';
import fc from 'fast-check';

export interface EpcProfileOptions {
  /** Include variations of the built-ins (default true); false gives the built-ins only. */
  readonly variations?: boolean;
}

/** The built-in profiles, and (by default) variations of them. Shrinks toward the first built-in. */
export function epcProfile(options: EpcProfileOptions = {}): fc.Arbitrary<EpcProfile> {
  const builtins = fc.constantFrom(...BUILTIN_PROFILES);
  if (options.variations === false) return builtins;
  return fc.oneof(
    builtins,
    dwcVariation(),
    passBitsVariation(),
    cadenceVariation(),
    rcarVariation(),
    stressVariation(),
  );
}

function base(name: string): EpcProfile {
  const profile = findProfile(name);
  if (profile === undefined) throw new Error(`no built-in profile ${name}`);
  return profile;
}

/** A DesignWare controller: iATU slots, region alignment (also the window page), window size, region limit. */
function dwcVariation(): fc.Arbitrary<EpcProfile> {
  return fc
    .record({
      from: fc.constantFrom('dwc', 'rk3588', 'imx8m'),
      slots: fc.integer({ min: 3, max: 16 }),
      regionAlign: fc.constantFrom(4 * KiB, 16 * KiB, 64 * KiB),
      windowSize: fc.constantFrom(16 * MiB, 64 * MiB, 256 * MiB),
      regionLimit: fc.constantFrom(4 * GiB, 8 * GiB),
    })
    .map(({ from, slots, regionAlign, windowSize, regionLimit }) => {
      const window = base(from).windows[0]!;
      return parseProfile({
        extends: from,
        name: `${from}~${slots}slots-${regionAlign / KiB}k`,
        description: `${from} with ${slots} iATU slots, ${regionAlign / KiB} KiB region alignment`,
        windows: [{ physBase: window.physBase, size: windowSize, pageSize: regionAlign }],
        align: { kind: 'dwc', regionAlign },
        atu: { kind: 'dwc', slots, regionAlign, regionLimit },
      });
    });
}

/** An RK3399-like controller: N windows of 2^maxBits, addresses passed through from bit minBits. */
function passBitsVariation(): fc.Arbitrary<EpcProfile> {
  return fc
    .record({
      maxBits: fc.integer({ min: 14, max: 20 }),
      minBits: fc.integer({ min: 8, max: 12 }),
      windows: fc.integer({ min: 4, max: 32 }),
      sizeGranule: fc.constantFrom<number | 'pow2'>(256, 'pow2'),
    })
    .map(({ maxBits, minBits, windows, sizeGranule }) => {
      const size = 2 ** maxBits;
      return parseProfile({
        extends: 'rk3399',
        name: `rk3399~${windows}x${size / KiB}k`,
        description: `RK3399-like: ${windows} windows of ${size / KiB} KiB, pass-through bits ${minBits}..${maxBits}`,
        windows: Array.from({ length: windows }, (_, i) => ({
          physBase: 0xfa00_0000 + i * size,
          size,
          pageSize: size,
        })),
        align: { kind: 'pass-bits', minBits, maxBits, sizeGranule },
        irq: { msi: true, msix: false, intx: true, mapping: 'reserved', reservedSize: size },
      });
    });
}

/** A Cadence controller with fewer or more regions. */
function cadenceVariation(): fc.Arbitrary<EpcProfile> {
  return fc.integer({ min: 4, max: 32 }).map((maxRegions) =>
    parseProfile({
      extends: 'cadence',
      name: `cadence~${maxRegions}regions`,
      description: `Cadence with ${maxRegions} outbound regions`,
      atu: { kind: 'cadence', maxRegions },
    }),
  );
}

/** An R-Car-like controller: 2 to 4 windows of power-of-two sizes, one mapping each. */
function rcarVariation(): fc.Arbitrary<EpcProfile> {
  const windowSize = fc.constantFrom(1 * MiB, 2 * MiB, 16 * MiB, 128 * MiB);
  return fc.array(windowSize, { minLength: 2, maxLength: 4 }).map((sizes) => {
    let physBase = 0x3000_0000;
    const windows = sizes.map((size) => {
      const w = { physBase, size, pageSize: size };
      physBase += size;
      return w;
    });
    return parseProfile({
      extends: 'rcar',
      name: `rcar~${sizes.map((s) => `${s / MiB}m`).join('+')}`,
      description: `R-Car-like: windows of ${sizes.map((s) => `${s / MiB} MiB`).join(', ')}`,
      windows,
    });
  });
}

/** Tiny windows and few slots, like `stress`: partial maps and slot exhaustion everywhere. */
function stressVariation(): fc.Arbitrary<EpcProfile> {
  return fc
    .record({
      first: fc.constantFrom(32 * KiB, 64 * KiB),
      second: fc.constantFrom(16 * KiB, 32 * KiB),
      slots: fc.integer({ min: 3, max: 4 }),
      maxBits: fc.integer({ min: 12, max: 14 }),
    })
    .map(({ first, second, slots, maxBits }) =>
      parseProfile({
        extends: 'stress',
        name: `stress~${first / KiB}k+${second / KiB}k-${slots}slots-${maxBits}bits`,
        description: `stress-like: windows of ${first / KiB} and ${second / KiB} KiB, ${slots} slots, maps end at 2^${maxBits}`,
        windows: [
          { physBase: 0x2000_0000, size: first, pageSize: 4 * KiB },
          { physBase: 0x2000_0000 + first, size: second, pageSize: 4 * KiB },
        ],
        align: { kind: 'pass-bits', minBits: 8, maxBits, sizeGranule: 256 },
        atu: { kind: 'dwc', slots, regionAlign: 256, regionLimit: 4 * GiB },
      }),
    );
}
