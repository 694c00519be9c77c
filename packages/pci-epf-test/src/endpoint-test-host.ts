import { createEpc, type Epc, type EpcProfile, HostAddressSpace } from '@epfsim/epc-core';
import { testChecksum } from './crc32.js';
import { fillRandom } from './random-bytes.js';
import { COMMAND, FLAG_USE_DMA, IRQ_TYPE, type IrqTypeValue, STATUS, TEST_REG } from './registers.js';
import { EndpointTestFunction, MAX_TRANSFER, TEST_REG_BAR, type TestFunctionOptions } from './test-function.js';

/** Where the host's interrupt messages land: a doorbell region outside RAM that counts them. */
const MSI_DOORBELL = 0xfee0_0000n;
const MSI_DOORBELL_SIZE = 4096;
const DWORD = 4;
/** Polls the host waits for a command's interrupt before it gives up (the kernel waits 1 s). */
const WAIT_POLLS = 16;
const U32_MASK = 0xffff_ffffn;

export interface EndpointTestHostOptions {
  readonly profile: EpcProfile;
  /**
   * The driver's `alignment`: buffers are allocated `size + alignment` bytes and the address given
   * to the function is rounded up to it (pci_endpoint_test_read() and friends); 0 leaves them as allocated.
   */
  readonly alignment?: number;
  /** Where buffers are allocated: the first at `ramBase + misalign`, each next one after the last. */
  readonly ramBase?: bigint;
  readonly ramSize?: number;
  readonly misalign?: number;
  readonly irqType?: IrqTypeValue;
  readonly function?: TestFunctionOptions;
  /** Random bytes for the host's buffers (the kernel's get_random_bytes()). */
  readonly random?: (into: Uint8Array) => void;
}

/** One test's outcome, as the kernel selftest reports it. */
export interface EndpointTestResult {
  readonly ok: boolean;
  /** STATUS as the function left it. */
  readonly status: number;
  /** Why it failed: a status bit, a checksum mismatch, or no interrupt, with the function's own reason. */
  readonly detail?: string;
}

/**
 * The host side of the test function, as drivers/misc/pci_endpoint_test.c drives it: buffers in
 * host RAM at the driver's alignment, the registers written, the command issued, the interrupt
 * waited for (the host polls the function, which runs in the same thread), STATUS and the
 * checksums compared.
 */
export class EndpointTestHost {
  readonly host = new HostAddressSpace();
  readonly epc: Epc;
  readonly fn: EndpointTestFunction;
  readonly irqs: number[] = [];
  intxAssertions = 0;
  readonly #alignment: bigint;
  readonly #ramEnd: bigint;
  readonly #random: (into: Uint8Array) => void;
  #next: bigint;
  #irqType: IrqTypeValue;

