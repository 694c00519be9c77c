/**
 * Completion status: status code types, status codes with their specification names, and the
 * compact numeric form used on hot paths. NVMe Base 1.4 §4.6.1 (Status Field) and Figures
 * "Generic Command Status Values", "Command Specific Status Values", "Media and Data Integrity Errors".
 */
import { getBits, packFields, setBits } from './bits.js';

/**
 * A completion status as a 15-bit number: the Status Field exactly as it sits in CQE DW3 bits 31:17,
 * `(DNR << 14) | (M << 13) | (CRD << 11) | (SCT << 8) | SC`. This is also the encoding of Linux
 * `NVME_SC_*` values (`NVME_STATUS_DNR` = 0x4000, `NVME_STATUS_MORE` = 0x2000).
 */
export type NvmeStatus = number;

/** Fields of {@link NvmeStatus} (NVMe Base 1.4 §4.6.1, Status Field, shifted down by the phase bit). */
export const STATUS_FIELD = {
  SC: { bit: 0, len: 8 },
  SCT: { bit: 8, len: 3 },
  CRD: { bit: 11, len: 2 },
  M: { bit: 13, len: 1 },
  DNR: { bit: 14, len: 1 },
} as const;

/** Status Code Type values (NVMe Base 1.4 §4.6.1.1; 2.0 adds Path Related). */
export const Sct = {
  GENERIC: 0,
  COMMAND_SPECIFIC: 1,
  MEDIA: 2,
  PATH: 3,
  VENDOR: 7,
} as const;
export type Sct = (typeof Sct)[keyof typeof Sct];

type StatusDef = readonly [sct: Sct, sc: number, name: string];

/**
 * Every status code the simulator knows, keyed by its Linux name (`NVME_SC_<key>`), with its
 * specification name. Generic: NVMe Base 1.4 §4.6.1.2.1; command specific: §4.6.1.2.2;
 * media and data integrity: §4.6.1.2.3; path related: Figure 130 (NVMe 1.4 lists them, 2.0 §3.3.3.2.4).
 */
