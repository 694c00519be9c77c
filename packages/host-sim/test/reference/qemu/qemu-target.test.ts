import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NvmeDriver } from '../../../src/host/driver/nvme-driver.js';
import { createPlacement } from '../../../src/host/placement/placement-factory.js';
import { qemuAvailable } from '../../../src/reference/qemu/qemu-process.js';
import { QemuTarget } from '../../../src/reference/qemu/qemu-target.js';

/** The linux placement's arena, moved into QEMU's guest RAM. */
const ARENA = 0x0200_0000n;
const hasQemu = qemuAvailable();
if (!hasQemu)
  console.log('QEMU (qemu-system-x86_64) is not installed: the QEMU target suite is not run here; CI installs it.');

describe.runIf(hasQemu)('the host driver on QEMU\u2019s NVMe controller', () => {
  let target: QemuTarget;
  let driver: NvmeDriver;
  beforeAll(async () => {
    target = await QemuTarget.start();
    const placement = createPlacement('linux', target.memory, { seed: 3, arenaBase: ARENA, arenaBytes: 64 << 20 });
    driver = new NvmeDriver(target, { placement, ioQueues: 2, ioQueueDepth: 32 });
    driver.init();
  });
  afterAll(() => target?.close());

  it('brings QEMU up: Identify, namespaces, I/O queues with MSI-X', () => {
    expect(driver.controller?.mdtsBytes).toBe(512 * 1024);
    expect(driver.controller?.identify.mn.trim()).toBe('QEMU NVMe Ctrl');
    expect(driver.namespaces.get(1)?.blockSize).toBe(512);
    expect(driver.ioQueueIds.length).toBe(2);
    expect(target.interrupts.total).toBeGreaterThan(0);
  });

  it('writes and reads back through PRP lists, and the bytes reach the disk image', () => {
    const data = Uint8Array.from({ length: 96 * 512 }, (_, i) => (i * 13 + 7) & 0xff);
    expect(driver.write(1, 8n, data).completion.status).toBe(0);
    const back = driver.read(1, 8n, 96);
    expect(back.completion.status).toBe(0);
    expect(Buffer.compare(back.data!, data)).toBe(0);
    expect(driver.flush(1).status).toBe(0);
    const image = readFileSync(target.diskPath);
    expect(Buffer.compare(image.subarray(8 * 512, 104 * 512), data)).toBe(0);
  });
});
