import type { QtestClient } from './qtest-client.js';

/** PCI configuration mechanism #1 ports (CONFIG_ADDRESS / CONFIG_DATA). */
const CONFIG_ADDRESS = 0xcf8;
const CONFIG_DATA = 0xcfc;
const CONFIG_ENABLE = 0x8000_0000;

/** Type 0 header offsets and bits (PCI Local Bus 3.0 §6.1). */
const PCI_VENDOR_ID = 0x00;
const PCI_COMMAND = 0x04;
const PCI_CLASS_REVISION = 0x08;
const PCI_BAR0 = 0x10;
const PCI_CAPABILITY_LIST = 0x34;
const PCI_COMMAND_MEMORY = 0x2;
const PCI_COMMAND_MASTER = 0x4;
const PCI_CAP_ID_MSIX = 0x11;
const PCI_MSIX_FLAGS_ENABLE = 0x8000;
const PCI_MSIX_TABLE = 4;
const PCI_MSIX_PBA = 8;
const PCI_BAR_MEM_64 = 0x4;
const PCI_NO_DEVICE = 0xffff;
/** Class code 01h/08h/02h: mass storage, NVM, NVMe. */
const NVME_CLASS = 0x010802;
const DEVICES_PER_BUS = 32;

export interface PciFunction {
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
}

/** Reads and writes one function's configuration space through the qtest port commands. */
export class PciConfigAccess {
  private readonly qtest: QtestClient;
  readonly fn: PciFunction;

  constructor(qtest: QtestClient, fn: PciFunction) {
    this.qtest = qtest;
    this.fn = fn;
  }

  read32(reg: number): number {
    this.qtest.outl(CONFIG_ADDRESS, configAddress(this.fn, reg));
    return this.qtest.inl(CONFIG_DATA);
  }

  write32(reg: number, value: number): void {
    this.qtest.outl(CONFIG_ADDRESS, configAddress(this.fn, reg));
    this.qtest.outl(CONFIG_DATA, value);
  }

  read16(reg: number): number {
    this.qtest.outl(CONFIG_ADDRESS, configAddress(this.fn, reg));
    return this.qtest.inw(CONFIG_DATA + (reg & 2));
  }

  write16(reg: number, value: number): void {
    this.qtest.outl(CONFIG_ADDRESS, configAddress(this.fn, reg));
    this.qtest.outw(CONFIG_DATA + (reg & 2), value);
  }

  /** Offset of capability `id` in the capability list, or 0. */
  findCapability(id: number): number {
    let at = this.read32(PCI_CAPABILITY_LIST) & 0xfc;
    for (let hops = 0; at !== 0 && hops < 48; hops++) {
      const header = this.read16(at);
      if ((header & 0xff) === id) return at;
      at = (header >> 8) & 0xfc;
    }
    return 0;
  }
}

function configAddress(fn: PciFunction, reg: number): number {
  return (CONFIG_ENABLE | (fn.bus << 16) | (fn.device << 11) | (fn.fn << 8) | (reg & 0xfc)) >>> 0;
}

/** Finds the first NVMe controller on bus 0. */
export function findNvme(qtest: QtestClient): PciConfigAccess | null {
  for (let device = 0; device < DEVICES_PER_BUS; device++) {
    const cfg = new PciConfigAccess(qtest, { bus: 0, device, fn: 0 });
    if ((cfg.read32(PCI_VENDOR_ID) & 0xffff) === PCI_NO_DEVICE) continue;
    if (cfg.read32(PCI_CLASS_REVISION) >>> 8 === NVME_CLASS) return cfg;
  }
  return null;
}

export interface MsixLayout {
  readonly vectors: number;
  readonly tableOffset: number;
  readonly pbaOffset: number;
}

/** Places BAR0 (64-bit memory) at `base`, enables memory decoding and bus mastering. */
export function programBar0(cfg: PciConfigAccess, base: bigint): void {
  const low = cfg.read32(PCI_BAR0);
  cfg.write32(PCI_BAR0, Number(base & 0xffff_fff0n));
  if ((low & 0x6) === PCI_BAR_MEM_64) cfg.write32(PCI_BAR0 + 4, Number(base >> 32n));
  cfg.write16(PCI_COMMAND, cfg.read16(PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

/** Enables MSI-X and reports where its table and PBA are in BAR0. */
export function enableMsix(cfg: PciConfigAccess): MsixLayout | null {
  const cap = cfg.findCapability(PCI_CAP_ID_MSIX);
  if (cap === 0) return null;
  const control = cfg.read16(cap + 2);
  cfg.write16(cap + 2, control | PCI_MSIX_FLAGS_ENABLE);
  return {
    vectors: (control & 0x7ff) + 1,
    tableOffset: cfg.read32(cap + PCI_MSIX_TABLE) & ~0x7,
    pbaOffset: cfg.read32(cap + PCI_MSIX_PBA) & ~0x7,
  };
}
