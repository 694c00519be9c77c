/**
 * Identify data structures (NVMe Base 1.4, Identify command): Identify Controller, Identify
 * Namespace (NVM), Namespace Identification Descriptors and the Active Namespace ID list, with their
 * capability bit fields. Every structure is 4096 bytes, little endian; strings are ASCII, space padded.
 */
import { type BitField, packFields, unpackFields } from './bits.js';
import { DWORD_BYTES, defineStruct, type FieldLayout, type StructInit, type StructValues, viewOf } from './struct.js';

/** Size of every Identify data structure (Linux `NVME_IDENTIFY_DATA_SIZE`). */
export const IDENTIFY_DATA_SIZE = 4096;

/** Controller or Namespace Structure, CDW10.CNS (NVMe Base 2.0, Identify command, "CNS Values"). */
export const Cns = {
  NAMESPACE: 0x00,
  CONTROLLER: 0x01,
  ACTIVE_NSID_LIST: 0x02,
  NS_ID_DESCRIPTOR_LIST: 0x03,
  NVM_SET_LIST: 0x04,
  CSI_NAMESPACE: 0x05,
  CSI_CONTROLLER: 0x06,
  CSI_ACTIVE_NSID_LIST: 0x07,
  CSI_INDEPENDENT_NAMESPACE: 0x08,
} as const;
export type Cns = (typeof Cns)[keyof typeof Cns];

/** Identify Controller data structure, the fields a PCIe controller fills (NVMe Base 1.4, "Identify Controller Data Structure"; Linux `struct nvme_id_ctrl`). */
export const ID_CTRL = {
  VID: { off: 0, size: 2 },
  SSVID: { off: 2, size: 2 },
  SN: { off: 4, size: 20, kind: 'ascii' },
  MN: { off: 24, size: 40, kind: 'ascii' },
  FR: { off: 64, size: 8, kind: 'ascii' },
  RAB: { off: 72, size: 1 },
  IEEE: { off: 73, size: 3 },
  CMIC: { off: 76, size: 1 },
  MDTS: { off: 77, size: 1 },
  CNTLID: { off: 78, size: 2 },
  VER: { off: 80, size: 4 },
  RTD3R: { off: 84, size: 4 },
  RTD3E: { off: 88, size: 4 },
  OAES: { off: 92, size: 4 },
  CTRATT: { off: 96, size: 4 },
  RRLS: { off: 100, size: 2 },
  CNTRLTYPE: { off: 111, size: 1 },
  FGUID: { off: 112, size: 16, kind: 'bytes' },
  CRDT1: { off: 128, size: 2 },
  CRDT2: { off: 130, size: 2 },
  CRDT3: { off: 132, size: 2 },
  OACS: { off: 256, size: 2 },
  ACL: { off: 258, size: 1 },
  AERL: { off: 259, size: 1 },
  FRMW: { off: 260, size: 1 },
  LPA: { off: 261, size: 1 },
  ELPE: { off: 262, size: 1 },
  NPSS: { off: 263, size: 1 },
  AVSCC: { off: 264, size: 1 },
  APSTA: { off: 265, size: 1 },
  WCTEMP: { off: 266, size: 2 },
  CCTEMP: { off: 268, size: 2 },
  MTFA: { off: 270, size: 2 },
  HMPRE: { off: 272, size: 4 },
  HMMIN: { off: 276, size: 4 },
  TNVMCAP: { off: 280, size: 16 },
  UNVMCAP: { off: 296, size: 16 },
  RPMBS: { off: 312, size: 4 },
  EDSTT: { off: 316, size: 2 },
  DSTO: { off: 318, size: 1 },
  FWUG: { off: 319, size: 1 },
  KAS: { off: 320, size: 2 },
  HCTMA: { off: 322, size: 2 },
  MNTMT: { off: 324, size: 2 },
  MXTMT: { off: 326, size: 2 },
  SANICAP: { off: 328, size: 4 },
  SQES: { off: 512, size: 1 },
  CQES: { off: 513, size: 1 },
  MAXCMD: { off: 514, size: 2 },
  NN: { off: 516, size: 4 },
  ONCS: { off: 520, size: 2 },
  FUSES: { off: 522, size: 2 },
  FNA: { off: 524, size: 1 },
  VWC: { off: 525, size: 1 },
  AWUN: { off: 526, size: 2 },
  AWUPF: { off: 528, size: 2 },
  NVSCC: { off: 530, size: 1 },
  NWPC: { off: 531, size: 1 },
  ACWU: { off: 532, size: 2 },
  SGLS: { off: 536, size: 4 },
  MNAN: { off: 540, size: 4 },
  SUBNQN: { off: 768, size: 256, kind: 'nqn' },
} as const satisfies Record<string, FieldLayout>;

