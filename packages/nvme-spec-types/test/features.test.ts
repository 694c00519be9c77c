import { describe, expect, it } from 'vitest';
import {
  FEATURE_CAPABILITIES,
  FEATURE_DW11,
  FeatureId,
  FeatureSelect,
  featureName,
  GET_FEATURES_CDW10,
  getBits,
  packFields,
  SET_FEATURES_CDW10,
  unpackFields,
} from '../src/index.js';
import { type BitRow, expectBitFields, expectBitsDisjointWithin } from './spec-table.js';

describe('feature identifiers (NVMe Base 1.4, Feature Identifiers)', () => {
  it('values', () => {
    expect(Object.entries(FeatureId)).toEqual([
      ['ARBITRATION', 0x01],
      ['POWER_MANAGEMENT', 0x02],
      ['LBA_RANGE_TYPE', 0x03],
      ['TEMPERATURE_THRESHOLD', 0x04],
      ['ERROR_RECOVERY', 0x05],
      ['VOLATILE_WRITE_CACHE', 0x06],
      ['NUMBER_OF_QUEUES', 0x07],
      ['INTERRUPT_COALESCING', 0x08],
      ['INTERRUPT_VECTOR_CONFIGURATION', 0x09],
      ['WRITE_ATOMICITY_NORMAL', 0x0a],
      ['ASYNC_EVENT_CONFIGURATION', 0x0b],
      ['AUTONOMOUS_POWER_STATE_TRANSITION', 0x0c],
      ['HOST_MEMORY_BUFFER', 0x0d],
      ['TIMESTAMP', 0x0e],
      ['KEEP_ALIVE_TIMER', 0x0f],
      ['HOST_CONTROLLED_THERMAL_MANAGEMENT', 0x10],
      ['NON_OPERATIONAL_POWER_STATE_CONFIG', 0x11],
      ['SOFTWARE_PROGRESS_MARKER', 0x80],
      ['HOST_IDENTIFIER', 0x81],
      ['RESERVATION_NOTIFICATION_MASK', 0x82],
      ['RESERVATION_PERSISTENCE', 0x83],
      ['NAMESPACE_WRITE_PROTECTION_CONFIG', 0x84],
    ]);
    expect(featureName(0x07)).toBe('NUMBER_OF_QUEUES');
    expect(featureName(0x7f)).toBeUndefined();
  });
});

describe('Set/Get Features dwords', () => {
  it('CDW10 and SEL', () => {
    expectBitFields(GET_FEATURES_CDW10, [
      ['FID', 7, 0],
      ['SEL', 10, 8],
    ]);
    expectBitFields(SET_FEATURES_CDW10, [
      ['FID', 7, 0],
      ['SV', 31, 31],
    ]);
    expect(FeatureSelect).toEqual({ CURRENT: 0, DEFAULT: 1, SAVED: 2, SUPPORTED_CAPABILITIES: 3 });
    expectBitFields(FEATURE_CAPABILITIES, [
      ['SAVEABLE', 0, 0],
      ['NS_SPECIFIC', 1, 1],
      ['CHANGEABLE', 2, 2],
    ]);
    expect(packFields(SET_FEATURES_CDW10, { FID: FeatureId.VOLATILE_WRITE_CACHE, SV: 1 })).toBe(0x8000_0006);
    expect(getBits(0x0306, GET_FEATURES_CDW10.SEL)).toBe(FeatureSelect.SUPPORTED_CAPABILITIES);
  });

  const spec: Record<keyof typeof FEATURE_DW11, readonly BitRow[]> = {
    ARBITRATION: [
      ['AB', 2, 0],
      ['LPW', 15, 8],
      ['MPW', 23, 16],
      ['HPW', 31, 24],
    ],
    POWER_MANAGEMENT: [
      ['PS', 4, 0],
      ['WH', 7, 5],
    ],
    TEMPERATURE_THRESHOLD: [
      ['TMPTH', 15, 0],
      ['TMPSEL', 19, 16],
      ['THSEL', 21, 20],
    ],
    ERROR_RECOVERY: [
      ['TLER', 15, 0],
      ['DULBE', 16, 16],
    ],
    VOLATILE_WRITE_CACHE: [['WCE', 0, 0]],
    NUMBER_OF_QUEUES: [
      ['NSQR', 15, 0],
      ['NCQR', 31, 16],
    ],
    INTERRUPT_COALESCING: [
      ['THR', 7, 0],
      ['TIME', 15, 8],
    ],
    INTERRUPT_VECTOR_CONFIGURATION: [
      ['IV', 15, 0],
      ['CD', 16, 16],
    ],
    WRITE_ATOMICITY_NORMAL: [['DN', 0, 0]],
    ASYNC_EVENT_CONFIGURATION: [
      ['SMART', 7, 0],
      ['NAMESPACE_ATTRIBUTE', 8, 8],
      ['FIRMWARE_ACTIVATION', 9, 9],
      ['TELEMETRY', 10, 10],
      ['ANA_CHANGE', 11, 11],
    ],
    KEEP_ALIVE_TIMER: [['KATO', 31, 0]],
  };

  it.each(Object.keys(spec) as (keyof typeof FEATURE_DW11)[])('%s Dword 11', (name) => {
    expectBitFields(FEATURE_DW11[name], spec[name]);
    expectBitsDisjointWithin(FEATURE_DW11[name], 32);
  });

  it("Number of Queues: 64 SQs and 64 CQs requested (0's based)", () => {
    const dw11 = packFields(FEATURE_DW11.NUMBER_OF_QUEUES, { NSQR: 63, NCQR: 63 });
    expect(dw11).toBe(0x003f_003f);
    expect(unpackFields(FEATURE_DW11.NUMBER_OF_QUEUES, 0x0007_0003)).toEqual({ NSQR: 3, NCQR: 7 });
  });

  it('Keep Alive Timer uses the whole dword', () => {
    expect(unpackFields(FEATURE_DW11.KEEP_ALIVE_TIMER, 0xffff_ffff)).toEqual({ KATO: 0xffff_ffff });
  });
});
