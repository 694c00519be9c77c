import { BUILTIN_PROFILES, parseProfile } from '@epfsim/epc-core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { AdversarialPlacement } from '../../../src/host/placement/adversarial.js';
import { expectedReadBytes } from '../../../src/host/placement/layout.js';
import { createTestbed } from '../../../src/host/target/epfsim-target.js';
import { epcProfile } from '../../../src/runs/arbitraries/epc-profile.js';
import { driverOn, NS512, pattern } from '../../support/testbed.js';

describe('epcProfile', () => {
  test.prop([epcProfile()])('is a profile a user could write: it survives the profile loader', (profile) => {
    expect(parseProfile(JSON.parse(JSON.stringify(profile)))).toEqual(profile);
  });

  it('gives the built-ins and variations of every family', () => {
    const names = fc.sample(epcProfile(), { seed: 1, numRuns: 400 }).map((p) => p.name);
    for (const b of BUILTIN_PROFILES) expect(names).toContain(b.name);
    for (const family of ['dwc~', 'rk3588~', 'imx8m~', 'rk3399~', 'cadence~', 'rcar~', 'stress~']) {
      expect(
        names.some((n) => n.startsWith(family)),
        family,
      ).toBe(true);
    }
    expect(fc.sample(epcProfile({ variations: false }), 50).every((p) => BUILTIN_PROFILES.includes(p))).toBe(true);
  });

  test.prop([epcProfile(), fc.nat()], { numRuns: 15 })(
    'drives a working controller: adversarial buffers written and read back',
    (profile, seed) => {
      const real = createTestbed({ profile, function: { namespaces: [{ ...NS512 }] } });
      const driver = driverOn(real, { ioQueues: 1 });
      const placement = new AdversarialPlacement(real.memory, { seed, profile });
      for (let i = 0; i < 4; i++) {
        const data = pattern(512 * (1 + ((seed + i * 37) % 64)), i);
        expect(driver.write(1, BigInt(i * 64), data, { placement }).completion.status).toBe(0);
        const r = driver.read(1, BigInt(i * 64), data.length / 512, { placement });
        expect(r.completion.status).toBe(0);
        expect(r.data).toEqual(expectedReadBytes(r.layout!, data));
      }
      expect(real.memory.isolationViolations).toEqual([]);
      expect(real.leaks()).toBe(0);
    },
  );
});
