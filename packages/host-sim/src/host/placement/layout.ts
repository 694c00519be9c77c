/**
 * What a placement policy produces. For a queue: a page-aligned host range. For a command: a
 * {@link CommandLayout}, i.e. the SQE data-pointer fields (PSDT and the 16 DPTR bytes holding
 * PRP1/PRP2 or SGL1), the data buffer as host ranges in data order, the ranges the host must grant
 * (with direction), and, for deliberate violations, the status the host then expects.
 */
import {
  getBits,
  ID_CTRL_SGLS,
  type NvmeStatus,
  type Psdt,
  SglsSupport,
  statusSc,
  statusSct,
} from '@epfsim/nvme-spec-types';
import type { GrantSpec } from '../memory/grant-table.js';
import type { HostRange } from '../memory/host-range.js';

/** Bytes of the SQE data pointer (DW6–DW9). */
export const DPTR_SIZE = 16;
/** Offset of PRP2 inside the DPTR bytes. */
export const DPTR_PRP2_OFFSET = 8;

/** What Identify Controller SGLS says about SGL support (NVMe Base 1.4 Identify Controller bytes 539:536). */
export interface SglCapability {
  /** Bits 1:0: none, byte granular (01b) or dword granular Data Blocks (10b). */
  readonly support: 'none' | 'byte' | 'dword';
  /** Bit 16: Bit Bucket descriptors. */
  readonly bitBucket: boolean;
  /** Bit 18: the SGL may describe more data than the transfer. */
  readonly excessLength: boolean;
  /** Bit 19: MPTR may point to an SGL (PSDT 10b). */
  readonly mptrSgl: boolean;
}

/** A controller without SGLs. */
export const NO_SGL: SglCapability = Object.freeze({
  support: 'none',
  bitBucket: false,
  excessLength: false,
  mptrSgl: false,
});

/** Decodes Identify Controller SGLS. */
export function decodeSglCapability(sgls: number): SglCapability {
  const support = getBits(sgls, ID_CTRL_SGLS.SUPPORT);
  return {
    support: support === SglsSupport.BYTE_ALIGNED ? 'byte' : support === SglsSupport.DWORD_ALIGNED ? 'dword' : 'none',
    bitBucket: getBits(sgls, ID_CTRL_SGLS.BIT_BUCKET) === 1,
    excessLength: getBits(sgls, ID_CTRL_SGLS.EXCESS_LENGTH) === 1,
    mptrSgl: getBits(sgls, ID_CTRL_SGLS.MPTR_SGL) === 1,
  };
}

/** The LBA command a data pointer belongs to, for policies that break command fields on purpose. */
export interface CommandContext {
  readonly nsid: number;
  readonly slba: bigint;
  /** Number of logical blocks (not 0's based). */
  readonly nlb: number;
  readonly blockSize: number;
  /** Namespace size in blocks. */
  readonly nsze: bigint;
  /** Maximum data transfer in bytes; 0 = no limit. */
  readonly mdtsBytes: number;
}

/** One transfer a command needs described. */
export interface DataRequest {
  /** Queue the command goes to: 0 is the admin queue (PRPs only on PCIe, P-11). */
  readonly qid: number;
  /** Bytes the command transfers (> 0). */
  readonly length: number;
  /** Host-to-controller (Write, Compare, DSM): the device reads the buffer. Otherwise the device writes it. */
  readonly toDevice: boolean;
  readonly sgl: SglCapability;
  /** Memory page size, 2^(12 + CC.MPS). */
  readonly pageSize: number;
  readonly command?: CommandContext;
}

/** How the bytes of one piece of the buffer are backed. */
export type ChunkKind =
  /** Host RAM the device reads or writes. */
  | 'ram'
  /** An SGL Bit Bucket: the device discards these bytes of a read (S-8); nothing in host memory. */
  | 'bit-bucket'
  /** Deliberately not RAM: the device must fail the transfer (P-9). */
  | 'hole';

/** A contiguous piece of the data buffer, in data order. */
export interface DataChunk extends HostRange {
  readonly kind: ChunkKind;
}

/** The violation kinds the `invalid` policy makes, each with the rule it breaks. */
export const InvalidKind = {
  PRP1_NOT_DWORD: 'prp1-not-dword',
  PRP2_DIRECT_OFFSET: 'prp2-direct-offset',
  PRP_LIST_ENTRY_OFFSET: 'prp-list-entry-offset',
  SGL_DATA_BLOCK_SHORT: 'sgl-data-block-short',
  SGL_LAST_SEGMENT_LENGTH: 'sgl-last-segment-length',
  SGL_SEGMENT_IN_MIDDLE: 'sgl-segment-in-middle',
  SGL_KEYED: 'sgl-keyed',
  SGL_ON_ADMIN: 'sgl-on-admin',
  PSDT_RESERVED: 'psdt-reserved',
  DATA_IN_HOLE: 'data-in-hole',
  LBA_OUT_OF_RANGE: 'lba-out-of-range',
  NSID_ZERO: 'nsid-zero',
  OVER_MDTS: 'over-mdts',
} as const;
export type InvalidKind = (typeof InvalidKind)[keyof typeof InvalidKind];

/** What the host expects back for a deliberately broken command. */
export interface Expectation {
  readonly kind: InvalidKind;
  /** Rule id from docs/nvme-rules.md (P-3, S-5, C-2, …). */
  readonly rule: string;
  /** The status the specification gives. */
  readonly status: NvmeStatus;
  /**
   * Every outcome the oracle accepts (SCT/SC compared, DNR ignored), `status` included: e.g.
   * success for PRP1 bits 1:0 (the check is optional, P-1), QEMU's 0/0Dh for a Keyed SGL (S-7).
   */
  readonly accept: readonly NvmeStatus[];
}