/** Power State Descriptor table of Identify Controller: 32 descriptors of 32 bytes from byte 2048. */
export const ID_CTRL_PSD = { off: 2048, size: 32, count: 32 } as const;

/** Power State Descriptor (NVMe Base 1.4, "Power State Descriptor Data Structure"). */
export const PSD = {
  MP: { off: 0, size: 2 },
  FLAGS: { off: 3, size: 1 },
  ENLAT: { off: 4, size: 4 },
  EXLAT: { off: 8, size: 4 },
  RRT: { off: 12, size: 1 },
  RRL: { off: 13, size: 1 },
  RWT: { off: 14, size: 1 },
  RWL: { off: 15, size: 1 },
  IDLP: { off: 16, size: 2 },
  IPS: { off: 18, size: 1 },
  ACTP: { off: 20, size: 2 },
  APWS: { off: 22, size: 1 },
} as const satisfies Record<string, FieldLayout>;

/** PSD byte 3: Max Power Scale (0: 0.01 W, 1: 0.0001 W) and Non-Operational State. */
export const PSD_FLAGS = { MXPS: { bit: 0, len: 1 }, NOPS: { bit: 1, len: 1 } } as const satisfies Record<
  string,
  BitField
>;

/** CMIC, Controller Multi-Path I/O and Namespace Sharing Capabilities (Identify Controller). */
export const ID_CTRL_CMIC = {
  MULTI_PORT: { bit: 0, len: 1 },
  MULTI_CTRL: { bit: 1, len: 1 },
  SRIOV: { bit: 2, len: 1 },
  ANA: { bit: 3, len: 1 },
} as const satisfies Record<string, BitField>;

/** OAES, Optional Asynchronous Events Supported (Identify Controller). */
export const ID_CTRL_OAES = {
  NAMESPACE_ATTRIBUTE: { bit: 8, len: 1 },
  FIRMWARE_ACTIVATION: { bit: 9, len: 1 },
  ANA_CHANGE: { bit: 11, len: 1 },
} as const satisfies Record<string, BitField>;

/** OACS, Optional Admin Command Support (Identify Controller). */
export const ID_CTRL_OACS = {
  SECURITY: { bit: 0, len: 1 },
  FORMAT: { bit: 1, len: 1 },
  FIRMWARE: { bit: 2, len: 1 },
  NS_MANAGEMENT: { bit: 3, len: 1 },
  DEVICE_SELF_TEST: { bit: 4, len: 1 },
  DIRECTIVES: { bit: 5, len: 1 },
  NVME_MI: { bit: 6, len: 1 },
  VIRTUALIZATION_MANAGEMENT: { bit: 7, len: 1 },
  DOORBELL_BUFFER_CONFIG: { bit: 8, len: 1 },
  GET_LBA_STATUS: { bit: 9, len: 1 },
} as const satisfies Record<string, BitField>;

/** FRMW, Firmware Updates (Identify Controller). */
export const ID_CTRL_FRMW = {
  SLOT1_READ_ONLY: { bit: 0, len: 1 },
  NUM_SLOTS: { bit: 1, len: 3 },
  ACTIVATE_WITHOUT_RESET: { bit: 4, len: 1 },
} as const satisfies Record<string, BitField>;

/** LPA, Log Page Attributes (Identify Controller). */
export const ID_CTRL_LPA = {
  SMART_PER_NAMESPACE: { bit: 0, len: 1 },
  COMMANDS_EFFECTS: { bit: 1, len: 1 },
  EXTENDED_DATA: { bit: 2, len: 1 },
  TELEMETRY: { bit: 3, len: 1 },
  PERSISTENT_EVENT: { bit: 4, len: 1 },
} as const satisfies Record<string, BitField>;

