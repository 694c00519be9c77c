/**
 * NVM I/O command dispatch (any SQ but 0; NVMe Base 1.4 §6, NVM Command Set). Checks in QEMU's
 * nvme_io_cmd() order: opcode (0/01h), then NSID (0/0Bh; Flush may name every namespace with
 * FFFFFFFFh because VWC reports broadcast flush, C-1), then FUSE and PSDT (0/02h: no fused
 * commands, PSDT 11b is reserved, SGLs only when SGLS advertises them, P-11).
 */
import { Fuse, NvmOpcode, Psdt, SQE, Status } from '@epfsim/nvme-spec-types';
import type { Command, HandlerResult } from '../command/command.js';
import type { NvmeController } from '../controller.js';
import { flush } from './flush.js';
import { NVM_COMMANDS } from './nvm-commands.js';

const OPCODE_BYTE = SQE.OPC.off;
const NSID_BYTE = SQE.NSID.off;
const FLAGS_BYTE = SQE.FLAGS.off;
const FUSE_BIT = 0;
const PSDT_BIT = 6;

export function executeIo(c: NvmeController, cmd: Command): HandlerResult {
  const entry = NVM_COMMANDS.get(cmd.opcode);
  if (entry === undefined) return cmd.failParse(Status.INVALID_OPCODE, OPCODE_BYTE);
  const broadcastFlush = cmd.opcode === NvmOpcode.FLUSH && cmd.nsidIsBroadcast;
  const ns = c.namespace(cmd.nsid);
  if (ns === undefined && !broadcastFlush) return cmd.failParse(Status.INVALID_NS, NSID_BYTE);
  if (cmd.fuse !== Fuse.NORMAL) return cmd.failParse(Status.INVALID_FIELD, FLAGS_BYTE, FUSE_BIT);
  if (cmd.psdt === Psdt.RESERVED || (cmd.psdt !== Psdt.PRP && c.config.options.sglSupport === 'none')) {
    return cmd.failParse(Status.INVALID_FIELD, FLAGS_BYTE, PSDT_BIT);
  }
  // Only a broadcast Flush gets here without a namespace.
  if (ns === undefined) return flush(c, cmd, undefined);
  return entry.handler(c, cmd, ns);
}
