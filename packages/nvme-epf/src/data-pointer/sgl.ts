/**
 * SGL to data segments (NVMe Base 1.4 §4.4 "Scatter Gather List"; rules S-1..S-11 of
 * docs/nvme-rules.md §2). Only subtype 0h (Address) is meaningful on PCIe.
 */
import {
  type NvmeStatus,
  SGL_DESCRIPTOR_SIZE,
  SglSubtype,
  SglType,
  STATUS_SUCCESS,
  Status,
  sglAddress,
  sglLength,
  sglSubtype,
  sglType,
} from '@epfsim/nvme-spec-types';
import { acquireScratch, DATA_POINTER_READ_CHUNK, type ReadScratch, releaseScratch } from './scratch.js';
import { appendSegment, assertTransferLength, rangeWraps } from './segments.js';
import type { DataPointerOptions, DataSegment, HostReader } from './types.js';

/**
 * Descriptors beyond two per data byte (one data descriptor plus one segment pointer) that a
 * parse accepts before answering 0/0Eh: room for zero-length no-ops without letting a host make
 * the walk of a 4 GiB segment, or of a long chain, cost more than O(length).
 */
export const SGL_SPARE_DESCRIPTORS = 256;
/**
 * Descriptors one command may use, whatever its length: past this the parse answers 0/0Eh
 * Invalid Number of SGL Descriptors (not 0/0Fh: the lengths may be right, the walk is refused).
 * Linux sends at most 256 and SPDK 250 (docs/nvme-rules.md S-13); 16384 is 64 pages of
 * descriptors. A Last Segment of 2^32 − 16 bytes of zero-length descriptors on a 512 KiB Read
 * used to cost 45 ms per command (S-11); now about 0.4 ms.
 */
export const SGL_MAX_DESCRIPTORS = 16384;

/** Host reads of segments stop at this boundary, so a read never reaches a 4 KiB page the SGL does not occupy. */
const READ_BOUNDARY = DATA_POINTER_READ_CHUNK;
const DWORD_MASK = 3;

/** The state of one parse. */
interface SglWalk {
  readonly opts: DataPointerOptions;
  readonly toHost: boolean;
  readonly out: DataSegment[];
  /** Bytes the SGL still has to describe. */
  remaining: number;
  /** Descriptors that may still be read (S-11). */
  budget: number;
  /** Bytes the current segment has contributed (S-11 forward progress). */
  contributed: number;
}

/**
 * Parses an SGL starting at the 16-byte SGL1 descriptor (`sgl1[0..15]`) for a transfer of
 * `length` bytes into `out` (cleared first). `toHost` is true for controller-to-host transfers
 * (reads). Returns STATUS_SUCCESS or the NVMe status; host input never throws. Segments are
 * read in pieces of at most 256 descriptors, so no host-chosen length is ever allocated, and the
 * walk stops at the first error, or once the data is complete when excess length is allowed.
 * A transfer of 0 bytes succeeds with no segments (P-10).
 */
export function parseSgl(
  sgl1: Uint8Array,
  length: number,
  toHost: boolean,
  opts: DataPointerOptions,
  read: HostReader,
  out: DataSegment[],
): NvmeStatus {
  out.length = 0;
  assertTransferLength(length);
  if (sgl1.length < SGL_DESCRIPTOR_SIZE) throw new RangeError(`data pointer: SGL1 has ${sgl1.length} bytes, not 16`);
  // P-11: SGLs not advertised; the caller checks PSDT too.
  if (opts.sgl.support === 'none') return Status.INVALID_FIELD;
  if (length === 0) return STATUS_SUCCESS;
  const scratch = acquireScratch();
  try {
    scratch.bytes.set(sgl1.length === SGL_DESCRIPTOR_SIZE ? sgl1 : sgl1.subarray(0, SGL_DESCRIPTOR_SIZE));
    const walk: SglWalk = {
      opts,
      toHost,
      out,
      remaining: length,
      budget: Math.min(2 * length + SGL_SPARE_DESCRIPTORS, SGL_MAX_DESCRIPTORS),
      contributed: 0,
    };
    return walkSgl(walk, read, scratch);
  } finally {
    releaseScratch(scratch);
  }
}

