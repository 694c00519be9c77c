/**
 * What the host keeps from Identify: the controller limits it plans transfers with (MDTS, SGLS,
 * ONCS) and each active namespace's size and LBA format (NVMe Base 1.4 Identify Controller and
 * Identify Namespace; docs/nvme-rules.md §4 "fields the host relies on").
 */
import {
  getBits,
  ID_NS_FLBAS,
  type IdentifyController,
  type IdentifyNamespace,
  mpsToPageSize,
} from '@epfsim/nvme-spec-types';
import { decodeSglCapability, type SglCapability } from '../placement/layout.js';

export interface ControllerInfo {
  readonly identify: IdentifyController;
  /** Maximum data transfer in bytes: 2^MDTS × 2^(12 + CAP.MPSMIN) (C-3); 0 = no limit. */
  readonly mdtsBytes: number;
  readonly sgl: SglCapability;
  /** ONCS bits (C-8). */
  readonly oncs: number;
  /** NN: the highest namespace id. */
  readonly nn: number;
}

export interface NamespaceInfo {
  readonly nsid: number;
  /** NSZE in logical blocks. */
  readonly nsze: bigint;
  readonly blockSize: number;
  /** Metadata bytes per block of the formatted LBA format. */
  readonly metadataSize: number;
  readonly identify: IdentifyNamespace;
}

/** The controller facts the driver plans with. */
export function controllerInfo(identify: IdentifyController, mpsmin: number): ControllerInfo {
  return {
    identify,
    mdtsBytes: identify.mdts === 0 ? 0 : 2 ** identify.mdts * mpsToPageSize(mpsmin),
    sgl: decodeSglCapability(identify.sgls),
    oncs: identify.oncs,
    nn: identify.nn,
  };
}

/** A namespace's size and formatted LBA format. */
export function namespaceInfo(nsid: number, identify: IdentifyNamespace): NamespaceInfo {
  const format = identify.lbaf[getBits(identify.flbas, ID_NS_FLBAS.FORMAT)];
  const lbads = format?.lbads ?? 0;
  return {
    nsid,
    nsze: identify.nsze,
    blockSize: lbads === 0 ? 0 : 2 ** lbads,
    metadataSize: format?.ms ?? 0,
    identify,
  };
}
