import { type SglDescriptor, SglType, STATUS_SUCCESS, Status, statusDnr } from '@epfsim/nvme-spec-types';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  type DataPointerOptions,
  type DataSegment,
  DEFAULT_DATA_POINTER_OPTIONS,
  parsePrps,
  parseSgl,
  segmentsLength,
} from '../../src/data-pointer/index.js';
import { FakeHost, lastSeg, options, raw, seg, sgl1, U64_LIMIT } from './host-memory.js';

/** Reference merge: adjacent host ranges, consecutive bit buckets. */
function merged(pieces: readonly DataSegment[]): DataSegment[] {
  const out: DataSegment[] = [];
  for (const p of pieces) {
    if (p.length === 0) continue;
    const last = out.at(-1);
    if (last && last.bitBucket === p.bitBucket && (p.bitBucket || last.addr + BigInt(last.length) === p.addr)) {
      last.length += p.length;
    } else {
      out.push({ ...p, addr: p.bitBucket ? 0n : p.addr });
    }
  }
  return out;
}

/**
 * Every read is at most 4 KiB and stays inside one `unit`-sized page, except a lone
 * `straddle`-byte read (an SGL descriptor that itself crosses the boundary).
 */
function expectReadsInPages(host: FakeHost, unit: number, straddle = 0): void {
  for (const r of host.reads) {
    expect(r.length).toBeLessThanOrEqual(4096);
    const u = BigInt(unit);
    if (r.length !== straddle) expect((r.addr + BigInt(r.length) - 1n) / u).toBe(r.addr / u);
  }
}

// ---------------------------------------------------------------------------------------------
// Valid PRP layouts

interface PrpLayout {
  ps: number;
  length: number;
  prp1: bigint;
  /** Page addresses for the entries after PRP1: a random page, or the page right after the previous one. */
  pages: { adjacent: boolean; page: bigint }[];
  listRegion: bigint;
  /** Qword offset of PRP2 when it is a list pointer. */
  listOffset: number;
  /** Offsets of chained list pointers (lenient P-7 only; 0 otherwise). */
  chainOffsets: number[];
  lenient: boolean;
}

const prpLayoutArb: fc.Arbitrary<PrpLayout> = fc
  .record({
    ps: fc.constantFrom(4096, 8192, 16384),
    pagesWanted: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 500, max: 1100 })),
    tail: fc.nat(),
    prp1Dwords: fc.nat(),
    prp1Page: fc.bigInt({ min: 0n, max: (1n << 50n) - 1n }),
    listPage: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
    listQwords: fc.nat(),
    lenient: fc.boolean(),
  })
  .chain((b) => {
    const ps = b.ps;
    const prp1Offset = (b.prp1Dwords % (ps / 4)) * 4;
    const first = ps - prp1Offset;
    const length = Math.max(1, first + b.pagesWanted * ps - (b.tail % ps));
    const entries = length > first ? Math.ceil((length - first) / ps) : 0;
    return fc.record({
      ps: fc.constant(ps),
      length: fc.constant(length),
      prp1: fc.constant(b.prp1Page * BigInt(ps) + BigInt(prp1Offset)),
      pages: fc.array(fc.record({ adjacent: fc.boolean(), page: fc.bigInt({ min: 0n, max: (1n << 50n) - 1n }) }), {
        minLength: entries,
        maxLength: entries,
      }),
      listRegion: fc.constant(b.listPage * BigInt(ps) * 8n),
      listOffset: fc.constant((b.listQwords % (ps / 8)) * 8),
      // Chained list pages need two slots to make progress: offsets up to ps - 16.
      chainOffsets: fc.array(fc.nat({ max: ps / 8 - 2 }).map((q) => q * 8)),
      lenient: fc.constant(b.lenient),
    });
  });

