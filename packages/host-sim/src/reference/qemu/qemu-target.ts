import type { HostRange } from '../../host/memory/host-range.js';
import type { InterruptCounter } from '../../host/memory/msi-doorbell.js';
import type { NvmeTarget } from '../../host/target/target.js';
import { GUEST_ARENA_BASE, QemuGuestMemory } from './guest-memory.js';
import { enableMsix, findNvme, type MsixLayout, programBar0 } from './pci-config.js';
import { QEMU_GUEST_RAM, type QemuOptions, QemuProcess } from './qemu-process.js';
import { QtestError } from './qtest-client.js';

/** Where BAR0 goes: in the q35 PCI hole below 4 GiB, far above the guest's 256 MiB of RAM. */
const BAR0_BASE = 0xc000_0000n;
/** MSI-X messages land in RAM mailboxes, one dword per vector (the technique of QEMU's libqos, tests/qtest/libqos). */
const MAILBOX_BASE = GUEST_ARENA_BASE - 0x1000n;
const MAILBOX_ENTRY = 4;
const MSIX_ENTRY_SIZE = 16;
const MSIX_VECTOR_MASKED = 1;
/** Mailbox data: a cookie in the high half so an untouched (zero) dword never counts. */
const MAILBOX_COOKIE = 0xcafe_0000;

/** The dword vector `v` writes (unsigned: `|` alone yields a negative int32). */
function cookie(v: number): number {
  return (MAILBOX_COOKIE | v) >>> 0;
}

/** The guest RAM a host placement may use on the QEMU target (what {@link QemuGuestMemory.usable} gives). */
export const QEMU_HOST_RAM: HostRange = Object.freeze({
  addr: GUEST_ARENA_BASE,
  size: QEMU_GUEST_RAM - Number(GUEST_ARENA_BASE),
});

export const QEMU_DEFAULTS: QemuOptions = { diskBytes: 64 * 1024 * 1024, blockSize: 512, mdts: 7, maxIoQueuePairs: 4 };

/**
 * QEMU's NVMe controller as an {@link NvmeTarget}: the independent reference. Register
 * access is qtest MMIO on BAR0; host memory is guest RAM; MSI-X vectors write cookies into
 * RAM mailboxes that each {@link step} collects. Time is the wall clock.
 */
/** Wall-clock time QEMU may take between writing a CQE and its MSI-X message reaching the mailbox (generous: a loaded machine runs QEMU late). */
const QEMU_INTERRUPT_LATENCY_MS = 2_000;

export class QemuTarget implements NvmeTarget {
  readonly name: string;
  readonly memory: QemuGuestMemory;
  readonly interrupts: InterruptCounter;
  /** MSI-X messages land in guest RAM and are collected by the next step, a poll after the CQE may be seen. */
  readonly interruptLatencyMs = QEMU_INTERRUPT_LATENCY_MS;
  private readonly qemu: QemuProcess;
  private readonly msix: MsixLayout | null;
  private readonly counts: number[] = [];
  private vectors = 0;
  private readonly mailbox = new Uint8Array(0x1000);

  private constructor(qemu: QemuProcess, msix: MsixLayout | null) {
    this.qemu = qemu;
    this.msix = msix;
    this.name = 'qemu:nvme';
    this.memory = new QemuGuestMemory(qemu.client, QEMU_GUEST_RAM);
    const counts = this.counts;
    this.interrupts = {
      count: (vector) => counts[vector] ?? 0,
      get total() {
        return counts.reduce((a, b) => a + b, 0);
      },
    };
  }

  /** Starts QEMU, finds the NVMe function and programs BAR0 and MSI-X. */
  static async start(options: Partial<QemuOptions> = {}): Promise<QemuTarget> {
    const qemu = await QemuProcess.start({ ...QEMU_DEFAULTS, ...options });
    try {
      const cfg = findNvme(qemu.client);
      if (cfg === null) throw new QtestError('QEMU has no NVMe function on bus 0');
      programBar0(cfg, BAR0_BASE);
      return new QemuTarget(qemu, enableMsix(cfg));
    } catch (error) {
      qemu.stop();
      throw error;
    }
  }

  /** The namespace image: what the controller wrote, for differential comparison. */
  get diskPath(): string {
    return this.qemu.diskPath;
  }

  mmioRead32(offset: number): number {
    return this.qemu.client.readl(BAR0_BASE + BigInt(offset));
  }

  mmioWrite32(offset: number, value: number): void {
    this.qemu.client.writel(BAR0_BASE + BigInt(offset), value);
  }

  mmioRead64(offset: number): bigint {
    return (BigInt(this.mmioRead32(offset + 4)) << 32n) | BigInt(this.mmioRead32(offset));
  }

  mmioWrite64(offset: number, value: bigint): void {
    this.mmioWrite32(offset, Number(value & 0xffff_ffffn));
    this.mmioWrite32(offset + 4, Number(value >> 32n));
  }

  enableMsix(vectors: number): number {
    if (this.msix === null) return 0;
    this.vectors = Math.min(vectors, this.msix.vectors, this.mailbox.length / MAILBOX_ENTRY);
    this.memory.zero(MAILBOX_BASE, this.mailbox.length);
    for (let v = 0; v < this.vectors; v++) {
      const entry = this.msix.tableOffset + v * MSIX_ENTRY_SIZE;
      const addr = MAILBOX_BASE + BigInt(v * MAILBOX_ENTRY);
      this.mmioWrite32(entry, Number(addr & 0xffff_ffffn));
      this.mmioWrite32(entry + 4, Number(addr >> 32n));
      this.mmioWrite32(entry + 8, cookie(v));
      this.mmioWrite32(entry + 12, 0);
      this.counts[v] = 0;
    }
    return this.vectors;
  }

  maskMsixVector(vector: number, masked: boolean): void {
    if (this.msix === null) return;
    this.mmioWrite32(this.msix.tableOffset + vector * MSIX_ENTRY_SIZE + 12, masked ? MSIX_VECTOR_MASKED : 0);
  }

  /** QEMU's NVMe device offers MSI-X only; MSI and INTx through a pin need an interrupt controller model. */
  enableMsi(_vectors: number): number {
    return 0;
  }

  enableIntx(): boolean {
    return false;
  }

  now(): number {
    return performance.now();
  }

  /**
   * One round trip: QEMU runs its bottom halves between qtest commands, so this is where the
   * device makes progress. Collects the MSI-X mailboxes (and clears the ones that fired).
   */
  step(): number {
    if (this.vectors === 0) {
      this.qemu.client.readl(BAR0_BASE + 0x1cn);
      return 0;
    }
    const bytes = this.mailbox.subarray(0, this.vectors * MAILBOX_ENTRY);
    this.memory.read(MAILBOX_BASE, bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    let fired = 0;
    for (let v = 0; v < this.vectors; v++) {
      if (view.getUint32(v * MAILBOX_ENTRY, true) !== cookie(v)) continue;
      this.counts[v] = (this.counts[v] ?? 0) + 1;
      this.memory.zero(MAILBOX_BASE + BigInt(v * MAILBOX_ENTRY), MAILBOX_ENTRY);
      fired++;
    }
    return fired;
  }

  close(): void {
    this.qemu.stop();
  }
}
