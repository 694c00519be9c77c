/**
 * Flush (00h; NVMe Base 1.4 §6.8, C-1): makes completed writes durable. NSID FFFFFFFFh flushes
 * every namespace (Identify VWC bits 2:1 = 11b). A backend failure is a Write Fault (2/80h).
 */
import { type NvmeStatus, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import type { Command } from '../command/command.js';
import type { NvmeController } from '../controller.js';
import type { Namespace } from '../namespace/namespace.js';

export function flush(c: NvmeController, _cmd: Command, ns: Namespace | undefined): NvmeStatus {
  const targets = ns === undefined ? c.namespaces : [ns];
  for (const t of targets) {
    if (!t.backend.flush()) {
      c.smart.mediaErrors++;
      return Status.WRITE_FAULT;
    }
  }
  return STATUS_SUCCESS;
}
