/**
 * The controller registers in BAR0 (NVMe Base 1.4 §3.1), seen the way the real endpoint function
 * sees them: BAR0 is plain memory the host writes by MMIO, so the function notices a write only
 * by polling and comparing, and enforces read-only fields and reserved bits by writing its own
 * value back. {@link RegisterFile.refresh} does that once per poll.
 *
 * INTMS/INTMC (§3.1.3, §3.1.4) are write-1-to-set and write-1-to-clear registers that both read
 * back as the mask. A poller sees a write only when it changes the bytes, so a write to INTMC of
 * exactly the current mask (the common "unmask all") would be invisible. INTMC therefore reads as
 * 0 here (a documented deviation on read, so that every write takes effect); INTMS reads as the mask.
 */
import type { InboundBar } from '@epfsim/epc-core';
import {
  AQA,
  type BitField,
  CC,
  NVME_REG_ACQ,
  NVME_REG_AQA,
  NVME_REG_ASQ,
  NVME_REG_CAP,
  NVME_REG_CC,
  NVME_REG_CMBLOC,
  NVME_REG_CMBSZ,
  NVME_REG_CSTS,
  NVME_REG_INTMC,
  NVME_REG_INTMS,
  NVME_REG_NSSR,
  NVME_REG_VS,
} from '@epfsim/nvme-spec-types';

/** Mask of the bits of a field. */
function fieldMask(f: BitField): number {
  return ((2 ** f.len - 1) * 2 ** f.bit) >>> 0;
}

/**
 * CC bits the controller implements: EN, CSS, MPS, AMS, SHN, IOSQES, IOCQES. CRIME (bit 24) is
 * reserved because CAP.CRMS = 0, and bits 3:1 and 31:25 are reserved (NVMe Base 2.0 §3.1.3.5).
 */
export const CC_WRITABLE_MASK =
  fieldMask(CC.EN) |
  fieldMask(CC.CSS) |
  fieldMask(CC.MPS) |
  fieldMask(CC.AMS) |
  fieldMask(CC.SHN) |
  fieldMask(CC.IOSQES) |
  fieldMask(CC.IOCQES);

/** AQA bits: ASQS 11:0 and ACQS 27:16; the rest is reserved (NVMe Base 1.4 §3.1.8). */
export const AQA_WRITABLE_MASK = fieldMask(AQA.ASQS) | fieldMask(AQA.ACQS);

/** Read-only 32-bit registers that read as zero here: NSSR (CAP.NSSRS = 0), CMBLOC and CMBSZ (no CMB). */
const ZERO_REGISTERS = [NVME_REG_NSSR, NVME_REG_CMBLOC, NVME_REG_CMBSZ] as const;

const U32_SHIFT = 32n;
/** CAP is 64-bit: its high dword sits 4 bytes after its low dword. */
const CAP_HI = NVME_REG_CAP + 4;
const U32_MASK_N = 0xffff_ffffn;

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
  /** Last CC value the controller acted on (EN/SHN edges are measured against it). */
  ccSeen = 0;

  constructor(bar: InboundBar, cap: bigint, vs: number) {
    this.bar = bar;
    this.#view = bar.view;
    this.#capLo = Number(cap & U32_MASK_N);
    this.#capHi = Number((cap >> U32_SHIFT) & U32_MASK_N);
    this.#vs = vs;
    this.#writeReadOnly();
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
    const raw = this.#view.getUint32(NVME_REG_CC, true);
    const cc = (raw & CC_WRITABLE_MASK) >>> 0;
    if (cc !== raw) this.#view.setUint32(NVME_REG_CC, cc, true);
    return cc;
  }

  /** Writes CC (the controller clears it on enable failure; reserved bits stay zero). */
  writeCc(value: number): void {
    this.#view.setUint32(NVME_REG_CC, (value & CC_WRITABLE_MASK) >>> 0, true);
  }

  readAqa(): number {
    return (this.#view.getUint32(NVME_REG_AQA, true) & AQA_WRITABLE_MASK) >>> 0;
  }

  /** ASQ and ACQ as written: a misaligned base fails the enable (P-13) instead of being masked silently. */
  readAsq(): bigint {
    return this.#view.getBigUint64(NVME_REG_ASQ, true);
  }

  readAcq(): bigint {
    return this.#view.getBigUint64(NVME_REG_ACQ, true);
  }

  /**
   * Once per poll: restores read-only registers, drops reserved AQA bits, and applies INTMS/INTMC
   * writes. Returns the vectors whose mask bit was cleared (pending MSIs for them may go now).
   */
  refresh(): number {
    this.#writeReadOnly();
    const aqa = this.#view.getUint32(NVME_REG_AQA, true);
    if ((aqa & ~AQA_WRITABLE_MASK) !== 0) this.#view.setUint32(NVME_REG_AQA, (aqa & AQA_WRITABLE_MASK) >>> 0, true);
    const set = this.#view.getUint32(NVME_REG_INTMS, true);
    if (set !== this.#intMask) {
      // Write 1 to set; zeros have no effect (§3.1.3).
      this.#intMask = (this.#intMask | set) >>> 0;
      this.#view.setUint32(NVME_REG_INTMS, this.#intMask, true);
    }
    const clear = this.#view.getUint32(NVME_REG_INTMC, true);
    let unmasked = 0;
    if (clear !== 0) {
      unmasked = (this.#intMask & clear) >>> 0;
      this.#intMask = (this.#intMask & ~clear) >>> 0;
      this.#view.setUint32(NVME_REG_INTMC, 0, true);
      this.#view.setUint32(NVME_REG_INTMS, this.#intMask, true);
    }
    return unmasked;
  }

  /** Controller reset (CC.EN 1→0): the interrupt mask and CSTS return to their reset values. */
  resetState(): void {
    this.#intMask = 0;
    this.#view.setUint32(NVME_REG_INTMS, 0, true);
    this.#view.setUint32(NVME_REG_INTMC, 0, true);
    this.csts = 0;
  }

  #writeReadOnly(): void {
    const v = this.#view;
    if (v.getUint32(NVME_REG_CAP, true) !== this.#capLo) v.setUint32(NVME_REG_CAP, this.#capLo, true);
    if (v.getUint32(CAP_HI, true) !== this.#capHi) v.setUint32(CAP_HI, this.#capHi, true);
    if (v.getUint32(NVME_REG_VS, true) !== this.#vs) v.setUint32(NVME_REG_VS, this.#vs, true);
    if (v.getUint32(NVME_REG_CSTS, true) !== this.#csts) v.setUint32(NVME_REG_CSTS, this.#csts, true);
    for (const off of ZERO_REGISTERS) if (v.getUint32(off, true) !== 0) v.setUint32(off, 0, true);
  }
}
