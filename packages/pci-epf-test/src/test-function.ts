import type { Epc, EpcError, InboundBar } from '@epfsim/epc-core';
import { testChecksum } from './crc32.js';
import { fillRandom } from './random-bytes.js';
import { CAP, COMMAND, FLAG_USE_DMA, IRQ_TYPE, STATUS, TEST_REG } from './registers.js';
import { dmaHost, type MapLoop, readHost, writeHost } from './transfer.js';

/** The BAR the registers live in (`test_reg_bar`, BAR 0 on most controllers). */
export const TEST_REG_BAR = 0;
/** The register BAR's size: one page, as pci_epf_test_alloc_space() rounds it. */
export const TEST_REG_BAR_SIZE = 4096;
/**
 * The largest transfer the function takes: the kernel function kzalloc()s a buffer of SIZE bytes,
 * which fails above KMALLOC_MAX_SIZE (4 MiB with 4 KiB pages); the command then fails.
 */
export const MAX_TRANSFER = 4 * 1024 * 1024;
/** The MSI and MSI-X vectors the function offers. */
export const TEST_IRQ_VECTORS = 32;

export interface TestFunctionOptions {
  /** The map loop (default `mem-map`, the kernel's since v6.13). */
  readonly mapLoop?: MapLoop;
  /** Random bytes for WRITE (the kernel's get_random_bytes()); seeded in tests. */
  readonly random?: (into: Uint8Array) => void;
}

/** What the function did with each command, for a report. */
export interface TestFunctionEvent {
  readonly command: number;
  readonly status: number;
  /** Why the command failed or was ignored, as the kernel function's dev_err() says it. */
  readonly error?: string;
  readonly epc?: EpcError;
}

/**
 * The Linux endpoint test function (pci-epf-test.c, v6.13) on an {@link Epc}: its registers in BAR
 * 0, and on each {@link poll} the command the host wrote, executed as pci_epf_test_cmd_handler()
 * does — the command and status registers cleared, READ, WRITE or COPY through the map loop (or
 * DMA), the status set, and the interrupt the host configured raised.
 */
export class EndpointTestFunction {
  readonly epc: Epc;
  readonly bar: InboundBar;
  readonly events: TestFunctionEvent[] = [];
  readonly #loop: MapLoop;
  readonly #random: (into: Uint8Array) => void;
  /** Why the command being run failed, for its event. */
  #lastError: { error?: string; epc?: EpcError } = {};

  constructor(epc: Epc, options: TestFunctionOptions = {}) {
    this.epc = epc;
    this.#loop = options.mapLoop ?? 'mem-map';
    this.#random = options.random ?? fillRandom;
    this.bar = epc.setBar(TEST_REG_BAR, TEST_REG_BAR_SIZE);
    const irq = epc.profile.irq;
    if (irq.msi) epc.setMsi(TEST_IRQ_VECTORS);
    // The MSI-X table and PBA sit in the register BAR after the registers.
    if (irq.msix) epc.setMsix(TEST_IRQ_VECTORS, TEST_REG_BAR, TEST_REG_BAR_SIZE / 2, TEST_REG_BAR_SIZE - 64);
    const caps = CAP.UNALIGNED_ACCESS | (irq.msi ? CAP.MSI : 0) | (irq.msix ? CAP.MSIX : 0) | (irq.intx ? CAP.INTX : 0);
    this.bar.write32(TEST_REG.CAPS, caps);
  }

  /** Runs the command the host wrote, if any. Returns 1 when it took one, 0 when idle. */
  poll(): number {
    const bar = this.bar;
    const command = bar.read32(TEST_REG.COMMAND);
    if (command === 0) return 0;
    bar.write32(TEST_REG.COMMAND, 0);
    bar.write32(TEST_REG.STATUS, 0);
    const flags = bar.read32(TEST_REG.FLAGS);
    if ((flags & FLAG_USE_DMA) !== 0 && !this.epc.profile.hasDma)
      return this.#ignored(command, 'Cannot transfer data using DMA');
    if (bar.read32(TEST_REG.IRQ_TYPE) > IRQ_TYPE.MSIX) return this.#ignored(command, 'Failed to detect IRQ type');
    switch (command) {
      case COMMAND.RAISE_INTX_IRQ:
      case COMMAND.RAISE_MSI_IRQ:
      case COMMAND.RAISE_MSIX_IRQ:
        this.#finish(command, 0);
        return 1;
      case COMMAND.READ:
        this.#finish(command, this.#read((flags & FLAG_USE_DMA) !== 0));
        return 1;
      case COMMAND.WRITE:
        this.#finish(command, this.#write((flags & FLAG_USE_DMA) !== 0));
        return 1;
      case COMMAND.COPY:
        this.#finish(command, this.#copy((flags & FLAG_USE_DMA) !== 0));
        return 1;
      default:
        return this.#ignored(command, `Invalid command 0x${command.toString(16)}`);
    }
  }

