/**
 * Building SGLs (NVMe Base 1.4 §4.4; rules S-1..S-13 of docs/nvme-rules.md §2): descriptors
 * in object form, SGL1 as DPTR bytes, and segments written into host memory.
 */
import {
  encodeSgl,
  SGL_DESCRIPTOR_SIZE,
  type SglDescriptor,
  SglSubtype,
  SglType,
  sglDescriptor,
  writeSgl,
} from '@epfsim/nvme-spec-types';
import type { HostMemory } from '../memory/host-memory.js';
import type { HostRange } from '../memory/host-range.js';
import { DPTR_SIZE } from './layout.js';

/** A Data Block descriptor. */
export function dataBlock(address: bigint, length: number): SglDescriptor {
  return sglDescriptor({ address, length, type: SglType.DATA_BLOCK, subtype: SglSubtype.ADDRESS });
}

/** A Bit Bucket descriptor (the address is reserved: 0). */
export function bitBucket(length: number): SglDescriptor {
  return sglDescriptor({ address: 0n, length, type: SglType.BIT_BUCKET, subtype: SglSubtype.ADDRESS });
}

/** A Segment descriptor pointing to `count` descriptors at `address`. */
export function segmentPointer(address: bigint, count: number): SglDescriptor {
  return sglDescriptor({ address, length: count * SGL_DESCRIPTOR_SIZE, type: SglType.SEGMENT });
}

/** A Last Segment descriptor pointing to `count` descriptors at `address`. */
export function lastSegmentPointer(address: bigint, count: number): SglDescriptor {
  return sglDescriptor({ address, length: count * SGL_DESCRIPTOR_SIZE, type: SglType.LAST_SEGMENT });
}

/** SGL1 as the 16 DPTR bytes of an SQE. */
export function sglDptr(sgl1: SglDescriptor): Uint8Array {
  return encodeSgl(sgl1, new Uint8Array(DPTR_SIZE), 0);
}

/** Writes descriptors back to back at `address`; returns the range written. */
export function writeSegment(memory: HostMemory, address: bigint, descriptors: readonly SglDescriptor[]): HostRange {
  const bytes = new Uint8Array(descriptors.length * SGL_DESCRIPTOR_SIZE);
  const view = new DataView(bytes.buffer);
  descriptors.forEach((d, i) => {
    writeSgl(view, i * SGL_DESCRIPTOR_SIZE, d);
  });
  memory.write(address, bytes);
  return { addr: address, size: bytes.length };
}
