import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  entriesPerPage,
  listSlotsFromOffset,
  mpsToPageSize,
  PRP_ENTRY_SIZE,
  PRP_LIST_ALIGN_MASK,
  PRP_RESERVED_MASK,
  prpHasReservedBits,
  prpOffset,
  prpPageBase,
} from '../src/index.js';

const PAGE = 4096;

describe('PRP entries (NVMe Base 1.4 §4.3)', () => {
  it('constants', () => {
    expect(PRP_ENTRY_SIZE).toBe(8);
    expect(PRP_RESERVED_MASK).toBe(0b11n);
    expect(PRP_LIST_ALIGN_MASK).toBe(0b111n);
    expect(entriesPerPage(PAGE)).toBe(512);
    expect(entriesPerPage(mpsToPageSize(4))).toBe(8192);
  });

  it('offset and page base', () => {
    expect(prpOffset(0x10000cn, PAGE)).toBe(0xc);
    expect(prpPageBase(0x10000cn, PAGE)).toBe(0x100000n);
    expect(prpOffset(0xffff_ffff_ffff_fffcn, PAGE)).toBe(0xffc);
    expect(prpOffset(0x100800n, 8192)).toBe(0x800);
    expect(prpHasReservedBits(0x100002n)).toBe(true);
    expect(prpHasReservedBits(0x100004n)).toBe(false);
  });

  it('slots left in a list page (docs/nvme-rules.md P-5)', () => {
    expect(listSlotsFromOffset(0x200f00n, PAGE)).toBe(32);
    expect(listSlotsFromOffset(0x200048n, PAGE)).toBe(503);
    expect(listSlotsFromOffset(0x200000n, PAGE)).toBe(512);
    expect(listSlotsFromOffset(0x200ff8n, PAGE)).toBe(1);
    expect(listSlotsFromOffset(0x200ff0n, PAGE)).toBe(2);
  });

  test.prop([fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat({ max: 4 })])(
    'page base + offset = entry; list slots fit the page',
    (prp, mps) => {
      const ps = mpsToPageSize(mps);
      expect(prpPageBase(prp, ps) + BigInt(prpOffset(prp, ps))).toBe(prp);
      const qword = prp & ~PRP_LIST_ALIGN_MASK;
      const slots = listSlotsFromOffset(qword, ps);
      expect(slots).toBeGreaterThanOrEqual(1);
      expect(prpOffset(qword, ps) + slots * PRP_ENTRY_SIZE).toBe(ps);
    },
  );
});
