/**
 * Log pages (NVMe Base 1.4, Get Log Page command): log identifiers, the command's dword fields, and
 * the layouts of the Error Information, SMART / Health Information, Firmware Slot Information and
 * Commands Supported and Effects logs.
 */
import { type BitField, getBits, joinU64, packFields, splitU64 } from './bits.js';
import { nameLookup } from './lookup.js';
import { DWORD_BYTES, defineStruct, type FieldLayout, type StructInit, type StructValues } from './struct.js';

/** Log Page Identifiers (NVMe Base 1.4, "Log Page Identifiers"; Supported Log Pages from 2.0; Linux `NVME_LOG_*`). */
export const Lid = {
  SUPPORTED_LOGS: 0x00,
  ERROR_INFORMATION: 0x01,
  SMART_HEALTH: 0x02,
  FIRMWARE_SLOT: 0x03,
  CHANGED_NAMESPACE_LIST: 0x04,
  COMMANDS_SUPPORTED_EFFECTS: 0x05,
  DEVICE_SELF_TEST: 0x06,
  TELEMETRY_HOST: 0x07,
  TELEMETRY_CONTROLLER: 0x08,
  ENDURANCE_GROUP_INFORMATION: 0x09,
  PREDICTABLE_LATENCY_PER_NVM_SET: 0x0a,
  PREDICTABLE_LATENCY_EVENT_AGGREGATE: 0x0b,
  ASYMMETRIC_NAMESPACE_ACCESS: 0x0c,
  PERSISTENT_EVENT: 0x0d,
  LBA_STATUS_INFORMATION: 0x0e,
  ENDURANCE_GROUP_EVENT_AGGREGATE: 0x0f,
  RESERVATION_NOTIFICATION: 0x80,
  SANITIZE_STATUS: 0x81,
} as const;
export type Lid = (typeof Lid)[keyof typeof Lid];

/** Name of a log page identifier (e.g. `'SMART_HEALTH'`), or undefined when not listed. */
export const logPageName: (lid: number) => keyof typeof Lid | undefined = nameLookup(Lid);

/**
 * Get Log Page command dwords (NVMe Base 1.4, Get Log Page "Command Dword 10/11"). NUMD (0's based
 * dwords) = NUMDU:NUMDL; the byte offset is LPOU:LPOL in CDW13:CDW12. LSP is 11:8 as in 1.4 (2.0 widens it to 14:8).
 */
export const GET_LOG_PAGE = {
  CDW10: {
    LID: { bit: 0, len: 8 },
    LSP: { bit: 8, len: 4 },
    RAE: { bit: 15, len: 1 },
    NUMDL: { bit: 16, len: 16 },
  },
  CDW11: {
    NUMDU: { bit: 0, len: 16 },
    LSI: { bit: 16, len: 16 },
  },
} as const;

/** The parameters of a Get Log Page command. */
export interface GetLogPageArgs {
  lid: number;
  /** Bytes to transfer: a non-zero multiple of 4. */
  length: number;
  /** Byte offset into the log (must be dword aligned for the controller to accept it). */
  offset: bigint;
  lsp: number;
  rae: boolean;
  lsi: number;
}

/** Get Log Page command dwords 10..13. */
export interface GetLogPageDwords {
  cdw10: number;
  cdw11: number;
  cdw12: number;
  cdw13: number;
}

/** Bits of NUMDL: NUMD is split into NUMDU (high) and NUMDL (low). */
const NUMDL_BITS = GET_LOG_PAGE.CDW10.NUMDL.len;

/** Builds CDW10..13 of a Get Log Page command. `length` must be a positive multiple of 4 bytes. */
export function encodeGetLogPage(
  args: Partial<GetLogPageArgs> & Pick<GetLogPageArgs, 'lid' | 'length'>,
): GetLogPageDwords {
  if (args.length <= 0 || args.length % DWORD_BYTES !== 0) {
    throw new RangeError(`Get Log Page length ${args.length} is not a positive multiple of 4`);
  }
  const numd = args.length / DWORD_BYTES - 1;
  const off = splitU64(args.offset ?? 0n);
  return {
    cdw10: packFields(GET_LOG_PAGE.CDW10, {
      LID: args.lid,
      LSP: args.lsp ?? 0,
      RAE: args.rae ? 1 : 0,
      NUMDL: numd % 2 ** NUMDL_BITS,
    }),
    cdw11: packFields(GET_LOG_PAGE.CDW11, { NUMDU: Math.floor(numd / 2 ** NUMDL_BITS), LSI: args.lsi ?? 0 }),
    cdw12: off.lo,
    cdw13: off.hi,
  };
}

