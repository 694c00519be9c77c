/**
 * Dataset Management (09h; NVMe Base 1.4 §6.7, C-7): NR + 1 ranges of 16 bytes come through the
 * data pointer. With AD (deallocate) every range is deallocated and then reads as zero. Ranges are
 * checked before any is touched: one outside the namespace fails the command with 0/80h (QEMU
 * skips such ranges silently; the specification lists LBA Out of Range for this command).
 * IDR/IDW are hints and change nothing. Overlapping ranges are merged first (256 ranges over the
 * whole namespace deallocate it once), and deallocation that costs more than one bounce buffer
 * (a file backend writes zeroes) runs over polls (range-zeroing.ts).
 */
import {
  DATASET_MANAGEMENT,
  DSM_RANGE,
  DSM_RANGE_SIZE,
  getBits,
  isSuccess,
  SQE,
  STATUS_SUCCESS,
  Status,
} from '@epfsim/nvme-spec-types';
import type { HandlerResult } from '../command/command.js';
import type { IoContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import type { Namespace } from '../namespace/namespace.js';
import { type ByteRange, mergeRanges, startZeroing, zeroingCost } from './range-zeroing.js';

const CDW10_BYTE = SQE.CDW10.off;

export function datasetManagement(ctx: IoContext, req: Request, ns: Namespace): HandlerResult {
  const count = getBits(req.cdw(10), DATASET_MANAGEMENT.CDW10.NR) + 1;
  const deallocate = getBits(req.cdw(11), DATASET_MANAGEMENT.CDW11.AD) === 1;
  const bytes = count * DSM_RANGE_SIZE;
  const buf = req.bounce(bytes);
  const status = ctx.data.receiveFromHost(req, buf);
  if (!isSuccess(status)) return status;
  if (!deallocate) return STATUS_SUCCESS;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const ranges: ByteRange[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * DSM_RANGE_SIZE;
    const nlb = view.getUint32(base + DSM_RANGE.NLB.off, true);
    const slba = view.getBigUint64(base + DSM_RANGE.SLBA.off, true);
    if (!ns.inRange(slba, nlb)) {
      req.errorLba = slba;
      return req.fail(Status.LBA_RANGE, CDW10_BYTE);
    }
    if (nlb > 0) ranges.push({ offset: Number(slba) * ns.blockSize, length: nlb * ns.blockSize });
  }
  const merged = mergeRanges(ranges);
  const cost = zeroingCost(ns.backend, merged);
  if (cost > req.bounceLimit) return startZeroing(ctx, req, ns, merged, 'deallocate', false);
  ctx.work.chargeWork(cost);
  for (const r of merged) {
    if (!ns.backend.deallocate(r.offset, r.length)) {
      ctx.smart.mediaErrors++;
      req.errorLba = BigInt(r.offset / ns.blockSize);
      return Status.WRITE_FAULT;
    }
  }
  return STATUS_SUCCESS;
}
