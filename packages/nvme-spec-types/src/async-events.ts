/**
 * Asynchronous events: completion DW0 of an Asynchronous Event Request (NVMe Base 1.4 §5.2.1,
 * Figures "Asynchronous Event Request – Completion Queue Entry Dword 0" and the information tables).
 */
import { type FieldValues, packFields, unpackFields } from './bits.js';

/** Completion DW0 fields: event type 2:0, event information 15:8, log page identifier 23:16. */
export const AER_DW0 = {
  TYPE: { bit: 0, len: 3 },
  INFO: { bit: 8, len: 8 },
  LOG_PAGE: { bit: 16, len: 8 },
} as const;

/** Asynchronous Event Type (NVMe Base 1.4 §5.2.1; Linux `NVME_AER_*`). */
export const AsyncEventType = {
  ERROR: 0,
  SMART: 1,
  NOTICE: 2,
  IO_COMMAND_SET: 6,
  VENDOR: 7,
} as const;
export type AsyncEventType = (typeof AsyncEventType)[keyof typeof AsyncEventType];

/** Event information for type Error status (NVMe Base 1.4 §5.2.1). */
export const AsyncEventInfoError = {
  WRITE_TO_INVALID_DOORBELL: 0x00,
  INVALID_DOORBELL_WRITE_VALUE: 0x01,
  DIAGNOSTIC_FAILURE: 0x02,
  PERSISTENT_INTERNAL_ERROR: 0x03,
  TRANSIENT_INTERNAL_ERROR: 0x04,
  FIRMWARE_IMAGE_LOAD_ERROR: 0x05,
} as const;

/** Event information for type SMART / Health status (NVMe Base 1.4 §5.2.1). */
export const AsyncEventInfoSmart = {
  NVM_SUBSYSTEM_RELIABILITY: 0x00,
  TEMPERATURE_THRESHOLD: 0x01,
  SPARE_BELOW_THRESHOLD: 0x02,
} as const;

/** Event information for type Notice (NVMe Base 1.4 §5.2.1). */
export const AsyncEventInfoNotice = {
  NAMESPACE_ATTRIBUTE_CHANGED: 0x00,
  FIRMWARE_ACTIVATION_STARTING: 0x01,
  TELEMETRY_LOG_CHANGED: 0x02,
  ASYMMETRIC_NAMESPACE_ACCESS_CHANGE: 0x03,
  PREDICTABLE_LATENCY_EVENT_AGGREGATE_LOG_CHANGE: 0x04,
  LBA_STATUS_INFORMATION_ALERT: 0x05,
  ENDURANCE_GROUP_EVENT_AGGREGATE_LOG_PAGE_CHANGE: 0x06,
} as const;

/** A decoded asynchronous event. */
export interface AsyncEvent {
  type: number;
  info: number;
  logPage: number;
}

/** Completion DW0 for an event, e.g. Error / Invalid Doorbell Write Value / log 01h → 0x00010100. */
export function encodeAsyncEvent(type: number, info: number, logPage: number): number {
  return packFields(AER_DW0, { TYPE: type, INFO: info, LOG_PAGE: logPage });
}

/** Decodes completion DW0 of an Asynchronous Event Request. */
export function decodeAsyncEvent(dw0: number): AsyncEvent {
  const f: FieldValues<typeof AER_DW0> = unpackFields(AER_DW0, dw0);
  return { type: f.TYPE, info: f.INFO, logPage: f.LOG_PAGE };
}
