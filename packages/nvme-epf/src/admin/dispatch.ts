/**
 * Admin command dispatch (SQ 0; NVMe Base 1.4 §5). Admin commands on PCIe use PRPs only: PSDT ≠ 0
 * gives 0/02h for every admin command (P-11), fused operations are not supported (FUSE ≠ 0 gives
 * 0/02h, Q-12), and an opcode this controller does not implement gives 0/01h (exactly one
 * completion; Linux fix #10 was a double completion here).
 */
import { AdminOpcode, Fuse, Psdt, SQE, Status } from '@epfsim/nvme-spec-types';
import type { Command, HandlerResult } from '../command/command.js';
import type { NvmeController } from '../controller.js';
import { abort } from './abort.js';
import { getFeatures, setFeatures } from './features.js';
import { identify } from './identify.js';
import { getLogPage } from './log-pages.js';
import { createIoCq, createIoSq, deleteIoCq, deleteIoSq } from './queue-management.js';

/** CDW0 byte 1 holds FUSE (bits 1:0) and PSDT (bits 7:6). */
const FLAGS_BYTE = SQE.FLAGS.off;
const FUSE_BIT = 0;
const PSDT_BIT = 6;
const OPCODE_BYTE = SQE.OPC.off;

/** Admin opcodes implemented (Commands Supported and Effects lists the same). */
const IMPLEMENTED: ReadonlySet<number> = new Set([
  AdminOpcode.DELETE_IO_SQ,
  AdminOpcode.CREATE_IO_SQ,
  AdminOpcode.GET_LOG_PAGE,
  AdminOpcode.DELETE_IO_CQ,
  AdminOpcode.CREATE_IO_CQ,
  AdminOpcode.IDENTIFY,
  AdminOpcode.ABORT,
  AdminOpcode.SET_FEATURES,
  AdminOpcode.GET_FEATURES,
  AdminOpcode.ASYNC_EVENT_REQUEST,
]);

/** Executes one admin command; checks in QEMU's nvme_admin_cmd() order: opcode, PSDT, FUSE. */
export function executeAdmin(c: NvmeController, cmd: Command): HandlerResult {
  if (!IMPLEMENTED.has(cmd.opcode)) return cmd.failParse(Status.INVALID_OPCODE, OPCODE_BYTE);
  if (cmd.psdt !== Psdt.PRP) return cmd.failParse(Status.INVALID_FIELD, FLAGS_BYTE, PSDT_BIT);
  if (cmd.fuse !== Fuse.NORMAL) return cmd.failParse(Status.INVALID_FIELD, FLAGS_BYTE, FUSE_BIT);
  switch (cmd.opcode) {
    case AdminOpcode.DELETE_IO_SQ:
      return deleteIoSq(c, cmd);
    case AdminOpcode.CREATE_IO_SQ:
      return createIoSq(c, cmd);
    case AdminOpcode.GET_LOG_PAGE:
      return getLogPage(c, cmd);
    case AdminOpcode.DELETE_IO_CQ:
      return deleteIoCq(c, cmd);
    case AdminOpcode.CREATE_IO_CQ:
      return createIoCq(c, cmd);
    case AdminOpcode.IDENTIFY:
      return identify(c, cmd);
    case AdminOpcode.ABORT:
      return abort(c, cmd);
    case AdminOpcode.SET_FEATURES:
      return setFeatures(c, cmd);
    case AdminOpcode.GET_FEATURES:
      return getFeatures(c, cmd);
    case AdminOpcode.ASYNC_EVENT_REQUEST:
      return c.aer.request(cmd.cid);
    default:
      return cmd.fail(Status.INVALID_OPCODE, OPCODE_BYTE);
  }
}
