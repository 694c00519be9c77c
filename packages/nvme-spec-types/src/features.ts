/**
 * Features (NVMe Base 1.4, Set Features and Get Features commands): identifiers, the CDW10 fields of
 * both commands, and the Dword 11 layout of each feature (the same layout is returned in completion DW0).
 */
import { nameLookup } from './lookup.js';

/** Feature Identifiers (NVMe Base 1.4, "Feature Identifiers"; Linux `NVME_FEAT_*`). */
export const FeatureId = {
  ARBITRATION: 0x01,
  POWER_MANAGEMENT: 0x02,
  LBA_RANGE_TYPE: 0x03,
  TEMPERATURE_THRESHOLD: 0x04,
  ERROR_RECOVERY: 0x05,
  VOLATILE_WRITE_CACHE: 0x06,
  NUMBER_OF_QUEUES: 0x07,
  INTERRUPT_COALESCING: 0x08,
  INTERRUPT_VECTOR_CONFIGURATION: 0x09,
  WRITE_ATOMICITY_NORMAL: 0x0a,
  ASYNC_EVENT_CONFIGURATION: 0x0b,
  AUTONOMOUS_POWER_STATE_TRANSITION: 0x0c,
  HOST_MEMORY_BUFFER: 0x0d,
  TIMESTAMP: 0x0e,
  KEEP_ALIVE_TIMER: 0x0f,
  HOST_CONTROLLED_THERMAL_MANAGEMENT: 0x10,
  NON_OPERATIONAL_POWER_STATE_CONFIG: 0x11,
  SOFTWARE_PROGRESS_MARKER: 0x80,
  HOST_IDENTIFIER: 0x81,
  RESERVATION_NOTIFICATION_MASK: 0x82,
  RESERVATION_PERSISTENCE: 0x83,
  NAMESPACE_WRITE_PROTECTION_CONFIG: 0x84,
} as const;
export type FeatureId = (typeof FeatureId)[keyof typeof FeatureId];

/** Name of a feature identifier (e.g. `'NUMBER_OF_QUEUES'`), or undefined when not listed. */
export const featureName: (fid: number) => keyof typeof FeatureId | undefined = nameLookup(FeatureId);

/** Get Features CDW10: FID 7:0, Select 10:8 (NVMe Base 1.4, Get Features "Command Dword 10"). */
export const GET_FEATURES_CDW10 = {
  FID: { bit: 0, len: 8 },
  SEL: { bit: 8, len: 3 },
} as const;

/** Set Features CDW10: FID 7:0, Save 31 (NVMe Base 1.4, Set Features "Command Dword 10"). */
export const SET_FEATURES_CDW10 = {
  FID: { bit: 0, len: 8 },
  SV: { bit: 31, len: 1 },
} as const;

/** Get Features SEL values (NVMe Base 1.4, "Select (SEL)"). */
export const FeatureSelect = {
  CURRENT: 0,
  DEFAULT: 1,
  SAVED: 2,
  SUPPORTED_CAPABILITIES: 3,
} as const;
export type FeatureSelect = (typeof FeatureSelect)[keyof typeof FeatureSelect];

/** Completion DW0 of Get Features with SEL = Supported Capabilities. */
export const FEATURE_CAPABILITIES = {
  SAVEABLE: { bit: 0, len: 1 },
  NS_SPECIFIC: { bit: 1, len: 1 },
  CHANGEABLE: { bit: 2, len: 1 },
} as const;

/**
 * Dword 11 of Set Features (and DW0 of Get Features) per feature (NVMe Base 1.4, the "Feature
 * Specific Information" subsections). Number of Queues answers in DW0 with NSQA/NCQA in the same places.
 */
export const FEATURE_DW11 = {
  ARBITRATION: {
    AB: { bit: 0, len: 3 },
    LPW: { bit: 8, len: 8 },
    MPW: { bit: 16, len: 8 },
    HPW: { bit: 24, len: 8 },
  },
  POWER_MANAGEMENT: {
    PS: { bit: 0, len: 5 },
    WH: { bit: 5, len: 3 },
  },
  TEMPERATURE_THRESHOLD: {
    TMPTH: { bit: 0, len: 16 },
    TMPSEL: { bit: 16, len: 4 },
    THSEL: { bit: 20, len: 2 },
  },
  ERROR_RECOVERY: {
    TLER: { bit: 0, len: 16 },
    DULBE: { bit: 16, len: 1 },
  },
  VOLATILE_WRITE_CACHE: {
    WCE: { bit: 0, len: 1 },
  },
  NUMBER_OF_QUEUES: {
    NSQR: { bit: 0, len: 16 },
    NCQR: { bit: 16, len: 16 },
  },
  INTERRUPT_COALESCING: {
    THR: { bit: 0, len: 8 },
    TIME: { bit: 8, len: 8 },
  },
  INTERRUPT_VECTOR_CONFIGURATION: {
    IV: { bit: 0, len: 16 },
    CD: { bit: 16, len: 1 },
  },
  WRITE_ATOMICITY_NORMAL: {
    DN: { bit: 0, len: 1 },
  },
  ASYNC_EVENT_CONFIGURATION: {
    SMART: { bit: 0, len: 8 },
    NAMESPACE_ATTRIBUTE: { bit: 8, len: 1 },
    FIRMWARE_ACTIVATION: { bit: 9, len: 1 },
    TELEMETRY: { bit: 10, len: 1 },
    ANA_CHANGE: { bit: 11, len: 1 },
  },
  KEEP_ALIVE_TIMER: {
    KATO: { bit: 0, len: 32 },
  },
} as const;

/** Temperature Threshold THSEL values. */
export const ThresholdSelect = { OVER: 0, UNDER: 1 } as const;

/** Arbitration Burst value meaning "no limit". */
export const ARBITRATION_BURST_UNLIMITED = 7;

/** Interrupt Coalescing TIME unit, in microseconds. */
export const INTERRUPT_COALESCING_TIME_UNIT_US = 100;
