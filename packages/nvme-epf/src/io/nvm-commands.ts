/**
 * The NVM command set this controller implements (NVM Command Set 1.0), one row per opcode: its
 * handler and its Commands Supported and Effects entry, read by dispatch and by the effects log
 * alike (QEMU's `nvme_cse_iocs_nvm`).
 */
import { NvmOpcode } from '@epfsim/nvme-spec-types';
import type { CommandEntry } from '../admin/admin-commands.js';
import type { Command, HandlerResult } from '../command/command.js';
import type { NvmeController } from '../controller.js';
import type { Namespace } from '../namespace/namespace.js';
import { datasetManagement } from './dataset-management.js';
import { flush } from './flush.js';
import { compare, read, verify, write } from './read-write.js';
import { writeZeroes } from './write-zeroes.js';

export type NvmHandler = (c: NvmeController, cmd: Command, ns: Namespace) => HandlerResult;

const reads = (handler: NvmHandler): CommandEntry<NvmHandler> => ({ handler, changesData: false });
const changes = (handler: NvmHandler): CommandEntry<NvmHandler> => ({ handler, changesData: true });

export const NVM_COMMANDS: ReadonlyMap<number, CommandEntry<NvmHandler>> = new Map([
  [NvmOpcode.FLUSH, reads(flush)],
  [NvmOpcode.WRITE, changes(write)],
  [NvmOpcode.READ, reads(read)],
  [NvmOpcode.COMPARE, reads(compare)],
  [NvmOpcode.WRITE_ZEROES, changes(writeZeroes)],
  [NvmOpcode.DATASET_MANAGEMENT, changes(datasetManagement)],
  [NvmOpcode.VERIFY, reads(verify)],
]);
