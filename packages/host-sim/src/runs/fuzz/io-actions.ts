/**
 * Placed I/O of a fuzz case: batches of NVM commands laid out by the placement policy at fuzzed
 * addresses, with what the namespace model says each read returns.
 */
import { NvmOpcode, READ_WRITE, type SqeFields, setBits, splitU64 } from '@epfsim/nvme-spec-types';
import type { CommandSpec } from '../../host/driver/driver-types.js';
import { dsmCommand, flushCommand, lbaCommand, writeZeroesCommand } from '../../host/driver/nvm-commands.js';
import type { CommandContext, CommandLayout } from '../../host/placement/layout.js';
import type { NvmCommandPick } from '../arbitraries/nvm-command.js';
import type { CaseCommand, CaseDataCheck } from '../case-file/case-file.js';
import { sliceRuns } from './block-model.js';
import { type CaseBuilder, createSeed, type MutableExpect } from './case-builder.js';
import { St } from './controller-model.js';
import { NSID } from './fuzz-constants.js';
import { deallocateZeroes } from './qemu-expectations.js';

/**
 * A batch of I/O on one SQ: every command written, then one doorbell. With `readBack`, each write
 * is read back in a second batch once the first has completed: commands in flight together are
 * not ordered (NVMe command ordering: only fused commands are; QEMU runs them concurrently), so a read in the writes' own
 * batch could see either content.
 */
export function io(b: CaseBuilder, queue: number, picks: readonly NvmCommandPick[], readBack: boolean): void {
  const p = b.pair(queue);
  if (p === undefined) return;
  const stalled = b.model.stalled(p.sqid);
  const reads = readBack ? picks.filter((c) => c.kind === 'write').map((c) => ({ ...c, kind: 'read' as const })) : [];
  if (stalled) {
    const held = b.stuck.get(p.sqid) ?? 0;
    if (held + picks.length + reads.length > p.sqDepth - 1) return;
    b.stuck.set(p.sqid, held + picks.length + reads.length);
  }
  const batches = b.target.ordered === true ? [...independent(picks), ...independent(reads)] : [picks, reads];
  for (const batch of batches) {
    if (batch.length === 0) continue;
    const conflicts = batchConflicts(batch);
    const commands = batch.flatMap((c) => ioCommand(b, p.sqid, c, stalled, conflicts.read));
    for (const lba of conflicts.written) b.blocks.forget(lba, 1);
    b.steps.push({ do: 'submit', qid: p.sqid, commands, doorbell: true });
  }
}

/** `picks` in order, cut into batches whose commands touch disjoint blocks (or only read the same ones). */
function independent(picks: readonly NvmCommandPick[]): NvmCommandPick[][] {
  const batches: NvmCommandPick[][] = [];
  let batch: NvmCommandPick[] = [];
  for (const c of picks) {
    const next = [...batch, c];
    const conflicts = batchConflicts(next);
    if (conflicts.read.size + conflicts.written.size > 0) {
      batches.push(batch);
      batch = [c];
    } else batch = next;
  }
  batches.push(batch);
  return batches;
}

/** Commands that change the namespace's blocks. */
function modifies(c: NvmCommandPick): boolean {
  return c.kind === 'write' || c.kind === 'write-zeroes' || c.kind === 'trim';
}

/**
 * Blocks whose outcome a batch leaves undefined: `read`, blocks a read shares with a modifying
 * command of the batch (it may run before or after it); `written`, blocks two modifying commands
 * share (either may land last).
 */
function batchConflicts(batch: readonly NvmCommandPick[]): { read: Set<number>; written: Set<number> } {
  const read = new Set<number>();
  const written = new Set<number>();
  // Pair by pair (a batch is a few commands): only the blocks two commands share are visited.
  for (let i = 0; i < batch.length; i++) {
    const a = batch[i] as NvmCommandPick;
    for (let j = i + 1; j < batch.length; j++) {
      const b = batch[j] as NvmCommandPick;
      const into = modifies(a) && modifies(b) ? written : isReadAgainstModify(a, b) ? read : undefined;
      if (into === undefined) continue;
      const end = Math.min(a.slba + a.nlb, b.slba + b.nlb);
      for (let lba = Math.max(a.slba, b.slba); lba < end; lba++) into.add(lba);
    }
  }
  return { read, written };
}

/** One of the two reads and the other changes blocks: what the read returns of the blocks they share is undefined. */
function isReadAgainstModify(a: NvmCommandPick, b: NvmCommandPick): boolean {
  return (a.kind === 'read' && modifies(b)) || (b.kind === 'read' && modifies(a));
}

/**
 * One NVM command and its expectation. On a stalled SQ (an invalid tail was written) the
 * controller may or may not run it: completion and data are not checked, and what it writes is
 * unknown from then on.
 */