  constructor(options: EndpointTestHostOptions) {
    const ramBase = options.ramBase ?? 0x1000_0000n;
    const ramSize = options.ramSize ?? 64 * 1024 * 1024;
    this.host.memory.addRegion(ramBase, ramSize);
    this.#ramEnd = ramBase + BigInt(ramSize);
    this.host.addMmioRegion({
      start: MSI_DOORBELL,
      size: MSI_DOORBELL_SIZE,
      onWrite: (_addr, data) => {
        const vector = new DataView(data.buffer, data.byteOffset).getUint32(0, true);
        this.irqs[vector] = (this.irqs[vector] ?? 0) + 1;
      },
    });
    this.epc = createEpc(options.profile, this.host);
    this.epc.onIntx((asserted) => {
      if (asserted) this.intxAssertions++;
    });
    this.fn = new EndpointTestFunction(this.epc, options.function);
    this.#alignment = BigInt(options.alignment ?? 0);
    this.#next = ramBase + BigInt(options.misalign ?? 0);
    this.#random = options.random ?? fillRandom;
    const irq = options.profile.irq;
    this.#irqType = options.irqType ?? (irq.msix ? IRQ_TYPE.MSIX : irq.msi ? IRQ_TYPE.MSI : IRQ_TYPE.INTX);
    this.setIrqType(this.#irqType);
  }

  /** PCITEST_SET_IRQTYPE: enables the interrupt type in configuration space, as the PCI core would. */
  setIrqType(type: IrqTypeValue): void {
    this.#irqType = type;
    const c = this.epc.config;
    c.msiEnabled = type === IRQ_TYPE.MSI;
    c.msixEnabled = type === IRQ_TYPE.MSIX;
    if (type === IRQ_TYPE.MSI) Object.assign(c, { msiAddress: MSI_DOORBELL, msiData: 0, msiVectors: c.msiCapable });
    if (type === IRQ_TYPE.MSIX) {
      for (let v = 0; v < c.msixCapable; v++) {
        const entry = c.msixTableOffset + v * 16;
        this.epc.mmioWrite32(c.msixBar, entry, Number(MSI_DOORBELL));
        this.epc.mmioWrite32(c.msixBar, entry + 4, 0);
        this.epc.mmioWrite32(c.msixBar, entry + 8, v);
        this.epc.mmioWrite32(c.msixBar, entry + 12, 0);
      }
    }
  }

  /** PCITEST_BAR on the register BAR: a pattern written to MAGIC reads back. */
  barTest(): EndpointTestResult {
    const pattern = 0xa0a0_a0a0;
    this.#write(TEST_REG.MAGIC, pattern);
    const back = this.#read(TEST_REG.MAGIC);
    return back === pattern ? ok(0) : fail(0, `MAGIC read back 0x${back.toString(16)}`);
  }

  /** PCITEST_INTX_IRQ / PCITEST_MSI / PCITEST_MSIX: interrupt `number` (1-based) of `type` arrives. */
  irqTest(type: IrqTypeValue, number = 1): EndpointTestResult {
    this.setIrqType(type);
    const before = this.#irqCount(type, number);
    const command =
      type === IRQ_TYPE.INTX
        ? COMMAND.RAISE_INTX_IRQ
        : type === IRQ_TYPE.MSI
          ? COMMAND.RAISE_MSI_IRQ
          : COMMAND.RAISE_MSIX_IRQ;
    this.#write(TEST_REG.IRQ_TYPE, type);
    this.#write(TEST_REG.IRQ_NUMBER, number);
    const status = this.#run(command);
    const arrived = this.#irqCount(type, number) > before;
    return arrived ? ok(status) : fail(status, `no interrupt ${number} arrived${this.#why()}`);
  }

  /** PCITEST_WRITE: the host fills a buffer and the function READs it, checking the checksum the host wrote. */
  writeTest(size: number, useDma = false): EndpointTestResult {
    const src = this.#allocBuffer(size);
    const data = new Uint8Array(size);
    this.#random(data);
    this.host.hostWrite(src, data);
    this.#write(TEST_REG.CHECKSUM, testChecksum(data));
    this.#setAddr(TEST_REG.LOWER_SRC_ADDR, src);
    const status = this.#transfer(COMMAND.READ, size, useDma);
    if (status === undefined) return fail(0, `no interrupt: the function did not complete the command${this.#why()}`);
    return (status & STATUS.READ_SUCCESS) !== 0 ? ok(status) : fail(status, `READ failed${this.#why()}`);
  }

  /** PCITEST_READ: the function WRITEs random bytes to a host buffer; the host checks their checksum. */
  readTest(size: number, useDma = false): EndpointTestResult {
    const dst = this.#allocBuffer(size);
    this.#setAddr(TEST_REG.LOWER_DST_ADDR, dst);
    const status = this.#transfer(COMMAND.WRITE, size, useDma);
    if (status === undefined) return fail(0, `no interrupt: the function did not complete the command${this.#why()}`);
    if ((status & STATUS.WRITE_SUCCESS) === 0) return fail(status, `WRITE failed${this.#why()}`);
    const landed = new Uint8Array(size);
    this.host.hostRead(dst, landed);
    const expected = this.#read(TEST_REG.CHECKSUM);
    const got = testChecksum(landed);
    return got === expected ? ok(status) : fail(status, checksumMismatch(got, expected, dst, size));
  }

  /** PCITEST_COPY: the function copies one host buffer to another; the host compares their checksums. */
  copyTest(size: number, useDma = false): EndpointTestResult {
    const src = this.#allocBuffer(size);
    const dst = this.#allocBuffer(size);
    const data = new Uint8Array(size);
    this.#random(data);
    this.host.hostWrite(src, data);
    this.#setAddr(TEST_REG.LOWER_SRC_ADDR, src);
    this.#setAddr(TEST_REG.LOWER_DST_ADDR, dst);
    const status = this.#transfer(COMMAND.COPY, size, useDma);
    if (status === undefined) return fail(0, `no interrupt: the function did not complete the command${this.#why()}`);
    if ((status & STATUS.COPY_SUCCESS) === 0) return fail(status, `COPY failed${this.#why()}`);
    const copied = new Uint8Array(size);
    this.host.hostRead(dst, copied);
    const got = testChecksum(copied);
    const expected = testChecksum(data);
    return got === expected ? ok(status) : fail(status, checksumMismatch(got, expected, dst, size));
  }

  /** The biggest transfer the function takes. */
  static readonly maxTransfer = MAX_TRANSFER;

  /** Writes raw registers and a command, as a misbehaving host might; returns STATUS after the function ran. */
  rawCommand(registers: Readonly<Partial<Record<keyof typeof TEST_REG, number>>>, command: number): number {
    for (const [name, value] of Object.entries(registers)) this.#write(TEST_REG[name as keyof typeof TEST_REG], value);
    return this.#run(command);
  }

  /** `size + alignment` bytes from the host's RAM, the address rounded up to the alignment. */
  #allocBuffer(size: number): bigint {
    const orig = this.#next;
    this.#next = orig + BigInt(size) + this.#alignment;
    if (this.#next > this.#ramEnd) throw new RangeError(`host RAM exhausted allocating ${size} bytes`);
    const a = this.#alignment;
    return a === 0n || orig % a === 0n ? orig : orig + (a - (orig % a));
  }

  #transfer(command: number, size: number, useDma: boolean): number | undefined {
    this.#write(TEST_REG.SIZE, size);
    this.#write(TEST_REG.FLAGS, useDma ? FLAG_USE_DMA : 0);
    this.#write(TEST_REG.IRQ_TYPE, this.#irqType);
    this.#write(TEST_REG.IRQ_NUMBER, 1);
    const before = this.#irqCount(this.#irqType, 1);
    const status = this.#run(command);
    return this.#irqCount(this.#irqType, 1) > before ? status : undefined;
  }

