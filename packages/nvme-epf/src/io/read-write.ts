/**
 * Read (02h), Write (01h, with FUA), Compare (05h) and Verify (0Ch) (NVMe Base 1.4 §6.9, §6.15,
 * §6.2; NVM Command Set 1.0 §3.3.5). Data moves through one bounce buffer: host ⇄ bounce by the
 * transfer strategy, bounce ⇄ backend by the namespace, one copy per hop. Write is durable before
 * completion when FUA is set or the volatile write cache is disabled (WCE = 0). A command of more
 * than one bounce buffer (MDTS larger or unlimited) runs in pieces over polls (chunked-transfer.ts).
 */
import { getBits, type NvmeStatus, READ_WRITE, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import type { Command, HandlerResult } from '../command/command.js';
import { succeeded } from '../command/succeeded.js';
import type { NvmeController } from '../controller.js';
import type { Namespace } from '../namespace/namespace.js';
import { startChunkedTransfer } from './chunked-transfer.js';
import { checkRange, currentRange } from './lba-range.js';

/** A media failure of the backend: counted in SMART Media Errors. */
function mediaError(c: NvmeController, cmd: Command, status: NvmeStatus): NvmeStatus {
  c.smart.mediaErrors++;
  cmd.errorLba = currentRange().slba;
  return status;
}

/** Byte-wise equality without a JS loop per byte. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

export function write(c: NvmeController, cmd: Command, ns: Namespace): HandlerResult {
  const status = checkRange(c, cmd, ns, true);
  if (!succeeded(status)) return status;
  const r = currentRange();
  const fua = getBits(cmd.cdw(12), READ_WRITE.CDW12.FUA) === 1 || c.features.volatileWriteCache === 0;
  if (r.bytes > c.bounceLimit) return startChunkedTransfer(c, cmd, ns, 'write', r, fua);
  const buf = c.bounce(r.bytes);
  const received = c.receiveFromHost(cmd, buf);
  if (!succeeded(received)) return received;
  if (!ns.backend.write(r.offset, buf, fua)) return mediaError(c, cmd, Status.WRITE_FAULT);
  c.smart.bytesWritten += r.bytes;
  c.smart.hostWriteCommands++;
  return STATUS_SUCCESS;
}

export function read(c: NvmeController, cmd: Command, ns: Namespace): HandlerResult {
  const status = checkRange(c, cmd, ns, true);
  if (!succeeded(status)) return status;
  const r = currentRange();
  if (r.bytes > c.bounceLimit) return startChunkedTransfer(c, cmd, ns, 'read', r);
  const mapped = c.mapData(cmd, r.bytes, true);
  if (!succeeded(mapped)) return mapped;
  const buf = c.bounce(r.bytes);
  if (!ns.backend.read(r.offset, buf)) return mediaError(c, cmd, Status.READ_ERROR);
  if (!c.port.transferSegments(c.segments, buf, 'toHost')) return c.dataTransferError(cmd);
  c.stats.dataBytesToHost += r.bytes;
  c.smart.bytesRead += r.bytes;
  c.smart.hostReadCommands++;
  return STATUS_SUCCESS;
}

/** Compare: the host's data against the media; a difference is 2/85h Compare Failure (C-5). */
export function compare(c: NvmeController, cmd: Command, ns: Namespace): HandlerResult {
  const status = checkRange(c, cmd, ns, true);
  if (!succeeded(status)) return status;
  const r = currentRange();
  if (r.bytes > c.bounceLimit) return startChunkedTransfer(c, cmd, ns, 'compare', r);
  const host = c.bounce(r.bytes);
  const received = c.receiveFromHost(cmd, host);
  if (!succeeded(received)) return received;
  const media = c.bounce2(r.bytes);
  if (!ns.backend.read(r.offset, media)) return mediaError(c, cmd, Status.READ_ERROR);
  c.smart.bytesRead += r.bytes;
  c.smart.hostReadCommands++;
  if (!sameBytes(host, media)) {
    cmd.errorLba = r.slba;
    return Status.COMPARE_FAILED;
  }
  return STATUS_SUCCESS;
}

/** Verify: reads the media to check it is readable; no data moves to the host, so MDTS does not apply. */
export function verify(c: NvmeController, cmd: Command, ns: Namespace): HandlerResult {
  const status = checkRange(c, cmd, ns, false);
  if (!succeeded(status)) return status;
  const r = currentRange();
  if (r.bytes > c.bounceLimit) return startChunkedTransfer(c, cmd, ns, 'verify', r);
  // No host bytes move: the media read is the work this poll is charged for.
  c.chargeWork(r.bytes);
  if (!ns.backend.read(r.offset, c.bounce(r.bytes))) return mediaError(c, cmd, Status.READ_ERROR);
  // Its blocks are data units read; the command is not a host read command (SMART, C-A2).
  c.smart.bytesRead += r.bytes;
  return STATUS_SUCCESS;
}
