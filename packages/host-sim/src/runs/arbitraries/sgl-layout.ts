/**
 * SGL layouts as fast-check values (NVMe Base 1.4 §4.4; rules S-1..S-11 of
 * docs/nvme-rules.md): the buffer cut into 1..8 Data Blocks at edge-biased addresses (byte or
 * dword granular), Bit Buckets on reads when the controller has them, zero-length Data Blocks, and
 * the descriptors either alone in SGL1 or in a Last Segment or a chain of Segments (each
 * non-last segment carrying data, S-11) at qword-aligned addresses that may cross a page.
 * {@link writeSglLayout} places a spec in host memory as a {@link CommandLayout}. Every layout is
 * legal for a controller with the given SGL support.
 */
import type { EpcProfile } from '@epfsim/epc-core';
import { PCI_ADDR_LIMIT } from '@epfsim/epc-core';
import { Psdt, SGL_DESCRIPTOR_SIZE, type SglDescriptor } from '@epfsim/nvme-spec-types';
import fc from 'fast-check';
import type { HostMemory } from '../../host/memory/host-memory.js';
import type { HostRange } from '../../host/memory/host-range.js';
import { type CommandLayout, type DataChunk, dataGrants, layoutOf } from '../../host/placement/layout.js';
import {
  bitBucket,
  dataBlock,
  lastSegmentPointer,
  segmentPointer,
  sglDptr,
  writeSegment,
} from '../../host/placement/sgl-builder.js';
import { hostAddress } from './host-address.js';
import { disjoint, placeAll } from './ranges.js';

const QWORD = 8;
const DEFAULT_MAX_LENGTH = 512 * 1024;
const MAX_PIECES = 8;
const MAX_SEGMENTS = 4;

/** One descriptor's worth of the buffer, in data order. */
export interface SglPieceSpec {
  /** A Data Block in RAM, a Bit Bucket (read data discarded, S-8), or a zero-length Data Block (a no-op, S-5). */
  readonly kind: 'data' | 'bit-bucket' | 'zero-length';
  /** Where a Data Block's bytes are; for a zero-length block, an address the controller must not use. */
  readonly addr: bigint;
  readonly size: number;
}

/** An SGL description of a buffer, as plain data. */
export interface SglLayoutSpec {
  /** Bytes transferred: the sizes of the data and bit-bucket pieces add up to it. */
  readonly length: number;
  readonly pieces: readonly SglPieceSpec[];
  /**
   * Descriptors (pieces) in each segment, in chain order; empty when SGL1 is the only descriptor (a
   * lone Data Block).
   */
  readonly segmentSizes: readonly number[];
  /** Qword-aligned address of each segment. */
  readonly segments: readonly bigint[];
}

export interface SglLayoutOptions {
  /** Largest transfer in bytes. Default 512 KiB. */
  readonly maxLength?: number;
  /** SGLS bits 1:0 = 10b: Data Block addresses and lengths are dword granular (S-9). Default false (01b). */
  readonly dwordGranular?: boolean;
  /** Lengths are multiples of this (512: whole logical blocks). Default: the Data Block granularity. */
  readonly granule?: number;
  /** Bit Buckets may appear (a read from a controller with SGLS bit 16). Default false. */
  readonly bitBuckets?: boolean;
  /** Aim at this profile's edges too. */
  readonly profile?: EpcProfile;
}

/** Arbitrary SGL layouts: every legal shape, at edge-biased addresses. */
export function sglLayout(options: SglLayoutOptions = {}): fc.Arbitrary<SglLayoutSpec> {
  const grain = options.dwordGranular ? 4 : 1;
  const granule = options.granule ?? grain;
  if (granule % grain !== 0) throw new RangeError(`sglLayout: granule ${granule} is not a multiple of ${grain}`);
  const maxLengths = Math.max(1, Math.floor((options.maxLength ?? DEFAULT_MAX_LENGTH) / granule));
  const profile = options.profile === undefined ? {} : { profile: options.profile };
  return fc
    .record({
      lengths: fc.oneof(
        fc.integer({ min: 1, max: Math.max(1, Math.min(maxLengths, Math.floor(8192 / granule))) }),
        fc.integer({ min: 1, max: maxLengths }),
      ),
      count: fc.integer({ min: 1, max: MAX_PIECES }),
    })
    .chain(({ lengths, count: wanted }) => {
      const length = lengths * granule;
      const units = length / grain;
      const count = Math.min(units, wanted);
      const pieceKind = options.bitBuckets
        ? fc.constantFrom('data', 'data', 'data', 'bit-bucket')
        : fc.constant('data');
      return fc
        .record({
          cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, units - 1) }), {
            minLength: count - 1,
            maxLength: count - 1,
          }),
          kinds: fc.array(pieceKind, { minLength: count, maxLength: count }),
          zeroBefore: fc.array(fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, fc.constant(true)), {
            minLength: count,
            maxLength: count,
          }),
          addrs: fc.array(hostAddress({ align: grain, span: length, ...profile }), {
            minLength: count,
            maxLength: count,
          }),
          zeroAddr: fc.bigInt({ min: 0n, max: PCI_ADDR_LIMIT - 1n }),
          lone: fc.boolean(),
          segmentCount: fc.integer({ min: 1, max: MAX_SEGMENTS }),
          segmentAddrs: fc.array(
            hostAddress({ align: QWORD, span: (2 * MAX_PIECES + 1) * SGL_DESCRIPTOR_SIZE, ...profile }),
            {
              minLength: MAX_SEGMENTS,
              maxLength: MAX_SEGMENTS,
            },
          ),
        })
        .map((v): SglLayoutSpec => {
          const bounds = [0, ...[...v.cuts].sort((a, b) => a - b), units];
          const pieces: SglPieceSpec[] = [];
          for (let i = 0; i < count; i++) {
            if (v.zeroBefore[i]) pieces.push({ kind: 'zero-length', addr: v.zeroAddr, size: 0 });
            const size = ((bounds[i + 1] as number) - (bounds[i] as number)) * grain;
            // The first piece stays RAM, so the buffer is never all bit bucket.
            const kind = i === 0 ? 'data' : (v.kinds[i] as 'data' | 'bit-bucket');
            pieces.push({ kind, addr: kind === 'data' ? (v.addrs[i] as bigint) : 0n, size });
          }
          const lone = pieces.length === 1 && v.lone;
          const segmentSizes = lone ? [] : splitSegments(pieces, v.segmentCount);
          const ram = pieces.filter((p) => p.kind === 'data');
          const wanted: HostRange[] = [
            ...ram.map((p) => ({ addr: p.addr, size: p.size })),
            ...segmentSizes.map((n, i) => ({
              addr: v.segmentAddrs[i] as bigint,
              size: (n + (i < segmentSizes.length - 1 ? 1 : 0)) * SGL_DESCRIPTOR_SIZE,
            })),
          ];
          const placed = disjoint(wanted, QWORD);
          let r = 0;
          return {
            length,
            pieces: pieces.map((p) => (p.kind === 'data' ? { ...p, addr: (placed[r++] as HostRange).addr } : p)),
            segmentSizes,
            segments: placed.slice(ram.length).map((s) => s.addr),
          };
        });
    });
}

