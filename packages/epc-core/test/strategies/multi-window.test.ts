/** The multi-window loop holds several maps at once: when the controller refuses the next one, none of them may leak. */
import { describe, expect, it } from 'vitest';
import { isEpcError } from '../../src/errors.js';
import { parseProfile } from '../../src/profile-loader.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { testbed } from '../helpers.js';

describe('multi-window', () => {
  it('unmaps what it holds when a later map of the same request is refused', () => {
    // Found by the nvme-epf profile property (seed 339660258): one translation per window, two
    // small windows at the top of the CPU space; the second piece's memMap fails with EINVAL.
    const profile = parseProfile(
      {
        name: 'hostile',
        windows: [
          { physBase: 2 ** 52 - 12288, size: 8192, pageSize: 1 },
          { physBase: 2 ** 52 - 4096, size: 4096, pageSize: 1 },
        ],
        align: { kind: 'pass-bits', minBits: 1, maxBits: 8, sizeGranule: 1 },
        atu: { kind: 'window-per-mapping' },
        irq: { msi: false, msix: false, intx: true, mapping: 'direct' },
        barAlign: 128,
      },
      'hostile',
    );
    const { epc } = testbed(profile, [{ addr: 0x10_0000_0000n, size: 1 << 20 }]);
    const error = STRATEGIES['multi-window'].transfer(epc, 0x10_0000_2004n, new Uint8Array(8192), 'toHost');
    expect(isEpcError(error)).toBe(true);
    expect(epc.liveMaps).toHaveLength(0);
  });
});
