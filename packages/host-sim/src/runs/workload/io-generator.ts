/**
 * The I/O stream of one fio job: operation, size and offset of each I/O, from a seeded stream.
 *
 * - Sizes: uniform over the multiples of the granule in [min, max] (fio draws in the bs range and
 *   rounds down to the smallest size when that is a power of two).
 * - Random offsets: uniform over the granule-aligned positions where the whole I/O fits in the
 *   region (fio's blockalign defaults to the smallest size).
 * - Sequential offsets: from the start of the region, wrapping when the next I/O would pass its end.
 * - Mixed modes: each I/O is a read with probability rwmixread / 100.
 */
import type { Random } from '../../host/random.js';
import type { IoGeometry } from './io-geometry.js';
import type { IoOp, IoRequest } from './io-request.js';
import { RW_MODE_INFO, type RwMode } from './rw-mode.js';
import { PERCENT } from './workload-spec.js';

export interface IoGeneratorConfig {
  readonly rw: RwMode;
  readonly geometry: IoGeometry;
  /** Percentage of reads in a mixed mode. */
  readonly rwmixread: number;
}

export class IoGenerator {
  private readonly random: Random;
  private readonly geometry: IoGeometry;
  private readonly randomOffsets: boolean;
  private readonly fixedOp: IoOp | undefined;
  private readonly readShare: number;
  /** Sizes to draw from: min + granule × [0, sizeSteps). */
  private readonly sizeSteps: number;
  private cursor: number;

  constructor(config: IoGeneratorConfig, random: Random) {
    const info = RW_MODE_INFO[config.rw];
    const g = config.geometry;
    this.random = random;
    this.geometry = g;
    this.randomOffsets = info.random;
    this.fixedOp = info.mix === 'read-write' ? undefined : info.mix;
    this.readShare = config.rwmixread / PERCENT;
    this.sizeSteps = Math.floor((g.maxBlocks - g.minBlocks) / g.granuleBlocks) + 1;
    this.cursor = g.regionStart;
  }

  /** The next I/O. */
  next(): IoRequest {
    const g = this.geometry;
    const op = this.fixedOp ?? (this.random.chance(this.readShare) ? 'read' : 'write');
    const nlb = this.sizeSteps === 1 ? g.minBlocks : g.minBlocks + g.granuleBlocks * this.random.below(this.sizeSteps);
    let slba: number;
    if (this.randomOffsets) {
      const positions = Math.floor((g.regionBlocks - nlb) / g.granuleBlocks) + 1;
      slba = g.regionStart + g.granuleBlocks * this.random.below(positions);
    } else {
      if (this.cursor + nlb > g.regionStart + g.regionBlocks) this.cursor = g.regionStart;
      slba = this.cursor;
      this.cursor += nlb;
    }
    return { op, slba, nlb, timeNs: 0 };
  }
}