/**
 * Cuts the descriptors into at most `wanted` segments. Every segment but the last ends just after a
 * descriptor that moves data (S-11: a segment that maps nothing may be refused), and the last one
 * holds data too.
 */
function splitSegments(pieces: readonly SglPieceSpec[], wanted: number): number[] {
  const carriers = pieces.map((p, i) => (p.size > 0 ? i : -1)).filter((i) => i >= 0);
  const count = Math.max(1, Math.min(wanted, carriers.length));
  const sizes: number[] = [];
  let from = 0;
  for (let s = 1; s < count; s++) {
    const cutAfter = carriers[Math.floor((s * carriers.length) / count) - 1] as number;
    sizes.push(cutAfter + 1 - from);
    from = cutAfter + 1;
  }
  sizes.push(pieces.length - from);
  return sizes;
}

/** The data chunks of a spec, in data order (zero-length blocks move nothing). */
export function sglDataChunks(spec: SglLayoutSpec): DataChunk[] {
  return spec.pieces
    .filter((p) => p.kind !== 'zero-length')
    .map((p) => ({ addr: p.addr, size: p.size, kind: p.kind === 'data' ? 'ram' : 'bit-bucket' }));
}

/**
 * Places a spec in `memory`: RAM for exactly the Data Blocks and the segments, the segments written
 * with their Segment / Last Segment pointers. Returns undefined, having placed nothing, when any of
 * it is not free in `memory`.
 */
export function writeSglLayout(memory: HostMemory, spec: SglLayoutSpec, toDevice: boolean): CommandLayout | undefined {
  const data = sglDataChunks(spec);
  const descriptors: SglDescriptor[] = spec.pieces.map((p) =>
    p.kind === 'bit-bucket' ? bitBucket(p.size) : dataBlock(p.addr, p.size),
  );
  const last = spec.segmentSizes.length - 1;
  const counts = spec.segmentSizes.map((n, i) => n + (i < last ? 1 : 0));
  const segmentRanges = counts.map((n, i) => ({ addr: spec.segments[i] as bigint, size: n * SGL_DESCRIPTOR_SIZE }));
  const ram = data.filter((c) => c.kind === 'ram');
  const ranges = [...ram, ...segmentRanges];
  const release = placeAll(memory, ranges);
  if (release === undefined) return undefined;
  const tags: string[] = [];
  const structures: HostRange[] = [];
  let sgl1: SglDescriptor;
  if (spec.segmentSizes.length === 0) {
    sgl1 = descriptors[0] as SglDescriptor;
    tags.push('sgl-single-data-block');
  } else {
    let from = 0;
    spec.segmentSizes.forEach((n, i) => {
      const body = descriptors.slice(from, from + n);
      from += n;
      const next = segmentRanges[i + 1];
      if (next !== undefined) {
        const nextCount = counts[i + 1] as number;
        body.push(i + 1 === last ? lastSegmentPointer(next.addr, nextCount) : segmentPointer(next.addr, nextCount));
      }
      structures.push(writeSegment(memory, (segmentRanges[i] as HostRange).addr, body));
    });
    const first = segmentRanges[0] as HostRange;
    sgl1 =
      last === 0
        ? lastSegmentPointer(first.addr, counts[0] as number)
        : segmentPointer(first.addr, counts[0] as number);
    tags.push(last === 0 ? 'sgl-last-segment' : 'sgl-segment-chain');
  }
  if (data.some((c) => c.kind === 'bit-bucket')) tags.push('sgl-bit-bucket');
  if (spec.pieces.some((p) => p.kind === 'zero-length')) tags.push('sgl-zero-length');
  return layoutOf({
    policy: 'sgl-layout',
    psdt: Psdt.SGL_MPTR_CONTIG,
    dptr: sglDptr(sgl1),
    length: spec.length,
    data,
    grants: [...dataGrants(data, toDevice), ...structures.map((s) => ({ ...s, direction: 'read' as const }))],
    structures,
    tags,
    release,
  });
}