const STATUS_DEFS = {
  SUCCESS: [Sct.GENERIC, 0x00, 'Successful Completion'],
  INVALID_OPCODE: [Sct.GENERIC, 0x01, 'Invalid Command Opcode'],
  INVALID_FIELD: [Sct.GENERIC, 0x02, 'Invalid Field in Command'],
  CMDID_CONFLICT: [Sct.GENERIC, 0x03, 'Command ID Conflict'],
  DATA_XFER_ERROR: [Sct.GENERIC, 0x04, 'Data Transfer Error'],
  POWER_LOSS: [Sct.GENERIC, 0x05, 'Commands Aborted due to Power Loss Notification'],
  INTERNAL: [Sct.GENERIC, 0x06, 'Internal Error'],
  ABORT_REQ: [Sct.GENERIC, 0x07, 'Command Abort Requested'],
  ABORT_QUEUE: [Sct.GENERIC, 0x08, 'Command Aborted due to SQ Deletion'],
  FUSED_FAIL: [Sct.GENERIC, 0x09, 'Command Aborted due to Failed Fused Command'],
  FUSED_MISSING: [Sct.GENERIC, 0x0a, 'Command Aborted due to Missing Fused Command'],
  INVALID_NS: [Sct.GENERIC, 0x0b, 'Invalid Namespace or Format'],
  CMD_SEQ_ERROR: [Sct.GENERIC, 0x0c, 'Command Sequence Error'],
  SGL_INVALID_LAST: [Sct.GENERIC, 0x0d, 'Invalid SGL Segment Descriptor'],
  SGL_INVALID_COUNT: [Sct.GENERIC, 0x0e, 'Invalid Number of SGL Descriptors'],
  SGL_INVALID_DATA: [Sct.GENERIC, 0x0f, 'Data SGL Length Invalid'],
  SGL_INVALID_METADATA: [Sct.GENERIC, 0x10, 'Metadata SGL Length Invalid'],
  SGL_INVALID_TYPE: [Sct.GENERIC, 0x11, 'SGL Descriptor Type Invalid'],
  CMB_INVALID_USE: [Sct.GENERIC, 0x12, 'Invalid Use of Controller Memory Buffer'],
  PRP_INVALID_OFFSET: [Sct.GENERIC, 0x13, 'PRP Offset Invalid'],
  ATOMIC_WU_EXCEEDED: [Sct.GENERIC, 0x14, 'Atomic Write Unit Exceeded'],
  OP_DENIED: [Sct.GENERIC, 0x15, 'Operation Denied'],
  SGL_INVALID_OFFSET: [Sct.GENERIC, 0x16, 'SGL Offset Invalid'],
  HOST_ID_INCONSIST: [Sct.GENERIC, 0x18, 'Host Identifier Inconsistent Format'],
  KA_TIMEOUT_EXPIRED: [Sct.GENERIC, 0x19, 'Keep Alive Timer Expired'],
  KA_TIMEOUT_INVALID: [Sct.GENERIC, 0x1a, 'Keep Alive Timeout Invalid'],
  ABORTED_PREEMPT_ABORT: [Sct.GENERIC, 0x1b, 'Command Aborted due to Preempt and Abort'],
  SANITIZE_FAILED: [Sct.GENERIC, 0x1c, 'Sanitize Failed'],
  SANITIZE_IN_PROGRESS: [Sct.GENERIC, 0x1d, 'Sanitize In Progress'],
  SGL_INVALID_GRANULARITY: [Sct.GENERIC, 0x1e, 'SGL Data Block Granularity Invalid'],
  CMD_NOT_SUP_CMB_QUEUE: [Sct.GENERIC, 0x1f, 'Command Not Supported for Queue in CMB'],
  NS_WRITE_PROTECTED: [Sct.GENERIC, 0x20, 'Namespace is Write Protected'],
  CMD_INTERRUPTED: [Sct.GENERIC, 0x21, 'Command Interrupted'],
  TRANSIENT_TR_ERR: [Sct.GENERIC, 0x22, 'Transient Transport Error'],
  LBA_RANGE: [Sct.GENERIC, 0x80, 'LBA Out of Range'],
  CAP_EXCEEDED: [Sct.GENERIC, 0x81, 'Capacity Exceeded'],
  NS_NOT_READY: [Sct.GENERIC, 0x82, 'Namespace Not Ready'],
  RESERVATION_CONFLICT: [Sct.GENERIC, 0x83, 'Reservation Conflict'],
  FORMAT_IN_PROGRESS: [Sct.GENERIC, 0x84, 'Format In Progress'],
  CQ_INVALID: [Sct.COMMAND_SPECIFIC, 0x00, 'Completion Queue Invalid'],
  QID_INVALID: [Sct.COMMAND_SPECIFIC, 0x01, 'Invalid Queue Identifier'],
  QUEUE_SIZE: [Sct.COMMAND_SPECIFIC, 0x02, 'Invalid Queue Size'],
  ABORT_LIMIT: [Sct.COMMAND_SPECIFIC, 0x03, 'Abort Command Limit Exceeded'],
  ASYNC_LIMIT: [Sct.COMMAND_SPECIFIC, 0x05, 'Asynchronous Event Request Limit Exceeded'],
  FIRMWARE_SLOT: [Sct.COMMAND_SPECIFIC, 0x06, 'Invalid Firmware Slot'],
  FIRMWARE_IMAGE: [Sct.COMMAND_SPECIFIC, 0x07, 'Invalid Firmware Image'],
  INVALID_VECTOR: [Sct.COMMAND_SPECIFIC, 0x08, 'Invalid Interrupt Vector'],
  INVALID_LOG_PAGE: [Sct.COMMAND_SPECIFIC, 0x09, 'Invalid Log Page'],
  INVALID_FORMAT: [Sct.COMMAND_SPECIFIC, 0x0a, 'Invalid Format'],
  FW_NEEDS_CONV_RESET: [Sct.COMMAND_SPECIFIC, 0x0b, 'Firmware Activation Requires Conventional Reset'],
  INVALID_QUEUE: [Sct.COMMAND_SPECIFIC, 0x0c, 'Invalid Queue Deletion'],
  FEATURE_NOT_SAVEABLE: [Sct.COMMAND_SPECIFIC, 0x0d, 'Feature Identifier Not Saveable'],
  FEATURE_NOT_CHANGEABLE: [Sct.COMMAND_SPECIFIC, 0x0e, 'Feature Not Changeable'],
  FEATURE_NOT_PER_NS: [Sct.COMMAND_SPECIFIC, 0x0f, 'Feature Not Namespace Specific'],
  BAD_ATTRIBUTES: [Sct.COMMAND_SPECIFIC, 0x80, 'Conflicting Attributes'],
  INVALID_PI: [Sct.COMMAND_SPECIFIC, 0x81, 'Invalid Protection Information'],
  READ_ONLY: [Sct.COMMAND_SPECIFIC, 0x82, 'Attempted Write to Read Only Range'],
  WRITE_FAULT: [Sct.MEDIA, 0x80, 'Write Fault'],
  READ_ERROR: [Sct.MEDIA, 0x81, 'Unrecovered Read Error'],
  GUARD_CHECK: [Sct.MEDIA, 0x82, 'End-to-end Guard Check Error'],
  APPTAG_CHECK: [Sct.MEDIA, 0x83, 'End-to-end Application Tag Check Error'],
  REFTAG_CHECK: [Sct.MEDIA, 0x84, 'End-to-end Reference Tag Check Error'],
  COMPARE_FAILED: [Sct.MEDIA, 0x85, 'Compare Failure'],
  ACCESS_DENIED: [Sct.MEDIA, 0x86, 'Access Denied'],
  UNWRITTEN_BLOCK: [Sct.MEDIA, 0x87, 'Deallocated or Unwritten Logical Block'],
  INTERNAL_PATH_ERROR: [Sct.PATH, 0x00, 'Internal Path Error'],
  ANA_PERSISTENT_LOSS: [Sct.PATH, 0x01, 'Asymmetric Access Persistent Loss'],
  ANA_INACCESSIBLE: [Sct.PATH, 0x02, 'Asymmetric Access Inaccessible'],
  ANA_TRANSITION: [Sct.PATH, 0x03, 'Asymmetric Access Transition'],
  CTRL_PATH_ERROR: [Sct.PATH, 0x60, 'Controller Pathing Error'],
  HOST_PATH_ERROR: [Sct.PATH, 0x70, 'Host Pathing Error'],
  HOST_ABORTED_CMD: [Sct.PATH, 0x71, 'Command Aborted By Host'],
} as const satisfies Record<string, StatusDef>;

