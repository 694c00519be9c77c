/**
 * Admin command dispatch (SQ 0; NVMe Base 1.4 §5). Admin commands on PCIe use PRPs only: PSDT ≠ 0
 * gives 0/02h for every admin command (P-11), fused operations are not supported (FUSE ≠ 0 gives
 * 0/02h, Q-12), and an opcode the table ({@link ADMIN_COMMANDS}) does not list gives 0/01h
 * (exactly one completion; Linux fix #10 was a double completion here).
 */
import { Fuse, Psdt, SQE, Status } from '@epfsim/nvme-spec-types';
import type { HandlerResult } from '../command/command.js';
import type { AdminContext } from '../command/context.js';
import { handlersByOpcode } from '../command/opcode-table.js';
import type { Request } from '../command/request.js';
import { ADMIN_COMMANDS } from './opcodes.js';

/** CDW0 byte 1 holds FUSE (bits 1:0) and PSDT (bits 7:6). */
const FLAGS_BYTE = SQE.FLAGS.off;
const FUSE_BIT = 0;
const PSDT_BIT = 6;
const OPCODE_BYTE = SQE.OPC.off;

const HANDLERS = handlersByOpcode(ADMIN_COMMANDS);

/** Executes one admin command; checks in QEMU's nvme_admin_cmd() order: opcode, PSDT, FUSE. */
export function executeAdmin(ctx: AdminContext, req: Request): HandlerResult {
  const handler = HANDLERS[req.opcode];
  if (handler === undefined) return req.failParse(Status.INVALID_OPCODE, OPCODE_BYTE);
  if (req.psdt !== Psdt.PRP) return req.failParse(Status.INVALID_FIELD, FLAGS_BYTE, PSDT_BIT);
  if (req.fuse !== Fuse.NORMAL) return req.failParse(Status.INVALID_FIELD, FLAGS_BYTE, FUSE_BIT);
  return handler(ctx, req);
}