  /** Writes COMMAND and lets the function run until it takes it (bounded). */
  #run(command: number): number {
    const events = this.fn.events.length;
    this.#write(TEST_REG.COMMAND, command);
    for (let i = 0; i < WAIT_POLLS && this.fn.events.length === events; i++) this.fn.poll();
    return this.#read(TEST_REG.STATUS);
  }

  #why(): string {
    const last = this.fn.events.at(-1);
    return last?.error === undefined ? '' : ` (the function: ${last.error})`;
  }

  #irqCount(type: IrqTypeValue, number: number): number {
    return type === IRQ_TYPE.INTX ? this.intxAssertions : (this.irqs[number - 1] ?? 0);
  }

  #setAddr(lower: number, addr: bigint): void {
    this.#write(lower, Number(addr & U32_MASK));
    this.#write(lower + DWORD, Number((addr >> 32n) & U32_MASK));
  }

  #write(offset: number, value: number): void {
    this.epc.mmioWrite32(TEST_REG_BAR, offset, value);
  }

  #read(offset: number): number {
    return this.epc.mmioRead32(TEST_REG_BAR, offset);
  }
}

function ok(status: number): EndpointTestResult {
  return { ok: true, status };
}

function fail(status: number, detail: string): EndpointTestResult {
  return { ok: false, status, detail };
}

function checksumMismatch(got: number, expected: number, addr: bigint, size: number): string {
  return `checksum mismatch: 0x${got.toString(16)} over ${size} bytes at 0x${addr.toString(16)}, expected 0x${expected.toString(16)}`;
}
