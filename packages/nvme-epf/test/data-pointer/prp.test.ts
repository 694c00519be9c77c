import { STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import {
  type DataPointerOptions,
  type DataSegment,
  DEFAULT_DATA_POINTER_OPTIONS,
  type HostReader,
  parsePrps,
  segmentsLength,
} from '../../src/data-pointer/index.js';
import { FakeHost, noReads, options, PAGE, piece } from './host-memory.js';

const LIST = 0x200000n;
const LIST2 = 0x300000n;
const P = BigInt(PAGE);

function parse(
  prp1: bigint,
  prp2: bigint,
  length: number,
  read: HostReader = noReads,
  opts: DataPointerOptions = DEFAULT_DATA_POINTER_OPTIONS,
): { status: number; segs: DataSegment[] } {
  const segs: DataSegment[] = [];
  const status = parsePrps(prp1, prp2, length, opts, read, segs);
  if (status === STATUS_SUCCESS) expect(segmentsLength(segs)).toBe(length);
  return { status, segs };
}

/** `n` contiguous pages from `base`. */
function pages(base: bigint, n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => base + BigInt(i) * P);
}

describe('SPDK test_prp_list_append vectors, parsed by the controller (docs/nvme-rules.md §6 V-2..V-14)', () => {
  it('V-2/V-3/V-4: one page, PRP2 never read', () => {
    expect(parse(0x100000n, 0n, 0x200).segs).toEqual([piece(0x100000n, 0x200)]);
    expect(parse(0x108000n, 0n, 0x200).segs).toEqual([piece(0x108000n, 0x200)]);
    expect(parse(0x100000n, 0n, 0x1000).segs).toEqual([piece(0x100000n, 0x1000)]);
  });

  it('V-5/V-6: PRP2 direct, contiguous pages merge', () => {
    expect(parse(0x100800n, 0x101000n, 0x1000)).toEqual({ status: 0, segs: [piece(0x100800n, 0x1000)] });
    expect(parse(0x100000n, 0x101000n, 0x2000)).toEqual({ status: 0, segs: [piece(0x100000n, 0x2000)] });
  });

  it('V-7/V-8/V-9: PRP2 is a list; only the needed entries are read', () => {
    for (const [prp1, len, entries] of [
      [0x100800n, 0x2000, [0x101000n, 0x102000n]],
      [0x100000n, 0x3000, [0x101000n, 0x102000n]],
      [0x100800n, 0x3000, [0x101000n, 0x102000n, 0x103000n]],
    ] as const) {
      const host = new FakeHost();
      host.writePrpList(LIST, entries);
      expect(parse(prp1, LIST, len, host.reader)).toEqual({ status: 0, segs: [piece(prp1, len)] });
      expect(host.reads).toEqual([{ addr: LIST, length: entries.length * 8 }]);
    }
  });

  it('V-10: two separate pages give two segments', () => {
    expect(parse(0x100000n, 0x900000n, 0x2000).segs).toEqual([piece(0x100000n, 0x1000), piece(0x900000n, 0x1000)]);
  });

  it('V-11: a middle PRP entry always covers a whole page, so the controller sees 0x1800 + 0x800', () => {
    const host = new FakeHost();
    host.writePrpList(LIST, [0x101000n, 0x900000n]);
    expect(parse(0x100800n, LIST, 0x2000, host.reader).segs).toEqual([
      piece(0x100800n, 0x1800),
      piece(0x900000n, 0x800),
    ]);
  });

  it('V-13/V-14: SPDK tracker list at offset 0x48 holds exactly 503 entries, no chain', () => {
    const tracker = 0x400048n;
    const host = new FakeHost();
    host.writePrpList(tracker, pages(0x101000n, 503));
    expect(parse(0x100000n, tracker, 504 * PAGE, host.reader).segs).toEqual([piece(0x100000n, 504 * PAGE)]);
    expect(parse(0x100800n, tracker, 503 * PAGE, host.reader).segs).toEqual([piece(0x100800n, 503 * PAGE)]);
    // The second parse needs 503 entries as well (0x800 + 502 pages + 0x800).
    expect(host.reads.at(-1)).toEqual({ addr: tracker, length: 503 * 8 });
  });
});

