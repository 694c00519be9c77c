import { type SglDescriptor, SglType, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import {
  createDataPointerScratch,
  type DataPointerOptions,
  type DataSegment,
  DEFAULT_DATA_POINTER_OPTIONS,
  type HostReader,
  parseSgl,
  segmentsLength,
} from '../../src/data-pointer/index.js';
import { bb, bucket, db, FakeHost, lastSeg, noReads, options, piece, raw, seg, sgl1 } from './host-memory.js';

const SEG_A = 0x200000n;
const SEG_B = 0x300000n;
const SEG_C = 0x400000n;
const U64_LIMIT = 1n << 64n;

interface Parsed {
  status: number;
  segs: DataSegment[];
}

function parse(
  first: SglDescriptor,
  length: number,
  read: HostReader = noReads,
  opts: DataPointerOptions = DEFAULT_DATA_POINTER_OPTIONS,
  toHost = true,
): Parsed {
  const segs: DataSegment[] = [];
  const status = parseSgl(sgl1(first), length, toHost, opts, read, segs);
  if (status === STATUS_SUCCESS) {
    expect(segmentsLength(segs)).toBe(length);
    for (const s of segs) expect(s.length).toBeGreaterThan(0);
  }
  return { status, segs };
}

/** SGL1 = Last Segment at SEG_A holding `descs`; parses it. */
function parseList(
  descs: readonly SglDescriptor[],
  length: number,
  opts: DataPointerOptions = DEFAULT_DATA_POINTER_OPTIONS,
  toHost = true,
): Parsed & { host: FakeHost } {
  const host = new FakeHost();
  host.writeSegment(SEG_A, descs);
  return { ...parse(lastSeg(SEG_A, descs.length), length, host.reader, opts, toHost), host };
}

const RESERVED_AND_FABRICS_TYPES = [0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf];

describe('derived controller-side SGL vectors (docs/nvme-rules.md §6 V-30..V-35)', () => {
  it('V-30: SGL1 Data Block one byte short is 0/0Fh', () => {
    expect(parse(db(0x100000n, 4095), 4096).status).toBe(Status.SGL_INVALID_DATA);
  });

  it('V-31: SGL1 Last Segment of 24 bytes is 0/0Dh', () => {
    expect(parse(raw(SglType.LAST_SEGMENT, 0, SEG_A, 24), 4096).status).toBe(Status.SGL_INVALID_LAST);
  });

  it('V-32: Last Segment -> [DB, Segment, DB] is 0/0Eh', () => {
    expect(parseList([db(0x100000n, 512), seg(SEG_B, 1), db(0x101000n, 512)], 1024).status).toBe(
      Status.SGL_INVALID_COUNT,
    );
  });

  it('V-33: Last Segment -> [DB, Last Segment] is 0/0Dh', () => {
    expect(parseList([db(0x100000n, 512), lastSeg(SEG_B, 1)], 1024).status).toBe(Status.SGL_INVALID_LAST);
  });

  it('V-34: SGL1 Keyed Data Block (4h) is 0/11h', () => {
    expect(parse(raw(SglType.KEYED_DATA_BLOCK, 0, 0x100000n, 512), 512).status).toBe(Status.SGL_INVALID_TYPE);
  });

  it('V-35: with SGLs not supported (the admin queue on PCIe) the parser answers 0/02h', () => {
    const none = options({ sgl: { support: 'none', bitBucket: false, excessLength: false } });
    expect(parse(db(0x100000n, 4096), 4096, noReads, none).status).toBe(Status.INVALID_FIELD);
  });
});

describe('SPDK and Linux SGL shapes (docs/nvme-rules.md §5, §6)', () => {
  it('single 4 KiB Data Block; 100 bytes byte-aligned in one Data Block', () => {
    expect(parse(db(0x100000n, 4096), 4096).segs).toEqual([piece(0x100000n, 4096)]);
    expect(parse(db(0x100003n, 100), 100).segs).toEqual([piece(0x100003n, 100)]);
  });

  it('2K + 4K + 2K: Last Segment of 48 bytes with three Data Blocks', () => {
    const { status, segs, host } = parseList([db(0x100800n, 2048), db(0x500000n, 4096), db(0x900000n, 2048)], 8192);
    expect(status).toBe(STATUS_SUCCESS);
    expect(segs).toEqual([piece(0x100800n, 2048), piece(0x500000n, 4096), piece(0x900000n, 2048)]);
    expect(host.reads).toEqual([{ addr: SEG_A, length: 48 }]);
  });

  it('100 bytes across mappings of 60 and 40: Last Segment of 32 bytes; adjacent Data Blocks merge', () => {
    expect(parseList([db(0x100000n, 60), db(0x700000n, 40)], 100).segs).toEqual([
      piece(0x100000n, 60),
      piece(0x700000n, 40),
    ]);
    expect(parseList([db(0x100000n, 60), db(0x10003cn, 40)], 100).segs).toEqual([piece(0x100000n, 100)]);
  });

  it('old Linux: 256-descriptor pages chained with Segment (length 4096) descriptors', () => {
    const host = new FakeHost();
    const page1 = Array.from({ length: 255 }, (_, i) => db(0x1000_0000n + BigInt(i) * 0x2000n, 512));
    const page2 = Array.from({ length: 10 }, (_, i) => db(0x2000_0000n + BigInt(i) * 0x2000n, 512));
    host.writeSegment(SEG_A, [...page1, lastSeg(SEG_B, page2.length)]);
    host.writeSegment(SEG_B, page2);
    const { status, segs } = parse(seg(SEG_A, 256), 265 * 512, host.reader);
    expect(status).toBe(STATUS_SUCCESS);
    expect(segs.length).toBe(265);
    expect(host.reads).toEqual([
      { addr: SEG_A, length: 4096 },
      { addr: SEG_B, length: 160 },
    ]);
  });
});

describe('SGL rules (docs/nvme-rules.md §2)', () => {
  it('S-1: SGL1 of each type: only Data Block, Segment and Last Segment start an SGL', () => {
    const host = new FakeHost();
    host.writeSegment(SEG_A, [db(0x100000n, 512)]);
    expect(parse(db(0x100000n, 512), 512).status).toBe(STATUS_SUCCESS);
    expect(parse(lastSeg(SEG_A, 1), 512, host.reader).status).toBe(STATUS_SUCCESS);
    // A Segment whose segment ends with data: strict 0/0Dh, lenient (QEMU) accepted.
    expect(parse(seg(SEG_A, 1), 512, host.reader).status).toBe(Status.SGL_INVALID_LAST);
    expect(parse(seg(SEG_A, 1), 512, host.reader, options({ segmentChainEnd: 'lenient' })).status).toBe(STATUS_SUCCESS);
    // Bit Bucket never starts an SGL, even on a read with bit buckets supported.
    expect(parse(bb(512), 512).status).toBe(Status.SGL_INVALID_TYPE);
    for (const t of RESERVED_AND_FABRICS_TYPES) {
      expect(parse(raw(t, 0, 0x100000n, 512), 512).status).toBe(Status.SGL_INVALID_TYPE);
    }
  });

  it('S-1: a non-zero subtype on Data Block, Segment or Last Segment is 0/11h, in SGL1 and in a segment', () => {
    for (const sub of [1, 0xa, 0xf]) {
      expect(parse(db(0x100000n, 512, sub), 512).status).toBe(Status.SGL_INVALID_TYPE);
      expect(parse(raw(SglType.LAST_SEGMENT, sub, SEG_A, 16), 512).status).toBe(Status.SGL_INVALID_TYPE);
      expect(parse(raw(SglType.SEGMENT, sub, SEG_A, 16), 512).status).toBe(Status.SGL_INVALID_TYPE);
      expect(parseList([db(0x100000n, 256), db(0x200000n, 256, sub)], 512).status).toBe(Status.SGL_INVALID_TYPE);
      expect(parseList([raw(SglType.BIT_BUCKET, sub, 0n, 256), db(0x200000n, 256)], 512).status).toBe(
        Status.SGL_INVALID_TYPE,
      );
      const host = new FakeHost();
      host.writeSegment(SEG_A, [db(0x100000n, 256), raw(SglType.LAST_SEGMENT, sub, SEG_B, 16)]);
      host.writeSegment(SEG_B, [db(0x200000n, 256)]);
      expect(parse(seg(SEG_A, 2), 512, host.reader).status).toBe(Status.SGL_INVALID_TYPE);
    }
  });

  it('S-2: a (Last) Segment length of 0 or not a multiple of 16 is 0/0Dh, in SGL1 and in a segment', () => {
    for (const len of [0, 8, 17, 24, 0xffff_fff8]) {
      expect(parse(raw(SglType.LAST_SEGMENT, 0, SEG_A, len), 512).status).toBe(Status.SGL_INVALID_LAST);
      expect(parse(raw(SglType.SEGMENT, 0, SEG_A, len), 512).status).toBe(Status.SGL_INVALID_LAST);
      const host = new FakeHost();
      host.writeSegment(SEG_A, [db(0x100000n, 256), raw(SglType.LAST_SEGMENT, 0, SEG_B, len)]);
      expect(parse(seg(SEG_A, 2), 512, host.reader).status).toBe(Status.SGL_INVALID_LAST);
    }
  });

  it('S-3: a Segment or Last Segment descriptor outside the last slot is 0/0Eh', () => {
    for (const ptr of [seg(SEG_B, 1), lastSeg(SEG_B, 1)]) {
      expect(parseList([ptr, db(0x100000n, 512)], 512).status).toBe(Status.SGL_INVALID_COUNT);
      const host = new FakeHost();
      host.writeSegment(SEG_A, [db(0x100000n, 256), ptr, lastSeg(SEG_C, 1)]);
      expect(parse(seg(SEG_A, 3), 512, host.reader).status).toBe(Status.SGL_INVALID_COUNT);
    }
  });

  it('S-4: the segment a Last Segment points to holds no segment descriptors (0/0Dh)', () => {
    expect(parseList([db(0x100000n, 256), seg(SEG_B, 1)], 512).status).toBe(Status.SGL_INVALID_LAST);
    expect(parseList([lastSeg(SEG_B, 1)], 512).status).toBe(Status.SGL_INVALID_LAST);
  });

  it('S-4: a Segment chain must end with a (Last) Segment: strict 0/0Dh, lenient (QEMU) accepts data', () => {
    const host = new FakeHost();
    host.writeSegment(SEG_A, [db(0x100000n, 256), seg(SEG_B, 2)]);
    host.writeSegment(SEG_B, [db(0x200000n, 128), db(0x300000n, 128)]);
    expect(parse(seg(SEG_A, 2), 512, host.reader).status).toBe(Status.SGL_INVALID_LAST);
    const lenient = options({ segmentChainEnd: 'lenient' });
    expect(parse(seg(SEG_A, 2), 512, host.reader, lenient).segs).toEqual([
      piece(0x100000n, 256),
      piece(0x200000n, 128),
      piece(0x300000n, 128),
    ]);
    // The same chain ending through a Last Segment is fine in both modes.
    host.writeSegment(SEG_A, [db(0x100000n, 256), lastSeg(SEG_B, 2)]);
    expect(parse(seg(SEG_A, 2), 512, host.reader).status).toBe(STATUS_SUCCESS);
  });

  it('S-5: descriptors shorter than the transfer are 0/0Fh, also across segments', () => {
    expect(parseList([db(0x100000n, 256), db(0x200000n, 255)], 512).status).toBe(Status.SGL_INVALID_DATA);
    const host = new FakeHost();
    host.writeSegment(SEG_A, [db(0x100000n, 256), lastSeg(SEG_B, 1)]);
    host.writeSegment(SEG_B, [db(0x200000n, 200)]);
    expect(parse(seg(SEG_A, 2), 512, host.reader).status).toBe(Status.SGL_INVALID_DATA);
  });

  it('S-5: longer than the transfer is 0/0Fh without excess length; with it the excess is dropped', () => {
    const excess = options({ sgl: { support: 'byte', bitBucket: true, excessLength: true } });
    expect(parse(db(0x100000n, 4097), 4096).status).toBe(Status.SGL_INVALID_DATA);
    expect(parse(db(0x100000n, 4097), 4096, noReads, excess).segs).toEqual([piece(0x100000n, 4096)]);
    expect(parseList([db(0x100000n, 256), db(0x200000n, 257)], 512).status).toBe(Status.SGL_INVALID_DATA);
    expect(parseList([db(0x100000n, 256), db(0x200000n, 257)], 512, excess).segs).toEqual([
      piece(0x100000n, 256),
      piece(0x200000n, 256),
    ]);
  });

  it('S-5: a data descriptor after the transfer is complete is 0/0Fh, unless excess length is supported', () => {
    const excess = options({ sgl: { support: 'byte', bitBucket: true, excessLength: true } });
    const descs = [db(0x100000n, 512), db(0x200000n, 1), db(0x300000n, 1)];
    expect(parseList(descs, 512).status).toBe(Status.SGL_INVALID_DATA);
    expect(parseList([db(0x100000n, 512), bb(1)], 512).status).toBe(Status.SGL_INVALID_DATA);
    const { status, segs } = parseList(descs, 512, excess);
    expect(status).toBe(STATUS_SUCCESS);
    expect(segs).toEqual([piece(0x100000n, 512)]);
    // With excess length the walk stops at the complete data: the next segment is never read.
    const host = new FakeHost();
    host.writeSegment(SEG_A, [db(0x100000n, 512), lastSeg(SEG_B, 1)]);
    expect(parse(seg(SEG_A, 2), 512, host.reader, excess).status).toBe(STATUS_SUCCESS);
    expect(host.reads).toEqual([{ addr: SEG_A, length: 32 }]);
  });

  it('S-5: zero-length Data Blocks are no-ops anywhere; a lone zero-length Data Block is short (0/0Fh)', () => {
    expect(parseList([db(0n, 0), db(0x100000n, 256), db(0xffff_ffff_ffff_ffffn, 0), db(0x100100n, 256)], 512)).toEqual(
      expect.objectContaining({ status: STATUS_SUCCESS, segs: [piece(0x100000n, 512)] }),
    );
    expect(parseList([db(0x100000n, 512), db(0x123n, 0)], 512).status).toBe(STATUS_SUCCESS);
    expect(parse(db(0x100000n, 0), 512).status).toBe(Status.SGL_INVALID_DATA);
  });

  it('S-7: Keyed, Transport, reserved and vendor types inside a segment are 0/11h', () => {
    for (const t of RESERVED_AND_FABRICS_TYPES) {
      expect(parseList([db(0x100000n, 256), raw(t, 0, 0x200000n, 256)], 512).status).toBe(Status.SGL_INVALID_TYPE);
      expect(parseList([raw(t, 0, 0x200000n, 256), db(0x100000n, 512)], 512).status).toBe(Status.SGL_INVALID_TYPE);
    }
  });

  it('S-7: a Bit Bucket when SGLS bit 16 is clear is 0/11h', () => {
    const noBucket = options({ sgl: { support: 'byte', bitBucket: false, excessLength: false } });
    expect(parseList([db(0x100000n, 256), bb(256)], 512, noBucket).status).toBe(Status.SGL_INVALID_TYPE);
    expect(parseList([db(0x100000n, 256), bb(256)], 512, noBucket, false).status).toBe(Status.SGL_INVALID_TYPE);
  });

  it('S-8: on a read a Bit Bucket counts toward the length and becomes a bit-bucket segment; adjacent ones merge', () => {
    const { status, segs } = parseList(
      [db(0x100000n, 100), bb(50, 0x1234n), bb(10), db(0x100064n, 40), db(0n, 0), bb(0)],
      200,
    );
    expect(status).toBe(STATUS_SUCCESS);
    expect(segs).toEqual([piece(0x100000n, 100), bucket(60), piece(0x100064n, 40)]);
  });

  it('S-8: on a write a Bit Bucket is 0/11h (reject) or contributes nothing (ignore)', () => {
    const descs = [db(0x100000n, 100), bb(50), db(0x200000n, 100)];
    expect(parseList(descs, 200, DEFAULT_DATA_POINTER_OPTIONS, false).status).toBe(Status.SGL_INVALID_TYPE);
    const ignore = options({ bitBucketOnWrite: 'ignore' });
    expect(parseList(descs, 200, ignore, false).segs).toEqual([piece(0x100000n, 100), piece(0x200000n, 100)]);
    // The same SGL on a read: the bucket counts, so it is 50 bytes too long.
    expect(parseList(descs, 200, ignore, true).status).toBe(Status.SGL_INVALID_DATA);
  });

  it('S-9: dword-granular SGLs reject a Data Block address or length that is not a dword multiple (0/1Eh)', () => {
    const dword = options({ sgl: { support: 'dword', bitBucket: true, excessLength: false } });
    expect(parse(db(0x100002n, 512), 512, noReads, dword).status).toBe(Status.SGL_INVALID_GRANULARITY);
    expect(parseList([db(0x100000n, 6), db(0x200000n, 2)], 8, dword).status).toBe(Status.SGL_INVALID_GRANULARITY);
    expect(parseList([db(0x100000n, 4), db(0x200000n, 4)], 8, dword).status).toBe(STATUS_SUCCESS);
    // Byte granularity accepts both; bit buckets have no granularity rule.
    expect(parseList([db(0x100001n, 6), db(0x200000n, 2)], 8).status).toBe(STATUS_SUCCESS);
    expect(parseList([db(0x100000n, 4), bb(3), db(0x200000n, 4)], 11, dword).status).toBe(STATUS_SUCCESS);
  });

  it('S-10: a Data Block or segment wrapping past 2^64 is 0/0Fh; ending exactly at 2^64 is fine', () => {
    expect(parse(db(U64_LIMIT - 16n, 32), 32).status).toBe(Status.SGL_INVALID_DATA);
    expect(parse(db(U64_LIMIT - 32n, 32), 32).segs).toEqual([piece(U64_LIMIT - 32n, 32)]);
    expect(parseList([db(0x100000n, 16), db(U64_LIMIT - 8n, 16)], 32).status).toBe(Status.SGL_INVALID_DATA);
    expect(parse(lastSeg(U64_LIMIT - 16n, 2), 32).status).toBe(Status.SGL_INVALID_DATA);
  });

  it('S-10: an unreadable segment is 0/04h, first or chained', () => {
    expect(parse(lastSeg(SEG_A, 2), 32, new FakeHost().reader).status).toBe(Status.DATA_XFER_ERROR);
    const host = new FakeHost();
    host.writeSegment(SEG_A, [db(0x100000n, 16), lastSeg(SEG_B, 1)]);
    expect(parse(seg(SEG_A, 2), 32, host.reader).status).toBe(Status.DATA_XFER_ERROR);
  });

  it('S-11: a non-last segment that maps no data is 0/0Dh (forward progress)', () => {
    const host = new FakeHost();
    host.writeSegment(SEG_A, [seg(SEG_A, 1)]);
    expect(parse(seg(SEG_A, 1), 512, host.reader).status).toBe(Status.SGL_INVALID_LAST);
    host.writeSegment(SEG_B, [db(0x100000n, 0), db(0x100000n, 0), seg(SEG_B, 3)]);
    expect(parse(seg(SEG_B, 3), 512, host.reader).status).toBe(Status.SGL_INVALID_LAST);
    // Ignored write bit buckets map nothing either.
    host.writeSegment(SEG_C, [bb(512), lastSeg(SEG_A, 1)]);
    expect(parse(seg(SEG_C, 2), 512, host.reader, options({ bitBucketOnWrite: 'ignore' }), false).status).toBe(
      Status.SGL_INVALID_LAST,
    );
  });

  it('S-11: a Segment chain that loops with data ends with a status after O(length) reads', () => {
    const host = new FakeHost();
    host.writeSegment(SEG_A, [db(0x100000n, 1), seg(SEG_B, 2)]);
    host.writeSegment(SEG_B, [db(0x200000n, 1), seg(SEG_A, 2)]);
    const length = 4096;
    const t0 = performance.now();
    expect(parse(seg(SEG_A, 2), length, host.reader).status).toBe(Status.SGL_INVALID_DATA);
    expect(host.reads.length).toBe(length + 1);
    // With excess length the data is complete after `length` segments and the rest is ignored.
    const excess = options({ sgl: { support: 'byte', bitBucket: true, excessLength: true } });
    const { status, segs } = parse(seg(SEG_A, 2), length, host.reader, excess);
    expect(status).toBe(STATUS_SUCCESS);
    expect(segs.length).toBe(length);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('S-11: a huge segment (0xFFFFFFF0 bytes) is read in 4 KiB pieces, never allocated, and stops early', () => {
    const huge = 0xffff_fff0 / 16;
    const host = new FakeHost();
    host.writeSegment(SEG_A, [db(0x100000n, 512), db(0x200000n, 512)]);
    // Excess data right after the transfer is complete: one read.
    expect(parse(lastSeg(SEG_A, huge), 512, host.reader).status).toBe(Status.SGL_INVALID_DATA);
    expect(host.reads).toEqual([{ addr: SEG_A, length: 4096 }]);
    // Zero-length no-ops after the data: the descriptor budget (2 * length + 256) ends the walk with 0/0Eh.
    const zeros = new FakeHost();
    zeros.writeSegment(SEG_A, [db(0x100000n, 512)]);
    zeros.map(SEG_A, 64 * 4096);
    expect(parse(lastSeg(SEG_A, huge), 512, zeros.reader).status).toBe(Status.SGL_INVALID_COUNT);
    expect(zeros.bytesRead()).toBeLessThanOrEqual((2 * 512 + 256 + 256) * 16);
    expect(Math.max(...zeros.reads.map((r) => r.length))).toBe(4096);
    // Unmapped beyond the first page: 0/04h as soon as the walk needs it.
    const one = new FakeHost();
    one.writeSegment(SEG_A, [db(0x100000n, 256)]);
    one.map(SEG_A, 4096);
    expect(parse(lastSeg(SEG_A, huge), 512, one.reader).status).toBe(Status.DATA_XFER_ERROR);
    expect(one.reads.map((r) => r.length)).toEqual([4096, 4096]);
  });

  it('segment reads stop at 4 KiB boundaries; a descriptor straddling one is read alone', () => {
    const at = SEG_A + 0xff8n;
    const host = new FakeHost();
    host.writeSegment(at, [db(0x100000n, 100), db(0x200000n, 100), db(0x300000n, 100)]);
    expect(parse(lastSeg(at, 3), 300, host.reader).segs).toEqual([
      piece(0x100000n, 100),
      piece(0x200000n, 100),
      piece(0x300000n, 100),
    ]);
    expect(host.reads).toEqual([
      { addr: at, length: 16 },
      { addr: at + 16n, length: 32 },
    ]);
  });

  it('a zero-length transfer succeeds with no segments; out and the scratch are reusable', () => {
    const scratch = createDataPointerScratch();
    scratch.segments.push(piece(1n, 1));
    scratch.sgl1.set(sgl1(db(0x100000n, 64)));
    expect(parseSgl(scratch.sgl1, 0, true, DEFAULT_DATA_POINTER_OPTIONS, noReads, scratch.segments)).toBe(0);
    expect(scratch.segments).toEqual([]);
    expect(parseSgl(scratch.sgl1, 64, true, DEFAULT_DATA_POINTER_OPTIONS, noReads, scratch.segments)).toBe(0);
    expect(scratch.segments).toEqual([piece(0x100000n, 64)]);
    expect(parseSgl(scratch.sgl1, 65, true, DEFAULT_DATA_POINTER_OPTIONS, noReads, scratch.segments)).toBe(
      Status.SGL_INVALID_DATA,
    );
    expect(() => parseSgl(new Uint8Array(8), 64, true, DEFAULT_DATA_POINTER_OPTIONS, noReads, [])).toThrow(RangeError);
  });

  it('a reader that re-enters the parser gets its own scratch', () => {
    const inner = new FakeHost();
    inner.writeSegment(SEG_B, [db(0x900000n, 8)]);
    const outer = new FakeHost();
    outer.writeSegment(SEG_A, [db(0x100000n, 16), db(0x200000n, 16)]);
    const nested: DataSegment[] = [];
    const reentrant: HostReader = (addr, dst) => {
      const st = parseSgl(sgl1(lastSeg(SEG_B, 1)), 8, true, DEFAULT_DATA_POINTER_OPTIONS, inner.reader, nested);
      expect(st).toBe(STATUS_SUCCESS);
      return outer.reader(addr, dst);
    };
    expect(parse(lastSeg(SEG_A, 2), 32, reentrant).segs).toEqual([piece(0x100000n, 16), piece(0x200000n, 16)]);
    expect(nested).toEqual([piece(0x900000n, 8)]);
  });
});
