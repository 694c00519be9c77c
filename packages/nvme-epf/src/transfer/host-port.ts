/**
 * Moving bytes between host memory and the function's buffers through the configured epc-core
 * strategy: SQEs, PRP lists and SGL segments in, CQEs out (when a CQ is not kept mapped), and
 * command data through a bounce buffer (copied once per hop, as `nvmet_pci_epf_transfer()` does).
 */
import type { Epc, EpcError, TransferDirection, TransferStrategy } from '@epfsim/epc-core';
import type { DataSegment, HostReader } from '../data-pointer/index.js';

/** Where a transfer in pieces stands: the segment, and the bytes of it already moved. */
export interface SegmentCursor {
  index: number;
  offset: number;
}

/** The function's port to host memory: one strategy over one EPC. */
export class HostPort {
  readonly epc: Epc;
  readonly strategy: TransferStrategy;
  /** The last failure, for trace messages (no allocation on success). */
  lastError: EpcError | null = null;
  /** A {@link HostReader} for the data-pointer parsers (PRP list pages, SGL segments). */
  readonly reader: HostReader;

  constructor(epc: Epc, strategy: TransferStrategy) {
    this.epc = epc;
    this.strategy = strategy;
    this.reader = (addr, dst) => this.read(addr, dst);
  }

  /** Reads `dst.length` bytes at host address `addr`; false on a failed map or a bus fault. */
  read(addr: bigint, dst: Uint8Array): boolean {
    return this.#move(addr, dst, 'fromHost');
  }

  /** Writes `src` at host address `addr`; false on a failed map or a bus fault. */
  write(addr: bigint, src: Uint8Array): boolean {
    return this.#move(addr, src, 'toHost');
  }

  /**
   * Moves the command data in `buf` to or from the segments, in order. A bit bucket consumes its
   * length of `buf` without touching the host (S-8); data past the end of `buf` (an SGL longer
   * than the transfer, SGLS bit 18) is not moved. False when any host access failed (0/04h).
   */
  transferSegments(segments: readonly DataSegment[], buf: Uint8Array, direction: TransferDirection): boolean {
    let done = 0;
    for (const seg of segments) {
      if (done >= buf.length) break;
      const n = Math.min(seg.length, buf.length - done);
      if (!seg.bitBucket && n > 0) {
        const piece = done === 0 && n === buf.length ? buf : buf.subarray(done, done + n);
        if (!this.#move(seg.addr, piece, direction)) return false;
      }
      done += n;
    }
    return true;
  }

  /**
   * Moves the next `buf.length` bytes of the command data, from where `cursor` stands in the
   * segments, and advances the cursor: a transfer in pieces (a command that runs over polls).
   * Bit buckets consume their bytes without touching the host. False when a host access failed.
   */
  transferPart(
    segments: readonly DataSegment[],
    cursor: SegmentCursor,
    buf: Uint8Array,
    direction: TransferDirection,
  ): boolean {
    let done = 0;
    while (done < buf.length && cursor.index < segments.length) {
      const seg = segments[cursor.index] as DataSegment;
      const n = Math.min(seg.length - cursor.offset, buf.length - done);
      if (!seg.bitBucket && !this.#move(seg.addr + BigInt(cursor.offset), buf.subarray(done, done + n), direction))
        return false;
      done += n;
      cursor.offset += n;
      if (cursor.offset === seg.length) {
        cursor.index++;
        cursor.offset = 0;
      }
    }
    return true;
  }

  #move(addr: bigint, buf: Uint8Array, direction: TransferDirection): boolean {
    if (buf.length === 0) return true;
    const error = this.strategy.transfer(this.epc, addr, buf, direction);
    if (error === null) return true;
    this.lastError = error;
    return false;
  }
}
