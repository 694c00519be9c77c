/** A small testbed (2 namespaces: 512 B and 4 KiB blocks) with a driver brought up on it. */
import type { NvmeDriverOptions } from '../../src/host/driver/driver-options.js';
import { NvmeDriver } from '../../src/host/driver/nvme-driver.js';
import { createTestbed, type Testbed, type TestbedOptions } from '../../src/host/target/epfsim-target.js';
import type { NvmeTarget } from '../../src/host/target/target.js';
import { patternSlice } from '../../src/runs/case-file/data-pattern.js';

export const NS512 = { blockSize: 512, blocks: 65536, backend: { kind: 'ram' } } as const;
export const NS4K = { blockSize: 4096, blocks: 8192, backend: { kind: 'ram' } } as const;

export function testbed(profile = 'generic', options: Omit<TestbedOptions, 'profile'> = {}): Testbed {
  return createTestbed({
    profile,
    ...options,
    function: { namespaces: [{ ...NS512 }, { ...NS4K }], ...options.function },
  });
}

/** A driver on `target` (default: the testbed's), initialised. */
export function driverOn(tb: Testbed, options: NvmeDriverOptions = {}, target: NvmeTarget = tb.target): NvmeDriver {
  const driver = new NvmeDriver(target, { seed: 1, ...options });
  driver.init();
  return driver;
}

/** A recognisable pattern: every byte depends on its position and a seed (the case files' pattern). */
export function pattern(bytes: number, seed: number): Uint8Array {
  return patternSlice(seed, bytes);
}
