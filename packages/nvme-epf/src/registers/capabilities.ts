/**
 * What CAP reports (NVMe Base 1.4 §3.1.1) and where the registers live: the values the Linux
 * function's nvmet_pci_epf_init_bar() derives from the nvmet controller.
 */
import { CAP_CSS, encodeCap } from '@epfsim/nvme-spec-types';
import type { NvmeFunctionConfig } from '../config.js';

/** The function's BAR (NVMe requires registers in BAR0, a 64-bit BAR). */
export const NVME_BAR = 0;
/** CAP.TO: 15 × 500 ms = 7.5 s to wait for RDY, as the nvmet core reports. */
const CAP_TIMEOUT = 15;
/** CAP.MPSMIN = 0 (4 KiB) and MPSMAX = 4 (64 KiB): the parsers handle any power-of-two page. */
export const MPSMIN = 0;
export const MPSMAX = 4;

/** CAP for `config`: contiguous queues only (CQR), NVM command set, round robin only (AMS = 0). */
export function capabilities(config: NvmeFunctionConfig): bigint {
  return encodeCap({
    MQES: config.mqes,
    CQR: 1,
    TO: CAP_TIMEOUT,
    DSTRD: config.dstrd,
    CSS: CAP_CSS.NVM,
    MPSMIN,
    MPSMAX,
  });
}
