/**
 * NVM I/O command dispatch (any SQ but 0; NVMe Base 1.4 §6, NVM Command Set). Checks in QEMU's
 * nvme_io_cmd() order: opcode (0/01h for one the table {@link IO_COMMANDS} does not list), then
 * NSID (0/0Bh; Flush may name every namespace with FFFFFFFFh because VWC reports broadcast flush,
 * C-1), then FUSE and PSDT (0/02h: no fused commands, PSDT 11b is reserved, SGLs only when SGLS
 * advertises them, P-11).
 */
import { Fuse, NvmOpcode, Psdt, SQE, Status } from '@epfsim/nvme-spec-types';
import type { HandlerResult } from '../command/command.js';
import type { IoContext } from '../command/context.js';
import { handlersByOpcode } from '../command/opcode-table.js';
import type { Request } from '../command/request.js';
import { flushAll } from './flush.js';
import { IO_COMMANDS } from './opcodes.js';

const OPCODE_BYTE = SQE.OPC.off;
const NSID_BYTE = SQE.NSID.off;
const FLAGS_BYTE = SQE.FLAGS.off;
const FUSE_BIT = 0;
const PSDT_BIT = 6;

const HANDLERS = handlersByOpcode(IO_COMMANDS);

export function executeIo(ctx: IoContext, req: Request): HandlerResult {
  const handler = HANDLERS[req.opcode];
  if (handler === undefined) return req.failParse(Status.INVALID_OPCODE, OPCODE_BYTE);
  const broadcastFlush = req.opcode === NvmOpcode.FLUSH && req.nsidIsBroadcast;
  const ns = ctx.namespace(req.nsid);
  if (ns === undefined && !broadcastFlush) return req.failParse(Status.INVALID_NS, NSID_BYTE);
  if (req.fuse !== Fuse.NORMAL) return req.failParse(Status.INVALID_FIELD, FLAGS_BYTE, FUSE_BIT);
  if (req.psdt === Psdt.RESERVED || (req.psdt !== Psdt.PRP && ctx.config.options.sglSupport === 'none')) {
    return req.failParse(Status.INVALID_FIELD, FLAGS_BYTE, PSDT_BIT);
  }
  if (ns === undefined) return flushAll(ctx);
  return handler(ctx, req, ns);
}
