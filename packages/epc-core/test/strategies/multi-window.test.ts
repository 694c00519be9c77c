/** The multi-window loop holds several maps at once: when the controller refuses the next one, none of them may leak. */
import { describe, expect, it } from 'vitest';
import type { Epc } from '../../src/epc.js';
import { EpcError, isEpcError } from '../../src/errors.js';
import { STRATEGIES } from '../../src/strategies/index.js';
import { testbed } from '../helpers.js';

describe('multi-window', () => {
  it('unmaps what it holds when a later map of the same request is refused', () => {
    // Found by the nvme-epf profile property (seed 339660258): canMap() said yes, then memMap()
    // refused the second piece, and the first stayed mapped. RK3399 splits a range at 1 MiB; the
    // wrapper refuses the second map as that profile's controller did.
    const { epc } = testbed('rk3399', [{ addr: 0n, size: 4 << 20 }]);
    let calls = 0;
    const refusing = Object.assign(Object.create(epc) as Epc, {
      memMap: (pciAddr: bigint, size: number) =>
        ++calls === 2 ? new EpcError('EINVAL', 'refused for the test') : epc.memMap(pciAddr, size),
    });
    const error = STRATEGIES['multi-window'].transfer(refusing, 0xff000n, new Uint8Array(0x2000), 'toHost');
    expect(isEpcError(error)).toBe(true);
    expect(calls).toBe(2);
    expect(epc.liveMaps).toHaveLength(0);
  });
});
