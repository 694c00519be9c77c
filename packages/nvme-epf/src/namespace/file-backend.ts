/**
 * The `file` backend: a real file, sized to the namespace (sparse where the file system allows).
 * Flush and FUA writes call fdatasync, so data is durable when the command completes. An I/O
 * error becomes a media error status, never an exception out of the controller.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { NvmeConfigError } from '../config-error.js';
import type { NamespaceBackend } from './backend.js';

/** Zero buffer size for Write Zeroes and Deallocate. */
const ZERO_CHUNK = 1024 * 1024;

export class FileBackend implements NamespaceBackend {
  readonly path: string;
  #fd: number | undefined;
  #zeroes: Uint8Array | undefined;

  /** Opens (creating if needed) `path` and extends it to `size` bytes; a failure is a configuration error at `configPath`. */
  constructor(path: string, size: number, configPath = 'namespaces.backend.path') {
    this.path = path;
    try {
      this.#fd = openSync(path, 'a+');
      closeSync(this.#fd);
      this.#fd = openSync(path, 'r+');
      if (fstatSync(this.#fd).size < size) ftruncateSync(this.#fd, size);
    } catch (e) {
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = undefined;
      throw new NvmeConfigError(configPath, `cannot open ${path}: ${(e as Error).message}`);
    }
  }

  read(offset: number, dst: Uint8Array): boolean {
    const fd = this.#fd;
    if (fd === undefined) return false;
    try {
      let done = 0;
      while (done < dst.length) {
        const n = readSync(fd, dst, done, dst.length - done, offset + done);
        // A short file (truncated behind our back) reads as zero past its end.
        if (n === 0) {
          dst.fill(0, done);
          break;
        }
        done += n;
      }
      return true;
    } catch {
      return false;
    }
  }

  write(offset: number, src: Uint8Array, durable: boolean): boolean {
    const fd = this.#fd;
    if (fd === undefined) return false;
    try {
      let done = 0;
      while (done < src.length) done += writeSync(fd, src, done, src.length - done, offset + done);
      if (durable) fdatasyncSync(fd);
      return true;
    } catch {
      return false;
    }
  }

  writeZeroes(offset: number, length: number, durable: boolean): boolean {
    this.#zeroes ??= new Uint8Array(ZERO_CHUNK);
    let done = 0;
    while (done < length) {
      const n = Math.min(ZERO_CHUNK, length - done);
      if (!this.write(offset + done, this.#zeroes.subarray(0, n), false)) return false;
      done += n;
    }
    return durable ? this.flush() : true;
  }

  /**
   * Writes zeroes: Node has no fallocate(FALLOC_FL_PUNCH_HOLE), so the range costs its length in
   * writes ({@link zeroingCost}), and a large one is spread over polls by the caller.
   */
  deallocate(offset: number, length: number): boolean {
    return this.writeZeroes(offset, length, false);
  }

  zeroingCost(length: number): number {
    return length;
  }

  flush(): boolean {
    const fd = this.#fd;
    if (fd === undefined) return false;
    try {
      fdatasyncSync(fd);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } finally {
      this.#fd = undefined;
    }
  }
}