describe('derived controller-side PRP vectors (docs/nvme-rules.md §6 V-20..V-29)', () => {
  it('V-20: data fits PRP1; garbage PRP2 is ignored and never read', () => {
    expect(parse(0x10000cn, 0xdead_beef_0123_4567n, 0xff4)).toEqual({ status: 0, segs: [piece(0x10000cn, 0xff4)] });
  });

  it('V-21: PRP1 offset 2 is 0/13h by default; with the check off, a transfer from 0x100000 (bits 1:0 as 0)', () => {
    expect(parse(0x100002n, 0n, 512).status).toBe(Status.PRP_INVALID_OFFSET);
    const off = options({ checkPrp1Dword: false });
    expect(parse(0x100002n, 0n, 512, noReads, off)).toEqual({ status: 0, segs: [piece(0x100000n, 512)] });
  });

  it('V-22: a direct PRP2 with an offset is 0/13h', () => {
    expect(parse(0x100800n, 0x101010n, 0x1000).status).toBe(Status.PRP_INVALID_OFFSET);
  });

  it('V-23: list at page offset 0xFF0 has 2 slots, both data; the next page is never touched', () => {
    const host = new FakeHost();
    host.writePrpList(LIST + 0xff0n, [0x101000n, 0x102000n]);
    expect(host.isMapped(LIST + P)).toBe(false);
    expect(parse(0x100000n, LIST + 0xff0n, 0x3000, host.reader).segs).toEqual([piece(0x100000n, 0x3000)]);
    expect(host.reads).toEqual([{ addr: LIST + 0xff0n, length: 16 }]);
  });

  it('V-24: list at 0xFF0 with 3 entries: slot 0 data, slot 1 chains to the next list page', () => {
    const host = new FakeHost();
    host.writePrpList(LIST + 0xff0n, [0x101000n, LIST2]);
    host.writePrpList(LIST2, [0x705000n, 0x706000n]);
    expect(parse(0x100000n, LIST + 0xff0n, 0x4000, host.reader).segs).toEqual([
      piece(0x100000n, 0x2000),
      piece(0x705000n, 0x2000),
    ]);
    expect(host.reads).toEqual([
      { addr: LIST + 0xff0n, length: 16 },
      { addr: LIST2, length: 16 },
    ]);
  });

  it('V-25: 512 entries exactly fill the list page: slot 511 is data, not a chain pointer (bhyve EN-21:25)', () => {
    const host = new FakeHost();
    host.writePrpList(LIST, [...pages(0x101000n, 511), 0x900000n]);
    expect(parse(0x100000n, LIST, 513 * PAGE, host.reader).segs).toEqual([
      piece(0x100000n, 512 * PAGE),
      piece(0x900000n, PAGE),
    ]);
    expect(host.reads).toEqual([{ addr: LIST, length: PAGE }]);
  });

  it('V-26: 513 entries: slots 0-510 data, slot 511 chains to a list with 2 entries', () => {
    const host = new FakeHost();
    host.writePrpList(LIST, [...pages(0x101000n, 511), LIST2]);
    host.writePrpList(LIST2, pages(0x101000n + 511n * P, 2));
    expect(parse(0x100000n, LIST, 514 * PAGE, host.reader).segs).toEqual([piece(0x100000n, 514 * PAGE)]);
    expect(host.reads).toEqual([
      { addr: LIST, length: PAGE },
      { addr: LIST2, length: 16 },
    ]);
  });

  it('V-27: a list entry with an offset is 0/13h', () => {
    const host = new FakeHost();
    host.writePrpList(LIST, [0x101000n, 0x102010n]);
    expect(parse(0x100000n, LIST, 0x3000, host.reader).status).toBe(Status.PRP_INVALID_OFFSET);
  });

  it('V-28: a dword-but-not-qword list pointer is 0/13h by default, parsed correctly with the check off', () => {
    const host = new FakeHost();
    host.writePrpList(LIST + 4n, [0x101000n, 0x902000n]);
    expect(parse(0x100000n, LIST + 4n, 0x3000, host.reader).status).toBe(Status.PRP_INVALID_OFFSET);
    const off = options({ checkListQword: false });
    expect(parse(0x100000n, LIST + 4n, 0x3000, host.reader, off).segs).toEqual([
      piece(0x100000n, 0x2000),
      piece(0x902000n, 0x1000),
    ]);
  });

  it('V-29: list at 0xF00 (32 slots) for 33 entries: 31 data + chain, then 2 in the next page', () => {
    const host = new FakeHost();
    host.writePrpList(LIST + 0xf00n, [...pages(0x101000n, 31), LIST2]);
    host.writePrpList(LIST2, pages(0x101000n + 31n * P, 2));
    expect(parse(0x100000n, LIST + 0xf00n, 34 * PAGE, host.reader).segs).toEqual([piece(0x100000n, 34 * PAGE)]);
    expect(host.reads).toEqual([
      { addr: LIST + 0xf00n, length: 32 * 8 },
      { addr: LIST2, length: 16 },
    ]);
  });
});

