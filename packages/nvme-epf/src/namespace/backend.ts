/**
 * Where a namespace's bytes live. Offsets and lengths are byte counts inside the namespace (below
 * 2^53, checked by the configuration). A backend failure (an I/O error of the file backend) is
 * returned as `false`, and the command reports a media error; it never throws into the controller.
 */
export interface NamespaceBackend {
  /** Copies `dst.length` bytes from `offset` into `dst`. */
  read(offset: number, dst: Uint8Array): boolean;
  /**
   * The stored bytes of [offset, offset + length) when they lie in one piece of the backend's own
   * memory, else undefined. A Read sends them straight to the host (one copy where a read into the
   * bounce buffer makes two); the view is read only and valid until the backend next changes.
   */
  view?(offset: number, length: number): Uint8Array | undefined;
  /** Stores `src` at `offset`; with `durable`, the bytes are on stable storage when this returns (FUA). */
  write(offset: number, src: Uint8Array, durable: boolean): boolean;
  /** Makes `length` bytes from `offset` read as zero. */
  writeZeroes(offset: number, length: number, durable: boolean): boolean;
  /** Deallocates `length` bytes from `offset` (they then read as zero, DLFEAT = 001b). */
  deallocate(offset: number, length: number): boolean;
  /**
   * The work, in bytes of copying, that {@link writeZeroes} or {@link deallocate} of `length`
   * bytes costs: what a poll's work budget is charged, so that zeroing a large range is spread
   * over polls where it writes every byte (a file) and not where it only drops storage (RAM).
   */
  zeroingCost(length: number): number;
  /** Makes every completed write durable (Flush). */
  flush(): boolean;
  /** Releases the backend's resources (file descriptors). */
  close(): void;
}