export function ioCommand(
  b: CaseBuilder,
  qid: number,
  c: NvmCommandPick,
  stalled: boolean,
  unordered: ReadonlySet<number> = NONE,
): CaseCommand[] {
  const target = b.target;
  const context = commandContext(b, c);
  const expect: MutableExpect = { status: [St.SUCCESS], sqid: qid };
  let command: CaseCommand;
  switch (c.kind) {
    case 'write': {
      const length = c.nlb * target.blockSize;
      const payloadSeed = nextPayload(b);
      const spec = lbaCommand(NvmOpcode.WRITE, context);
      const l = b.layout(qid, length, true, context);
      b.writeStructures(l);
      b.writePayload(l, payloadSeed, length);
      expect.status = b.statuses(l);
      command = b.command(patched(b, spec, l), expect, l);
      // A write that fails may have written part of its blocks: their content is undefined.
      if (stalled || !b.checkData || l.expect !== undefined) b.blocks.forget(c.slba, c.nlb);
      else b.blocks.write(c.slba, c.nlb, payloadSeed);
      break;
    }
    case 'read': {
      const spec = lbaCommand(NvmOpcode.READ, context);
      const l = b.layout(qid, c.nlb * target.blockSize, false, context);
      b.writeStructures(l);
      expect.status = b.statuses(l);
      if (b.checkData && l.expect === undefined && !stalled) {
        const data = readChecks(b, l, c, unordered);
        if (data.length > 0) expect.data = data;
      }
      command = b.command(patched(b, spec, l), expect, l);
      break;
    }
    case 'write-zeroes':
      command = b.command(writeZeroesCommand(NSID, BigInt(c.slba), c.nlb), expect);
      if (stalled) b.blocks.forget(c.slba, c.nlb);
      else b.blocks.zero(c.slba, c.nlb);
      break;
    case 'trim': {
      const spec = dsmCommand(NSID, [{ cattr: 0, nlb: c.nlb, slba: BigInt(c.slba) }], { ad: true });
      const l = b.layout(qid, spec.data?.length ?? 0, true);
      b.writeStructures(l);
      scatterBytes(b, l, spec.data?.payload);
      expect.status = b.statuses(l);
      command = b.command(patched(b, spec, l), expect, l);
      // nvme-epf reports DLFEAT read behaviour 001b: deallocated blocks read as zero (QEMU keeps them).
      if (stalled || !deallocateZeroes(b.behaviour) || l.expect !== undefined) b.blocks.forget(c.slba, c.nlb);
      else b.blocks.zero(c.slba, c.nlb);
      break;
    }
    case 'flush':
      command = b.command(flushCommand(NSID), expect);
      break;
  }
  if (stalled) {
    expect.completes = 'any';
    delete expect.status;
    delete expect.data;
  } else {
    b.model.posted(b.cqOf(qid));
  }
  return [command];
}

const NONE: ReadonlySet<number> = new Set();

export function nextPayload(b: CaseBuilder): number {
  return (createSeed(b.params.placementSeed, b.nextCommand) ^ 0x5bd1_e995) >>> 0;
}

/** Small literal payloads (DSM ranges) into a layout's RAM chunks. */
export function scatterBytes(b: CaseBuilder, l: CommandLayout, payload: Uint8Array | undefined): void {
  if (payload === undefined) return;
  let off = 0;
  for (const chunk of l.data) {
    const bytes = payload.subarray(off, off + chunk.size);
    if (chunk.kind === 'ram' && bytes.length > 0) {
      b.steps.push({ do: 'write-memory', addr: chunk.addr, content: { kind: 'bytes', bytes: bytes.slice() } });
      b.memory.write(chunk.addr, bytes);
    }
    off += chunk.size;
  }
}

/** What a read's buffer must hold: the model's runs, cut along the buffer's RAM chunks. */
export function readChecks(
  b: CaseBuilder,
  l: CommandLayout,
  c: NvmCommandPick,
  unknown: ReadonlySet<number> = NONE,
): CaseDataCheck[] {
  const runs = b.blocks.read(c.slba, c.nlb, unknown);
  const checks: CaseDataCheck[] = [];
  let off = 0;
  for (const chunk of l.data) {
    if (chunk.kind === 'ram') {
      let at = 0n;
      for (const r of sliceRuns(runs, off, chunk.size)) {
        at = chunk.addr + BigInt(r.offset);
        checks.push({ addr: at, expected: r.expected });
      }
    }
    off += chunk.size;
  }
  return checks;
}

/** An invalid policy's patch (NSID, SLBA, NLB) applied to a command's fields. */
export function patched(_b: CaseBuilder, spec: CommandSpec, l: CommandLayout): SqeFields {
  const f: SqeFields = {
    opcode: spec.opcode,
    nsid: spec.nsid ?? 0,
    cdw10: spec.cdw10 ?? 0,
    cdw11: spec.cdw11 ?? 0,
    cdw12: spec.cdw12 ?? 0,
    cdw13: spec.cdw13 ?? 0,
  };
  const patch = l.patch;
  if (patch === undefined) return f;
  const out = { ...f };
  if (patch.nsid !== undefined) out.nsid = patch.nsid;
  if (patch.slba !== undefined) {
    const { lo, hi } = splitU64(patch.slba);
    out.cdw10 = lo;
    out.cdw11 = hi;
  }
  if (patch.nlb !== undefined) out.cdw12 = setBits(out.cdw12 ?? 0, READ_WRITE.CDW12.NLB, patch.nlb - 1);
  return out;
}

export function commandContext(b: CaseBuilder, c: NvmCommandPick): CommandContext {
  return {
    nsid: NSID,
    slba: BigInt(c.slba),
    nlb: c.nlb,
    blockSize: b.target.blockSize,
    nsze: BigInt(b.target.blocks),
    mdtsBytes: b.mdtsBytes,
  };
}