function buildPrp(l: PrpLayout): {
  prp2: bigint;
  host: FakeHost;
  expected: DataSegment[];
  listEntries: number;
  opts: DataPointerOptions;
} {
  const ps = BigInt(l.ps);
  const host = new FakeHost();
  const firstLen = Math.min(l.length, l.ps - Number(l.prp1 % ps));
  const pieces: DataSegment[] = [{ addr: l.prp1, length: firstLen, bitBucket: false }];
  const entries: bigint[] = [];
  let prev = l.prp1 - (l.prp1 % ps);
  let remaining = l.length - firstLen;
  for (const p of l.pages) {
    const addr = p.adjacent && prev + ps < U64_LIMIT ? prev + ps : p.page * ps;
    entries.push(addr);
    pieces.push({ addr, length: Math.min(l.ps, remaining), bitBucket: false });
    remaining -= Math.min(l.ps, remaining);
    prev = addr;
  }
  let prp2 = 0xdead_beef_0000_0003n; // reserved: never looked at
  let listEntries = 0;
  if (entries.length === 1) prp2 = entries[0]!;
  if (entries.length > 1) {
    // Each list page lives in its own slot of the list region (2 pages apart), so lists never overlap.
    let listPage = 0n;
    let cur = l.listRegion + BigInt(l.listOffset);
    prp2 = cur;
    let i = 0;
    for (let chain = 0; ; chain++) {
      const slots = (l.ps - Number(cur % ps)) / 8;
      const left = entries.length - i;
      if (left <= slots) {
        host.writePrpList(cur, entries.slice(i));
        listEntries += left;
        break;
      }
      listPage += 2n;
      const off = l.lenient ? BigInt(l.chainOffsets[chain % Math.max(1, l.chainOffsets.length)] ?? 0) : 0n;
      const next = l.listRegion + listPage * ps + off;
      host.writePrpList(cur, [...entries.slice(i, i + slots - 1), next]);
      listEntries += slots;
      i += slots - 1;
      cur = next;
    }
  }
  const opts = options({ pageSize: l.ps, chainPointerOffset: l.lenient ? 'lenient' : 'strict' });
  return { prp2, host, expected: merged(pieces), listEntries, opts };
}

// ---------------------------------------------------------------------------------------------
// Valid SGL layouts

interface SglPiece {
  length: number;
  kind: 'data' | 'zero' | 'bucket';
  adjacent: boolean;
  addr: bigint;
}

interface SglLayout {
  pieces: SglPiece[];
  /** Positions (indices into the descriptor list) after which a new segment starts. */
  cuts: number[];
  inline: boolean;
  segRegions: bigint[];
  segOffsets: number[];
  toHost: boolean;
  lenientEnd: boolean;
  excess: number;
}

const sglPieceArb: fc.Arbitrary<SglPiece> = fc.record({
  length: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 9000 })),
  kind: fc.constantFrom('data', 'data', 'data', 'zero', 'bucket'),
  adjacent: fc.boolean(),
  addr: fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }),
    fc.bigInt({ min: U64_LIMIT - 4096n, max: U64_LIMIT - 1n }),
  ),
});

const sglLayoutArb: fc.Arbitrary<SglLayout> = fc.record({
  pieces: fc.array(sglPieceArb, { minLength: 1, maxLength: 40 }),
  cuts: fc.uniqueArray(fc.nat({ max: 60 }), { maxLength: 6 }),
  inline: fc.boolean(),
  segRegions: fc.uniqueArray(fc.bigInt({ min: 1n, max: (1n << 44n) - 1n }), { minLength: 8, maxLength: 8 }),
  segOffsets: fc.array(fc.nat({ max: 8191 }), { minLength: 8, maxLength: 8 }),
  toHost: fc.boolean(),
  lenientEnd: fc.boolean(),
  excess: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 })),
});

