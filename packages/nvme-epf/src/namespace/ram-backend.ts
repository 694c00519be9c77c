/**
 * The `ram` backend: sparse memory in fixed chunks created on first write, so a 1 TiB namespace
 * costs nothing until it is written. Unwritten and deallocated bytes read as zero.
 */
import type { NamespaceBackend } from './backend.js';

/** Chunk size: big enough that a 512 KiB transfer touches few chunks, small enough for sparse use. */
export const RAM_CHUNK_SIZE = 64 * 1024;
/** Work of dropping one stored chunk (a map delete), in bytes of copying. */
const CHUNK_DROP_WORK = 64;
/** At most two chunks of a range are partly covered: they are zero-filled, not dropped. */
const PARTIAL_CHUNKS = 2;

/**
 * Chunks of closed backends kept for reuse (16 MiB), shared by the process: a campaign that opens
 * a namespace per case writes into the last case's chunks instead of allocating and zeroing new ones.
 */
const SPARE_CHUNKS_MAX = 256;
const spare: Uint8Array[] = [];
/** What an unwritten chunk reads as, lent by {@link RamBackend.view}; nothing writes into it. */
const ZERO_CHUNK = new Uint8Array(RAM_CHUNK_SIZE);

export class RamBackend implements NamespaceBackend {
  readonly #chunks = new Map<number, Uint8Array>();

  /** Bytes of memory held (a multiple of the chunk size). */
  get allocatedBytes(): number {
    return this.#chunks.size * RAM_CHUNK_SIZE;
  }

  read(offset: number, dst: Uint8Array): boolean {
    let done = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const index = Math.floor(pos / RAM_CHUNK_SIZE);
      const within = pos - index * RAM_CHUNK_SIZE;
      const n = Math.min(RAM_CHUNK_SIZE - within, dst.length - done);
      const chunk = this.#chunks.get(index);
      if (chunk === undefined) dst.fill(0, done, done + n);
      else dst.set(chunk.subarray(within, within + n), done);
      done += n;
    }
    return true;
  }

  view(offset: number, length: number): Uint8Array | undefined {
    const index = Math.floor(offset / RAM_CHUNK_SIZE);
    const within = offset - index * RAM_CHUNK_SIZE;
    if (within + length > RAM_CHUNK_SIZE) return undefined;
    return (this.#chunks.get(index) ?? ZERO_CHUNK).subarray(within, within + length);
  }

  write(offset: number, src: Uint8Array): boolean {
    let done = 0;
    while (done < src.length) {
      const pos = offset + done;
      const index = Math.floor(pos / RAM_CHUNK_SIZE);
      const within = pos - index * RAM_CHUNK_SIZE;
      const n = Math.min(RAM_CHUNK_SIZE - within, src.length - done);
      let chunk = this.#chunks.get(index);
      if (chunk === undefined) {
        // A reused chunk is cleared unless this write covers all of it: unwritten bytes read as zero.
        const reused = spare.pop();
        chunk = reused === undefined ? new Uint8Array(RAM_CHUNK_SIZE) : n < RAM_CHUNK_SIZE ? reused.fill(0) : reused;
        this.#chunks.set(index, chunk);
      }
      chunk.set(src.subarray(done, done + n), within);
      done += n;
    }
    return true;
  }

  writeZeroes(offset: number, length: number): boolean {
    return this.deallocate(offset, length);
  }

  deallocate(offset: number, length: number): boolean {
    if (length / RAM_CHUNK_SIZE > this.#chunks.size) return this.#deallocateSparse(offset, length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / RAM_CHUNK_SIZE);
      const within = pos - index * RAM_CHUNK_SIZE;
      const n = Math.min(RAM_CHUNK_SIZE - within, length - done);
      if (n === RAM_CHUNK_SIZE) this.#chunks.delete(index);
      else this.#chunks.get(index)?.fill(0, within, within + n);
      done += n;
    }
    return true;
  }

  /** Dropping whole chunks costs a map delete each (at most the chunks stored); the ends are zero-filled. */
  zeroingCost(length: number): number {
    const chunks = Math.min(Math.ceil(length / RAM_CHUNK_SIZE), this.#chunks.size);
    return Math.min(length, PARTIAL_CHUNKS * RAM_CHUNK_SIZE) + chunks * CHUNK_DROP_WORK;
  }

  /** A range much larger than what is stored: visit the stored chunks instead of every chunk slot. */
  #deallocateSparse(offset: number, length: number): boolean {
    const end = offset + length;
    for (const [index, chunk] of this.#chunks) {
      const start = index * RAM_CHUNK_SIZE;
      const from = Math.max(start, offset);
      const to = Math.min(start + RAM_CHUNK_SIZE, end);
      if (from >= to) continue;
      if (to - from === RAM_CHUNK_SIZE) this.#chunks.delete(index);
      else chunk.fill(0, from - start, to - start);
    }
    return true;
  }

  flush(): boolean {
    return true;
  }

  close(): void {
    for (const chunk of this.#chunks.values()) if (spare.length < SPARE_CHUNKS_MAX) spare.push(chunk);
    this.#chunks.clear();
  }
}
