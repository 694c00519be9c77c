/**
 * Submission Queue Entry, 64 bytes (NVMe Base 1.4 §4.2, "Common Command Format").
 * Accessors take the DataView of the queue memory and the entry's byte offset in it.
 */
import { getBits, setBits } from './bits.js';
import { DWORD_BYTES, encodeWith, viewOf } from './struct.js';

/** Size of an SQE in bytes (2^CC.IOSQES with IOSQES = 6). */
export const SQE_SIZE = 64;

/** SQE byte layout (NVMe Base 1.4 §4.2, Figure "Common Command Format"). DPTR holds PRP1+PRP2 or SGL1. */
export const SQE = {
  CDW0: { off: 0, size: 4 },
  OPC: { off: 0, size: 1 },
  FLAGS: { off: 1, size: 1 },
  CID: { off: 2, size: 2 },
  NSID: { off: 4, size: 4 },
  CDW2: { off: 8, size: 4 },
  CDW3: { off: 12, size: 4 },
  MPTR: { off: 16, size: 8 },
  DPTR: { off: 24, size: 16 },
  PRP1: { off: 24, size: 8 },
  PRP2: { off: 32, size: 8 },
  SGL1: { off: 24, size: 16 },
  CDW10: { off: 40, size: 4 },
  CDW11: { off: 44, size: 4 },
  CDW12: { off: 48, size: 4 },
  CDW13: { off: 52, size: 4 },
  CDW14: { off: 56, size: 4 },
  CDW15: { off: 60, size: 4 },
} as const;

/** Command Dword 0 fields (NVMe Base 1.4 §4.2, Figure "Command Dword 0"). */
export const SQE_CDW0 = {
  OPC: { bit: 0, len: 8 },
  FUSE: { bit: 8, len: 2 },
  PSDT: { bit: 14, len: 2 },
  CID: { bit: 16, len: 16 },
} as const;

/** CDW0.FUSE values (NVMe Base 1.4 §4.2; Linux `NVME_CMD_FUSE_*`). */
export const Fuse = { NORMAL: 0, FIRST: 1, SECOND: 2, RESERVED: 3 } as const;
export type Fuse = (typeof Fuse)[keyof typeof Fuse];

/** CDW0.PSDT, PRP or SGL for Data Transfer (NVMe Base 1.4 §4.2). */
export const Psdt = { PRP: 0, SGL_MPTR_CONTIG: 1, SGL_MPTR_SGL: 2, RESERVED: 3 } as const;
export type Psdt = (typeof Psdt)[keyof typeof Psdt];

/** NSID meaning "all namespaces", the broadcast value (NVMe Base 1.4, Namespaces; Linux `NVME_NSID_ALL`). */
export const NVME_NSID_ALL = 0xffff_ffff;

/** Command dwords addressable by {@link sqeCdw}. */
export type SqeCdwIndex = 10 | 11 | 12 | 13 | 14 | 15;

/** CDW0.OPC, the opcode. */
export function sqeOpcode(view: DataView, base: number): number {
  return view.getUint8(base + SQE.OPC.off);
}

/** CDW0.FUSE. */
export function sqeFuse(view: DataView, base: number): number {
  return getBits(view.getUint32(base + SQE.CDW0.off, true), SQE_CDW0.FUSE);
}

/** CDW0.PSDT. */
export function sqePsdt(view: DataView, base: number): number {
  return getBits(view.getUint32(base + SQE.CDW0.off, true), SQE_CDW0.PSDT);
}

/** CDW0.CID, the command identifier. */
export function sqeCid(view: DataView, base: number): number {
  return view.getUint16(base + SQE.CID.off, true);
}

/** NSID. */
export function sqeNsid(view: DataView, base: number): number {
  return view.getUint32(base + SQE.NSID.off, true);
}

/** MPTR, the metadata pointer. */
export function sqeMptr(view: DataView, base: number): bigint {
  return view.getBigUint64(base + SQE.MPTR.off, true);
}

/** DPTR.PRP1. */
export function sqePrp1(view: DataView, base: number): bigint {
  return view.getBigUint64(base + SQE.PRP1.off, true);
}

/** DPTR.PRP2. */
export function sqePrp2(view: DataView, base: number): bigint {
  return view.getBigUint64(base + SQE.PRP2.off, true);
}

/** Command dword `n` (10..15); CDWn sits at byte 4n. */
export function sqeCdw(view: DataView, base: number, n: SqeCdwIndex): number {
  return view.getUint32(base + n * DWORD_BYTES, true);
}

/** Sets CDW0.OPC. */
export function sqeSetOpcode(view: DataView, base: number, opcode: number): void {
  view.setUint8(base + SQE.OPC.off, opcode);
}

/** Sets CDW0.FUSE, leaving the rest of CDW0. */
export function sqeSetFuse(view: DataView, base: number, fuse: number): void {
  const off = base + SQE.CDW0.off;
  view.setUint32(off, setBits(view.getUint32(off, true), SQE_CDW0.FUSE, fuse), true);
}

/** Sets CDW0.PSDT, leaving the rest of CDW0. */
export function sqeSetPsdt(view: DataView, base: number, psdt: number): void {
  const off = base + SQE.CDW0.off;
  view.setUint32(off, setBits(view.getUint32(off, true), SQE_CDW0.PSDT, psdt), true);
}

