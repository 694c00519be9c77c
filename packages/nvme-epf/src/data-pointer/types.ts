/**
 * Types and options shared by the PRP and SGL parsers (NVMe Base 1.4 §4.3 and §4.4; rule ids
 * P-n and S-n from docs/nvme-rules.md §1 and §2).
 */

/** A contiguous piece of host memory the command's data occupies, in data order. */
export interface DataSegment {
  /** Host (PCI) address of the first byte; 0 for a bit bucket. */
  addr: bigint;
  /** Bytes, always > 0. */
  length: number;
  /** The bytes are discarded (SGL Bit Bucket on a controller-to-host transfer); no host access. */
  bitBucket: boolean;
}

/**
 * Reads `dst.length` bytes of host memory at `addr` into `dst`, for PRP list pages and SGL
 * segments. Returns false when the access failed (a bus fault); the parser then answers 0/04h.
 */
export type HostReader = (addr: bigint, dst: Uint8Array) => boolean;

/** What Identify Controller SGLS advertises. */
export interface SglSupport {
  /** SGLS bits 1:0: 00b none, 01b byte granular, 10b Data Blocks dword granular (S-9). */
  support: 'none' | 'byte' | 'dword';
  /** SGLS bit 16: Bit Bucket descriptors supported (S-7, S-8). */
  bitBucket: boolean;
  /** SGLS bit 18: the SGL may describe more data than the transfer; the excess is ignored (S-5). */
  excessLength: boolean;
}

/** How the parsers check host input; where the specification, Linux and QEMU differ the choice is an option. */
export interface DataPointerOptions {
  /** Memory page size, 2^(12+CC.MPS). */
  pageSize: number;
  /** What Identify SGLS advertises. */
  sgl: SglSupport;
  /** P-1: check PRP1 bits 1:0 (the spec allows skipping; QEMU skips). True: 0/13h. */
  checkPrp1Dword: boolean;
  /** P-4: reject a PRP list pointer (PRP2) that is not qword aligned with 0/13h. */
  checkListQword: boolean;
  /** P-7: 'strict' (spec and QEMU): a chained list pointer with a non-zero offset is 0/13h; 'lenient': accept it. */
  chainPointerOffset: 'strict' | 'lenient';
  /**
   * S-4: 'strict': a segment reached through a Segment descriptor must end with a Segment or
   * Last Segment descriptor, else 0/0Dh; 'lenient' (QEMU): it may end with data.
   */
  segmentChainEnd: 'strict' | 'lenient';
  /** S-8: a Bit Bucket on a host-to-controller transfer: 'reject' (0/11h) or 'ignore' (old QEMU: contributes nothing). */
  bitBucketOnWrite: 'reject' | 'ignore';
  /**
   * The short-sgl-segment-accepted fault: a segment descriptor whose length is 0 or not a
   * multiple of 16 is walked (rounded down to whole descriptors) instead of failing with 0/0Dh.
   */
  acceptShortSegments?: boolean;
}

/** Spec behaviour with every optional check on: 4 KiB pages, byte-granular SGLs with bit buckets. */
export const DEFAULT_DATA_POINTER_OPTIONS: DataPointerOptions = Object.freeze({
  pageSize: 4096,
  sgl: Object.freeze({ support: 'byte', bitBucket: true, excessLength: false }),
  checkPrp1Dword: true,
  checkListQword: true,
  chainPointerOffset: 'strict',
  segmentChainEnd: 'strict',
  bitBucketOnWrite: 'reject',
} as const);