/** Decodes CDW10..13 of a Get Log Page command; `length` = (NUMD + 1) × 4 bytes. */
export function decodeGetLogPage(d: GetLogPageDwords): GetLogPageArgs {
  const numd =
    getBits(d.cdw11, GET_LOG_PAGE.CDW11.NUMDU) * 2 ** NUMDL_BITS + getBits(d.cdw10, GET_LOG_PAGE.CDW10.NUMDL);
  return {
    lid: getBits(d.cdw10, GET_LOG_PAGE.CDW10.LID),
    length: (numd + 1) * DWORD_BYTES,
    offset: joinU64(d.cdw12, d.cdw13),
    lsp: getBits(d.cdw10, GET_LOG_PAGE.CDW10.LSP),
    rae: getBits(d.cdw10, GET_LOG_PAGE.CDW10.RAE) === 1,
    lsi: getBits(d.cdw11, GET_LOG_PAGE.CDW11.LSI),
  };
}

/** Size of one Error Information log entry. */
export const ERROR_INFO_SIZE = 64;

/**
 * Error Information log entry (NVMe Base 1.4, "Error Information Log Entry"; Linux `struct nvme_error_log_page`).
 * STATUS has the CQE status halfword layout (`CQE_STATUS`: phase tag bit 0, Status Field 15:1).
 */
export const ERROR_INFO = {
  ERROR_COUNT: { off: 0, size: 8 },
  SQID: { off: 8, size: 2 },
  CID: { off: 10, size: 2 },
  STATUS: { off: 12, size: 2 },
  PARAM_ERROR_LOCATION: { off: 14, size: 2 },
  LBA: { off: 16, size: 8 },
  NSID: { off: 24, size: 4 },
  VS: { off: 28, size: 1 },
  TRTYPE: { off: 29, size: 1 },
  COMMAND_SPECIFIC: { off: 32, size: 8 },
  TRTYPE_SPECIFIC: { off: 40, size: 2 },
} as const satisfies Record<string, FieldLayout>;

/** Parameter Error Location: byte 7:0 and bit 10:8 of the command field in error. */
export const ERROR_PARAM_LOCATION = {
  BYTE: { bit: 0, len: 8 },
  BIT: { bit: 8, len: 3 },
} as const satisfies Record<string, BitField>;

/** Size of the SMART / Health Information log. */
export const SMART_LOG_SIZE = 512;

/**
 * SMART / Health Information log, LID 02h (NVMe Base 1.4, "SMART / Health Information Log"; Linux
 * `struct nvme_smart_log`). Temperatures are in Kelvin; 16-byte counters are u128.
 */
export const SMART_LOG = {
  CRITICAL_WARNING: { off: 0, size: 1 },
  COMPOSITE_TEMPERATURE: { off: 1, size: 2 },
  AVAILABLE_SPARE: { off: 3, size: 1 },
  AVAILABLE_SPARE_THRESHOLD: { off: 4, size: 1 },
  PERCENTAGE_USED: { off: 5, size: 1 },
  ENDURANCE_GROUP_CRITICAL_WARNING: { off: 6, size: 1 },
  DATA_UNITS_READ: { off: 32, size: 16 },
  DATA_UNITS_WRITTEN: { off: 48, size: 16 },
  HOST_READ_COMMANDS: { off: 64, size: 16 },
  HOST_WRITE_COMMANDS: { off: 80, size: 16 },
  CONTROLLER_BUSY_TIME: { off: 96, size: 16 },
  POWER_CYCLES: { off: 112, size: 16 },
  POWER_ON_HOURS: { off: 128, size: 16 },
  UNSAFE_SHUTDOWNS: { off: 144, size: 16 },
  MEDIA_ERRORS: { off: 160, size: 16 },
  NUM_ERROR_LOG_ENTRIES: { off: 176, size: 16 },
  WARNING_TEMP_TIME: { off: 192, size: 4 },
  CRITICAL_TEMP_TIME: { off: 196, size: 4 },
  TEMP_SENSOR: { off: 200, size: 2, count: 8 },
  TMT1_TRANSITION_COUNT: { off: 216, size: 4 },
  TMT2_TRANSITION_COUNT: { off: 220, size: 4 },
  TMT1_TOTAL_TIME: { off: 224, size: 4 },
  TMT2_TOTAL_TIME: { off: 228, size: 4 },
} as const satisfies Record<string, FieldLayout>;

/** SMART Critical Warning bits (NVMe Base 1.4, SMART / Health Information Log, byte 0). */
export const SMART_CRITICAL_WARNING = {
  AVAILABLE_SPARE: { bit: 0, len: 1 },
  TEMPERATURE: { bit: 1, len: 1 },
  RELIABILITY: { bit: 2, len: 1 },
  READ_ONLY: { bit: 3, len: 1 },
  VOLATILE_BACKUP: { bit: 4, len: 1 },
  PMR_READ_ONLY: { bit: 5, len: 1 },
} as const satisfies Record<string, BitField>;

