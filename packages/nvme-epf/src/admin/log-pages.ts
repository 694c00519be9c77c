/**
 * Get Log Page (02h; NVMe Base 1.4 §5.14, rule C-A2): Error Information (01h), SMART / Health
 * (02h, controller-wide), Firmware Slot (03h) and Commands Supported and Effects (05h). Length is
 * (NUMD + 1) × 4 bytes from byte offset LPO; bytes past the end of a log read as zero. An unknown
 * LID gives the specification's 1/09h (QEMU answers 0/02h). Reading a log with RAE = 0 unmasks
 * the asynchronous events that named it.
 */
import {
  DWORD_BYTES,
  decodeGetLogPage,
  encodeFirmwareSlotLog,
  FW_SLOT_AFI,
  isSuccess,
  Lid,
  NVME_NSID_ALL,
  type NvmeStatus,
  packFields,
  READ_WRITE,
  SQE,
  Status,
} from '@epfsim/nvme-spec-types';
import type { AdminContext } from '../command/context.js';
import type { Request } from '../command/request.js';

/** Firmware slot 1 is the active one. */
const ACTIVE_SLOT = 1;
const CDW10_BYTE = SQE.CDW10.off;
/** NUMDL is CDW10 bits 31:16. */
const NUMDL_BYTE = SQE.CDW10.off + 2;
/** The largest logical block this controller formats. */
const MAX_BLOCK_SIZE = 4096;
/** Largest Read/Write: 2^16 blocks (NLB is 16 bits, 0's based) of the largest block size. */
const MAX_UNBOUNDED_TRANSFER = 2 ** READ_WRITE.CDW12.NLB.len * MAX_BLOCK_SIZE;
const CDW12_BYTE = SQE.CDW12.off;
const NSID_BYTE = SQE.NSID.off;

/** The Firmware Slot log: slot 1 active, holding the configured firmware revision. */
function firmwareSlotLog(ctx: AdminContext): Uint8Array {
  return encodeFirmwareSlotLog({ afi: packFields(FW_SLOT_AFI, { ACTIVE: ACTIVE_SLOT }), frs: [ctx.config.firmware] });
}

/** Get Log Page (02h). */
export function getLogPage(ctx: AdminContext, req: Request): NvmeStatus {
  const args = decodeGetLogPage({ cdw10: req.cdw(10), cdw11: req.cdw(11), cdw12: req.cdw(12), cdw13: req.cdw(13) });
  let log: Uint8Array;
  switch (args.lid) {
    case Lid.ERROR_INFORMATION:
      log = ctx.errorLog.encode();
      break;
    case Lid.SMART_HEALTH:
      // LPA bit 0 is clear: SMART is controller-wide, so only NSID 0 or FFFFFFFFh (§5.14.1.2).
      if (req.nsid !== 0 && req.nsid !== NVME_NSID_ALL) return req.fail(Status.INVALID_FIELD, NSID_BYTE);
      log = ctx.smart.encode(ctx.config.now(), ctx.errorLog.total, ctx.features.temperatureWarning);
      break;
    case Lid.FIRMWARE_SLOT:
      log = firmwareSlotLog(ctx);
      break;
    case Lid.COMMANDS_SUPPORTED_EFFECTS:
      log = ctx.commandEffectsLog;
      break;
    default:
      return req.fail(Status.INVALID_LOG_PAGE, CDW10_BYTE);
  }
  if (args.offset % BigInt(DWORD_BYTES) !== 0n || args.offset >= BigInt(log.length)) {
    return req.fail(Status.INVALID_FIELD, CDW12_BYTE);
  }
  // NUMD reaches 16 GiB: with MDTS unlimited, the largest transfer an NVM command can ask for bounds it.
  if (ctx.data.exceedsMdts(args.length) || args.length > MAX_UNBOUNDED_TRANSFER)
    return req.failDataBuffer(Status.INVALID_FIELD, NUMDL_BYTE);
  const start = Number(args.offset);
  // The data pointer is checked for the whole length, but only the log's bytes move; the rest of
  // the host buffer is left as it was, as QEMU's nvme_c2h() of the available length does.
  const n = Math.min(args.length, log.length - start);
  const status = ctx.data.sendToHost(req, log.subarray(start, start + n), args.length);
  if (isSuccess(status)) ctx.aer.logRead(args.lid, args.rae);
  return status;
}