/** S-1: SGL1 is the whole transfer (Data Block) or points to the first segment (Segment, Last Segment). */
function walkSgl(w: SglWalk, read: HostReader, scratch: ReadScratch): NvmeStatus {
  const v = scratch.view;
  let type = sglType(v, 0);
  if (type === SglType.DATA_BLOCK) {
    const st = takeData(w, type, sglSubtype(v, 0), sglAddress(v, 0), sglLength(v, 0));
    return st !== STATUS_SUCCESS ? st : finish(w);
  }
  // Bit Bucket, Keyed, Transport, reserved and vendor types cannot start an SGL (S-1, S-7).
  if (type !== SglType.SEGMENT && type !== SglType.LAST_SEGMENT) return Status.SGL_INVALID_TYPE;
  let subtype = sglSubtype(v, 0);
  let segAddr = sglAddress(v, 0);
  let segLen = sglLength(v, 0);
  for (;;) {
    if (subtype !== SglSubtype.ADDRESS) return Status.SGL_INVALID_TYPE;
    // S-2: a segment holds a whole, non-zero number of descriptors.
    if (segLen === 0 || segLen % SGL_DESCRIPTOR_SIZE !== 0) {
      if (w.opts.acceptShortSegments !== true) return Status.SGL_INVALID_LAST;
      // Fault short-sgl-segment-accepted: before the Linux fix rejecting too-short SGL segments,
      // the segment was walked as the whole descriptors its length holds (none for a length of 0).
      segLen -= segLen % SGL_DESCRIPTOR_SIZE;
    }
    // S-10: the segment itself must not wrap.
    if (rangeWraps(segAddr, segLen)) return Status.SGL_INVALID_DATA;
    const isLast = type === SglType.LAST_SEGMENT;
    const count = segLen / SGL_DESCRIPTOR_SIZE;
    w.contributed = 0;
    let nextFound = false;
    let addr = segAddr;
    for (let index = 0; index < count; ) {
      const toBoundary = Math.floor((READ_BOUNDARY - Number(addr % BigInt(READ_BOUNDARY))) / SGL_DESCRIPTOR_SIZE);
      // A descriptor straddling the boundary is read alone.
      const n = Math.min(count - index, Math.max(toBoundary, 1));
      if (!scratch.read(read, addr, n * SGL_DESCRIPTOR_SIZE)) return Status.DATA_XFER_ERROR;
      for (let i = 0; i < n; i++) {
        // S-11: bounded work whatever the host wrote.
        if (--w.budget < 0) return Status.SGL_INVALID_COUNT;
        const base = i * SGL_DESCRIPTOR_SIZE;
        const lastSlot = index + i === count - 1;
        const t = sglType(v, base);
        if (t === SglType.SEGMENT || t === SglType.LAST_SEGMENT) {
          // S-3: a segment pointer only in the last slot.
          if (!lastSlot) return Status.SGL_INVALID_COUNT;
          // S-4: the segment a Last Segment points to holds data only.
          if (isLast) return Status.SGL_INVALID_LAST;
          // S-11 (QEMU): a segment that is followed by another one must map data, or a cycle never ends.
          if (w.contributed === 0) return Status.SGL_INVALID_LAST;
          type = t;
          subtype = sglSubtype(v, base);
          segAddr = sglAddress(v, base);
          segLen = sglLength(v, base);
          nextFound = true;
          continue;
        }
        if (t !== SglType.DATA_BLOCK && t !== SglType.BIT_BUCKET) return Status.SGL_INVALID_TYPE;
        // S-4: a segment reached through a Segment descriptor ends with a segment pointer (strict).
        if (lastSlot && !isLast && w.opts.segmentChainEnd === 'strict') return Status.SGL_INVALID_LAST;
        const st = takeData(w, t, sglSubtype(v, base), sglAddress(v, base), sglLength(v, base));
        if (st !== STATUS_SUCCESS) return st;
        // S-5: with excess length allowed, whatever follows the complete data is ignored.
        if (w.remaining === 0 && w.opts.sgl.excessLength) return STATUS_SUCCESS;
      }
      index += n;
      addr += BigInt(n * SGL_DESCRIPTOR_SIZE);
    }
    if (!nextFound) return finish(w);
  }
}

/** A Data Block or Bit Bucket descriptor (S-5, S-7, S-8, S-9, S-10). */
function takeData(w: SglWalk, type: number, subtype: number, addr: bigint, len: number): NvmeStatus {
  if (subtype !== SglSubtype.ADDRESS) return Status.SGL_INVALID_TYPE;
  const bitBucket = type === SglType.BIT_BUCKET;
  if (bitBucket) {
    if (!w.opts.sgl.bitBucket) return Status.SGL_INVALID_TYPE;
    if (!w.toHost) return w.opts.bitBucketOnWrite === 'reject' ? Status.SGL_INVALID_TYPE : STATUS_SUCCESS;
  }
  // Zero-length descriptors are valid no-ops.
  if (len === 0) return STATUS_SUCCESS;
  if (!bitBucket) {
    if (w.opts.sgl.support === 'dword' && ((addr & BigInt(DWORD_MASK)) !== 0n || (len & DWORD_MASK) !== 0)) {
      return Status.SGL_INVALID_GRANULARITY;
    }
    if (rangeWraps(addr, len)) return Status.SGL_INVALID_DATA;
  }
  // S-5: more data than the transfer needs, without SGLS excess length.
  if (len > w.remaining && !w.opts.sgl.excessLength) return Status.SGL_INVALID_DATA;
  const take = Math.min(len, w.remaining);
  appendSegment(w.out, addr, take, bitBucket);
  w.remaining -= take;
  w.contributed += take;
  return STATUS_SUCCESS;
}

/** S-5: the SGL ended; it must have described the whole transfer. */
function finish(w: SglWalk): NvmeStatus {
  return w.remaining === 0 ? STATUS_SUCCESS : Status.SGL_INVALID_DATA;
}