/** SQES and CQES: required (minimum) and maximum entry size, log2 bytes (Identify Controller). */
export const ID_CTRL_QES = {
  REQUIRED: { bit: 0, len: 4 },
  MAX: { bit: 4, len: 4 },
} as const satisfies Record<string, BitField>;

/** ONCS, Optional NVM Command Support (Identify Controller; Copy from NVMe 2.0). */
export const ID_CTRL_ONCS = {
  COMPARE: { bit: 0, len: 1 },
  WRITE_UNCORRECTABLE: { bit: 1, len: 1 },
  DSM: { bit: 2, len: 1 },
  WRITE_ZEROES: { bit: 3, len: 1 },
  SAVE_SELECT: { bit: 4, len: 1 },
  RESERVATIONS: { bit: 5, len: 1 },
  TIMESTAMP: { bit: 6, len: 1 },
  VERIFY: { bit: 7, len: 1 },
  COPY: { bit: 8, len: 1 },
} as const satisfies Record<string, BitField>;

/** FUSES, Fused Operation Support (Identify Controller). */
export const ID_CTRL_FUSES = {
  COMPARE_AND_WRITE: { bit: 0, len: 1 },
} as const satisfies Record<string, BitField>;

/** VWC, Volatile Write Cache (Identify Controller). */
export const ID_CTRL_VWC = {
  PRESENT: { bit: 0, len: 1 },
  FLUSH_BROADCAST: { bit: 1, len: 2 },
} as const satisfies Record<string, BitField>;

/** VWC.FLUSH_BROADCAST values: Flush with NSID FFFFFFFFh (Identify Controller). */
export const VwcFlushBroadcast = { NOT_INDICATED: 0, UNSUPPORTED: 2, SUPPORTED: 3 } as const;

/** SGLS, SGL Support (Identify Controller). */
export const ID_CTRL_SGLS = {
  SUPPORT: { bit: 0, len: 2 },
  KEYED: { bit: 2, len: 1 },
  DESCRIPTOR_THRESHOLD: { bit: 8, len: 8 },
  BIT_BUCKET: { bit: 16, len: 1 },
  BYTE_ALIGNED_METADATA: { bit: 17, len: 1 },
  EXCESS_LENGTH: { bit: 18, len: 1 },
  MPTR_SGL: { bit: 19, len: 1 },
  ADDRESS_AS_OFFSET: { bit: 20, len: 1 },
  TRANSPORT_DATA_BLOCK: { bit: 21, len: 1 },
} as const satisfies Record<string, BitField>;

/** SGLS.SUPPORT values (Identify Controller). */
export const SglsSupport = { NONE: 0, BYTE_ALIGNED: 1, DWORD_ALIGNED: 2 } as const;

/** Identify Namespace data structure, NVM command set (NVMe Base 1.4, "Identify Namespace Data Structure, NVM Command Set Specific"; Linux `struct nvme_id_ns`). */
export const ID_NS = {
  NSZE: { off: 0, size: 8 },
  NCAP: { off: 8, size: 8 },
  NUSE: { off: 16, size: 8 },
  NSFEAT: { off: 24, size: 1 },
  NLBAF: { off: 25, size: 1 },
  FLBAS: { off: 26, size: 1 },
  MC: { off: 27, size: 1 },
  DPC: { off: 28, size: 1 },
  DPS: { off: 29, size: 1 },
  NMIC: { off: 30, size: 1 },
  RESCAP: { off: 31, size: 1 },
  FPI: { off: 32, size: 1 },
  DLFEAT: { off: 33, size: 1 },
  NAWUN: { off: 34, size: 2 },
  NAWUPF: { off: 36, size: 2 },
  NACWU: { off: 38, size: 2 },
  NABSN: { off: 40, size: 2 },
  NABO: { off: 42, size: 2 },
  NABSPF: { off: 44, size: 2 },
  NOIOB: { off: 46, size: 2 },
  NVMCAP: { off: 48, size: 16 },
  NPWG: { off: 64, size: 2 },
  NPWA: { off: 66, size: 2 },
  NPDG: { off: 68, size: 2 },
  NPDA: { off: 70, size: 2 },
  NOWS: { off: 72, size: 2 },
  NGUID: { off: 104, size: 16, kind: 'bytes' },
  EUI64: { off: 120, size: 8, kind: 'bytes' },
} as const satisfies Record<string, FieldLayout>;

