/** A sparse fake host memory for the data pointer tests: 4 KiB pages, unmapped addresses fault. */
import { encodeSgl, SGL_DESCRIPTOR_SIZE, type SglDescriptor, SglType, writeSgl } from '@epfsim/nvme-spec-types';
import type { DataPointerOptions, DataSegment, HostReader } from '../../src/data-pointer/index.js';
import { DEFAULT_DATA_POINTER_OPTIONS } from '../../src/data-pointer/index.js';

export const PAGE = 4096;
const PAGE_BITS = 12n;
const PAGE_MASK = BigInt(PAGE - 1);
export const U64_LIMIT = 1n << 64n;

/** One host read the parser made. */
export interface HostRead {
  addr: bigint;
  length: number;
}

export class FakeHost {
  readonly #pages = new Map<bigint, Uint8Array>();
  /** Every read, in order (successful or not). */
  readonly reads: HostRead[] = [];

  /** Maps (zero-filled) every page the range touches. */
  map(addr: bigint, length: number): void {
    if (length <= 0) return;
    const last = (addr + BigInt(length) - 1n) >> PAGE_BITS;
    for (let p = addr >> PAGE_BITS; p <= last; p++) {
      if (!this.#pages.has(p)) this.#pages.set(p, new Uint8Array(PAGE));
    }
  }

  /** Writes bytes, mapping pages as needed. */
  write(addr: bigint, bytes: Uint8Array): void {
    this.map(addr, bytes.length);
    for (let i = 0; i < bytes.length; ) {
      const a = addr + BigInt(i);
      const page = this.#pages.get(a >> PAGE_BITS)!;
      const off = Number(a & PAGE_MASK);
      const n = Math.min(PAGE - off, bytes.length - i);
      page.set(bytes.subarray(i, i + n), off);
      i += n;
    }
  }

  writeU64(addr: bigint, value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, value, true);
    this.write(addr, b);
  }

  /** Writes PRP entries from `addr` on. */
  writePrpList(addr: bigint, entries: readonly bigint[]): void {
    entries.forEach((e, i) => {
      this.writeU64(addr + BigInt(8 * i), e);
    });
  }

  /** Writes an SGL segment (packed descriptors) at `addr`. */
  writeSegment(addr: bigint, descs: readonly SglDescriptor[]): void {
    const b = new Uint8Array(descs.length * SGL_DESCRIPTOR_SIZE);
    const v = new DataView(b.buffer);
    descs.forEach((d, i) => {
      writeSgl(v, i * SGL_DESCRIPTOR_SIZE, d);
    });
    this.write(addr, b);
  }

  isMapped(addr: bigint): boolean {
    return this.#pages.has(addr >> PAGE_BITS);
  }

  /** The HostReader over this memory: false when any byte is unmapped or beyond 2^64. */
  readonly reader: HostReader = (addr, dst) => {
    this.reads.push({ addr, length: dst.length });
    if (addr < 0n || addr + BigInt(dst.length) > U64_LIMIT) return false;
    for (let i = 0; i < dst.length; ) {
      const a = addr + BigInt(i);
      const page = this.#pages.get(a >> PAGE_BITS);
      if (page === undefined) return false;
      const off = Number(a & PAGE_MASK);
      const n = Math.min(PAGE - off, dst.length - i);
      dst.set(page.subarray(off, off + n), i);
      i += n;
    }
    return true;
  };

  /** Total bytes read. */
  bytesRead(): number {
    return this.reads.reduce((s, r) => s + r.length, 0);
  }
}

/** A reader that must never be called. */
export const noReads: HostReader = () => {
  throw new Error('unexpected host read');
};

/** Default options with some fields replaced. */
export function options(fields: Partial<DataPointerOptions> = {}): DataPointerOptions {
  return { ...DEFAULT_DATA_POINTER_OPTIONS, ...fields };
}

/** Data Block descriptor. */
export function db(address: bigint, length: number, subtype = 0): SglDescriptor {
  return { address, length, type: SglType.DATA_BLOCK, subtype };
}

/** Bit Bucket descriptor (address reserved). */
export function bb(length: number, address = 0n): SglDescriptor {
  return { address, length, type: SglType.BIT_BUCKET, subtype: 0 };
}

/** Segment descriptor pointing to `count` descriptors at `address`. */
export function seg(address: bigint, count: number): SglDescriptor {
  return { address, length: count * SGL_DESCRIPTOR_SIZE, type: SglType.SEGMENT, subtype: 0 };
}

/** Last Segment descriptor pointing to `count` descriptors at `address`. */
export function lastSeg(address: bigint, count: number): SglDescriptor {
  return { address, length: count * SGL_DESCRIPTOR_SIZE, type: SglType.LAST_SEGMENT, subtype: 0 };
}

/** Any descriptor by raw fields. */
export function raw(type: number, subtype: number, address: bigint, length: number): SglDescriptor {
  return { address, length, type, subtype };
}

/** The 16 bytes of SGL1. */
export function sgl1(d: SglDescriptor): Uint8Array {
  return encodeSgl(d);
}

/** An expected host data segment. */
export function piece(addr: bigint, length: number): DataSegment {
  return { addr, length, bitBucket: false };
}

/** An expected bit bucket segment. */
export function bucket(length: number): DataSegment {
  return { addr: 0n, length, bitBucket: true };
}
