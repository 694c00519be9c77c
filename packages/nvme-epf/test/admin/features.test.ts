/** Set/Get Features (C-A3), including the Number of Queues rules. */
import {
  AdminOpcode,
  FEATURE_DW11,
  FeatureId,
  FeatureSelect,
  GET_FEATURES_CDW10,
  packFields,
  SET_FEATURES_CDW10,
  Status,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { ScriptedHost } from '../helpers/scripted-host.js';

function up(config = {}) {
  const h = new ScriptedHost({ config });
  h.enable();
  return h;
}

const get = (h: ScriptedHost, fid: number, sel = 0, cdw11 = 0, nsid = 0) =>
  h.admin({
    opcode: AdminOpcode.GET_FEATURES,
    nsid,
    cdw10: packFields(GET_FEATURES_CDW10, { FID: fid, SEL: sel }),
    cdw11,
  });
const set = (h: ScriptedHost, fid: number, cdw11: number, sv = 0, nsid = 0) =>
  h.admin({
    opcode: AdminOpcode.SET_FEATURES,
    nsid,
    cdw10: packFields(SET_FEATURES_CDW10, { FID: fid, SV: sv }),
    cdw11,
  });

describe('every supported feature round-trips', () => {
  const cases: [string, number, number][] = [
    ['Arbitration', FeatureId.ARBITRATION, packFields(FEATURE_DW11.ARBITRATION, { AB: 2, LPW: 1, MPW: 2, HPW: 3 })],
    ['Power Management', FeatureId.POWER_MANAGEMENT, packFields(FEATURE_DW11.POWER_MANAGEMENT, { PS: 0, WH: 1 })],
    [
      'Temperature Threshold',
      FeatureId.TEMPERATURE_THRESHOLD,
      packFields(FEATURE_DW11.TEMPERATURE_THRESHOLD, { TMPTH: 350 }),
    ],
    ['Error Recovery', FeatureId.ERROR_RECOVERY, packFields(FEATURE_DW11.ERROR_RECOVERY, { TLER: 40 })],
    ['Volatile Write Cache', FeatureId.VOLATILE_WRITE_CACHE, 0],
    [
      'Interrupt Coalescing',
      FeatureId.INTERRUPT_COALESCING,
      packFields(FEATURE_DW11.INTERRUPT_COALESCING, { THR: 7, TIME: 10 }),
    ],
    [
      'Interrupt Vector Configuration',
      FeatureId.INTERRUPT_VECTOR_CONFIGURATION,
      packFields(FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION, { IV: 3, CD: 1 }),
    ],
    ['Write Atomicity Normal', FeatureId.WRITE_ATOMICITY_NORMAL, 1],
    ['Async Event Configuration', FeatureId.ASYNC_EVENT_CONFIGURATION, 0x1ff],
  ];
  for (const [name, fid, value] of cases) {
    it(name, () => {
      const h = up();
      expect(set(h, fid, value).status).toBe(0);
      expect(get(h, fid, FeatureSelect.CURRENT, value).dw0).toBe(value);
      const caps = get(h, fid, FeatureSelect.SUPPORTED_CAPABILITIES, value);
      expect(caps.status).toBe(0);
      expect(caps.dw0 & 0b101).toBe(0b100);
      // A reset restores the default.
      const def = get(h, fid, FeatureSelect.DEFAULT, value).dw0;
      expect(get(h, fid, FeatureSelect.SAVED, value).dw0).toBe(def);
      h.disable();
      h.enable();
      expect(get(h, fid, FeatureSelect.CURRENT, value).dw0).toBe(def);
    });
  }

  it('Arbitration default AB follows the configured burst', () => {
    expect(get(up(), FeatureId.ARBITRATION).dw0 & 7).toBe(3);
    expect(get(up({ arbitrationBurst: Number.POSITIVE_INFINITY }), FeatureId.ARBITRATION).dw0 & 7).toBe(7);
  });

  it('Volatile Write Cache defaults to enabled', () => expect(get(up(), FeatureId.VOLATILE_WRITE_CACHE).dw0).toBe(1));
});

describe('feature errors', () => {
  it('an unsupported FID → 0/02h (Get and Set), Keep Alive included (KAS = 0)', () => {
    const h = up();
    for (const fid of [0x00, 0x03, 0x0c, 0x0f, 0x80, 0xff]) {
      expect(get(h, fid).status).toBe(Status.INVALID_FIELD);
      expect(set(h, fid, 0).status).toBe(Status.INVALID_FIELD);
    }
  });
  it('SV = 1 → 1/0Dh', () => expect(set(up(), FeatureId.ARBITRATION, 0, 1).status).toBe(Status.FEATURE_NOT_SAVEABLE));
  it('a controller-wide feature with a specific NSID → 1/0Fh', () => {
    const h = up();
    expect(set(h, FeatureId.ARBITRATION, 0, 0, 1).status).toBe(Status.FEATURE_NOT_PER_NS);
    expect(get(h, FeatureId.NUMBER_OF_QUEUES, 0, 0, 1).status).toBe(Status.FEATURE_NOT_PER_NS);
    expect(set(h, FeatureId.ARBITRATION, 0, 0, 0xffffffff).status).toBe(0);
    expect(set(h, FeatureId.ERROR_RECOVERY, 0, 0, 1).status).toBe(0);
    expect(set(h, FeatureId.ERROR_RECOVERY, 0, 0, 7).status).toBe(Status.INVALID_NS);
  });
  it('Power Management state beyond NPSS → 0/02h', () =>
    expect(set(up(), FeatureId.POWER_MANAGEMENT, 1).status).toBe(Status.INVALID_FIELD));
  it('Error Recovery DULBE without NSFEAT support → 0/02h', () =>
    expect(set(up(), FeatureId.ERROR_RECOVERY, 1 << 16).status).toBe(Status.INVALID_FIELD));
  it('Interrupt Vector Configuration of a vector that does not exist → 0/02h', () => {
    const h = up({ msixVectors: 4 });
    expect(get(h, FeatureId.INTERRUPT_VECTOR_CONFIGURATION, 0, 4).status).toBe(Status.INVALID_FIELD);
    expect(set(h, FeatureId.INTERRUPT_VECTOR_CONFIGURATION, 4).status).toBe(Status.INVALID_FIELD);
  });
  it('an invalid SEL → 0/02h', () => expect(get(up(), FeatureId.ARBITRATION, 4).status).toBe(Status.INVALID_FIELD));
});

describe('Number of Queues (07h)', () => {
  it('answers the allocation, capped at the configured count (0-based)', () => {
    const h = up({ maxIoQueues: 8 });
    const c = set(h, FeatureId.NUMBER_OF_QUEUES, packFields(FEATURE_DW11.NUMBER_OF_QUEUES, { NSQR: 63, NCQR: 2 }));
    expect(c.status).toBe(0);
    expect(c.dw0).toBe(packFields(FEATURE_DW11.NUMBER_OF_QUEUES, { NSQR: 7, NCQR: 2 }));
    expect(get(h, FeatureId.NUMBER_OF_QUEUES).dw0).toBe(c.dw0);
    // Only 3 CQs allocated: CQ 4 is an invalid QID.
    expect(h.createCq(4, 16).status).toBe(Status.QID_INVALID);
    expect(h.createCq(3, 16).status).toBe(0);
  });
  it('FFFFh in NSQR or NCQR → 0/02h', () => {
    const h = up();
    expect(set(h, FeatureId.NUMBER_OF_QUEUES, 0x0000_ffff).status).toBe(Status.INVALID_FIELD);
    expect(set(h, FeatureId.NUMBER_OF_QUEUES, 0xffff_0000).status).toBe(Status.INVALID_FIELD);
  });
  it('after an I/O queue exists → 0/0Ch, and again allowed after a reset', () => {
    const h = up();
    h.createCq(1, 16);
    expect(set(h, FeatureId.NUMBER_OF_QUEUES, 0x0003_0003).status).toBe(Status.CMD_SEQ_ERROR);
    h.admin({ opcode: AdminOpcode.DELETE_IO_CQ, cdw10: 1 });
    expect(set(h, FeatureId.NUMBER_OF_QUEUES, 0x0003_0003).status).toBe(Status.CMD_SEQ_ERROR);
    h.disable();
    h.enable();
    expect(set(h, FeatureId.NUMBER_OF_QUEUES, 0x0003_0003).status).toBe(0);
  });
});

describe('Temperature Threshold event', () => {
  it('a threshold below the composite temperature raises a SMART event when enabled', () => {
    const h = up();
    const aer = h.submit(0, { opcode: AdminOpcode.ASYNC_EVENT_REQUEST });
    h.ring(0);
    expect(set(h, FeatureId.ASYNC_EVENT_CONFIGURATION, 0b10).status).toBe(0);
    expect(set(h, FeatureId.TEMPERATURE_THRESHOLD, 300).status).toBe(0);
    expect(h.wait(0, aer)?.dw0).toBe(0x00020101);
  });
});
