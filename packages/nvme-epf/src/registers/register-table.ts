/**
 * BAR0 controller registers 0h..3Fh (NVMe Base 1.4 §3.1, Figure 78; Linux include/linux/nvme.h
 * `NVME_REG_*`): one row per register, walked by {@link RegisterFile} once per poll and read by
 * trace messages for register names. BAR0 is memory the host writes by MMIO, so the function
 * enforces a row by writing its own value back: read-only registers are restored, reserved bits
 * of a read/write register dropped, and the write-1 registers applied and reset.
 */
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

/** How the host may access a register (NVMe Base 1.4 §3.1 conventions). */
export type RegisterAccess =
  /** Read-only: the controller's value is restored after any write. */
  | 'RO'
  /** Read/write: bits outside the writable mask read back as zero. */
  | 'RW'
  /** Write 1 to set (INTMS); zeros have no effect. */
  | 'RW1S'
  /** Write 1 to clear (INTMC). */
  | 'RW1C';

/** What a register's value is at reset: a constant, or what the controller reports. */
export type RegisterReset = number | 'CAP' | 'VS' | 'CSTS' | 'INTERRUPT_MASK';

/** What writing the register does, beyond holding the value. */
export type RegisterEffect =
  | 'none'
  /** CC.EN and CC.SHN edges drive the CC state machine (scheduler/cc-state-machine.ts). */
  | 'cc-state-machine'
  /** Read at enable: the admin queues (§7.6.1). */
  | 'admin-queues'
  /** Sets mask bits of the pin and MSI vectors. */
  | 'mask-vectors'
  /** Clears mask bits; pending messages of unmasked vectors may go. */
  | 'unmask-vectors';

export interface RegisterRow {
  readonly offset: number;
  /** Bytes: 4, or 8 for the 64-bit CAP, ASQ and ACQ. */
  readonly width: 4 | 8;
  readonly name: string;
  readonly access: RegisterAccess;
  /** Bits the host may write (32-bit registers; 64-bit ones are taken as written). */
  readonly writable: number;
  readonly reset: RegisterReset;
  readonly effect: RegisterEffect;
}

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

const ALL = 0xffff_ffff;
const NONE = 0;

/**
 * NSSR reads as zero (CAP.NSSRS = 0); CMBLOC and CMBSZ read as zero (no controller memory buffer).
 * INTMC reads as 0 here, a documented deviation: a poller sees a write only when it changes the
 * bytes, so a write to INTMC of exactly the current mask (the common "unmask all") would be
 * invisible if INTMC read back as the mask.
 */
// biome-ignore format: one row per register
export const BAR0_REGISTERS: readonly RegisterRow[] = [
  { offset: NVME_REG_CAP,    width: 8, name: 'CAP',    access: 'RO',   writable: NONE,              reset: 'CAP',            effect: 'none' },
  { offset: NVME_REG_VS,     width: 4, name: 'VS',     access: 'RO',   writable: NONE,              reset: 'VS',             effect: 'none' },
  { offset: NVME_REG_INTMS,  width: 4, name: 'INTMS',  access: 'RW1S', writable: ALL,               reset: 'INTERRUPT_MASK', effect: 'mask-vectors' },
  { offset: NVME_REG_INTMC,  width: 4, name: 'INTMC',  access: 'RW1C', writable: ALL,               reset: 0,                effect: 'unmask-vectors' },
  { offset: NVME_REG_CC,     width: 4, name: 'CC',     access: 'RW',   writable: CC_WRITABLE_MASK,  reset: 0,                effect: 'cc-state-machine' },
  { offset: NVME_REG_CSTS,   width: 4, name: 'CSTS',   access: 'RO',   writable: NONE,              reset: 'CSTS',           effect: 'none' },
  { offset: NVME_REG_NSSR,   width: 4, name: 'NSSR',   access: 'RO',   writable: NONE,              reset: 0,                effect: 'none' },
  { offset: NVME_REG_AQA,    width: 4, name: 'AQA',    access: 'RW',   writable: AQA_WRITABLE_MASK, reset: 0,                effect: 'admin-queues' },
  { offset: NVME_REG_ASQ,    width: 8, name: 'ASQ',    access: 'RW',   writable: ALL,               reset: 0,                effect: 'admin-queues' },
  { offset: NVME_REG_ACQ,    width: 8, name: 'ACQ',    access: 'RW',   writable: ALL,               reset: 0,                effect: 'admin-queues' },
  { offset: NVME_REG_CMBLOC, width: 4, name: 'CMBLOC', access: 'RO',   writable: NONE,              reset: 0,                effect: 'none' },
  { offset: NVME_REG_CMBSZ,  width: 4, name: 'CMBSZ',  access: 'RO',   writable: NONE,              reset: 0,                effect: 'none' },
];

/** The row of the register at `offset`; a bug when there is none. */
export function registerAt(offset: number): RegisterRow {
  const row = BAR0_REGISTERS.find((r) => r.offset === offset);
  if (row === undefined) throw new RangeError(`no BAR0 register at 0x${offset.toString(16)}`);
  return row;
}

/** The name of the register at `offset`, for trace messages (`CC`, `AQA`…). */
export function registerName(offset: number): string {
  return registerAt(offset).name;
}
