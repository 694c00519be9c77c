/**
 * What a fuzz case's namespace holds, block by block, as the case's own data sources: zero, a
 * slice of a seeded pattern (each write's payload is one), or unknown (a write whose order against
 * others the host cannot know, or a deallocation whose read-back the controller does not promise).
 * Expected read data is then a list of pattern slices and zero fills, never a copy of the bytes.
 */
import type { CaseBytes } from '../case-file/case-file.js';

/** What one block holds. */
type BlockSource =
  | { readonly kind: 'zero' }
  | { readonly kind: 'pattern'; readonly seed: number; readonly offset: number }
  | { readonly kind: 'unknown' };

const ZERO: BlockSource = { kind: 'zero' };
const UNKNOWN: BlockSource = { kind: 'unknown' };

/** A run of bytes of a read buffer (offset into the transfer) and what they must be; unknown runs are left out. */
export interface ExpectedRun {
  readonly offset: number;
  readonly expected: CaseBytes;
}

export class BlockModel {
  readonly blockSize: number;
  readonly blocks: number;
  /** Blocks not listed are zero. */
  private readonly content = new Map<number, BlockSource>();

  constructor(blockSize: number, blocks: number) {
    this.blockSize = blockSize;
    this.blocks = blocks;
  }

  /** A write of `nlb` blocks from `slba` whose payload is pattern `seed` from offset 0. */
  write(slba: number, nlb: number, seed: number): void {
    for (let i = 0; i < nlb; i++) this.content.set(slba + i, { kind: 'pattern', seed, offset: i * this.blockSize });
  }

  /** Write Zeroes, or a deallocation whose blocks read as zero. */
  zero(slba: number, nlb: number): void {
    for (let i = 0; i < nlb; i++) this.content.delete(slba + i);
  }

  /** Blocks whose content the host cannot know from here on (until written again). */
  forget(slba: number, nlb: number): void {
    for (let i = 0; i < nlb; i++) this.content.set(slba + i, UNKNOWN);
  }

  private source(lba: number): BlockSource {
    return this.content.get(lba) ?? ZERO;
  }

  /**
   * What a read of `nlb` blocks from `slba` returns, as runs over the transfer: consecutive blocks
   * from the same pattern (contiguous in it) or all zero merge into one run; unknown blocks, and
   * blocks in `unknown` (a write in flight with the read), are skipped.
   */
  read(slba: number, nlb: number, unknown?: ReadonlySet<number>): ExpectedRun[] {
    const source = (lba: number) => (unknown?.has(lba) === true ? UNKNOWN : this.source(lba));
    const runs: ExpectedRun[] = [];
    const bs = this.blockSize;
    let i = 0;
    while (i < nlb) {
      const first = source(slba + i);
      let n = 1;
      while (i + n < nlb && continues(first, n * bs, source(slba + i + n))) n++;
      const size = n * bs;
      if (first.kind === 'zero') runs.push({ offset: i * bs, expected: { kind: 'byte', value: 0, size } });
      if (first.kind === 'pattern')
        runs.push({ offset: i * bs, expected: { kind: 'pattern', seed: first.seed, offset: first.offset, size } });
      i += n;
    }
    return runs;
  }
}

/** Whether `next` continues the run that `first` starts, `distance` bytes further on. */
function continues(first: BlockSource, distance: number, next: BlockSource): boolean {
  if (first.kind !== next.kind) return false;
  if (first.kind === 'pattern' && next.kind === 'pattern')
    return next.seed === first.seed && next.offset === first.offset + distance;
  return true;
}

/** The part of `runs` that falls in [from, from + size) of the transfer, re-based to `from`. */
export function sliceRuns(runs: readonly ExpectedRun[], from: number, size: number): ExpectedRun[] {
  const out: ExpectedRun[] = [];
  const end = from + size;
  for (const r of runs) {
    const rSize = r.expected.kind === 'bytes' ? r.expected.bytes.length : r.expected.size;
    const lo = Math.max(from, r.offset);
    const hi = Math.min(end, r.offset + rSize);
    if (lo >= hi) continue;
    const skip = lo - r.offset;
    const e = r.expected;
    const part: CaseBytes =
      e.kind === 'pattern'
        ? { kind: 'pattern', seed: e.seed, offset: e.offset + skip, size: hi - lo }
        : e.kind === 'byte'
          ? { kind: 'byte', value: e.value, size: hi - lo }
          : { kind: 'bytes', bytes: e.bytes.slice(skip, skip + hi - lo) };
    out.push({ offset: lo - from, expected: part });
  }
  return out;
}
