/**
 * Commands Supported and Effects log (05h; NVMe Base 1.4 §5.14.1.5), built from the two opcode
 * tables that dispatch reads, so the log cannot list a command dispatch does not run.
 */
import { encodeCommandEffectsLog } from '@epfsim/nvme-spec-types';
import { effectsByOpcode } from '../command/opcode-table.js';
import { IO_COMMANDS } from '../io/opcodes.js';
import { ADMIN_COMMANDS } from './opcodes.js';

let built: Uint8Array | undefined;

/** The log's bytes: the same for every controller, so built once (read only: a Get Log Page copies from it). */
export function buildCommandEffectsLog(): Uint8Array {
  built ??= encodeCommandEffectsLog({ acs: effectsByOpcode(ADMIN_COMMANDS), iocs: effectsByOpcode(IO_COMMANDS) });
  return built;
}
