/**
 * Write Zeroes (08h; NVMe Base 1.4 §6.16, C-6): no data, not bound by MDTS, range checked (0/80h).
 * DEAC asks to deallocate as well; both read back as zero here (DLFEAT read behaviour 001b). Up
 * to 256 MiB per command: when zeroing costs more than one bounce buffer (a file backend writes
 * every byte) it runs over polls (range-zeroing.ts).
 */
import { getBits, isSuccess, STATUS_SUCCESS, Status, WRITE_ZEROES } from '@epfsim/nvme-spec-types';
import type { HandlerResult } from '../command/command.js';
import type { IoContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import type { Namespace } from '../namespace/namespace.js';
import { checkRange } from './lba-range.js';
import { startZeroing } from './range-zeroing.js';

export function writeZeroes(ctx: IoContext, req: Request, ns: Namespace): HandlerResult {
  const status = checkRange(ctx.data, req, ns, false);
  if (!isSuccess(status)) return status;
  const r = req.range;
  const cdw12 = req.cdw(12);
  const fua = getBits(cdw12, WRITE_ZEROES.CDW12.FUA) === 1 || ctx.features.volatileWriteCache === 0;
  const deallocate = getBits(cdw12, WRITE_ZEROES.CDW12.DEAC) === 1;
  const cost = ns.backend.zeroingCost(r.bytes);
  if (cost > req.bounceLimit) {
    return startZeroing(
      ctx,
      req,
      ns,
      [{ offset: r.offset, length: r.bytes }],
      deallocate ? 'deallocate' : 'write-zeroes',
      fua,
    );
  }
  ctx.work.chargeWork(cost);
  const ok = deallocate
    ? ns.backend.deallocate(r.offset, r.bytes) && (!fua || ns.backend.flush())
    : ns.backend.writeZeroes(r.offset, r.bytes, fua);
  if (!ok) {
    ctx.smart.mediaErrors++;
    req.errorLba = r.slba;
    return Status.WRITE_FAULT;
  }
  // Write Zeroes is neither a host write command nor data units written (SMART, C-A2).
  return STATUS_SUCCESS;
}
