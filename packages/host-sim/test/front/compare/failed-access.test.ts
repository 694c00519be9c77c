import { findProfile } from '@epfsim/epc-core';
import { describe, expect, it } from 'vitest';
import {
  alignedBlock,
  describeFailedAccess,
  MAX_ALIGN_BITS,
  startAlignment,
} from '../../../src/front/compare/failed-access.js';
import { createTestbed } from '../../../src/host/target/epfsim-target.js';

describe('where a failed access sat', () => {
  it('start alignment is the largest power of two dividing the address, capped', () => {
    expect(startAlignment(0x1000n)).toBe(0x1000);
    expect(startAlignment(0x13_9816_0040n)).toBe(0x40);
    expect(startAlignment(0x279f_f6d0n)).toBe(0x10);
    expect(startAlignment(1n)).toBe(1);
    expect(startAlignment(0n)).toBe(2 ** MAX_ALIGN_BITS);
    expect(startAlignment(1n << 63n)).toBe(2 ** MAX_ALIGN_BITS);
  });

  it('the aligned block is the smallest naturally aligned power of two holding the whole range', () => {
    expect(alignedBlock(0x1a00n, 0x1000)).toBe(0x4000);
    expect(alignedBlock(0x1000n, 0x1000)).toBe(0x1000);
    expect(alignedBlock(0xff00n, 0x200)).toBe(0x20000);
    expect(alignedBlock(0xffff_f000n, 0x2000)).toBe(2 ** 33);
    expect(alignedBlock(0x1234n, 1)).toBe(1);
  });

  it('the controller offset and maps needed follow the profile: RK3399 aligns by pass-through bits and stops at 1 MiB', () => {
    const testbed = createTestbed({ profile: findProfile('rk3399')! });
    try {
      const crossing = describeFailedAccess(testbed.epc, 0xf_ff00n, 0x200, 'toHost', 'EFAULT', 'workload');
      expect(crossing).toMatchObject({ pciAddr: '0xfff00', startAlign: 0x100, block: 0x20_0000, mapsNeeded: 2 });
      expect(crossing.controllerOffset).toBeGreaterThan(0);
      const aligned = describeFailedAccess(testbed.epc, 0x2000n, 0x1000, 'fromHost', 'EINVAL', 'bring-up');
      expect(aligned).toMatchObject({ controllerOffset: 0, mapsNeeded: 1, block: 0x1000, phase: 'bring-up' });
    } finally {
      testbed.close();
    }
  });
});
