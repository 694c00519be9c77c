/**
 * Identify (06h; NVMe Base 2.0 §5.17, rule C-A1): Controller (CNS 01h), Namespace (00h), Active
 * Namespace ID list (02h), Namespace Identification Descriptors (03h), and the I/O Command Set
 * variants a Linux host asks for (05h, 06h, 07h, 08h), as Linux's nvmet answers them. Every
 * structure is 4096 bytes; unknown CNS values give 0/02h.
 */
import {
  Cns,
  DeallocateReadBehavior,
  encodeIdentifyController,
  encodeIdentifyNamespace,
  encodeIndependentIdentifyNamespace,
  encodeNsIdDescriptors,
  encodeNsidList,
  getBits,
  ID_CTRL_FRMW,
  ID_CTRL_LPA,
  ID_CTRL_ONCS,
  ID_CTRL_QES,
  ID_CTRL_SGLS,
  ID_CTRL_VWC,
  ID_INDEP_NS_NSTAT,
  ID_NS_DLFEAT,
  IDENTIFY,
  IDENTIFY_DATA_SIZE,
  mpsToPageSize,
  Nidt,
  NSID_LIST_MAX,
  NVME_NSID_ALL,
  NVME_NVM_IOCQES,
  NVME_NVM_IOSQES,
  NVME_VS_2_0,
  type NvmeStatus,
  packFields,
  SglsSupport,
  SQE,
  Status,
  VwcFlushBroadcast,
} from '@epfsim/nvme-spec-types';
import type { AdminContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import { ERROR_LOG_ENTRIES } from '../health/error-log.js';
import { CRITICAL_TEMPERATURE_K, WARNING_TEMPERATURE_K } from '../health/smart.js';
import type { Namespace } from '../namespace/namespace.js';
import { MPSMIN } from '../registers/capabilities.js';
import { ACL } from './abort.js';
import { AERL } from './async-events.js';

/** Controller ID of this single-controller subsystem. */
export const CNTLID = 1;
/** Command Set Identifier of the NVM command set (NVMe 2.0 §5.17, CSI). */
const CSI_NVM = 0;
/** Recommended Arbitration Burst reported (2^6 = 64 commands). */
const RAB = 6;
/** Controller type: I/O controller (NVMe 1.4 CNTRLTYPE). */
const CNTRLTYPE_IO = 1;
/** Power state 0 maximum power, in 0.01 W units: 25 W. */
const PS0_MAX_POWER = 2500;
/** NVMe Qualified Name prefix of the subsystem. */
const SUBNQN_PREFIX = 'nqn.2024-11.io.epfsim:nvme-epf:';
/** NSTAT of CNS 08h: every namespace of this controller is ready for I/O once it is enabled. */
const NSTAT_READY = packFields(ID_INDEP_NS_NSTAT, { NRDY: 1 });
/** Byte offsets in the SQE for parameter error locations. */
const CDW10_BYTE = SQE.CDW10.off;
const CDW11_CSI_BYTE = SQE.CDW11.off + 3;
const NSID_BYTE = SQE.NSID.off;

/** Identify Controller, built once: nothing in it changes while the function lives. */
export function buildIdentifyController(ctx: Pick<AdminContext, 'config' | 'namespaces'>): Uint8Array {
  const cfg = ctx.config;
  const o = cfg.options;
  const mdts = cfg.mdtsBytes === 0 ? 0 : Math.log2(cfg.mdtsBytes / mpsToPageSize(MPSMIN));
  const sglSupport =
    o.sglSupport === 'none'
      ? SglsSupport.NONE
      : o.sglSupport === 'byte'
        ? SglsSupport.BYTE_ALIGNED
        : SglsSupport.DWORD_ALIGNED;
  const sgls =
    o.sglSupport === 'none'
      ? 0
      : packFields(ID_CTRL_SGLS, {
          SUPPORT: sglSupport,
          BIT_BUCKET: o.sglBitBucket ? 1 : 0,
          EXCESS_LENGTH: o.sglExcessLength ? 1 : 0,
        });
  const capacity = ctx.namespaces.reduce((sum, ns) => sum + BigInt(ns.blocks * ns.blockSize), 0n);
  return encodeIdentifyController({
    vid: cfg.vendorId,
    ssvid: cfg.subsystemVendorId,
    sn: cfg.serial,
    mn: cfg.model,
    fr: cfg.firmware,
    rab: RAB,
    mdts,
    cntlid: CNTLID,
    ver: NVME_VS_2_0,
    cntrltype: CNTRLTYPE_IO,
    oacs: 0,
    acl: ACL,
    aerl: AERL,
    frmw: packFields(ID_CTRL_FRMW, { SLOT1_READ_ONLY: 1, NUM_SLOTS: 1 }),
    lpa: packFields(ID_CTRL_LPA, { COMMANDS_EFFECTS: 1, EXTENDED_DATA: 1 }),
    elpe: ERROR_LOG_ENTRIES - 1,
    npss: 0,
    wctemp: WARNING_TEMPERATURE_K,
    cctemp: CRITICAL_TEMPERATURE_K,
    tnvmcap: capacity,
    sqes: packFields(ID_CTRL_QES, { REQUIRED: NVME_NVM_IOSQES, MAX: NVME_NVM_IOSQES }),
    cqes: packFields(ID_CTRL_QES, { REQUIRED: NVME_NVM_IOCQES, MAX: NVME_NVM_IOCQES }),
    maxcmd: cfg.mqes + 1,
    nn: ctx.namespaces.length,
    oncs: packFields(ID_CTRL_ONCS, { COMPARE: 1, DSM: 1, WRITE_ZEROES: 1, VERIFY: 1 }),
    vwc: packFields(ID_CTRL_VWC, { PRESENT: 1, FLUSH_BROADCAST: VwcFlushBroadcast.SUPPORTED }),
    sgls,
    subnqn: `${SUBNQN_PREFIX}${cfg.serial}`,
    psd: [{ mp: PS0_MAX_POWER }],
  });
}

/** Identify Namespace (NVM) of one namespace: one LBA format, no metadata, deallocated blocks read as zero. */
export function buildIdentifyNamespace(ns: Namespace): Uint8Array {
  return encodeIdentifyNamespace({
    nsze: BigInt(ns.blocks),
    ncap: BigInt(ns.blocks),
    nuse: BigInt(ns.blocks),
    nlbaf: 0,
    flbas: 0,
    dlfeat: packFields(ID_NS_DLFEAT, { READ_BEHAVIOR: DeallocateReadBehavior.ZEROES, WRITE_ZEROES_DEALLOCATE: 1 }),
    nguid: ns.nguid,
    eui64: ns.eui64,
    lbaf: [{ ms: 0, lbads: ns.lbads, rp: 0 }],
  });
}

const ZEROES = new Uint8Array(IDENTIFY_DATA_SIZE);

/** Active NSIDs greater than `after`, ascending, at most 1024. */
function activeList(ctx: AdminContext, after: number): Uint8Array {
  const list: number[] = [];
  for (const ns of ctx.namespaces) if (ns.nsid > after && list.length < NSID_LIST_MAX) list.push(ns.nsid);
  return encodeNsidList(list);
}

/** CNS 00h/03h/05h/08h name one namespace: 0 and FFFFFFFFh (no namespace management) and unknown NSIDs give 0/0Bh. */
function namedNamespace(ctx: AdminContext, req: Request): Namespace | NvmeStatus {
  const ns = req.nsid === NVME_NSID_ALL ? undefined : ctx.namespace(req.nsid);
  return ns ?? req.fail(Status.INVALID_NS, NSID_BYTE);
}

/** Identify (06h). */
export function identify(ctx: AdminContext, req: Request): NvmeStatus {
  const cns = getBits(req.cdw(10), IDENTIFY.CDW10.CNS);
  const csi = getBits(req.cdw(11), IDENTIFY.CDW11.CSI);
  let data: Uint8Array;
  switch (cns) {
    case Cns.CONTROLLER:
      data = ctx.identify.controller;
      break;
    case Cns.NAMESPACE: {
      const ns = namedNamespace(ctx, req);
      if (typeof ns === 'number') return ns;
      data = ctx.identify.namespace(ns);
      break;
    }
    case Cns.ACTIVE_NSID_LIST:
    case Cns.CSI_ACTIVE_NSID_LIST:
      if (cns === Cns.CSI_ACTIVE_NSID_LIST && csi !== CSI_NVM) return req.fail(Status.INVALID_FIELD, CDW11_CSI_BYTE);
      // NSIDs FFFFFFFEh and FFFFFFFFh leave nothing above them to list (C-A1).
      if (req.nsid >= NVME_NSID_ALL - 1) return req.fail(Status.INVALID_NS, NSID_BYTE);
      data = activeList(ctx, req.nsid);
      break;
    case Cns.NS_ID_DESCRIPTOR_LIST: {
      const ns = namedNamespace(ctx, req);
      if (typeof ns === 'number') return ns;
      data = encodeNsIdDescriptors([
        { nidt: Nidt.EUI64, nid: ns.eui64 },
        { nidt: Nidt.NGUID, nid: ns.nguid },
        { nidt: Nidt.CSI, nid: Uint8Array.of(CSI_NVM) },
      ]);
      break;
    }
    case Cns.CSI_NAMESPACE: {
      if (csi !== CSI_NVM) return req.fail(Status.INVALID_FIELD, CDW11_CSI_BYTE);
      const ns = namedNamespace(ctx, req);
      if (typeof ns === 'number') return ns;
      // The NVM command set's I/O-specific namespace structure: nothing beyond the defaults (nvmet zeroes it).
      data = ZEROES;
      break;
    }
    case Cns.CSI_CONTROLLER:
      if (csi !== CSI_NVM) return req.fail(Status.INVALID_FIELD, CDW11_CSI_BYTE);
      // NVM command set controller limits (VSL, WZSL, DMRL…): zero means "not reported", as nvmet answers.
      data = ZEROES;
      break;
    case Cns.CSI_INDEPENDENT_NAMESPACE: {
      const ns = namedNamespace(ctx, req);
      if (typeof ns === 'number') return ns;
      data = encodeIndependentIdentifyNamespace({ nstat: NSTAT_READY });
      break;
    }
    default:
      return req.fail(Status.INVALID_FIELD, CDW10_BYTE);
  }
  return ctx.data.sendToHost(req, data);
}