/** LBA Format table of Identify Namespace: up to 64 dwords from byte 128 (NLBAF is 0's based). */
export const ID_NS_LBAF = { off: 128, size: DWORD_BYTES, count: 64 } as const;

/** One LBA Format dword: Metadata Size, LBA Data Size (log2), Relative Performance (Identify Namespace). */
export const LBAF = {
  MS: { bit: 0, len: 16 },
  LBADS: { bit: 16, len: 8 },
  RP: { bit: 24, len: 2 },
} as const satisfies Record<string, BitField>;

/** FLBAS, Formatted LBA Size: format index 3:0, metadata at the end of the LBA (extended) bit 4. */
export const ID_NS_FLBAS = {
  FORMAT: { bit: 0, len: 4 },
  EXTENDED: { bit: 4, len: 1 },
} as const satisfies Record<string, BitField>;

/** NSFEAT, Namespace Features (Identify Namespace). */
export const ID_NS_NSFEAT = {
  THIN_PROVISIONING: { bit: 0, len: 1 },
  NS_ATOMIC: { bit: 1, len: 1 },
  DEALLOCATED_ERROR: { bit: 2, len: 1 },
  UID_REUSE: { bit: 3, len: 1 },
  OPTIMAL_PERFORMANCE: { bit: 4, len: 1 },
} as const satisfies Record<string, BitField>;

/** DLFEAT, Deallocate Logical Block Features (Identify Namespace). */
export const ID_NS_DLFEAT = {
  READ_BEHAVIOR: { bit: 0, len: 3 },
  WRITE_ZEROES_DEALLOCATE: { bit: 3, len: 1 },
  GUARD_CRC: { bit: 4, len: 1 },
} as const satisfies Record<string, BitField>;

/** DLFEAT.READ_BEHAVIOR: what a read of a deallocated block returns. */
export const DeallocateReadBehavior = { NOT_REPORTED: 0, ZEROES: 1, ONES: 2 } as const;

/**
 * I/O Command Set Independent Identify Namespace data structure (Identify CNS 08h; NVMe Base 2.0,
 * "I/O Command Set Independent Identify Namespace Data Structure"; libnvme
 * `struct nvme_id_independent_id_ns`). The rest of the 4096 bytes is reserved.
 */
export const ID_INDEP_NS = {
  NSFEAT: { off: 0, size: 1 },
  NMIC: { off: 1, size: 1 },
  RESCAP: { off: 2, size: 1 },
  FPI: { off: 3, size: 1 },
  ANAGRPID: { off: 4, size: 4 },
  NSATTR: { off: 8, size: 1 },
  NVMSETID: { off: 10, size: 2 },
  ENDGID: { off: 12, size: 2 },
  NSTAT: { off: 14, size: 1 },
} as const satisfies Record<string, FieldLayout>;

/** NSTAT, Namespace Status (CNS 08h byte 14): bit 0 Namespace Ready. */
export const ID_INDEP_NS_NSTAT = {
  NRDY: { bit: 0, len: 1 },
} as const satisfies Record<string, BitField>;

/** A Power State Descriptor in object form. */
export type PowerStateDescriptor = StructValues<typeof PSD>;

/** One LBA Format in object form. */
export interface LbaFormat {
  ms: number;
  lbads: number;
  rp: number;
}

/** Identify Controller in object form; `psd` holds NPSS + 1 descriptors. */
export type IdentifyController = StructValues<typeof ID_CTRL> & { psd: PowerStateDescriptor[] };
/** Input of {@link encodeIdentifyController}: any subset of fields. */
export type IdentifyControllerInit = StructInit<typeof ID_CTRL> & {
  readonly psd?: readonly StructInit<typeof PSD>[];
};

/** The I/O Command Set Independent Identify Namespace data structure in object form. */
export type IndependentIdentifyNamespace = StructValues<typeof ID_INDEP_NS>;

/** Identify Namespace in object form; `lbaf` holds NLBAF + 1 formats. */
export type IdentifyNamespace = StructValues<typeof ID_NS> & { lbaf: LbaFormat[] };
/** Input of {@link encodeIdentifyNamespace}: any subset of fields. */
export type IdentifyNamespaceInit = StructInit<typeof ID_NS> & { readonly lbaf?: readonly Partial<LbaFormat>[] };

