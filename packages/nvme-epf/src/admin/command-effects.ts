/**
 * The Commands Supported and Effects log (Log Identifier 05h, NVMe Base 1.4 §5.14.1.5), built from
 * the command tables dispatch runs: an opcode is reported supported exactly when it executes.
 */
import { CMD_EFFECTS, encodeCommandEffectsLog, packFields } from '@epfsim/nvme-spec-types';
import { NVM_COMMANDS } from '../io/nvm-commands.js';
import { ADMIN_COMMANDS, type CommandEntry } from './admin-commands.js';

/** One entry: CSUPP, and LBCC for a command that may change logical block content. */
function effects(entry: CommandEntry<unknown>): number {
  return packFields(CMD_EFFECTS, { CSUPP: 1, LBCC: entry.changesData ? 1 : 0 });
}

export function buildCommandEffectsLog(): Uint8Array {
  const acs: number[] = [];
  const iocs: number[] = [];
  for (const [opcode, entry] of ADMIN_COMMANDS) acs[opcode] = effects(entry);
  for (const [opcode, entry] of NVM_COMMANDS) iocs[opcode] = effects(entry);
  return encodeCommandEffectsLog({ acs: Array.from(acs, (v) => v ?? 0), iocs: Array.from(iocs, (v) => v ?? 0) });
}
