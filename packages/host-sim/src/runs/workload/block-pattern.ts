/**
 * The data a verified workload writes, derived from (seed, LBA, write generation) so that reads
 * verify against a table of generations instead of stored copies. Each block is a slice of a
 * seeded random base chosen by a hash of its LBA and generation, with a 16-byte header stamped at
 * its start: magic, LBA (two dwords) and generation. A block that lands in the wrong place, or a
 * stale one, names where it came from. Filling copies slices (native); there is no per-byte work.
 */
import type { Random } from '../../host/random.js';

/** Header fields, little endian, at the start of every written block. */
const HEADER = { magic: 0, lbaLo: 4, lbaHi: 8, generation: 12, size: 16 } as const;
/** "EPFW": marks a block written by a workload. */
const BLOCK_MAGIC = 0x5746_5045;
/** Bytes of seeded random data the block bodies are cut from (plus one block, so any start fits). */
const BASE_BYTES = 64 * 1024;
const DWORD = 4;
const U32_RANGE = 2 ** 32;
/** Multipliers of the slice hash (Knuth's and a Murmur3 finaliser constant). */
const HASH_LBA = 0x9e37_79b1;
const HASH_GENERATION = 0x85eb_ca6b;
const HASH_SHIFT = 16;

/** What a block's header says, when it has one. */
export interface BlockStamp {
  readonly lba: number;
  readonly generation: number;
}

export class BlockPattern {
  readonly blockSize: number;
  private readonly base: Uint8Array;
  private readonly header = new Uint8Array(HEADER.size);
  private readonly headerView = new DataView(this.header.buffer);

  constructor(blockSize: number, random: Random) {
    if (blockSize < HEADER.size || blockSize % DWORD !== 0) throw new RangeError(`block size ${blockSize}`);
    this.blockSize = blockSize;
    this.base = new Uint8Array(BASE_BYTES + blockSize);
    const words = new DataView(this.base.buffer);
    for (let i = 0; i < this.base.length; i += DWORD) words.setUint32(i, random.u32(), true);
  }

  /** Writes the content of block `lba` at write `generation` into `dst` at `at`. */
  stamp(dst: Uint8Array, at: number, lba: number, generation: number): void {
    let h = Math.imul(lba >>> 0, HASH_LBA) ^ Math.imul(generation, HASH_GENERATION);
    h ^= h >>> HASH_SHIFT;
    const start = ((h >>> 0) % (BASE_BYTES / DWORD)) * DWORD;
    dst.set(this.base.subarray(start, start + this.blockSize), at);
    const v = this.headerView;
    v.setUint32(HEADER.magic, BLOCK_MAGIC, true);
    v.setUint32(HEADER.lbaLo, lba % U32_RANGE, true);
    v.setUint32(HEADER.lbaHi, Math.floor(lba / U32_RANGE), true);
    v.setUint32(HEADER.generation, generation, true);
    dst.set(this.header, at);
  }

  /** The header of the block at `at` in `data`, or undefined when it carries none. */
  readStamp(data: Uint8Array, at: number): BlockStamp | undefined {
    if (at + HEADER.size > data.length) return undefined;
    const v = new DataView(data.buffer, data.byteOffset + at, HEADER.size);
    if (v.getUint32(HEADER.magic, true) !== BLOCK_MAGIC) return undefined;
    return {
      lba: v.getUint32(HEADER.lbaHi, true) * U32_RANGE + v.getUint32(HEADER.lbaLo, true),
      generation: v.getUint32(HEADER.generation, true),
    };
  }
}
