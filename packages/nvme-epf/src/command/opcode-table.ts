/** An opcode table turned into what dispatch reads: the handler of each opcode by index (no lookup per command). */

/** A row of an opcode table. */
export interface OpcodeRow<H> {
  readonly opcode: number;
  readonly effects: number;
  readonly execute: H;
}

/** Opcodes are one byte. */
export const OPCODES = 256;

/** Handlers indexed by opcode; undefined for an opcode the table does not list. Throws on a duplicate row (a bug). */
export function handlersByOpcode<H>(rows: readonly OpcodeRow<H>[]): readonly (H | undefined)[] {
  const handlers: (H | undefined)[] = new Array(OPCODES).fill(undefined);
  for (const row of rows) {
    if (handlers[row.opcode] !== undefined) throw new Error(`opcode 0x${row.opcode.toString(16)} listed twice`);
    handlers[row.opcode] = row.execute;
  }
  return handlers;
}

/** The effects entries of one command set, indexed by opcode (0 = not supported). */
export function effectsByOpcode<H>(rows: readonly OpcodeRow<H>[]): number[] {
  const effects: number[] = new Array(OPCODES).fill(0);
  for (const row of rows) effects[row.opcode] = row.effects;
  return effects;
}