describe('PRP rules (docs/nvme-rules.md §1)', () => {
  it('P-1: PRP1 bits 1:0 set, each value, is 0/13h; with the check off the controller treats them as 0', () => {
    for (const low of [1n, 2n, 3n]) {
      expect(parse(0x100000n + low, 0n, 16).status).toBe(Status.PRP_INVALID_OFFSET);
      // Even when the data then needs PRP2 the check comes first.
      expect(parse(0x100ff0n + low, 0x101000n, 0x100).status).toBe(Status.PRP_INVALID_OFFSET);
      const off = options({ checkPrp1Dword: false });
      // §4.3: a controller that does not check operates as if bits 1:0 were zero: 0x100ff0 holds 16
      // bytes of its page and the rest comes from PRP2, exactly as for an aligned PRP1 of 0x100ff0.
      expect(parse(0x100ff0n + low, 0x500000n, 0x100, noReads, off)).toEqual({
        status: 0,
        segs: [piece(0x100ff0n, 0x10), piece(0x500000n, 0xf0)],
      });
      expect(parse(0x100ffcn + low, 0x101000n, 4, noReads, off).segs).toEqual([piece(0x100ffcn, 4)]);
    }
  });

  it('P-1: any dword page offset of PRP1 is legal; the first segment ends at the page end', () => {
    expect(parse(0x100ffcn, 0x500000n, 8).segs).toEqual([piece(0x100ffcn, 4), piece(0x500000n, 4)]);
    expect(parse(0x100ffcn, 0n, 4).segs).toEqual([piece(0x100ffcn, 4)]);
  });

  it('P-2: when the data fits PRP1 PRP2 is neither validated nor read', () => {
    for (const prp2 of [0n, 3n, 0x1234n, 0xffff_ffff_ffff_ffffn]) {
      expect(parse(0x100000n, prp2, PAGE)).toEqual({ status: 0, segs: [piece(0x100000n, PAGE)] });
      expect(parse(0x100800n, prp2, 0x800)).toEqual({ status: 0, segs: [piece(0x100800n, 0x800)] });
    }
  });

  it('P-3: remainder of exactly one page uses PRP2 directly; PRP2 with an offset or reserved bits is 0/13h', () => {
    expect(parse(0x100000n, 0x700000n, 2 * PAGE).segs).toEqual([piece(0x100000n, PAGE), piece(0x700000n, PAGE)]);
    for (const bad of [0x700004n, 0x700001n, 0x700800n, 0x700ff8n]) {
      expect(parse(0x100000n, bad, 2 * PAGE).status).toBe(Status.PRP_INVALID_OFFSET);
      expect(parse(0x100800n, bad, 0x801).status).toBe(Status.PRP_INVALID_OFFSET);
    }
  });

  it('P-4: list pointer bits 1:0 are always 0/13h; an offset beyond the last full slot is 0/13h', () => {
    const host = new FakeHost();
    host.map(LIST, PAGE);
    const off = options({ checkListQword: false });
    for (const bad of [LIST + 1n, LIST + 2n, LIST + 0x103n]) {
      expect(parse(0x100000n, bad, 3 * PAGE, host.reader).status).toBe(Status.PRP_INVALID_OFFSET);
      expect(parse(0x100000n, bad, 3 * PAGE, host.reader, off).status).toBe(Status.PRP_INVALID_OFFSET);
    }
    // LIST + 0xFFC: no whole entry fits before the page end.
    expect(parse(0x100000n, LIST + 0xffcn, 3 * PAGE, host.reader, off).status).toBe(Status.PRP_INVALID_OFFSET);
    expect(host.reads).toEqual([]);
  });

  it('P-5: a list pointer at offset 0x48 has 503 slots; one more entry makes the last slot a chain pointer', () => {
    const host = new FakeHost();
    host.writePrpList(LIST + 0x48n, [...pages(0x101000n, 502), LIST2]);
    host.writePrpList(LIST2, pages(0x101000n + 502n * P, 2));
    expect(parse(0x100000n, LIST + 0x48n, 505 * PAGE, host.reader).segs).toEqual([piece(0x100000n, 505 * PAGE)]);
    expect(host.reads).toEqual([
      { addr: LIST + 0x48n, length: 503 * 8 },
      { addr: LIST2, length: 16 },
    ]);
  });

  it('P-5: a list pointer in the last slot of a page gives a one-slot list: a chain pointer when more is needed', () => {
    const host = new FakeHost();
    host.writePrpList(LIST + 0xff8n, [LIST2]);
    host.writePrpList(LIST2, [0x101000n, 0x102000n]);
    expect(parse(0x100000n, LIST + 0xff8n, 3 * PAGE, host.reader).segs).toEqual([piece(0x100000n, 3 * PAGE)]);
  });

  it('P-6: a full list page for 511 entries plus a final page holding exactly 512 has no further pointer', () => {
    const LIST3 = 0x380000n;
    const host = new FakeHost();
    host.writePrpList(LIST, [...pages(0x101000n, 511), LIST3]);
    host.writePrpList(LIST3, pages(0x101000n + 511n * P, 512));
    host.map(LIST3 + P, PAGE); // mapped, but never to be read
    const total = 1 + 511 + 512;
    expect(parse(0x100000n, LIST, total * PAGE, host.reader).segs).toEqual([piece(0x100000n, total * PAGE)]);
    expect(host.reads).toEqual([
      { addr: LIST, length: PAGE },
      { addr: LIST3, length: PAGE },
    ]);
  });

  it('P-7: a chain pointer with an offset is 0/13h (strict), or followed (lenient)', () => {
    const host = new FakeHost();
    host.writePrpList(LIST + 0xff0n, [0x101000n, LIST2 + 0x100n]);
    host.writePrpList(LIST2 + 0x100n, [0x102000n, 0x103000n]);
    expect(parse(0x100000n, LIST + 0xff0n, 0x4000, host.reader).status).toBe(Status.PRP_INVALID_OFFSET);
    const lenient = options({ chainPointerOffset: 'lenient' });
    expect(parse(0x100000n, LIST + 0xff0n, 0x4000, host.reader, lenient).segs).toEqual([piece(0x100000n, 0x4000)]);
  });

  it('P-7 lenient: the chain pointer still must be qword aligned, and a page holding only a pointer is 0/13h', () => {
    const lenient = options({ chainPointerOffset: 'lenient' });
    const host = new FakeHost();
    host.writePrpList(LIST + 0xff0n, [0x101000n, LIST2 + 0x104n]);
    expect(parse(0x100000n, LIST + 0xff0n, 0x4000, host.reader, lenient).status).toBe(Status.PRP_INVALID_OFFSET);
    // Chained one-slot page: it could only hold the next pointer, so it makes no progress.
    host.writePrpList(LIST + 0xff0n, [0x101000n, LIST2 + 0xff8n]);
    host.writePrpList(LIST2 + 0xff8n, [LIST2 + 0xff8n]);
    expect(parse(0x100000n, LIST + 0xff0n, 0x4000, host.reader, lenient).status).toBe(Status.PRP_INVALID_OFFSET);
    // (After a chain at least two entries remain, so a one-slot chained page can never be the last one.)
    host.writePrpList(LIST2 + 0xff8n, [0x102000n]);
    expect(parse(0x100000n, LIST + 0xff0n, 0x3000 + 1, host.reader, lenient).status).toBe(Status.PRP_INVALID_OFFSET);
  });

  it('P-7: every data entry after PRP1 must be page aligned, including bits 1:0, the first and the last', () => {
    for (const [i, bad] of [
      [0, 0x101001n],
      [0, 0x101008n],
      [2, 0x103800n],
    ] as const) {
      const host = new FakeHost();
      const list = pages(0x101000n, 3);
      list[i] = bad;
      host.writePrpList(LIST, list);
      expect(parse(0x100000n, LIST, 4 * PAGE, host.reader).status).toBe(Status.PRP_INVALID_OFFSET);
    }
  });

  it('P-8: unused trailing slots and later pages may hold garbage or be unmapped', () => {
    const host = new FakeHost();
    host.writePrpList(LIST, [0x101000n, 0x102000n, 0x123n, 0xffff_ffff_ffff_ffffn]);
    expect(parse(0x100000n, LIST, 0x2800, host.reader).segs).toEqual([piece(0x100000n, 0x2800)]);
    expect(host.reads).toEqual([{ addr: LIST, length: 16 }]);
  });

  it('P-8: with big pages the list is read in 4 KiB pieces that never leave the list page', () => {
    const ps = 65536;
    const host = new FakeHost();
    const n = 1000;
    const data = Array.from({ length: n }, (_, i) => 0x1_0000_0000n + BigInt(i) * BigInt(ps));
    host.writePrpList(0x800000n + 0x8n, data);
    const opts = options({ pageSize: ps });
    expect(parse(0x1_0000_0000n - BigInt(ps), 0x800008n, (n + 1) * ps, host.reader, opts).segs).toEqual([
      piece(0x1_0000_0000n - BigInt(ps), (n + 1) * ps),
    ]);
    expect(host.reads).toEqual([
      { addr: 0x800008n, length: 4096 },
      { addr: 0x800008n + 4096n, length: 1000 * 8 - 4096 },
    ]);
  });

  it('P-9: an unreadable list page or chained list page is 0/04h', () => {
    expect(parse(0x100000n, LIST, 3 * PAGE, new FakeHost().reader).status).toBe(Status.DATA_XFER_ERROR);
    const host = new FakeHost();
    host.writePrpList(LIST + 0xff0n, [0x101000n, LIST2]);
    expect(parse(0x100000n, LIST + 0xff0n, 0x4000, host.reader).status).toBe(Status.DATA_XFER_ERROR);
  });

  it('P-9: the last page of the 64-bit space is usable, and it does not merge with page 0', () => {
    const top = 0xffff_ffff_ffff_f000n;
    expect(parse(top, 0n, PAGE).segs).toEqual([piece(top, PAGE)]);
    expect(parse(top + 0x800n, 0n, PAGE).segs).toEqual([piece(top + 0x800n, 0x800), piece(0n, 0x800)]);
    const host = new FakeHost();
    host.writePrpList(0x5ff0n, [top, 0n]);
    expect(parse(top - P, 0x5ff0n, 3 * PAGE, host.reader).segs).toEqual([piece(top - P, 2 * PAGE), piece(0n, PAGE)]);
  });

  it('a list whose chain pointer loops back to itself terminates, consuming only the entries it needs', () => {
    const host = new FakeHost();
    host.writePrpList(LIST, [...pages(0x10_0000_0000n, 511), LIST]);
    const entries = 5000;
    const { status, segs } = parse(0x100000n, LIST, (1 + entries) * PAGE, host.reader);
    expect(status).toBe(STATUS_SUCCESS);
    expect(host.reads.length).toBe(Math.ceil(entries / 511));
    // Each pass over the page starts again at its first entry.
    expect(segs[0]).toEqual(piece(0x100000n, PAGE));
    expect(segs[1]).toEqual(piece(0x10_0000_0000n, 511 * PAGE));
    expect(segs.at(-1)).toEqual(piece(0x10_0000_0000n, (entries % 511) * PAGE));
  });

  it('8 KiB pages (CC.MPS = 1): offsets, direct PRP2 and list slots use the memory page size', () => {
    const opts = options({ pageSize: 8192 });
    expect(parse(0x101000n, 0x800000n, 0x3000, noReads, opts).segs).toEqual([
      piece(0x101000n, 0x1000),
      piece(0x800000n, 0x2000),
    ]);
    expect(parse(0x101000n, 0x801000n, 0x3000, noReads, opts).status).toBe(Status.PRP_INVALID_OFFSET);
    const host = new FakeHost();
    host.writePrpList(LIST + 0x1ff0n, [0x900000n, 0x902000n]);
    expect(parse(0x100000n, LIST + 0x1ff0n, 0x6000, host.reader, opts).segs).toEqual([
      piece(0x100000n, 0x2000),
      piece(0x900000n, 0x4000),
    ]);
  });

  it('a zero-length transfer succeeds with no segments; out is cleared first', () => {
    const out = [piece(1n, 1)];
    expect(parsePrps(0x100003n, 0x5n, 0, DEFAULT_DATA_POINTER_OPTIONS, noReads, out)).toBe(STATUS_SUCCESS);
    expect(out).toEqual([]);
    out.push(piece(1n, 1));
    expect(parsePrps(0x100002n, 0n, 8, DEFAULT_DATA_POINTER_OPTIONS, noReads, out)).toBe(Status.PRP_INVALID_OFFSET);
    expect(out).toEqual([]);
  });

  it('simulator misuse throws: negative or fractional length, bad page size', () => {
    expect(() => parse(0n, 0n, -1)).toThrow(RangeError);
    expect(() => parse(0n, 0n, 1.5)).toThrow(RangeError);
    expect(() => parse(0n, 0n, 8, noReads, options({ pageSize: 3000 }))).toThrow(RangeError);
  });
});
