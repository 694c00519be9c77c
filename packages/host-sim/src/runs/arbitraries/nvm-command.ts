/**
 * NVM I/O commands as fast-check values: the kind (Write, Read, Write Zeroes, Dataset Management
 * deallocate, Flush), the starting LBA and the block count. LBAs are biased to a small "hot" range
 * (so reads meet earlier writes), to the first blocks and to the last ones (the namespace edge,
 * C-2); counts to one block, page multiples and their neighbours, and the transfer limit.
 */
import fc from 'fast-check';

export const NVM_COMMAND_KINDS = ['write', 'read', 'write-zeroes', 'trim', 'flush'] as const;
export type NvmCommandKind = (typeof NVM_COMMAND_KINDS)[number];

/** One command: `nlb` blocks (not 0's based) from `slba`; Flush ignores both. */
export interface NvmCommandPick {
  readonly kind: NvmCommandKind;
  readonly slba: number;
  readonly nlb: number;
}

export interface NvmCommandOptions {
  /** Namespace size in blocks (NSZE). */
  readonly blocks: number;
  /** Most blocks one command may move (MDTS over the block size; Write Zeroes and trims use it too). */
  readonly maxBlocks: number;
  /** Kinds to draw from. Default: all. */
  readonly kinds?: readonly NvmCommandKind[];
  /** Blocks at the start of the namespace most commands hit. Default 256. */
  readonly hotBlocks?: number;
}

const DEFAULT_HOT_BLOCKS = 256;
/** Block counts where transfer shapes change (one page, list sizes, pool sizes), each tried ±1 too. */
const INTERESTING_COUNTS = [8, 16, 24, 32, 64, 128, 256, 512, 1024, 2048];

/** Arbitrary NVM commands within a namespace of `blocks` blocks. */
export function nvmCommand(options: NvmCommandOptions): fc.Arbitrary<NvmCommandPick> {
  const { blocks } = options;
  const maxBlocks = Math.max(1, Math.min(options.maxBlocks, blocks));
  const hot = Math.max(1, Math.min(options.hotBlocks ?? DEFAULT_HOT_BLOCKS, blocks));
  const clampCount = (n: number) => Math.min(maxBlocks, Math.max(1, n));
  const nlb = fc.oneof(
    fc.integer({ min: 1, max: Math.min(8, maxBlocks) }),
    fc
      .record({ n: fc.constantFrom(...INTERESTING_COUNTS), d: fc.constantFrom(0, -1, 1) })
      .map(({ n, d }) => clampCount(n + d)),
    fc.integer({ min: 1, max: maxBlocks }),
  );
  const kinds = options.kinds ?? NVM_COMMAND_KINDS;
  return fc
    .record({
      kind: fc.constantFrom(...kinds),
      nlb,
      where: fc.constantFrom('hot', 'start', 'end', 'anywhere'),
      pick: fc.nat(),
    })
    .map(({ kind, nlb, where, pick }) => {
      const room = blocks - nlb + 1;
      const slba =
        where === 'hot'
          ? pick % Math.max(1, Math.min(room, hot))
          : where === 'start'
            ? pick % Math.min(room, 8)
            : where === 'end'
              ? room - 1 - (pick % Math.min(room, 8))
              : pick % room;
      return { kind, slba, nlb };
    });
}