function buildSgl(l: SglLayout): {
  first: SglDescriptor;
  host: FakeHost;
  length: number;
  expected: DataSegment[];
  opts: DataPointerOptions;
} {
  const descs: SglDescriptor[] = [];
  const productive: boolean[] = [];
  const expected: DataSegment[] = [];
  let prevEnd = -1n;
  for (const p of l.pieces) {
    // Bit buckets only where they carry data (reads); elsewhere they become data.
    const kind = p.kind === 'bucket' && !l.toHost ? 'data' : p.kind;
    let addr = p.adjacent && prevEnd >= 0n ? prevEnd : p.addr;
    if (addr + BigInt(p.length) > U64_LIMIT) addr = U64_LIMIT - BigInt(p.length);
    if (kind === 'zero') {
      descs.push({ address: addr, length: 0, type: SglType.DATA_BLOCK, subtype: 0 });
      productive.push(false);
      continue;
    }
    const bitBucket = kind === 'bucket';
    descs.push({
      address: addr,
      length: p.length,
      type: bitBucket ? SglType.BIT_BUCKET : SglType.DATA_BLOCK,
      subtype: 0,
    });
    productive.push(true);
    expected.push({ addr: bitBucket ? 0n : addr, length: p.length, bitBucket });
    if (!bitBucket) prevEnd = addr + BigInt(p.length);
  }
  let length = segmentsLength(expected);
  if (length === 0) {
    // All pieces were zero-length: make the first one carry a byte.
    descs[0] = { ...descs[0]!, length: 1, address: 0x1000n };
    productive[0] = true;
    expected.push({ addr: 0x1000n, length: 1, bitBucket: false });
    length = 1;
  }
  // With excess length the SGL may describe more than the transfer: shorten the transfer.
  const excessLength = l.excess > 0 && l.excess < length;
  const transfer = excessLength ? length - l.excess : length;
  const opts = options({
    sgl: { support: 'byte', bitBucket: true, excessLength },
    segmentChainEnd: l.lenientEnd ? 'lenient' : 'strict',
  });
  const expectedCut: DataSegment[] = [];
  let need = transfer;
  for (const e of expected) {
    if (need === 0) break;
    expectedCut.push({ ...e, length: Math.min(e.length, need) });
    need -= Math.min(e.length, need);
  }
  const host = new FakeHost();
  // Only a Data Block can stand alone in SGL1 (S-1).
  if (l.inline && descs.length === 1 && descs[0]!.type === SglType.DATA_BLOCK) {
    return { first: descs[0]!, host, length: transfer, expected: merged(expectedCut), opts };
  }
  // Segments: cut only right after a productive descriptor (forward progress), never after the last one.
  const cutSet = new Set(l.cuts.filter((c) => c < descs.length - 1 && productive[c]));
  const groups: SglDescriptor[][] = [[]];
  descs.forEach((d, i) => {
    groups.at(-1)!.push(d);
    if (cutSet.has(i) && groups.length < l.segRegions.length) groups.push([]);
  });
  const addrs = groups.map((_, i) => l.segRegions[i]! * 0x10000n + BigInt(l.segOffsets[i]!));
  const pointer = (i: number): SglDescriptor => {
    const n = groups[i]!.length + (i < groups.length - 1 ? 1 : 0);
    // The last segment is reached through a Last Segment; lenient mode may use a Segment instead.
    return i === groups.length - 1 && !l.lenientEnd ? lastSeg(addrs[i]!, n) : seg(addrs[i]!, n);
  };
  groups.forEach((g, i) => {
    host.writeSegment(addrs[i]!, i < groups.length - 1 ? [...g, pointer(i + 1)] : g);
  });
  return { first: pointer(0), host, length: transfer, expected: merged(expectedCut), opts };
}

// ---------------------------------------------------------------------------------------------
// Arbitrary input

const POOL = [0x1000n, 0x2000n, 0x3000n, 0x7000n, 0xffff_ffff_ffff_f000n];

const hostAddrArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.tuple(fc.constantFrom(...POOL), fc.nat({ max: 4095 })).map(([p, o]) => p + BigInt(o)),
  fc.tuple(fc.constantFrom(...POOL), fc.nat({ max: 255 })).map(([p, o]) => p + BigInt(o * 16)),
  fc.constantFrom(...POOL),
  fc.bigInt({ min: 0n, max: U64_LIMIT - 1n }),
);

const sglDescArb: fc.Arbitrary<SglDescriptor> = fc.record({
  address: hostAddrArb,
  length: fc.oneof(
    fc.constantFrom(0, 8, 16, 17, 32, 48, 512, 4096, 0xffff_fff0, 0xffff_ffff),
    fc.nat({ max: 600 }).map((n) => n * 16),
    fc.nat({ max: 20000 }),
  ),
  type: fc.oneof(
    { arbitrary: fc.constantFrom(0, 0, 0, 1, 2, 3, 3), weight: 6 },
    { arbitrary: fc.nat({ max: 15 }), weight: 1 },
  ),
  subtype: fc.oneof({ arbitrary: fc.constant(0), weight: 8 }, { arbitrary: fc.nat({ max: 15 }), weight: 1 }),
});

const transferLengthArb = fc.oneof(fc.constantFrom(1, 16, 17, 32, 48, 512, 4096), fc.integer({ min: 1, max: 20000 }));

const optionsArb: fc.Arbitrary<DataPointerOptions> = fc.record({
  pageSize: fc.constantFrom(4096, 8192),
  sgl: fc.record({
    support: fc.constantFrom('none', 'byte', 'byte', 'byte', 'dword'),
    bitBucket: fc.boolean(),
    excessLength: fc.boolean(),
  }),
  checkPrp1Dword: fc.boolean(),
  checkListQword: fc.boolean(),
  chainPointerOffset: fc.constantFrom('strict', 'lenient'),
  segmentChainEnd: fc.constantFrom('strict', 'lenient'),
  bitBucketOnWrite: fc.constantFrom('reject', 'ignore'),
});

/** A piece of pool memory: descriptors, then PRP entries, at some offset, plus noise at the page end. */
interface MemoryRegion {
  page: bigint;
  offset: number;
  descs: SglDescriptor[];
  entries: bigint[];
  noise: Uint8Array;
}

const memoryArb: fc.Arbitrary<MemoryRegion[]> = fc.array(
  fc.record({
    page: fc.constantFrom(...POOL),
    offset: fc.oneof(
      fc.nat({ max: 255 }).map((q) => q * 16),
      fc.nat({ max: 4095 }),
    ),
    descs: fc.array(sglDescArb, { maxLength: 24 }),
    entries: fc.array(fc.oneof(hostAddrArb, fc.constantFrom(...POOL)), { maxLength: 40 }),
    noise: fc.uint8Array({ maxLength: 64 }),
  }),
  { maxLength: 6 },
);

function buildMemory(regions: readonly MemoryRegion[]): FakeHost {
  const host = new FakeHost();
  for (const page of POOL.slice(0, 3)) host.map(page, 4096);
  for (const r of regions) {
    const at = r.page + BigInt(r.offset);
    host.writeSegment(at, r.descs);
    host.writePrpList(at + BigInt(r.descs.length * 16), r.entries);
    host.write(r.page + BigInt(4096 - r.noise.length), r.noise);
  }
  return host;
}

const PRP_STATUSES = new Set([Status.PRP_INVALID_OFFSET, Status.DATA_XFER_ERROR]);
const SGL_STATUSES = new Set([
  Status.INVALID_FIELD,
  Status.DATA_XFER_ERROR,
  Status.SGL_INVALID_LAST,
  Status.SGL_INVALID_COUNT,
  Status.SGL_INVALID_DATA,
  Status.SGL_INVALID_TYPE,
  Status.SGL_INVALID_GRANULARITY,
]);

