import { describe, expect, it } from 'vitest';
import { alignAddr } from '../src/align-addr.js';
import { registerAlignRule } from '../src/custom-align.js';
import { EpcConfigError, EpcError } from '../src/errors.js';
import { parseProfile } from '../src/profile-loader.js';
import { testbed } from './helpers.js';

const KEY = '/tmp/blocks.mjs';
const BLOCK = 0x4_0000;
/** Maps from the request down to its 4 KiB page, never across a 256 KiB block. */
registerAlignRule(KEY, (pciAddr, size) => {
  const offset = Number(pciAddr % 0x1000n);
  const mapPciAddr = pciAddr - BigInt(offset);
  const toBlockEnd = BLOCK - Number(mapPciAddr % BigInt(BLOCK));
  return { mapPciAddr, mapSize: Math.min(toBlockEnd, offset + size), offset };
});

const profileData = {
  name: 'blocks',
  description: 'a custom rule',
  windows: [{ physBase: 0x4000_0000, size: 0x10_0000, pageSize: 0x1000 }],
  align: { kind: 'custom', key: KEY },
  atu: { kind: 'unlimited' },
  irq: { msi: true, msix: true, intx: false, mapping: 'direct' },
  barAlign: 0x1000,
  hasDma: false,
};

describe('a profile with its own alignAddr rule', () => {
  it('maps partially where its rule says, and memMap callers loop over it', () => {
    const { epc } = testbed(parseProfile(profileData), [{ addr: 0x1000_0000n, size: 0x10_0000 }]);
    const map = epc.memMap(0x1003_fff0n, 0x100);
    expect(map).not.toBeInstanceOf(EpcError);
    if (map instanceof EpcError) return;
    expect(map.pciSize).toBe(0x10); // up to the 256 KiB block
    epc.memUnmap(map);
  });

  it('is refused when its module was not loaded', () => {
    expect(() => parseProfile({ ...profileData, align: { kind: 'custom', key: '/tmp/none.mjs' } })).toThrow(
      /no alignAddr rule is loaded from \/tmp\/none\.mjs/,
    );
  });

  it('answers that break the map contract are the user error they are, naming the request', () => {
    const broken: [string, (a: bigint, s: number) => unknown, RegExp][] = [
      ['/tmp/late.mjs', (a, s) => ({ mapPciAddr: a + 16n, mapSize: s, offset: 0 }), /does not cover the start/],
      ['/tmp/empty.mjs', (a) => ({ mapPciAddr: a, mapSize: 0, offset: 0 }), /returned mapSize 0/],
      ['/tmp/past.mjs', (a) => ({ mapPciAddr: a, mapSize: 2 ** 40, offset: 0 }), /past 2\^64/],
      ['/tmp/number.mjs', (a) => ({ mapPciAddr: Number(a), mapSize: 1, offset: 0 }), /not a bigint/],
      [
        '/tmp/throws.mjs',
        () => {
          throw new Error('oops');
        },
        /threw: oops/,
      ],
    ];
    for (const [key, fn, message] of broken) {
      registerAlignRule(key, fn as never);
      const call = () => alignAddr({ kind: 'custom', key }, 0xffff_ffff_ffff_f000n, 0x800, 0x1000);
      expect(call, key).toThrow(EpcConfigError);
      expect(call, key).toThrow(message);
    }
  });
});
