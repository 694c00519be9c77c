/**
 * Scatter Gather List descriptors, 16 bytes (NVMe Base 1.4 §4.4, "Scatter Gather List (SGL)").
 * Byte 15 is the SGL identifier: descriptor type in bits 7:4, sub type in bits 3:0.
 */
import { getBits, setBits } from './bits.js';
import { encodeWith, readUint, viewOf } from './struct.js';

/** Size of one SGL descriptor. */
export const SGL_DESCRIPTOR_SIZE = 16;

/** SGL descriptor layout: address, length, reserved 14:12, identifier (NVMe Base 1.4, "Generic SGL Descriptor Format"). */
export const SGL = {
  ADDRESS: { off: 0, size: 8 },
  LENGTH: { off: 8, size: 4 },
  ID: { off: 15, size: 1 },
} as const;

/** Keyed SGL Data Block descriptor (fabrics): 24-bit length and a 32-bit key (NVMe Base 1.4, "Keyed SGL Data Block descriptor"). */
export const SGL_KEYED = {
  ADDRESS: { off: 0, size: 8 },
  LENGTH: { off: 8, size: 3 },
  KEY: { off: 11, size: 4 },
  ID: { off: 15, size: 1 },
} as const;

/** Fields of the SGL identifier byte. */
export const SGL_ID = {
  SUBTYPE: { bit: 0, len: 4 },
  TYPE: { bit: 4, len: 4 },
} as const;

/** SGL Descriptor Type (NVMe Base 1.4, "SGL Descriptor Type"; 6h–Eh reserved). */
export const SglType = {
  DATA_BLOCK: 0x0,
  BIT_BUCKET: 0x1,
  SEGMENT: 0x2,
  LAST_SEGMENT: 0x3,
  KEYED_DATA_BLOCK: 0x4,
  TRANSPORT_DATA_BLOCK: 0x5,
  VENDOR: 0xf,
} as const;
export type SglType = (typeof SglType)[keyof typeof SglType];

/** SGL Descriptor Sub Type (NVMe Base 1.4, "SGL Descriptor Sub Type"). */
export const SglSubtype = {
  ADDRESS: 0x0,
  OFFSET: 0x1,
  TRANSPORT: 0xa,
} as const;
export type SglSubtype = (typeof SglSubtype)[keyof typeof SglSubtype];

/** Address field. */
export function sglAddress(view: DataView, base: number): bigint {
  return view.getBigUint64(base + SGL.ADDRESS.off, true);
}

/** Length field (bytes). */
export function sglLength(view: DataView, base: number): number {
  return view.getUint32(base + SGL.LENGTH.off, true);
}

/** Descriptor type, identifier bits 7:4. */
export function sglType(view: DataView, base: number): number {
  return getBits(view.getUint8(base + SGL.ID.off), SGL_ID.TYPE);
}

/** Descriptor sub type, identifier bits 3:0. */
export function sglSubtype(view: DataView, base: number): number {
  return getBits(view.getUint8(base + SGL.ID.off), SGL_ID.SUBTYPE);
}

/** Length of a Keyed SGL Data Block descriptor (24 bits). */
export function sglKeyedLength(view: DataView, base: number): number {
  return readUint(view, base + SGL_KEYED.LENGTH.off, SGL_KEYED.LENGTH.size);
}

/** Key of a Keyed SGL Data Block descriptor. */
export function sglKey(view: DataView, base: number): number {
  return view.getUint32(base + SGL_KEYED.KEY.off, true);
}

/** The identifier byte for a type and sub type. */
export function sglIdentifier(type: number, subtype: number): number {
  return setBits(setBits(0, SGL_ID.TYPE, type), SGL_ID.SUBTYPE, subtype);
}

/** An SGL descriptor in object form (the generic, non-keyed format). */
export interface SglDescriptor {
  address: bigint;
  length: number;
  type: number;
  subtype: number;
}

/** Writes all 16 bytes of a descriptor (reserved bytes 14:12 become 0). */
export function writeSgl(view: DataView, base: number, d: SglDescriptor): void {
  view.setBigUint64(base + SGL.ADDRESS.off, d.address, true);
  view.setUint32(base + SGL.LENGTH.off, d.length, true);
  for (let off = SGL.LENGTH.off + SGL.LENGTH.size; off < SGL.ID.off; off++) view.setUint8(base + off, 0);
  view.setUint8(base + SGL.ID.off, sglIdentifier(d.type, d.subtype));
}

/** Reads a descriptor into its object form. */
export function readSgl(view: DataView, base: number): SglDescriptor {
  return {
    address: sglAddress(view, base),
    length: sglLength(view, base),
    type: sglType(view, base),
    subtype: sglSubtype(view, base),
  };
}

/** Encodes a descriptor into `into` at `offset` (e.g. an SQE at `SQE.SGL1.off`), or into a new 16-byte array. */
export function encodeSgl(d: SglDescriptor, into?: Uint8Array, offset?: number): Uint8Array {
  return encodeWith(SGL_DESCRIPTOR_SIZE, (view, base) => writeSgl(view, base, d), into, offset);
}

/** Decodes the descriptor at `bytes[offset]`. */
export function decodeSgl(bytes: Uint8Array, offset = 0): SglDescriptor {
  return readSgl(viewOf(bytes), offset);
}

/** A descriptor with zero address/length, Data Block / Address, except for the fields given. */
export function sglDescriptor(fields: Partial<SglDescriptor> = {}): SglDescriptor {
  return { address: 0n, length: 0, type: SglType.DATA_BLOCK, subtype: SglSubtype.ADDRESS, ...fields };
}