function expectWellFormed(segs: readonly DataSegment[], length: number, toHost: boolean): void {
  expect(segmentsLength(segs)).toBe(length);
  for (const s of segs) {
    expect(s.length).toBeGreaterThan(0);
    expect(s.addr + BigInt(s.length)).toBeLessThanOrEqual(U64_LIMIT);
    if (s.bitBucket) expect(toHost).toBe(true);
  }
}

describe('data pointer properties', () => {
  test.prop([prpLayoutArb])(
    'valid PRP layouts reproduce the intended byte ranges, reading only needed entries',
    (l) => {
      const { prp2, host, expected, listEntries, opts } = buildPrp(l);
      const out: DataSegment[] = [];
      expect(parsePrps(l.prp1, prp2, l.length, opts, host.reader, out)).toBe(STATUS_SUCCESS);
      expect(out).toEqual(expected);
      expect(host.bytesRead()).toBe(listEntries * 8);
      expectReadsInPages(host, l.ps);
    },
  );

  test.prop([sglLayoutArb])('valid SGL layouts reproduce the intended byte ranges in order', (l) => {
    const { first, host, length, expected, opts } = buildSgl(l);
    const out: DataSegment[] = [];
    expect(parseSgl(sgl1(first), length, l.toHost, opts, host.reader, out)).toBe(STATUS_SUCCESS);
    expect(out).toEqual(expected);
    expectReadsInPages(host, 4096, 16);
  });

  test.prop([
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
    sglDescArb,
    // Mostly a structured SGL1; sometimes 16 raw bytes.
    fc.nat({ max: 4 }).map((n) => n > 0),
    transferLengthArb,
    fc.boolean(),
    optionsArb,
    memoryArb,
  ])(
    'arbitrary SGL1 and host memory: never throws; success covers exactly the length; bounded reads',
    (bytes, desc, useDesc, length, toHost, opts, regions) => {
      const host = buildMemory(regions);
      const out: DataSegment[] = [{ addr: 1n, length: 1, bitBucket: false }];
      const st = parseSgl(useDesc ? sgl1(desc) : bytes, length, toHost, opts, host.reader, out);
      if (st === STATUS_SUCCESS) expectWellFormed(out, length, toHost);
      else {
        expect(SGL_STATUSES.has(st)).toBe(true);
        expect(statusDnr(st)).toBe(true);
      }
      expect(host.reads.length).toBeLessThanOrEqual(2 * length + 257);
      expectReadsInPages(host, 4096, 16);
    },
  );

  test.prop([hostAddrArb, hostAddrArb, fc.integer({ min: 1, max: 64 * 8192 }), optionsArb, memoryArb])(
    'arbitrary PRPs and host memory: never throws; success covers exactly the length; bounded reads',
    (prp1, prp2, length, opts, regions) => {
      const host = buildMemory(regions);
      const out: DataSegment[] = [];
      const st = parsePrps(prp1, prp2, length, opts, host.reader, out);
      if (st === STATUS_SUCCESS) expectWellFormed(out, length, false);
      else expect(PRP_STATUSES.has(st)).toBe(true);
      // Entries needed, plus at most one chain pointer per list page, each page but the first adding data.
      expect(host.bytesRead()).toBeLessThanOrEqual(8 * (2 * Math.ceil(length / opts.pageSize) + 1));
      expectReadsInPages(host, opts.pageSize);
    },
  );

  test.prop([fc.integer({ min: 1, max: 4 * 4096 }), fc.boolean()])(
    'a default-options SGL1 Data Block of exactly the length is one segment',
    (length, toHost) => {
      const out: DataSegment[] = [];
      const st = parseSgl(
        sgl1(raw(SglType.DATA_BLOCK, 0, 0x1234n, length)),
        length,
        toHost,
        DEFAULT_DATA_POINTER_OPTIONS,
        () => false,
        out,
      );
      expect(st).toBe(STATUS_SUCCESS);
      expect(out).toEqual([{ addr: 0x1234n, length, bitBucket: false }]);
    },
  );
});
