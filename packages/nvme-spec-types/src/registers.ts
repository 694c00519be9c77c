/**
 * Controller registers in BAR0 (NVMe over PCIe): offsets, widths, bit fields, named values and
 * the doorbell stride formula. NVMe Base 1.4 §3.1 / 2.0 §3.1.3; names follow include/linux/nvme.h.
 */
import { type BitField, type FieldValues, packFields, packFields64, unpackFields, unpackFields64 } from './bits.js';

/** BAR0 register map: offset and width in bytes (NVMe Base 1.4 §3.1). */
export const NVME_REGS = {
  CAP: { off: 0x00, size: 8 },
  VS: { off: 0x08, size: 4 },
  INTMS: { off: 0x0c, size: 4 },
  INTMC: { off: 0x10, size: 4 },
  CC: { off: 0x14, size: 4 },
  CSTS: { off: 0x1c, size: 4 },
  NSSR: { off: 0x20, size: 4 },
  AQA: { off: 0x24, size: 4 },
  ASQ: { off: 0x28, size: 8 },
  ACQ: { off: 0x30, size: 8 },
  CMBLOC: { off: 0x38, size: 4 },
  CMBSZ: { off: 0x3c, size: 4 },
} as const;

/** Register offsets under their Linux names (include/linux/nvme.h `NVME_REG_*`). */
export const NVME_REG_CAP = NVME_REGS.CAP.off;
export const NVME_REG_VS = NVME_REGS.VS.off;
export const NVME_REG_INTMS = NVME_REGS.INTMS.off;
export const NVME_REG_INTMC = NVME_REGS.INTMC.off;
export const NVME_REG_CC = NVME_REGS.CC.off;
export const NVME_REG_CSTS = NVME_REGS.CSTS.off;
export const NVME_REG_NSSR = NVME_REGS.NSSR.off;
export const NVME_REG_AQA = NVME_REGS.AQA.off;
export const NVME_REG_ASQ = NVME_REGS.ASQ.off;
export const NVME_REG_ACQ = NVME_REGS.ACQ.off;
export const NVME_REG_CMBLOC = NVME_REGS.CMBLOC.off;
export const NVME_REG_CMBSZ = NVME_REGS.CMBSZ.off;
/** Start of the doorbell registers (NVMe Base 1.4 §3.1.24: SQ0TDBL at 1000h). */
export const NVME_REG_DBS = 0x1000;

/** CAP, Controller Capabilities, 64-bit (NVMe Base 1.4 §3.1.1; CPS and CRMS from 2.0). */
export const CAP = {
  MQES: { bit: 0, len: 16 },
  CQR: { bit: 16, len: 1 },
  AMS: { bit: 17, len: 2 },
  TO: { bit: 24, len: 8 },
  DSTRD: { bit: 32, len: 4 },
  NSSRS: { bit: 36, len: 1 },
  CSS: { bit: 37, len: 8 },
  BPS: { bit: 45, len: 1 },
  CPS: { bit: 46, len: 2 },
  MPSMIN: { bit: 48, len: 4 },
  MPSMAX: { bit: 52, len: 4 },
  PMRS: { bit: 56, len: 1 },
  CMBS: { bit: 57, len: 1 },
  NSSS: { bit: 58, len: 1 },
  CRMS: { bit: 59, len: 2 },
} as const satisfies Record<string, BitField>;
/** Decoded CAP fields. */
export type CapFields = FieldValues<typeof CAP>;

/** Bits of CAP.CSS, Command Sets Supported (NVMe Base 2.0 §3.1.3.1; Linux `NVME_CAP_CSS_*`). */
export const CAP_CSS = { NVM: 1 << 0, CSI: 1 << 6, ADMIN_ONLY: 1 << 7 } as const;
/** Bits of CAP.AMS, Arbitration Mechanism Supported beyond round robin (NVMe Base 1.4 §3.1.1). */
export const CAP_AMS = { WRRU: 1 << 0, VS: 1 << 1 } as const;
/** Bits of CAP.CRMS, Controller Ready Modes Supported (NVMe Base 2.0 §3.1.3.1). */
export const CAP_CRMS = { CRWMS: 1 << 0, CRIMS: 1 << 1 } as const;
/** Unit of CAP.TO, the worst-case time to wait for CSTS.RDY, in milliseconds (NVMe Base 1.4 §3.1.1). */
export const NVME_CAP_TO_UNIT_MS = 500;

/** VS, Version (NVMe Base 1.4 §3.1.2). */
export const VS = {
  TER: { bit: 0, len: 8 },
  MNR: { bit: 8, len: 8 },
  MJR: { bit: 16, len: 16 },
} as const satisfies Record<string, BitField>;
/** Decoded VS fields. */
export type VsFields = FieldValues<typeof VS>;

/** CC, Controller Configuration (NVMe Base 1.4 §3.1.5). */
export const CC = {
  EN: { bit: 0, len: 1 },
  CSS: { bit: 4, len: 3 },
  MPS: { bit: 7, len: 4 },
  AMS: { bit: 11, len: 3 },
  SHN: { bit: 14, len: 2 },
  IOSQES: { bit: 16, len: 4 },
  IOCQES: { bit: 20, len: 4 },
  CRIME: { bit: 24, len: 1 },
} as const satisfies Record<string, BitField>;
/** Decoded CC fields. */
export type CcFields = FieldValues<typeof CC>;

