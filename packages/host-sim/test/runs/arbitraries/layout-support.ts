/** Submitting arbitrary layouts through the host driver: write a pattern through one, read it back through another. */
import { NvmOpcode } from '@epfsim/nvme-spec-types';
import { expect } from 'vitest';
import { scatter } from '../../../src/host/driver/buffer-io.js';
import { lbaCommand } from '../../../src/host/driver/nvm-commands.js';
import type { NvmeDriver } from '../../../src/host/driver/nvme-driver.js';
import { type CommandLayout, expectedReadBytes } from '../../../src/host/placement/layout.js';
import { LinuxPlacement } from '../../../src/host/placement/linux.js';
import type { Testbed } from '../../../src/host/target/epfsim-target.js';
import { driverOn, pattern, testbed } from '../../support/testbed.js';

/** Queues and Identify buffers far from every edge the arbitraries aim at. */
export function quietDriver(tb: Testbed): NvmeDriver {
  const placement = new LinuxPlacement(tb.memory, { seed: 1, arenaBase: 0x7f12_3450_0000n, arenaBytes: 16 << 20 });
  return driverOn(tb, { placement, ioQueues: 1 });
}

/** Runs an LBA command (namespace 1, 512-byte blocks) through a prebuilt layout; returns status and read data. */
export function submitWith(
  driver: NvmeDriver,
  opcode: number,
  slba: bigint,
  layout: CommandLayout,
  payload?: Uint8Array,
): { status: number; data: Uint8Array | undefined } {
  const nlb = layout.length / 512;
  const { data: _, ...fields } = lbaCommand(opcode, {
    nsid: 1,
    slba,
    nlb,
    blockSize: 512,
    nsze: 65536n,
    mdtsBytes: 0,
  });
  if (opcode === NvmOpcode.WRITE) scatter(driver.target.memory, layout, payload);
  const r = driver.finish(driver.submit(1, { ...fields, layout }));
  return { status: r.completion.status, data: r.data };
}

/**
 * Writes a pattern through the layout `write` places, reads the same blocks back through the one
 * `read` places, and checks the bytes, the grants, the faults and the maps. Returns false (nothing
 * checked) when a layout did not fit next to the testbed's own memory.
 */
export function roundTrip(
  profile: string,
  write: (tb: Testbed) => CommandLayout | undefined,
  read: (tb: Testbed) => CommandLayout | undefined,
): boolean {
  const tb = testbed(profile);
  const driver = quietDriver(tb);
  const w = write(tb);
  if (w === undefined) return false;
  const data = pattern(w.length, 5);
  expect(submitWith(driver, NvmOpcode.WRITE, 100n, w, data).status).toBe(0);
  const r = read(tb);
  if (r === undefined) return false;
  const back = submitWith(driver, NvmOpcode.READ, 100n, r);
  expect(back.status).toBe(0);
  // The blocks hold the pattern as far as it was written, zeroes after.
  const blocks = new Uint8Array(r.length);
  blocks.set(data.subarray(0, Math.min(r.length, data.length)));
  expect(back.data).toEqual(expectedReadBytes(r, blocks));
  expect(tb.memory.isolationViolations).toEqual([]);
  expect(tb.memory.busFaults).toEqual([]);
  expect(tb.leaks()).toBe(0);
  return true;
}
