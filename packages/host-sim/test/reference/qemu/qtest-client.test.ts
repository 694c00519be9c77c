import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableMsix, findNvme, programBar0 } from '../../../src/reference/qemu/pci-config.js';
import { QemuProcess, qemuAvailable } from '../../../src/reference/qemu/qemu-process.js';

const BAR0 = 0xc000_0000n;
const hasQemu = qemuAvailable();
if (!hasQemu)
  console.log('QEMU (qemu-system-x86_64) is not installed: the QEMU reference suite is not run here; CI installs it.');

describe.runIf(hasQemu)('QEMU over qtest', () => {
  let qemu: QemuProcess;
  beforeAll(async () => {
    qemu = await QemuProcess.start({ diskBytes: 64 << 20, blockSize: 512, mdts: 7, maxIoQueuePairs: 4 });
  });
  afterAll(() => qemu?.stop());

  it('finds the NVMe function, programs BAR0 and reads CAP and VS', () => {
    const cfg = findNvme(qemu.client);
    expect(cfg).not.toBeNull();
    programBar0(cfg!, BAR0);
    expect(qemu.client.readq(BAR0)).toBe(0x0040_1820_0f01_07ffn);
    expect(qemu.client.readl(BAR0 + 8n)).toBe(0x0001_0400);
    const msix = enableMsix(cfg!);
    expect(msix?.tableOffset).toBe(0x2000);
    expect(msix?.pbaOffset).toBe(0x3000);
  });

  it('moves guest memory exactly, across chunk boundaries', () => {
    const data = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff);
    qemu.client.memWrite(0x100_0003n, data);
    const back = new Uint8Array(data.length);
    qemu.client.memRead(0x100_0003n, back);
    expect(Buffer.compare(back, data)).toBe(0);
  });
});