/** Values of CC.CSS, I/O Command Set Selected (NVMe Base 2.0 §3.1.3.5; Linux `NVME_CC_CSS_*`). */
export const CC_CSS = { NVM: 0, CSI: 6, ADMIN_ONLY: 7 } as const;
/** Values of CC.AMS, Arbitration Mechanism Selected (NVMe Base 1.4 §3.1.5). */
export const CC_AMS = { RR: 0, WRRU: 1, VS: 7 } as const;
/** Values of CC.SHN, Shutdown Notification (NVMe Base 1.4 §3.1.5). */
export const CC_SHN = { NONE: 0, NORMAL: 1, ABRUPT: 2 } as const;
/** The only entry sizes (log2 bytes) of the NVM command set: CC.IOSQES = 6 (64 B), CC.IOCQES = 4 (16 B). */
export const NVME_NVM_IOSQES = 6;
export const NVME_NVM_IOCQES = 4;
/** Memory page size = 2^(12 + CC.MPS) (NVMe Base 1.4 §3.1.5; Linux `NVME_CTRL_PAGE_SHIFT`). */
export const NVME_CTRL_PAGE_SHIFT = 12;

/** CSTS, Controller Status (NVMe Base 1.4 §3.1.6). */
export const CSTS = {
  RDY: { bit: 0, len: 1 },
  CFS: { bit: 1, len: 1 },
  SHST: { bit: 2, len: 2 },
  NSSRO: { bit: 4, len: 1 },
  PP: { bit: 5, len: 1 },
} as const satisfies Record<string, BitField>;
/** Decoded CSTS fields. */
export type CstsFields = FieldValues<typeof CSTS>;

/** Values of CSTS.SHST, Shutdown Status (NVMe Base 1.4 §3.1.6). */
export const CSTS_SHST = { NORMAL: 0, OCCURRING: 1, COMPLETE: 2 } as const;

/** Value written to NSSR to start an NVM Subsystem Reset: "NVMe" (NVMe Base 1.4 §3.1.7). */
export const NVME_NSSR_RESET = 0x4e564d65;

/** AQA, Admin Queue Attributes; sizes are 0's based (NVMe Base 1.4 §3.1.8). */
export const AQA = {
  ASQS: { bit: 0, len: 12 },
  ACQS: { bit: 16, len: 12 },
} as const satisfies Record<string, BitField>;
/** Decoded AQA fields. */
export type AqaFields = FieldValues<typeof AQA>;

/** Width of one doorbell register; the stride between doorbells is this shifted by CAP.DSTRD (NVMe Base 1.4 §3.1.24). */
export const NVME_DOORBELL_SIZE = 4;
/** Each queue id owns two doorbell slots: SQ tail, then CQ head. */
const DOORBELLS_PER_QID = 2;

/** Bytes between consecutive doorbell registers: 4 << DSTRD. */
export function doorbellStride(dstrd: number): number {
  return NVME_DOORBELL_SIZE << dstrd;
}

/** Offset of SQyTDBL, the submission queue `qid` tail doorbell: 1000h + (2y) × (4 << DSTRD). */
export function sqTailDoorbell(qid: number, dstrd: number): number {
  return NVME_REG_DBS + DOORBELLS_PER_QID * qid * doorbellStride(dstrd);
}

/** Offset of CQyHDBL, the completion queue `qid` head doorbell: 1000h + (2y + 1) × (4 << DSTRD). */
export function cqHeadDoorbell(qid: number, dstrd: number): number {
  return sqTailDoorbell(qid, dstrd) + doorbellStride(dstrd);
}

/** Which doorbell a BAR0 offset is: the queue id and whether it is a CQ head doorbell; undefined if none. */
export function decodeDoorbell(off: number, dstrd: number): { qid: number; cq: boolean } | undefined {
  const stride = doorbellStride(dstrd);
  const rel = off - NVME_REG_DBS;
  if (rel < 0 || rel % stride !== 0) return undefined;
  const slot = rel / stride;
  return { qid: Math.floor(slot / DOORBELLS_PER_QID), cq: slot % DOORBELLS_PER_QID === 1 };
}

/** Memory page size in bytes for a CC.MPS (or CAP.MPSMIN/MPSMAX) value. */
export function mpsToPageSize(mps: number): number {
  return 1 << (NVME_CTRL_PAGE_SHIFT + mps);
}

/** Encodes CAP from field values (absent fields 0). */
export function encodeCap(fields: Partial<CapFields>): bigint {
  return packFields64(CAP, fields);
}

/** Decodes every CAP field. */
export function decodeCap(value: bigint): CapFields {
  return unpackFields64(CAP, value);
}

/** Encodes CC from field values (absent fields 0). */
export function encodeCc(fields: Partial<CcFields>): number {
  return packFields(CC, fields);
}

/** Decodes every CC field. */
export function decodeCc(value: number): CcFields {
  return unpackFields(CC, value);
}

/** Encodes VS, e.g. `encodeVs(1, 4, 0)` = 0x00010400. */
export function encodeVs(major: number, minor: number, tertiary: number): number {
  return packFields(VS, { MJR: major, MNR: minor, TER: tertiary });
}

/** Decodes VS into MJR, MNR, TER. */
export function decodeVs(value: number): VsFields {
  return unpackFields(VS, value);
}

/** VS values of the specification revisions the simulator models. */
export const NVME_VS_1_4 = encodeVs(1, 4, 0);
export const NVME_VS_2_0 = encodeVs(2, 0, 0);