  /** READ: the host's buffer at SRC, checked against the CHECKSUM the host wrote. */
  #read(dma: boolean): number {
    const buf = this.#buffer(STATUS.READ_FAIL);
    if (typeof buf === 'number') return buf;
    const src = this.#addr(TEST_REG.LOWER_SRC_ADDR);
    const error = dma ? dmaHost(this.epc, src, buf, 'from') : readHost(this.epc, this.#loop, src, buf);
    if (error !== null) return this.#failed(STATUS.READ_FAIL | STATUS.SRC_ADDR_INVALID, error);
    const ok = testChecksum(buf) === this.bar.read32(TEST_REG.CHECKSUM);
    return ok ? STATUS.READ_SUCCESS : this.#failed(STATUS.READ_FAIL, undefined, 'checksum mismatch');
  }

  /** WRITE: random bytes to the host's buffer at DST, their CHECKSUM for the host to check. */
  #write(dma: boolean): number {
    const buf = this.#buffer(STATUS.WRITE_FAIL);
    if (typeof buf === 'number') return buf;
    this.#random(buf);
    this.bar.write32(TEST_REG.CHECKSUM, testChecksum(buf));
    const dst = this.#addr(TEST_REG.LOWER_DST_ADDR);
    const error = dma ? dmaHost(this.epc, dst, buf, 'to') : writeHost(this.epc, this.#loop, dst, buf);
    return error === null ? STATUS.WRITE_SUCCESS : this.#failed(STATUS.WRITE_FAIL | STATUS.DST_ADDR_INVALID, error);
  }

  /** COPY: SRC to DST through the function's buffer. */
  #copy(dma: boolean): number {
    const buf = this.#buffer(STATUS.COPY_FAIL);
    if (typeof buf === 'number') return buf;
    const src = this.#addr(TEST_REG.LOWER_SRC_ADDR);
    const read = dma ? dmaHost(this.epc, src, buf, 'from') : readHost(this.epc, this.#loop, src, buf);
    if (read !== null) return this.#failed(STATUS.COPY_FAIL | STATUS.SRC_ADDR_INVALID, read);
    const dst = this.#addr(TEST_REG.LOWER_DST_ADDR);
    const write = dma ? dmaHost(this.epc, dst, buf, 'to') : writeHost(this.epc, this.#loop, dst, buf);
    return write === null ? STATUS.COPY_SUCCESS : this.#failed(STATUS.COPY_FAIL | STATUS.DST_ADDR_INVALID, write);
  }

  /** The function's buffer for SIZE bytes, or the failing status when it cannot have one. */
  #buffer(fail: number): Uint8Array | number {
    const size = this.bar.read32(TEST_REG.SIZE);
    if (size === 0) return this.#failed(fail, undefined, 'zero-length transfer');
    if (size > MAX_TRANSFER) return this.#failed(fail, undefined, `${size} bytes: buffer allocation failed (ENOMEM)`);
    return new Uint8Array(size);
  }

  #addr(lower: number): bigint {
    return (BigInt(this.bar.read32(lower + 4)) << 32n) | BigInt(this.bar.read32(lower));
  }

  #failed(status: number, epc?: EpcError, error?: string): number {
    this.#lastError = {
      ...(epc === undefined ? {} : { epc, error: epc.message }),
      ...(error === undefined ? {} : { error }),
    };
    return status;
  }

  /** Sets STATUS (with IRQ_RAISED) and raises the interrupt the host configured (pci_epf_test_raise_irq()). */
  #finish(command: number, status: number): void {
    const bar = this.bar;
    const raised = status | STATUS.IRQ_RAISED;
    bar.write32(TEST_REG.STATUS, raised);
    const irqError = this.#raise(bar.read32(TEST_REG.IRQ_TYPE), bar.read32(TEST_REG.IRQ_NUMBER));
    const last = this.#lastError;
    this.#lastError = {};
    const error = last.error ?? irqError;
    this.events.push({
      command,
      status: raised,
      ...(error === undefined ? {} : { error }),
      ...(last.epc === undefined ? {} : { epc: last.epc }),
    });
  }

  #raise(type: number, number: number): string | undefined {
    if (type === IRQ_TYPE.INTX) {
      this.epc.setIntx(true);
      this.epc.setIntx(false);
      return undefined;
    }
    const msix = type === IRQ_TYPE.MSIX;
    if (number < 1 || number > TEST_IRQ_VECTORS) return `Invalid ${msix ? 'MSI-X' : 'MSI'} IRQ number ${number}`;
    const error = this.epc.raiseIrq(msix ? 'msix' : 'msi', number - 1);
    return error === null ? undefined : `raising ${msix ? 'MSI-X' : 'MSI'} ${number}: ${error.message}`;
  }

  #ignored(command: number, error: string): number {
    this.events.push({ command, status: 0, error });
    return 1;
  }
}
