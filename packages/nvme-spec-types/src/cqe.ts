/**
 * Completion Queue Entry, 16 bytes (NVMe Base 1.4 §4.6, "Completion Queue Entry").
 * The status halfword at byte 14 holds the phase tag in bit 0 and the 15-bit Status Field above it.
 */
import { getBits, setBits } from './bits.js';
import type { NvmeStatus } from './status.js';
import { encodeWith, viewOf } from './struct.js';

/** Size of a CQE in bytes (2^CC.IOCQES with IOCQES = 4). */
export const CQE_SIZE = 16;

/** CQE byte layout (NVMe Base 1.4 §4.6, Figure "Completion Queue Entry Layout"). */
export const CQE = {
  DW0: { off: 0, size: 4 },
  DW1: { off: 4, size: 4 },
  DW2: { off: 8, size: 4 },
  DW3: { off: 12, size: 4 },
  SQHD: { off: 8, size: 2 },
  SQID: { off: 10, size: 2 },
  CID: { off: 12, size: 2 },
  STATUS: { off: 14, size: 2 },
} as const;

/** Fields of the status halfword (CQE bytes 15:14 = DW3 bits 31:16; NVMe Base 1.4 §4.6.1). SF is the 15-bit Status Field. */
export const CQE_STATUS = {
  P: { bit: 0, len: 1 },
  SF: { bit: 1, len: 15 },
  SC: { bit: 1, len: 8 },
  SCT: { bit: 9, len: 3 },
  CRD: { bit: 12, len: 2 },
  M: { bit: 14, len: 1 },
  DNR: { bit: 15, len: 1 },
} as const;

/** Phase tag value. */
export type Phase = 0 | 1;

/** DW0, command specific. */
export function cqeDw0(view: DataView, base: number): number {
  return view.getUint32(base + CQE.DW0.off, true);
}

/** DW1, command specific (reserved for most commands). */
export function cqeDw1(view: DataView, base: number): number {
  return view.getUint32(base + CQE.DW1.off, true);
}

/** SQ Head Pointer. */
export function cqeSqhd(view: DataView, base: number): number {
  return view.getUint16(base + CQE.SQHD.off, true);
}

/** SQ Identifier. */
export function cqeSqid(view: DataView, base: number): number {
  return view.getUint16(base + CQE.SQID.off, true);
}

/** Command Identifier. */
export function cqeCid(view: DataView, base: number): number {
  return view.getUint16(base + CQE.CID.off, true);
}

/** The 15-bit status (phase tag excluded). */
export function cqeStatus(view: DataView, base: number): NvmeStatus {
  return getBits(view.getUint16(base + CQE.STATUS.off, true), CQE_STATUS.SF);
}

/** Phase tag. */
export function cqePhase(view: DataView, base: number): Phase {
  return getBits(view.getUint16(base + CQE.STATUS.off, true), CQE_STATUS.P) === 1 ? 1 : 0;
}

/** Sets DW0. */
export function cqeSetDw0(view: DataView, base: number, dw0: number): void {
  view.setUint32(base + CQE.DW0.off, dw0, true);
}

/** Sets DW1. */
export function cqeSetDw1(view: DataView, base: number, dw1: number): void {
  view.setUint32(base + CQE.DW1.off, dw1, true);
}

/** Sets SQHD. */
export function cqeSetSqhd(view: DataView, base: number, sqhd: number): void {
  view.setUint16(base + CQE.SQHD.off, sqhd, true);
}

/** Sets SQID. */
export function cqeSetSqid(view: DataView, base: number, sqid: number): void {
  view.setUint16(base + CQE.SQID.off, sqid, true);
}

/** Sets CID. */
export function cqeSetCid(view: DataView, base: number, cid: number): void {
  view.setUint16(base + CQE.CID.off, cid, true);
}

/** Writes the status halfword: the 15-bit status and the phase tag together, as a controller posts them. */
export function cqeSetStatus(view: DataView, base: number, status: NvmeStatus, phase: Phase): void {
  view.setUint16(base + CQE.STATUS.off, setBits(setBits(0, CQE_STATUS.SF, status), CQE_STATUS.P, phase), true);
}

/** Object form of a CQE. */
export interface Cqe {
  dw0: number;
  dw1: number;
  sqhd: number;
  sqid: number;
  cid: number;
  status: NvmeStatus;
  phase: Phase;
}

/** A CQE with every field zero except those given. */
export function cqe(fields: Partial<Cqe> = {}): Cqe {
  return { dw0: 0, dw1: 0, sqhd: 0, sqid: 0, cid: 0, status: 0, phase: 0, ...fields };
}

/** Writes all 16 bytes of a CQE. */
export function writeCqe(view: DataView, base: number, c: Cqe): void {
  cqeSetDw0(view, base, c.dw0);
  cqeSetDw1(view, base, c.dw1);
  cqeSetSqhd(view, base, c.sqhd);
  cqeSetSqid(view, base, c.sqid);
  cqeSetCid(view, base, c.cid);
  cqeSetStatus(view, base, c.status, c.phase);
}

/** Reads a CQE into its object form. */
export function readCqe(view: DataView, base: number): Cqe {
  return {
    dw0: cqeDw0(view, base),
    dw1: cqeDw1(view, base),
    sqhd: cqeSqhd(view, base),
    sqid: cqeSqid(view, base),
    cid: cqeCid(view, base),
    status: cqeStatus(view, base),
    phase: cqePhase(view, base),
  };
}

/** Encodes a CQE into `into` at `offset`, or into a new 16-byte array; returns the bytes written to. */
export function encodeCqe(c: Cqe, into?: Uint8Array, offset?: number): Uint8Array {
  return encodeWith(CQE_SIZE, (view, base) => writeCqe(view, base, c), into, offset);
}

/** Decodes the CQE at `bytes[offset]`. */
export function decodeCqe(bytes: Uint8Array, offset = 0): Cqe {
  return readCqe(viewOf(bytes), offset);
}
