/**
 * Read (02h), Write (01h, with FUA), Compare (05h) and Verify (0Ch) (NVMe Base 1.4 §6.9, §6.15,
 * §6.2; NVM Command Set 1.0 §3.3.5). Data moves through one bounce buffer: host ⇄ bounce by the
 * transfer strategy, bounce ⇄ backend by the namespace, one copy per hop. A Read whose blocks lie
 * in one piece of backend memory skips the bounce: the strategy copies them straight to the host.
 * Write is durable before completion when FUA is set or the volatile write cache is disabled
 * (WCE = 0). A command of more than one bounce buffer (MDTS larger or unlimited) runs in pieces
 * over polls (chunked-transfer.ts).
 */
import { getBits, type NvmeStatus, READ_WRITE, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import type { HandlerResult } from '../command/command.js';
import type { IoContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import { succeeded } from '../command/succeeded.js';
import type { Namespace } from '../namespace/namespace.js';
import { sameBytes, startChunkedTransfer } from './chunked-transfer.js';
import { checkRange } from './lba-range.js';

/** A media failure of the backend: counted in SMART Media Errors. */
function mediaError(ctx: IoContext, req: Request, status: NvmeStatus): NvmeStatus {
  ctx.smart.mediaErrors++;
  req.errorLba = req.range.slba;
  return status;
}

export function write(ctx: IoContext, req: Request, ns: Namespace): HandlerResult {
  const status = checkRange(ctx.data, req, ns, true);
  if (!succeeded(status)) return status;
  const r = req.range;
  const fua = getBits(req.cdw(12), READ_WRITE.CDW12.FUA) === 1 || ctx.features.volatileWriteCache === 0;
  if (r.bytes > req.bounceLimit) return startChunkedTransfer(ctx, req, ns, 'write', fua);
  const buf = req.bounce(r.bytes);
  const received = ctx.data.receiveFromHost(req, buf);
  if (!succeeded(received)) return received;
  if (!ns.backend.write(r.offset, buf, fua)) return mediaError(ctx, req, Status.WRITE_FAULT);
  ctx.smart.bytesWritten += r.bytes;
  ctx.smart.hostWriteCommands++;
  return STATUS_SUCCESS;
}

export function read(ctx: IoContext, req: Request, ns: Namespace): HandlerResult {
  const status = checkRange(ctx.data, req, ns, true);
  if (!succeeded(status)) return status;
  const r = req.range;
  if (r.bytes > req.bounceLimit) return startChunkedTransfer(ctx, req, ns, 'read');
  const mapped = ctx.data.mapData(req, r.bytes, true);
  if (!succeeded(mapped)) return mapped;
  let media = ns.backend.view?.(r.offset, r.bytes);
  if (media === undefined) {
    media = req.bounce(r.bytes);
    if (!ns.backend.read(r.offset, media)) return mediaError(ctx, req, Status.READ_ERROR);
  }
  const sent = ctx.data.sendMapped(req, media);
  if (!succeeded(sent)) return sent;
  ctx.smart.bytesRead += r.bytes;
  ctx.smart.hostReadCommands++;
  return STATUS_SUCCESS;
}

/** Compare: the host's data against the media; a difference is 2/85h Compare Failure (C-5). */
export function compare(ctx: IoContext, req: Request, ns: Namespace): HandlerResult {
  const status = checkRange(ctx.data, req, ns, true);
  if (!succeeded(status)) return status;
  const r = req.range;
  if (r.bytes > req.bounceLimit) return startChunkedTransfer(ctx, req, ns, 'compare');
  const host = req.bounce(r.bytes);
  const received = ctx.data.receiveFromHost(req, host);
  if (!succeeded(received)) return received;
  const media = req.bounce2(r.bytes);
  if (!ns.backend.read(r.offset, media)) return mediaError(ctx, req, Status.READ_ERROR);
  ctx.smart.bytesRead += r.bytes;
  ctx.smart.hostReadCommands++;
  if (!sameBytes(host, media)) {
    req.errorLba = r.slba;
    return Status.COMPARE_FAILED;
  }
  return STATUS_SUCCESS;
}

/** Verify: reads the media to check it is readable; no data moves to the host, so MDTS does not apply. */
export function verify(ctx: IoContext, req: Request, ns: Namespace): HandlerResult {
  const status = checkRange(ctx.data, req, ns, false);
  if (!succeeded(status)) return status;
  const r = req.range;
  if (r.bytes > req.bounceLimit) return startChunkedTransfer(ctx, req, ns, 'verify');
  // No host bytes move: the media read is the work this poll is charged for.
  ctx.work.chargeWork(r.bytes);
  if (!ns.backend.read(r.offset, req.bounce(r.bytes))) return mediaError(ctx, req, Status.READ_ERROR);
  // Its blocks are data units read; the command is not a host read command (SMART, C-A2).
  ctx.smart.bytesRead += r.bytes;
  return STATUS_SUCCESS;
}