const ID_CTRL_CODEC = defineStruct(IDENTIFY_DATA_SIZE, ID_CTRL);
const PSD_CODEC = defineStruct(ID_CTRL_PSD.size, PSD);
const ID_NS_CODEC = defineStruct(IDENTIFY_DATA_SIZE, ID_NS);
const ID_INDEP_NS_CODEC = defineStruct(IDENTIFY_DATA_SIZE, ID_INDEP_NS);

/** Throws unless `n` entries fit a table of `max`. */
function checkCount(what: string, n: number, max: number): void {
  if (n > max) throw new RangeError(`${what}: ${n} entries, at most ${max}`);
}

/** Encodes an Identify Controller data structure (4096 bytes); absent fields are zero. */
export function encodeIdentifyController(fields: IdentifyControllerInit): Uint8Array {
  const bytes = ID_CTRL_CODEC.encode(fields);
  const psd = fields.psd ?? [];
  checkCount('psd', psd.length, ID_CTRL_PSD.count);
  PSD_CODEC.writeMany(viewOf(bytes), ID_CTRL_PSD.off, psd);
  return bytes;
}

/** Decodes an Identify Controller data structure, with NPSS + 1 power state descriptors. */
export function decodeIdentifyController(bytes: Uint8Array, offset = 0): IdentifyController {
  const view = viewOf(bytes);
  const fields = ID_CTRL_CODEC.read(view, offset);
  const count = Math.min(fields.npss + 1, ID_CTRL_PSD.count);
  return { ...fields, psd: PSD_CODEC.readMany(view, offset + ID_CTRL_PSD.off, count) };
}

/** Packs an LBA Format into its dword. */
export function encodeLbaFormat(f: Partial<LbaFormat>): number {
  return packFields(LBAF, { MS: f.ms ?? 0, LBADS: f.lbads ?? 0, RP: f.rp ?? 0 });
}

/** Unpacks an LBA Format dword. */
export function decodeLbaFormat(dword: number): LbaFormat {
  const f = unpackFields(LBAF, dword);
  return { ms: f.MS, lbads: f.LBADS, rp: f.RP };
}

/** Encodes an Identify Namespace data structure (4096 bytes); absent fields are zero. */
export function encodeIdentifyNamespace(fields: IdentifyNamespaceInit): Uint8Array {
  const bytes = ID_NS_CODEC.encode(fields);
  const view = viewOf(bytes);
  const lbaf = fields.lbaf ?? [];
  checkCount('lbaf', lbaf.length, ID_NS_LBAF.count);
  lbaf.forEach((f, i) => {
    view.setUint32(ID_NS_LBAF.off + i * ID_NS_LBAF.size, encodeLbaFormat(f), true);
  });
  return bytes;
}

/** Decodes an Identify Namespace data structure, with NLBAF + 1 LBA formats. */
export function decodeIdentifyNamespace(bytes: Uint8Array, offset = 0): IdentifyNamespace {
  const view = viewOf(bytes);
  const fields = ID_NS_CODEC.read(view, offset);
  const count = Math.min(fields.nlbaf + 1, ID_NS_LBAF.count);
  const lbaf = Array.from({ length: count }, (_, i) =>
    decodeLbaFormat(view.getUint32(offset + ID_NS_LBAF.off + i * ID_NS_LBAF.size, true)),
  );
  return { ...fields, lbaf };
}

/** Encodes an I/O Command Set Independent Identify Namespace data structure (4096 bytes); absent fields are zero. */
export function encodeIndependentIdentifyNamespace(fields: StructInit<typeof ID_INDEP_NS>): Uint8Array {
  return ID_INDEP_NS_CODEC.encode(fields);
}

/** Decodes an I/O Command Set Independent Identify Namespace data structure. */
export function decodeIndependentIdentifyNamespace(bytes: Uint8Array, offset = 0): IndependentIdentifyNamespace {
  return ID_INDEP_NS_CODEC.read(viewOf(bytes), offset);
}

/** Namespace Identifier Type of a Namespace Identification Descriptor (NVMe Base 1.4, "Namespace Identification Descriptor"; 2.0 adds CSI). */
export const Nidt = { EUI64: 1, NGUID: 2, UUID: 3, CSI: 4 } as const;
export type Nidt = (typeof Nidt)[keyof typeof Nidt];

