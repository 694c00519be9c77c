/**
 * Flush (00h; NVMe Base 1.4 §6.8, C-1): makes completed writes durable. NSID FFFFFFFFh flushes
 * every namespace (Identify VWC bits 2:1 = 11b). A backend failure is a Write Fault (2/80h).
 */
import { type NvmeStatus, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import type { IoContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import type { Namespace } from '../namespace/namespace.js';

/** Flush of one namespace. */
export function flush(ctx: IoContext, _req: Request, ns: Namespace): NvmeStatus {
  return flushOne(ctx, ns);
}

/** Flush with NSID FFFFFFFFh: every namespace. */
export function flushAll(ctx: IoContext): NvmeStatus {
  return flushEach(ctx, ctx.namespaces);
}

function flushEach(ctx: IoContext, targets: readonly Namespace[]): NvmeStatus {
  for (const t of targets) {
    const status = flushOne(ctx, t);
    if (status !== STATUS_SUCCESS) return status;
  }
  return STATUS_SUCCESS;
}

function flushOne(ctx: IoContext, ns: Namespace): NvmeStatus {
  if (ns.backend.flush()) return STATUS_SUCCESS;
  ctx.smart.mediaErrors++;
  return Status.WRITE_FAULT;
}