/** Name of a known status, as in Linux `NVME_SC_<name>` without the prefix. */
export type StatusKey = keyof typeof STATUS_DEFS;

/** Builds a status from its type and code; DNR (Do Not Retry) is set unless `dnr` is false. */
export function makeStatus(sct: number, sc: number, dnr = true): NvmeStatus {
  return packFields(STATUS_FIELD, { SCT: sct, SC: sc, DNR: dnr ? 1 : 0 });
}

/** Status Code Type of a status. */
export function statusSct(s: NvmeStatus): number {
  return getBits(s, STATUS_FIELD.SCT);
}

/** Status Code of a status. */
export function statusSc(s: NvmeStatus): number {
  return getBits(s, STATUS_FIELD.SC);
}

/** Do Not Retry bit. */
export function statusDnr(s: NvmeStatus): boolean {
  return getBits(s, STATUS_FIELD.DNR) === 1;
}

/** More bit (more status in the Error Information log). */
export function statusMore(s: NvmeStatus): boolean {
  return getBits(s, STATUS_FIELD.M) === 1;
}

/** Command Retry Delay index (0: none; 1..3 select CRDT1..CRDT3 of Identify Controller). */
export function statusCrd(s: NvmeStatus): number {
  return getBits(s, STATUS_FIELD.CRD);
}

/** The status with its DNR bit set or cleared. */
export function withDnr(s: NvmeStatus, dnr: boolean): NvmeStatus {
  return setBits(s, STATUS_FIELD.DNR, dnr ? 1 : 0);
}

/** True when the status is Successful Completion, whatever its DNR/M/CRD bits. */
export function isSuccess(s: NvmeStatus): boolean {
  return statusSct(s) === Sct.GENERIC && statusSc(s) === SC.SUCCESS;
}

function mapDefs<V>(f: (def: StatusDef, key: StatusKey) => V): { readonly [K in StatusKey]: V } {
  const keys = Object.keys(STATUS_DEFS) as StatusKey[];
  return Object.fromEntries(keys.map((k) => [k, f(STATUS_DEFS[k], k)])) as { readonly [K in StatusKey]: V };
}

/** Raw status codes (the SC field alone), e.g. `SC.PRP_INVALID_OFFSET` = 0x13. Codes repeat across SCTs. */
export const SC = mapDefs(([, sc]) => sc) as { readonly [K in StatusKey]: (typeof STATUS_DEFS)[K][1] };

/** Full 15-bit statuses with DNR set (Successful Completion without), e.g. `Status.PRP_INVALID_OFFSET` = 0x4013. */
export const Status: { readonly [K in StatusKey]: NvmeStatus } = mapDefs(([sct, sc], key) =>
  makeStatus(sct, sc, key !== 'SUCCESS'),
);

/** Successful Completion, 0/00h, no DNR. */
export const STATUS_SUCCESS: NvmeStatus = Status.SUCCESS;

/** Type and code with DNR, M and CRD cleared: the key of the name table. */
function statusCode(s: NvmeStatus): number {
  return makeStatus(statusSct(s), statusSc(s), false);
}

