/**
 * Admin command dispatch (SQ 0; NVMe Base 1.4 §5). Admin commands on PCIe use PRPs only: PSDT ≠ 0
 * gives 0/02h for every admin command (P-11), fused operations are not supported (FUSE ≠ 0 gives
 * 0/02h, Q-12), and an opcode this controller does not implement gives 0/01h (exactly one
 * completion; Linux fix #10 was a double completion here).
 */
import { Fuse, Psdt, SQE, Status } from '@epfsim/nvme-spec-types';
import type { Command, HandlerResult } from '../command/command.js';
import type { NvmeController } from '../controller.js';
import { ADMIN_COMMANDS } from './admin-commands.js';

/** CDW0 byte 1 holds FUSE (bits 1:0) and PSDT (bits 7:6). */
const FLAGS_BYTE = SQE.FLAGS.off;
const FUSE_BIT = 0;
const PSDT_BIT = 6;
const OPCODE_BYTE = SQE.OPC.off;

/** Executes one admin command; checks in QEMU's nvme_admin_cmd() order: opcode, PSDT, FUSE. */
export function executeAdmin(c: NvmeController, cmd: Command): HandlerResult {
  const entry = ADMIN_COMMANDS.get(cmd.opcode);
  if (entry === undefined) return cmd.failParse(Status.INVALID_OPCODE, OPCODE_BYTE);
  if (cmd.psdt !== Psdt.PRP) return cmd.failParse(Status.INVALID_FIELD, FLAGS_BYTE, PSDT_BIT);
  if (cmd.fuse !== Fuse.NORMAL) return cmd.failParse(Status.INVALID_FIELD, FLAGS_BYTE, FUSE_BIT);
  return entry.handler(c, cmd);
}