/** True when `actual` has the type and code of one of `accepted` (DNR, More and CRD ignored). */
export function statusAccepted(actual: NvmeStatus, accepted: readonly NvmeStatus[]): boolean {
  return accepted.some((s) => statusSct(s) === statusSct(actual) && statusSc(s) === statusSc(actual));
}

/** Command fields a policy changes on purpose (invalid placements). */
export interface CommandPatch {
  readonly nsid?: number;
  readonly slba?: bigint;
  /** Number of logical blocks (not 0's based). */
  readonly nlb?: number;
}

/** A command's data pointer and everything placed for it. */
export interface CommandLayout {
  /** The policy that made it. */
  readonly policy: string;
  readonly psdt: Psdt;
  /** DW6–DW9 of the SQE: PRP1 and PRP2, or SGL1. */
  readonly dptr: Uint8Array;
  /** Bytes the layout describes (the request's length unless a patch changed the command). */
  readonly length: number;
  /** The buffer, in data order; sizes add up to `length`. */
  readonly data: readonly DataChunk[];
  /** Host ranges to grant for the command's lifetime: PRP lists and SGL segments (read), data (by direction). */
  readonly grants: readonly GrantSpec[];
  /** Structures the policy wrote (list pages, segments), for reports and case files. */
  readonly structures: readonly HostRange[];
  /** Shapes and edges this layout exercises, e.g. `prp-list-chained`, `straddle-4GiB`. */
  readonly tags: readonly string[];
  readonly expect?: Expectation;
  readonly patch?: CommandPatch;
  /** Frees what the policy placed or took from its pools. Call once, after the command completed. */
  release(): void;
}

/** A queue to place: page aligned and physically contiguous (PC = 1). */
export interface QueueRequest {
  readonly kind: 'sq' | 'cq';
  readonly qid: number;
  readonly bytes: number;
  readonly pageSize: number;
}

/** Where a queue went. */
export interface PlacedQueue {
  readonly range: HostRange;
  readonly tags: readonly string[];
  release(): void;
}

/** A strategy for choosing host addresses. */
export interface PlacementPolicy {
  readonly name: string;
  placeQueue(request: QueueRequest): PlacedQueue;
  layout(request: DataRequest): CommandLayout;
}

/** Scratch for building DPTR bytes without a DataView per layout. */
const dptrScratch = new Uint8Array(DPTR_SIZE);
const dptrScratchView = new DataView(dptrScratch.buffer);

/** PRP1/PRP2 as DPTR bytes. */
export function prpDptr(prp1: bigint, prp2: bigint): Uint8Array {
  // setBigUint64 stores the value modulo 2^64, as BigInt.asUintN(64, …) would.
  dptrScratchView.setBigUint64(0, prp1, true);
  dptrScratchView.setBigUint64(DPTR_PRP2_OFFSET, prp2, true);
  const bytes = new Uint8Array(DPTR_SIZE);
  bytes.set(dptrScratch);
  return bytes;
}

/** PRP1 of DPTR bytes. */
export function dptrPrp1(dptr: Uint8Array): bigint {
  return new DataView(dptr.buffer, dptr.byteOffset, DPTR_SIZE).getBigUint64(0, true);
}

/** PRP2 of DPTR bytes. */
export function dptrPrp2(dptr: Uint8Array): bigint {
  return new DataView(dptr.buffer, dptr.byteOffset, DPTR_SIZE).getBigUint64(DPTR_PRP2_OFFSET, true);
}

/** Grants for the data chunks of a buffer: RAM only, in the direction the device moves the bytes. */
export function dataGrants(data: readonly DataChunk[], toDevice: boolean): GrantSpec[] {
  const direction = toDevice ? 'read' : 'write';
  let n = 0;
  for (const c of data) if (c.kind === 'ram' && c.size > 0) n++;
  // Sized up front: an array grown by push starts with room for 17 entries.
  const grants: GrantSpec[] = new Array(n);
  let i = 0;
  for (const c of data) if (c.kind === 'ram' && c.size > 0) grants[i++] = { addr: c.addr, size: c.size, direction };
  return grants;
}

/** Freezes a layout (every caller passes a fresh literal); releasing it twice is a host-sim bug and throws. */
export function layoutOf(fields: Omit<CommandLayout, 'release'> & { release: () => void }): CommandLayout {
  const releaseOnce = fields.release;
  let released = false;
  // Replacing the property the literal already has keeps its shape; a copy cost a microsecond per layout.
  fields.release = (): void => {
    if (released) throw new Error(`layout of policy ${fields.policy} released twice`);
    released = true;
    releaseOnce();
  };
  return Object.freeze(fields);
}

/**
 * What a successful read through `layout` leaves in the buffer (as the driver gathers it) when the
 * blocks hold `blocks`: the bytes of RAM chunks, zero where a Bit Bucket discarded them.
 */
export function expectedReadBytes(layout: Pick<CommandLayout, 'data' | 'length'>, blocks: Uint8Array): Uint8Array {
  const out = new Uint8Array(layout.length);
  let off = 0;
  for (const chunk of layout.data) {
    if (chunk.kind === 'ram') out.set(blocks.subarray(off, off + chunk.size), off);
    off += chunk.size;
  }
  return out;
}
