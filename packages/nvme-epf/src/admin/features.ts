/**
 * Set Features (09h) and Get Features (0Ah) (NVMe Base 1.4 §5.21, §5.9; rule C-A3). Every
 * feature here is changeable and none is saveable: SV = 1 gives 1/0Dh, and SEL = saved returns
 * the default. All are controller-wide except Error Recovery, so a specific NSID on the others
 * gives 1/0Fh (QEMU's reading of "Feature Not Namespace Specific").
 */
import {
  ARBITRATION_BURST_UNLIMITED,
  FEATURE_CAPABILITIES,
  FEATURE_DW11,
  FeatureId,
  FeatureSelect,
  GET_FEATURES_CDW10,
  getBits,
  NVME_NSID_ALL,
  type NvmeStatus,
  packFields,
  SET_FEATURES_CDW10,
  SQE,
  STATUS_SUCCESS,
  Status,
  ThresholdSelect,
} from '@epfsim/nvme-spec-types';
import type { AdminContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import type { NvmeFunctionConfig } from '../config.js';
import { COMPOSITE_TEMPERATURE_K, WARNING_TEMPERATURE_K } from '../health/smart.js';

/** CDW10 and CDW11 byte offsets in the SQE, for the Error Information parameter location. */
const CDW10_BYTE = SQE.CDW10.off;
const CDW11_BYTE = SQE.CDW11.off;
const NSID_BYTE = SQE.NSID.off;
/** Temperature Threshold TMPSEL: 0 = Composite Temperature; Fh = all sensors. Only the composite exists. */
const TMPSEL_COMPOSITE = 0;
/** Under-temperature threshold default (0 K: never under). */
const UNDER_THRESHOLD_DEFAULT = 0;
/** Number of Queues NSQR/NCQR value that is always invalid (65536 queues do not exist). */
const QUEUES_INVALID = 0xffff;
/** Power states: one (Identify NPSS = 0). */
const POWER_STATES = 1;

/** Current values of every supported feature, with their defaults restored by a controller reset. */
export class FeatureState {
  readonly #config: NvmeFunctionConfig;
  arbitration = 0;
  powerManagement = 0;
  overThreshold = WARNING_TEMPERATURE_K;
  underThreshold = UNDER_THRESHOLD_DEFAULT;
  errorRecovery = 0;
  volatileWriteCache = 1;
  writeAtomicity = 0;
  asyncEventConfig = 0;

  constructor(config: NvmeFunctionConfig) {
    this.#config = config;
    this.reset();
  }

  /** Default Arbitration dword: AB from the configured burst (log2, or 111b for unlimited). */
  get defaultArbitration(): number {
    const burst = this.#config.arbitrationBurst;
    const ab = Number.isFinite(burst) ? Math.log2(burst) : ARBITRATION_BURST_UNLIMITED;
    return packFields(FEATURE_DW11.ARBITRATION, { AB: ab });
  }

  /** Commands an SQ gives per arbitration round: 2^AB, unlimited for AB = 111b. */
  get arbitrationBurst(): number {
    const ab = getBits(this.arbitration, FEATURE_DW11.ARBITRATION.AB);
    return ab === ARBITRATION_BURST_UNLIMITED ? Number.POSITIVE_INFINITY : 2 ** ab;
  }

  /** The composite temperature is above the over threshold or below the under threshold. */
  get temperatureWarning(): boolean {
    return COMPOSITE_TEMPERATURE_K > this.overThreshold || COMPOSITE_TEMPERATURE_K < this.underThreshold;
  }

  reset(): void {
    this.arbitration = this.defaultArbitration;
    this.powerManagement = 0;
    this.overThreshold = WARNING_TEMPERATURE_K;
    this.underThreshold = UNDER_THRESHOLD_DEFAULT;
    this.errorRecovery = 0;
    this.volatileWriteCache = 1;
    this.writeAtomicity = 0;
    this.asyncEventConfig = 0;
  }
}

/** Features this controller implements; the others give 0/02h. */
const SUPPORTED: ReadonlySet<number> = new Set([
  FeatureId.ARBITRATION,
  FeatureId.POWER_MANAGEMENT,
  FeatureId.TEMPERATURE_THRESHOLD,
  FeatureId.ERROR_RECOVERY,
  FeatureId.VOLATILE_WRITE_CACHE,
  FeatureId.NUMBER_OF_QUEUES,
  FeatureId.INTERRUPT_COALESCING,
  FeatureId.INTERRUPT_VECTOR_CONFIGURATION,
  FeatureId.WRITE_ATOMICITY_NORMAL,
  FeatureId.ASYNC_EVENT_CONFIGURATION,
]);

/** Checks the NSID of a Set/Get Features: controller-wide features accept only 0 and FFFFFFFFh. */
function checkNsid(ctx: AdminContext, req: Request, fid: number): NvmeStatus {
  if (req.nsid === 0 || req.nsid === NVME_NSID_ALL) return STATUS_SUCCESS;
  if (fid === FeatureId.ERROR_RECOVERY) {
    return ctx.namespace(req.nsid) ? STATUS_SUCCESS : req.fail(Status.INVALID_NS, NSID_BYTE);
  }
  return req.fail(Status.FEATURE_NOT_PER_NS, NSID_BYTE);
}

/** The value a Get Features returns for `fid` (current or default), given CDW11 (for IV-specific features). */
function featureValue(ctx: AdminContext, fid: number, cdw11: number, current: boolean): number {
  const f = ctx.features;
  const i = ctx.interrupts;
  switch (fid) {
    case FeatureId.ARBITRATION:
      return current ? f.arbitration : f.defaultArbitration;
    case FeatureId.POWER_MANAGEMENT:
      return current ? f.powerManagement : 0;
    case FeatureId.TEMPERATURE_THRESHOLD: {
      const thsel = getBits(cdw11, FEATURE_DW11.TEMPERATURE_THRESHOLD.THSEL);
      const over = thsel === ThresholdSelect.OVER;
      const value = current
        ? over
          ? f.overThreshold
          : f.underThreshold
        : over
          ? WARNING_TEMPERATURE_K
          : UNDER_THRESHOLD_DEFAULT;
      return packFields(FEATURE_DW11.TEMPERATURE_THRESHOLD, { TMPTH: value, TMPSEL: TMPSEL_COMPOSITE, THSEL: thsel });
    }
    case FeatureId.ERROR_RECOVERY:
      return current ? f.errorRecovery : 0;
    case FeatureId.VOLATILE_WRITE_CACHE:
      return current ? f.volatileWriteCache : 1;
    case FeatureId.NUMBER_OF_QUEUES: {
      const max = ctx.config.maxIoQueues - 1;
      return packFields(FEATURE_DW11.NUMBER_OF_QUEUES, {
        NSQR: current ? ctx.queues.allocatedSqs : max,
        NCQR: current ? ctx.queues.allocatedCqs : max,
      });
    }
    case FeatureId.INTERRUPT_COALESCING:
      return current ? packFields(FEATURE_DW11.INTERRUPT_COALESCING, { THR: i.threshold, TIME: i.time }) : 0;
    case FeatureId.INTERRUPT_VECTOR_CONFIGURATION: {
      const iv = getBits(cdw11, FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION.IV);
      const cd = current ? (i.coalescingDisabled[iv] ?? 0) : 0;
      return packFields(FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION, { IV: iv, CD: cd });
    }
    case FeatureId.WRITE_ATOMICITY_NORMAL:
      return current ? f.writeAtomicity : 0;
    default:
      return current ? f.asyncEventConfig : 0;
  }
}

/** Get Features (0Ah). */
export function getFeatures(ctx: AdminContext, req: Request): NvmeStatus {
  const cdw10 = req.cdw(10);
  const cdw11 = req.cdw(11);
  const fid = getBits(cdw10, GET_FEATURES_CDW10.FID);
  const sel = getBits(cdw10, GET_FEATURES_CDW10.SEL);
  if (!SUPPORTED.has(fid)) return req.fail(Status.INVALID_FIELD, CDW10_BYTE);
  const nsid = checkNsid(ctx, req, fid);
  if (nsid !== STATUS_SUCCESS) return nsid;
  if (fid === FeatureId.INTERRUPT_VECTOR_CONFIGURATION) {
    const iv = getBits(cdw11, FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION.IV);
    if (iv >= ctx.interrupts.vectors) return req.fail(Status.INVALID_FIELD, CDW11_BYTE);
  }
  if (fid === FeatureId.TEMPERATURE_THRESHOLD) {
    const tmpsel = getBits(cdw11, FEATURE_DW11.TEMPERATURE_THRESHOLD.TMPSEL);
    if (tmpsel !== TMPSEL_COMPOSITE) {
      return req.failField(Status.INVALID_FIELD, CDW11_BYTE, FEATURE_DW11.TEMPERATURE_THRESHOLD.TMPSEL);
    }
  }
  switch (sel) {
    case FeatureSelect.CURRENT:
      req.dw0 = featureValue(ctx, fid, cdw11, true);
      return STATUS_SUCCESS;
    case FeatureSelect.DEFAULT:
    case FeatureSelect.SAVED:
      // Nothing is saveable, so the saved value is the default (§5.9.2).
      req.dw0 = featureValue(ctx, fid, cdw11, false);
      return STATUS_SUCCESS;
    case FeatureSelect.SUPPORTED_CAPABILITIES:
      req.dw0 = packFields(FEATURE_CAPABILITIES, {
        SAVEABLE: 0,
        NS_SPECIFIC: fid === FeatureId.ERROR_RECOVERY ? 1 : 0,
        CHANGEABLE: 1,
      });
      return STATUS_SUCCESS;
    default:
      return req.failField(Status.INVALID_FIELD, CDW10_BYTE, GET_FEATURES_CDW10.SEL);
  }
}

/** Set Features (09h). */
export function setFeatures(ctx: AdminContext, req: Request): NvmeStatus {
  const cdw10 = req.cdw(10);
  const dw11 = req.cdw(11);
  const fid = getBits(cdw10, SET_FEATURES_CDW10.FID);
  if (!SUPPORTED.has(fid)) return req.fail(Status.INVALID_FIELD, CDW10_BYTE);
  if (getBits(cdw10, SET_FEATURES_CDW10.SV) === 1)
    return req.failField(Status.FEATURE_NOT_SAVEABLE, CDW10_BYTE, SET_FEATURES_CDW10.SV);
  const nsid = checkNsid(ctx, req, fid);
  if (nsid !== STATUS_SUCCESS) return nsid;
  const f = ctx.features;
  switch (fid) {
    case FeatureId.ARBITRATION:
      f.arbitration = dw11;
      break;
    case FeatureId.POWER_MANAGEMENT: {
      const pm = FEATURE_DW11.POWER_MANAGEMENT;
      if (getBits(dw11, pm.PS) >= POWER_STATES) return req.failField(Status.INVALID_FIELD, CDW11_BYTE, pm.PS);
      f.powerManagement = packFields(pm, { PS: getBits(dw11, pm.PS), WH: getBits(dw11, pm.WH) });
      break;
    }
    case FeatureId.TEMPERATURE_THRESHOLD: {
      const t = FEATURE_DW11.TEMPERATURE_THRESHOLD;
      if (getBits(dw11, t.TMPSEL) !== TMPSEL_COMPOSITE)
        return req.failField(Status.INVALID_FIELD, CDW11_BYTE, t.TMPSEL);
      const thsel = getBits(dw11, t.THSEL);
      if (thsel === ThresholdSelect.OVER) f.overThreshold = getBits(dw11, t.TMPTH);
      else if (thsel === ThresholdSelect.UNDER) f.underThreshold = getBits(dw11, t.TMPTH);
      else return req.failField(Status.INVALID_FIELD, CDW11_BYTE, t.THSEL);
      ctx.temperatureChanged();
      break;
    }
    case FeatureId.ERROR_RECOVERY:
      // DULBE needs Identify Namespace NSFEAT bit 2, which is clear.
      if (getBits(dw11, FEATURE_DW11.ERROR_RECOVERY.DULBE) === 1) {
        return req.failField(Status.INVALID_FIELD, CDW11_BYTE, FEATURE_DW11.ERROR_RECOVERY.DULBE);
      }
      f.errorRecovery = getBits(dw11, FEATURE_DW11.ERROR_RECOVERY.TLER);
      break;
    case FeatureId.VOLATILE_WRITE_CACHE:
      f.volatileWriteCache = getBits(dw11, FEATURE_DW11.VOLATILE_WRITE_CACHE.WCE);
      break;
    case FeatureId.NUMBER_OF_QUEUES: {
      const q = FEATURE_DW11.NUMBER_OF_QUEUES;
      const nsqr = getBits(dw11, q.NSQR);
      const ncqr = getBits(dw11, q.NCQR);
      if (nsqr === QUEUES_INVALID) return req.failField(Status.INVALID_FIELD, CDW11_BYTE, q.NSQR);
      if (ncqr === QUEUES_INVALID) return req.failField(Status.INVALID_FIELD, CDW11_BYTE, q.NCQR);
      // §5.21.1.7: only before any I/O queue is created since the last reset.
      if (ctx.queues.ioQueuesCreated) return Status.CMD_SEQ_ERROR;
      const max = ctx.config.maxIoQueues - 1;
      ctx.queues.allocate(Math.min(nsqr, max), Math.min(ncqr, max));
      req.dw0 = packFields(q, { NSQR: ctx.queues.allocatedSqs, NCQR: ctx.queues.allocatedCqs });
      return STATUS_SUCCESS;
    }
    case FeatureId.INTERRUPT_COALESCING:
      ctx.interrupts.threshold = getBits(dw11, FEATURE_DW11.INTERRUPT_COALESCING.THR);
      ctx.interrupts.time = getBits(dw11, FEATURE_DW11.INTERRUPT_COALESCING.TIME);
      break;
    case FeatureId.INTERRUPT_VECTOR_CONFIGURATION: {
      const v = FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION;
      const iv = getBits(dw11, v.IV);
      if (iv >= ctx.interrupts.vectors) return req.fail(Status.INVALID_FIELD, CDW11_BYTE);
      ctx.interrupts.coalescingDisabled[iv] = getBits(dw11, v.CD);
      break;
    }
    case FeatureId.WRITE_ATOMICITY_NORMAL:
      f.writeAtomicity = getBits(dw11, FEATURE_DW11.WRITE_ATOMICITY_NORMAL.DN);
      break;
    default:
      f.asyncEventConfig = dw11 & asyncEventConfigMask();
      ctx.temperatureChanged();
      break;
  }
  return STATUS_SUCCESS;
}

/** The bits of Asynchronous Event Configuration this controller keeps (SMART warnings and notices). */
function asyncEventConfigMask(): number {
  const a = FEATURE_DW11.ASYNC_EVENT_CONFIGURATION;
  let mask = 0;
  for (const f of Object.values(a)) mask |= (2 ** f.len - 1) * 2 ** f.bit;
  return mask >>> 0;
}
