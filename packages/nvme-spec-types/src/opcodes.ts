/**
 * Command opcodes: admin (NVMe Base 1.4 §5, Figure "Opcodes for Admin Commands") and NVM I/O
 * (NVMe Base 1.4 §6, Figure "Opcodes for NVM Commands"), with names and the data direction encoded in
 * opcode bits 1:0. Names follow include/linux/nvme.h (`nvme_admin_*`, `nvme_cmd_*`) in SCREAMING_SNAKE.
 */
import { getBits } from './bits.js';
import { nameLookup } from './lookup.js';

/** Admin command opcodes (NVMe Base 1.4 §5 / 2.0 §5). */
export const AdminOpcode = {
  DELETE_IO_SQ: 0x00,
  CREATE_IO_SQ: 0x01,
  GET_LOG_PAGE: 0x02,
  DELETE_IO_CQ: 0x04,
  CREATE_IO_CQ: 0x05,
  IDENTIFY: 0x06,
  ABORT: 0x08,
  SET_FEATURES: 0x09,
  GET_FEATURES: 0x0a,
  ASYNC_EVENT_REQUEST: 0x0c,
  NAMESPACE_MANAGEMENT: 0x0d,
  FIRMWARE_COMMIT: 0x10,
  FIRMWARE_DOWNLOAD: 0x11,
  DEVICE_SELF_TEST: 0x14,
  NAMESPACE_ATTACHMENT: 0x15,
  KEEP_ALIVE: 0x18,
  DIRECTIVE_SEND: 0x19,
  DIRECTIVE_RECEIVE: 0x1a,
  VIRTUALIZATION_MANAGEMENT: 0x1c,
  NVME_MI_SEND: 0x1d,
  NVME_MI_RECEIVE: 0x1e,
  DOORBELL_BUFFER_CONFIG: 0x7c,
  FORMAT_NVM: 0x80,
  SECURITY_SEND: 0x81,
  SECURITY_RECEIVE: 0x82,
  SANITIZE: 0x84,
  GET_LBA_STATUS: 0x86,
} as const;
export type AdminOpcode = (typeof AdminOpcode)[keyof typeof AdminOpcode];

/** NVM command set I/O opcodes (NVMe Base 1.4 §6; Copy from the NVM Command Set 2.0). */
export const NvmOpcode = {
  FLUSH: 0x00,
  WRITE: 0x01,
  READ: 0x02,
  WRITE_UNCORRECTABLE: 0x04,
  COMPARE: 0x05,
  WRITE_ZEROES: 0x08,
  DATASET_MANAGEMENT: 0x09,
  VERIFY: 0x0c,
  RESERVATION_REGISTER: 0x0d,
  RESERVATION_REPORT: 0x0e,
  RESERVATION_ACQUIRE: 0x11,
  RESERVATION_RELEASE: 0x15,
  COPY: 0x19,
} as const;
export type NvmOpcode = (typeof NvmOpcode)[keyof typeof NvmOpcode];

/** Opcode fields: data transfer direction 1:0, function 6:2, generic command 7 (NVMe Base 1.4 §5, §6). */
export const OPCODE_FIELDS = {
  DATA_TRANSFER: { bit: 0, len: 2 },
  FUNCTION: { bit: 2, len: 5 },
  GENERIC: { bit: 7, len: 1 },
} as const;

/** Data transfer direction of an opcode, bits 1:0 (NVMe Base 1.4 §5 and §6, opcode figures). */
export const DataDirection = {
  NONE: 0,
  HOST_TO_CONTROLLER: 1,
  CONTROLLER_TO_HOST: 2,
  BIDIRECTIONAL: 3,
} as const;
export type DataDirection = (typeof DataDirection)[keyof typeof DataDirection];

/** Data transfer direction encoded in an opcode's bits 1:0. */
export function opcodeDataDirection(op: number): DataDirection {
  return getBits(op, OPCODE_FIELDS.DATA_TRANSFER) as DataDirection;
}

/** Name of an admin opcode (e.g. `'IDENTIFY'`), or undefined when the opcode is not listed. */
export const adminOpcodeName: (op: number) => keyof typeof AdminOpcode | undefined = nameLookup(AdminOpcode);

/** Name of an NVM I/O opcode (e.g. `'READ'`), or undefined when the opcode is not listed. */
export const nvmOpcodeName: (op: number) => keyof typeof NvmOpcode | undefined = nameLookup(NvmOpcode);
