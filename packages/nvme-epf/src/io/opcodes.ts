/**
 * The NVM command set this controller implements: one row per opcode, read by dispatch, by the
 * Commands Supported and Effects log and by the tests, as QEMU's nvme_cse_iocs_nvm[] is (NVM
 * Command Set 1.0 §3.3; NVMe Base 1.4 §5.14.1.5: LBCC for the commands that change data).
 */
import { CMD_EFFECTS, NvmOpcode, packFields } from '@epfsim/nvme-spec-types';
import type { HandlerResult } from '../command/command.js';
import type { IoContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import type { Namespace } from '../namespace/namespace.js';
import { datasetManagement } from './dataset-management.js';
import { flush } from './flush.js';
import { compare, read, verify, write } from './read-write.js';
import { writeZeroes } from './write-zeroes.js';

export type IoHandler = (ctx: IoContext, req: Request, ns: Namespace) => HandlerResult;

export interface IoCommand {
  readonly opcode: number;
  readonly name: string;
  /** The Commands Supported and Effects entry (CSUPP set; LBCC when it changes data). */
  readonly effects: number;
  readonly execute: IoHandler;
}

const SUPPORTED = packFields(CMD_EFFECTS, { CSUPP: 1 });
const CHANGES_DATA = packFields(CMD_EFFECTS, { CSUPP: 1, LBCC: 1 });

// biome-ignore format: one row per opcode
export const IO_COMMANDS: readonly IoCommand[] = [
  { opcode: NvmOpcode.FLUSH,              name: 'Flush',              effects: SUPPORTED,    execute: flush },
  { opcode: NvmOpcode.WRITE,              name: 'Write',              effects: CHANGES_DATA, execute: write },
  { opcode: NvmOpcode.READ,               name: 'Read',               effects: SUPPORTED,    execute: read },
  { opcode: NvmOpcode.COMPARE,            name: 'Compare',            effects: SUPPORTED,    execute: compare },
  { opcode: NvmOpcode.WRITE_ZEROES,       name: 'Write Zeroes',       effects: CHANGES_DATA, execute: writeZeroes },
  { opcode: NvmOpcode.DATASET_MANAGEMENT, name: 'Dataset Management', effects: CHANGES_DATA, execute: datasetManagement },
  { opcode: NvmOpcode.VERIFY,             name: 'Verify',             effects: SUPPORTED,    execute: verify },
];
