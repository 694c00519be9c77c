/**
 * The bytes PRP list pages and SGL segments are read into. One module-level 4 KiB buffer serves
 * every parse (parsing is synchronous); a reader that re-enters a parser gets a fresh buffer.
 */
import { SGL_DESCRIPTOR_SIZE } from '@epfsim/nvme-spec-types';
import type { DataSegment, HostReader } from './types.js';

/** Largest single host read of the parsers: 512 PRP entries or 256 SGL descriptors (QEMU's SGL chunk). */
export const DATA_POINTER_READ_CHUNK = 4096;

/** A read buffer with a DataView and cached exact-length views, so steady-state reads allocate nothing. */
export class ReadScratch {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly #views: (Uint8Array | undefined)[] = [];

  constructor() {
    this.bytes = new Uint8Array(DATA_POINTER_READ_CHUNK);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Reads `length` (≤ DATA_POINTER_READ_CHUNK) bytes at `addr` to the start of the buffer; false on a bus fault. */
  read(reader: HostReader, addr: bigint, length: number): boolean {
    let dst = this.#views[length];
    if (dst === undefined) {
      dst = this.bytes.subarray(0, length);
      this.#views[length] = dst;
    }
    return reader(addr, dst);
  }
}

const shared = new ReadScratch();
let sharedBusy = false;

/** Takes the shared scratch, or a fresh one when a parse is already running (a re-entrant reader). */
export function acquireScratch(): ReadScratch {
  if (sharedBusy) return new ReadScratch();
  sharedBusy = true;
  return shared;
}

/** Gives back what {@link acquireScratch} returned. */
export function releaseScratch(s: ReadScratch): void {
  if (s === shared) sharedBusy = false;
}

/** Reusable per-caller state so a controller can parse commands without allocating buffers. */
export interface DataPointerScratch {
  /** Pass as `out`; every parse clears it first. */
  readonly segments: DataSegment[];
  /** 16 bytes to copy SGL1 (SQE bytes 24..39) into before calling `parseSgl`. */
  readonly sgl1: Uint8Array;
}

/** A new {@link DataPointerScratch}; keep one per queue (or per in-flight command if segments outlive the parse). */
export function createDataPointerScratch(): DataPointerScratch {
  return { segments: [], sgl1: new Uint8Array(SGL_DESCRIPTOR_SIZE) };
}