/** Sets CDW0.CID. */
export function sqeSetCid(view: DataView, base: number, cid: number): void {
  view.setUint16(base + SQE.CID.off, cid, true);
}

/** Sets NSID. */
export function sqeSetNsid(view: DataView, base: number, nsid: number): void {
  view.setUint32(base + SQE.NSID.off, nsid, true);
}

/** Sets MPTR. */
export function sqeSetMptr(view: DataView, base: number, mptr: bigint): void {
  view.setBigUint64(base + SQE.MPTR.off, mptr, true);
}

/** Sets DPTR.PRP1. */
export function sqeSetPrp1(view: DataView, base: number, prp1: bigint): void {
  view.setBigUint64(base + SQE.PRP1.off, prp1, true);
}

/** Sets DPTR.PRP2. */
export function sqeSetPrp2(view: DataView, base: number, prp2: bigint): void {
  view.setBigUint64(base + SQE.PRP2.off, prp2, true);
}

/** Sets command dword `n` (10..15). */
export function sqeSetCdw(view: DataView, base: number, n: SqeCdwIndex, value: number): void {
  view.setUint32(base + n * DWORD_BYTES, value, true);
}

/** Object form of an SQE. DPTR appears as PRP1/PRP2; read it as SGL1 with `decodeSgl(bytes, SQE.SGL1.off)`. */
export interface Sqe {
  opcode: number;
  fuse: number;
  psdt: number;
  cid: number;
  nsid: number;
  cdw2: number;
  cdw3: number;
  mptr: bigint;
  prp1: bigint;
  prp2: bigint;
  cdw10: number;
  cdw11: number;
  cdw12: number;
  cdw13: number;
  cdw14: number;
  cdw15: number;
}

/** An SQE with every field zero except those given. */
export function sqe(fields: Partial<Sqe> = {}): Sqe {
  return {
    opcode: 0,
    fuse: 0,
    psdt: 0,
    cid: 0,
    nsid: 0,
    cdw2: 0,
    cdw3: 0,
    mptr: 0n,
    prp1: 0n,
    prp2: 0n,
    cdw10: 0,
    cdw11: 0,
    cdw12: 0,
    cdw13: 0,
    cdw14: 0,
    cdw15: 0,
    ...fields,
  };
}

/** Writes all 64 bytes of an SQE (reserved CDW0 bits 13:10 become 0). Values wrap to their field width. */
export function writeSqe(view: DataView, base: number, s: Sqe): void {
  let cdw0 = setBits(0, SQE_CDW0.OPC, s.opcode);
  cdw0 = setBits(cdw0, SQE_CDW0.FUSE, s.fuse);
  cdw0 = setBits(cdw0, SQE_CDW0.PSDT, s.psdt);
  cdw0 = setBits(cdw0, SQE_CDW0.CID, s.cid);
  view.setUint32(base + SQE.CDW0.off, cdw0, true);
  sqeSetNsid(view, base, s.nsid);
  view.setUint32(base + SQE.CDW2.off, s.cdw2, true);
  view.setUint32(base + SQE.CDW3.off, s.cdw3, true);
  sqeSetMptr(view, base, s.mptr);
  sqeSetPrp1(view, base, s.prp1);
  sqeSetPrp2(view, base, s.prp2);
  sqeSetCdw(view, base, 10, s.cdw10);
  sqeSetCdw(view, base, 11, s.cdw11);
  sqeSetCdw(view, base, 12, s.cdw12);
  sqeSetCdw(view, base, 13, s.cdw13);
  sqeSetCdw(view, base, 14, s.cdw14);
  sqeSetCdw(view, base, 15, s.cdw15);
}

/** Reads an SQE into its object form. */
export function readSqe(view: DataView, base: number): Sqe {
  return {
    opcode: sqeOpcode(view, base),
    fuse: sqeFuse(view, base),
    psdt: sqePsdt(view, base),
    cid: sqeCid(view, base),
    nsid: sqeNsid(view, base),
    cdw2: view.getUint32(base + SQE.CDW2.off, true),
    cdw3: view.getUint32(base + SQE.CDW3.off, true),
    mptr: sqeMptr(view, base),
    prp1: sqePrp1(view, base),
    prp2: sqePrp2(view, base),
    cdw10: sqeCdw(view, base, 10),
    cdw11: sqeCdw(view, base, 11),
    cdw12: sqeCdw(view, base, 12),
    cdw13: sqeCdw(view, base, 13),
    cdw14: sqeCdw(view, base, 14),
    cdw15: sqeCdw(view, base, 15),
  };
}

/** Encodes an SQE into `into` at `offset`, or into a new 64-byte array; returns the bytes written to. */
export function encodeSqe(s: Sqe, into?: Uint8Array, offset?: number): Uint8Array {
  return encodeWith(SQE_SIZE, (view, base) => writeSqe(view, base, s), into, offset);
}

/** Decodes the SQE at `bytes[offset]`. */
export function decodeSqe(bytes: Uint8Array, offset = 0): Sqe {
  return readSqe(viewOf(bytes), offset);
}