/** Size of the Firmware Slot Information log. */
export const FW_SLOT_LOG_SIZE = 512;

/** Firmware Slot Information log, LID 03h: AFI, then FRS1..FRS7 (8 ASCII bytes each) from byte 8. */
export const FW_SLOT_LOG = {
  AFI: { off: 0, size: 1 },
  FRS: { off: 8, size: 8, kind: 'ascii', count: 7 },
} as const satisfies Record<string, FieldLayout>;

/** Active Firmware Info: slot running now 2:0, slot activated at the next reset 6:4. */
export const FW_SLOT_AFI = {
  ACTIVE: { bit: 0, len: 3 },
  NEXT: { bit: 4, len: 3 },
} as const satisfies Record<string, BitField>;

/** Size of the Commands Supported and Effects log. */
export const CMD_EFFECTS_LOG_SIZE = 4096;

/** Commands Supported and Effects log, LID 05h: 256 admin (ACS) then 256 I/O (IOCS) effect dwords, by opcode. */
export const CMD_EFFECTS_LOG = {
  ACS: { off: 0, size: 4, count: 256 },
  IOCS: { off: 1024, size: 4, count: 256 },
} as const satisfies Record<string, FieldLayout>;

/** Bits of a Commands Supported and Effects entry (NVMe Base 1.4, "Commands Supported and Effects Data Structure"). */
export const CMD_EFFECTS = {
  CSUPP: { bit: 0, len: 1 },
  LBCC: { bit: 1, len: 1 },
  NCC: { bit: 2, len: 1 },
  NIC: { bit: 3, len: 1 },
  CCC: { bit: 4, len: 1 },
  CSE: { bit: 16, len: 3 },
  UUID_SEL: { bit: 19, len: 1 },
} as const satisfies Record<string, BitField>;

const ERROR_INFO_CODEC = defineStruct(ERROR_INFO_SIZE, ERROR_INFO);
const SMART_LOG_CODEC = defineStruct(SMART_LOG_SIZE, SMART_LOG);
const FW_SLOT_LOG_CODEC = defineStruct(FW_SLOT_LOG_SIZE, FW_SLOT_LOG);
const CMD_EFFECTS_LOG_CODEC = defineStruct(CMD_EFFECTS_LOG_SIZE, CMD_EFFECTS_LOG);

/** An Error Information entry in object form. */
export type ErrorInformation = StructValues<typeof ERROR_INFO>;
/** The SMART / Health Information log in object form. */
export type SmartLog = StructValues<typeof SMART_LOG>;
/** The Firmware Slot Information log in object form. */
export type FirmwareSlotLog = StructValues<typeof FW_SLOT_LOG>;
/** The Commands Supported and Effects log in object form. */
export type CommandEffectsLog = StructValues<typeof CMD_EFFECTS_LOG>;

/** Encodes Error Information entries back to back (64 bytes each). */
export const encodeErrorInformation: (entries: readonly StructInit<typeof ERROR_INFO>[]) => Uint8Array =
  ERROR_INFO_CODEC.encodeMany;
/** Decodes `count` Error Information entries (default: every whole 64-byte entry in `bytes`). */
export const decodeErrorInformation: (bytes: Uint8Array, count?: number) => ErrorInformation[] =
  ERROR_INFO_CODEC.decodeMany;

/** Encodes a SMART / Health Information log (512 bytes). */
export const encodeSmartLog: (fields: StructInit<typeof SMART_LOG>) => Uint8Array = SMART_LOG_CODEC.encode;
/** Decodes a SMART / Health Information log. */
export const decodeSmartLog: (bytes: Uint8Array, offset?: number) => SmartLog = SMART_LOG_CODEC.decode;
/** Encodes a Firmware Slot Information log (512 bytes). */
export const encodeFirmwareSlotLog: (fields: StructInit<typeof FW_SLOT_LOG>) => Uint8Array = FW_SLOT_LOG_CODEC.encode;
/** Decodes a Firmware Slot Information log. */
export const decodeFirmwareSlotLog: (bytes: Uint8Array, offset?: number) => FirmwareSlotLog = FW_SLOT_LOG_CODEC.decode;
/** Encodes a Commands Supported and Effects log (4096 bytes). */
export const encodeCommandEffectsLog: (fields: StructInit<typeof CMD_EFFECTS_LOG>) => Uint8Array =
  CMD_EFFECTS_LOG_CODEC.encode;
/** Decodes a Commands Supported and Effects log. */
export const decodeCommandEffectsLog: (bytes: Uint8Array, offset?: number) => CommandEffectsLog =
  CMD_EFFECTS_LOG_CODEC.decode;
