/**
 * The controller registers in BAR0 (NVMe Base 1.4 §3.1), seen the way the real endpoint function
 * sees them: BAR0 is plain memory the host writes by MMIO, so the function notices a write only
 * by polling and comparing. {@link RegisterFile.refresh} walks the register table
 * ({@link BAR0_REGISTERS}) once per poll and enforces each row's access: read-only values are
 * written back, reserved bits dropped, INTMS/INTMC (§3.1.3, §3.1.4) applied to the interrupt mask.
 */
import type { InboundBar } from '@epfsim/epc-core';
import { NVME_REG_ACQ, NVME_REG_AQA, NVME_REG_ASQ, NVME_REG_CC, NVME_REG_CSTS } from '@epfsim/nvme-spec-types';
import { BAR0_REGISTERS, type RegisterRow, registerAt } from './register-table.js';

const U32_SHIFT = 32n;
const U32_MASK_N = 0xffff_ffffn;
/** The high dword of a 64-bit register sits 4 bytes after its low dword. */
const HIGH_DWORD = 4;
const ALL = 0xffff_ffff;

const CC_ROW = registerAt(NVME_REG_CC);
const AQA_ROW = registerAt(NVME_REG_AQA);

/** BAR0 registers 0h..3Fh and their enforcement. */
export class RegisterFile {
  readonly bar: InboundBar;
  readonly #view: DataView;
  readonly #capLo: number;
  readonly #capHi: number;
  readonly #vs: number;
  #csts = 0;
  /** Interrupt mask of INTMS/INTMC (pin and MSI only), bit n = vector n. */
  #intMask = 0;
  /** Vectors unmasked by the INTMC write the last {@link refresh} applied. */
  #unmasked = 0;
  /** Last CC value the controller acted on (EN/SHN edges are measured against it). */
  ccSeen = 0;

  constructor(bar: InboundBar, cap: bigint, vs: number) {
    this.bar = bar;
    this.#view = bar.view;
    this.#capLo = Number(cap & U32_MASK_N);
    this.#capHi = Number((cap >> U32_SHIFT) & U32_MASK_N);
    this.#vs = vs;
    for (const row of BAR0_REGISTERS) if (row.access === 'RO') this.#restore(row);
  }

  get csts(): number {
    return this.#csts;
  }

  /** Sets CSTS and publishes it in BAR0 at once (the host polls it for RDY, CFS and SHST). */
  set csts(value: number) {
    this.#csts = value >>> 0;
    this.#view.setUint32(NVME_REG_CSTS, this.#csts, true);
  }

  get intMask(): number {
    return this.#intMask;
  }

  /** CC as the host wrote it, with reserved bits dropped (and written back as zero). */
  readCc(): number {
    return this.#dropReserved(CC_ROW);
  }

  /** Writes CC (the controller clears it on enable failure; reserved bits stay zero). */
  writeCc(value: number): void {
    this.#view.setUint32(NVME_REG_CC, (value & CC_ROW.writable) >>> 0, true);
  }

  readAqa(): number {
    return (this.#view.getUint32(NVME_REG_AQA, true) & AQA_ROW.writable) >>> 0;
  }

  /** ASQ and ACQ as written: a misaligned base fails the enable (P-13) instead of being masked silently. */
  readAsq(): bigint {
    return this.#view.getBigUint64(NVME_REG_ASQ, true);
  }

  readAcq(): bigint {
    return this.#view.getBigUint64(NVME_REG_ACQ, true);
  }

  /**
   * Once per poll: enforces every row of the register table. Returns the vectors whose mask bit
   * was cleared (pending MSIs for them may go now).
   */
  refresh(): number {
    this.#unmasked = 0;
    for (const row of BAR0_REGISTERS) {
      switch (row.access) {
        case 'RO':
          this.#restore(row);
          break;
        case 'RW':
          if (row.width === 4 && row.writable !== ALL) this.#dropReserved(row);
          break;
        case 'RW1S':
          this.#writeOneToSet(row);
          break;
        case 'RW1C':
          this.#writeOneToClear(row);
          break;
      }
    }
    return this.#unmasked;
  }

  /** Controller reset (CC.EN 1→0): the interrupt mask and CSTS return to their reset values. */
  resetState(): void {
    this.#intMask = 0;
    for (const row of BAR0_REGISTERS) {
      if (row.access === 'RW1S' || row.access === 'RW1C') this.#view.setUint32(row.offset, 0, true);
    }
    this.csts = 0;
  }

  /** The value a read-only row holds (its low dword for CAP). */
  #readOnlyValue(row: RegisterRow): number {
    switch (row.reset) {
      case 'CAP':
        return this.#capLo;
      case 'VS':
        return this.#vs;
      case 'CSTS':
        return this.#csts;
      case 'INTERRUPT_MASK':
        return this.#intMask;
      default:
        return row.reset;
    }
  }

  #restore(row: RegisterRow): void {
    this.#restoreDword(row.offset, this.#readOnlyValue(row));
    if (row.width === 8) this.#restoreDword(row.offset + HIGH_DWORD, row.reset === 'CAP' ? this.#capHi : 0);
  }

  #restoreDword(offset: number, value: number): void {
    if (this.#view.getUint32(offset, true) !== value) this.#view.setUint32(offset, value, true);
  }

  /** Bits outside the row's writable mask are reserved: written back as zero. Returns the value kept. */
  #dropReserved(row: RegisterRow): number {
    const raw = this.#view.getUint32(row.offset, true);
    const kept = (raw & row.writable) >>> 0;
    if (kept !== raw) this.#view.setUint32(row.offset, kept, true);
    return kept;
  }

  /** INTMS: write 1 to set; zeros have no effect (§3.1.3). It reads as the mask. */
  #writeOneToSet(row: RegisterRow): void {
    const set = this.#view.getUint32(row.offset, true);
    if (set === this.#intMask) return;
    this.#intMask = (this.#intMask | set) >>> 0;
    this.#view.setUint32(row.offset, this.#intMask, true);
  }

  /**
   * INTMC: write 1 to clear (§3.1.4). It reads as 0 here (a documented deviation, see the table),
   * and INTMS, which reads as the mask, follows.
   */
  #writeOneToClear(row: RegisterRow): void {
    const clear = this.#view.getUint32(row.offset, true);
    if (clear === 0) return;
    this.#unmasked = (this.#intMask & clear) >>> 0;
    this.#intMask = (this.#intMask & ~clear) >>> 0;
    this.#view.setUint32(row.offset, 0, true);
    for (const other of BAR0_REGISTERS) {
      if (other.access === 'RW1S') this.#view.setUint32(other.offset, this.#intMask, true);
    }
  }
}