const STATUS_NAMES: ReadonlyMap<number, string> = new Map(
  Object.values(STATUS_DEFS).map(([sct, sc, name]) => [makeStatus(sct, sc, false), name]),
);

/** Name for codes this table does not list. */
const UNKNOWN_STATUS_NAME = 'Unknown Status';
const VENDOR_STATUS_NAME = 'Vendor Specific';

/** Specification name of a status, e.g. "Invalid Field in Command"; DNR/M/CRD do not matter. */
export function statusName(s: NvmeStatus): string {
  return STATUS_NAMES.get(statusCode(s)) ?? (statusSct(s) === Sct.VENDOR ? VENDOR_STATUS_NAME : UNKNOWN_STATUS_NAME);
}

/** Flag words of the formatted form. */
const FLAG_DNR = 'DNR';
const FLAG_NO_DNR = 'no DNR';
const FLAG_MORE = 'M';
const FLAG_MORE_LONG = 'MORE';
const FLAG_CRD = 'CRD=';
const HEX = 16;
const SC_HEX_DIGITS = 2;

/**
 * Formats a status as `SCT/SCh Name (flags)`, e.g. `"0/02h Invalid Field in Command (DNR)"`.
 * Flags list DNR, M and CRD=n. A non-success status without DNR says `(no DNR)`, so that
 * {@link parseStatus} (which assumes DNR when no flags are given) reads every formatted status back.
 */
export function formatStatus(s: NvmeStatus): string {
  const flags: string[] = [];
  if (statusDnr(s)) flags.push(FLAG_DNR);
  if (statusMore(s)) flags.push(FLAG_MORE);
  if (statusCrd(s) !== 0) flags.push(`${FLAG_CRD}${statusCrd(s)}`);
  if (flags.length === 0 && !isSuccess(s)) flags.push(FLAG_NO_DNR);
  const sc = statusSc(s).toString(HEX).toUpperCase().padStart(SC_HEX_DIGITS, '0');
  const suffix = flags.length > 0 ? ` (${flags.join(', ')})` : '';
  return `${statusSct(s)}/${sc}h ${statusName(s)}${suffix}`;
}

/** `SCT/SC` in hex, each optionally `0x`-prefixed or `h`-suffixed, then free text, then optional `(flags)`. */
const STATUS_TEXT =
  /^\s*(?:0x)?([0-9a-f]{1,2})h?\s*\/\s*(?:0x)?([0-9a-f]{1,2})h?(?![0-9a-z])(.*?)(?:\(([^()]*)\))?\s*$/i;
const CRD_FLAG = /^CRD\s*=?\s*(\d)$/;
const SCT_MAX = 2 ** STATUS_FIELD.SCT.len - 1;
const CRD_MAX = 2 ** STATUS_FIELD.CRD.len - 1;

/** Applies one flag word of a `(flags)` group; undefined when the word is not a flag. */
function applyFlag(s: NvmeStatus, flag: string): NvmeStatus | undefined {
  const word = flag.trim().toUpperCase();
  if (word === FLAG_DNR) return withDnr(s, true);
  if (word === FLAG_NO_DNR.toUpperCase()) return withDnr(s, false);
  if (word === FLAG_MORE || word === FLAG_MORE_LONG) return setBits(s, STATUS_FIELD.M, 1);
  const crd = CRD_FLAG.exec(word);
  if (crd && Number(crd[1]) <= CRD_MAX) return setBits(s, STATUS_FIELD.CRD, Number(crd[1]));
  return undefined;
}

/**
 * Parses `"0/13h"`, `"0x0/0x13"`, `"1/0Ch Invalid Queue Deletion"` or the output of {@link formatStatus}.
 * Without a flags group, DNR is set (except for 0/00h); with one, exactly the listed flags
 * (`DNR`, `no DNR`, `M`, `CRD=n`) are set. Returns undefined when the text is not a status.
 */
export function parseStatus(text: string): NvmeStatus | undefined {
  const m = STATUS_TEXT.exec(text);
  if (!m) return undefined;
  const sct = Number.parseInt(m[1] ?? '', HEX);
  const sc = Number.parseInt(m[2] ?? '', HEX);
  if (sct > SCT_MAX) return undefined;
  const group = m[4];
  if (group === undefined) return makeStatus(sct, sc, !(sct === Sct.GENERIC && sc === SC.SUCCESS));
  let s: NvmeStatus | undefined = makeStatus(sct, sc, false);
  for (const flag of group.split(',')) {
    s = applyFlag(s, flag);
    if (s === undefined) return undefined;
  }
  return s;
}
