/**
 * BAR0 layout of the function, as `nvmet_pci_epf_configure_bar()` lays it out: controller
 * registers 0h..FFFh, doorbells from 1000h (NVMe Base 1.4 §3.1.24) for the admin pair and every
 * I/O pair offered, with the configured stride, then the MSI-X table and its PBA.
 */
import { doorbellStride, NVME_REG_DBS } from '@epfsim/nvme-spec-types';

/** Size of one MSI-X table entry (PCI Local Bus 3.0 §6.8.2). */
export const MSIX_ENTRY_SIZE = 16;
/** The PBA is an array of qwords, one bit per vector (PCI Local Bus 3.0 §6.8.2.10). */
const PBA_QWORD_BITS = 64;
const PBA_QWORD_BYTES = 8;
/** The MSI-X table must be qword aligned; the Linux function aligns the register area to 8. */
const MSIX_TABLE_ALIGN = 8;
/** Each queue id owns an SQ tail and a CQ head doorbell (index 2 × qid and 2 × qid + 1). */
export const DOORBELLS_PER_QID = 2;

/** Where everything sits in BAR0, in bytes. */
export interface Bar0Layout {
  /** Bytes between doorbells: 4 << CAP.DSTRD. */
  readonly doorbellStride: number;
  /** Queue ids with doorbells: the admin pair plus `maxIoQueues` I/O pairs. */
  readonly queuePairs: number;
  /** One past the last doorbell. */
  readonly doorbellEnd: number;
  /** MSI-X table and PBA offsets, or undefined when MSI-X is not offered. */
  readonly msixTableOffset: number | undefined;
  readonly msixPbaOffset: number | undefined;
  /** Bytes BAR0 must have (the EPC may round the BAR up). */
  readonly size: number;
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** Computes the layout for `maxIoQueues` I/O pairs, a doorbell stride exponent and `msixVectors` (0: no MSI-X). */
export function computeBar0Layout(maxIoQueues: number, dstrd: number, msixVectors: number): Bar0Layout {
  const stride = doorbellStride(dstrd);
  const queuePairs = maxIoQueues + 1;
  const doorbellEnd = NVME_REG_DBS + queuePairs * DOORBELLS_PER_QID * stride;
  if (msixVectors === 0) {
    return {
      doorbellStride: stride,
      queuePairs,
      doorbellEnd,
      msixTableOffset: undefined,
      msixPbaOffset: undefined,
      size: doorbellEnd,
    };
  }
  const msixTableOffset = alignUp(doorbellEnd, MSIX_TABLE_ALIGN);
  const msixPbaOffset = msixTableOffset + msixVectors * MSIX_ENTRY_SIZE;
  const pbaBytes = Math.ceil(msixVectors / PBA_QWORD_BITS) * PBA_QWORD_BYTES;
  return {
    doorbellStride: stride,
    queuePairs,
    doorbellEnd,
    msixTableOffset,
    msixPbaOffset,
    size: msixPbaOffset + pbaBytes,
  };
}