/** NIDL, the identifier length each NIDT requires. */
export const NIDT_LENGTH: Readonly<Record<Nidt, number>> = {
  [Nidt.EUI64]: 8,
  [Nidt.NGUID]: 16,
  [Nidt.UUID]: 16,
  [Nidt.CSI]: 1,
};

/** Namespace Identification Descriptor header: NIDT, NIDL, 2 reserved bytes; NIDL bytes of NID follow. */
export const NS_ID_DESC = {
  NIDT: { off: 0, size: 1 },
  NIDL: { off: 1, size: 1 },
} as const;
/** Size of the descriptor header, i.e. the offset of NID. */
export const NS_ID_DESC_HEADER_SIZE = 4;

/** One Namespace Identification Descriptor. */
export interface NsIdDescriptor {
  nidt: number;
  nid: Uint8Array;
}

/**
 * Encodes a Namespace Identification Descriptor list (CNS 03h; 4096 bytes, ended by a zero NIDT).
 * Throws if an identifier's length is not the one its type requires, or the list does not fit.
 */
export function encodeNsIdDescriptors(list: readonly NsIdDescriptor[]): Uint8Array {
  const bytes = new Uint8Array(IDENTIFY_DATA_SIZE);
  let off = 0;
  for (const d of list) {
    const required = (NIDT_LENGTH as Readonly<Record<number, number>>)[d.nidt];
    if (required !== undefined && d.nid.length !== required) {
      throw new RangeError(`NIDT ${d.nidt}: identifier of ${d.nid.length} bytes, ${required} required`);
    }
    const end = off + NS_ID_DESC_HEADER_SIZE + d.nid.length;
    if (end > IDENTIFY_DATA_SIZE) throw new RangeError('namespace identification descriptors exceed 4096 bytes');
    bytes[off + NS_ID_DESC.NIDT.off] = d.nidt;
    bytes[off + NS_ID_DESC.NIDL.off] = d.nid.length;
    bytes.set(d.nid, off + NS_ID_DESC_HEADER_SIZE);
    off = end;
  }
  return bytes;
}

/** Decodes a Namespace Identification Descriptor list, up to the first zero NIDT or a truncated entry. */
export function decodeNsIdDescriptors(bytes: Uint8Array, offset = 0): NsIdDescriptor[] {
  const list: NsIdDescriptor[] = [];
  const limit = offset + IDENTIFY_DATA_SIZE;
  let off = offset;
  while (off + NS_ID_DESC_HEADER_SIZE <= limit) {
    const nidt = bytes[off + NS_ID_DESC.NIDT.off] ?? 0;
    if (nidt === 0) break;
    const nidl = bytes[off + NS_ID_DESC.NIDL.off] ?? 0;
    const start = off + NS_ID_DESC_HEADER_SIZE;
    if (start + nidl > limit) break;
    list.push({ nidt, nid: bytes.slice(start, start + nidl) });
    off = start + nidl;
  }
  return list;
}

/** Entries of an Active Namespace ID list (CNS 02h): 1024 NSIDs, ascending, zero-terminated. */
export const NSID_LIST_MAX = IDENTIFY_DATA_SIZE / DWORD_BYTES;

/** Encodes an Active Namespace ID list (4096 bytes). */
export function encodeNsidList(nsids: readonly number[]): Uint8Array {
  checkCount('nsid list', nsids.length, NSID_LIST_MAX);
  const bytes = new Uint8Array(IDENTIFY_DATA_SIZE);
  const view = viewOf(bytes);
  nsids.forEach((nsid, i) => {
    view.setUint32(i * DWORD_BYTES, nsid, true);
  });
  return bytes;
}

/** Decodes an Active Namespace ID list up to its first zero entry. */
export function decodeNsidList(bytes: Uint8Array, offset = 0): number[] {
  const view = viewOf(bytes);
  const out: number[] = [];
  for (let i = 0; i < NSID_LIST_MAX; i++) {
    const nsid = view.getUint32(offset + i * DWORD_BYTES, true);
    if (nsid === 0) break;
    out.push(nsid);
  }
  return out;
}
