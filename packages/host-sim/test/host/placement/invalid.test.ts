import { Psdt, SglType, Status, statusSc, statusSct } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { PlacementError } from '../../../src/host/errors.js';
import { ALL_INVALID_KINDS, INVALID_KINDS, InvalidPlacement } from '../../../src/host/placement/invalid.js';
import {
  type CommandContext,
  type DataRequest,
  dptrPrp1,
  dptrPrp2,
  InvalidKind,
  statusAccepted,
} from '../../../src/host/placement/layout.js';
import { hostMemory, PAGE, request, SGL_BYTE } from '../../support/fixtures.js';

const CMD: CommandContext = { nsid: 1, slba: 16n, nlb: 24, blockSize: 512, nsze: 65536n, mdtsBytes: 512 * 1024 };
const IO_READ: DataRequest = request({ length: 24 * 512, sgl: SGL_BYTE, command: CMD });
const ADMIN_IDENTIFY: DataRequest = request({ length: PAGE, qid: 0, sgl: SGL_BYTE });

/** Expected statuses from docs/nvme-rules.md, by kind (SCT/SC). */
const SPEC_STATUS: Record<InvalidKind, [number, number]> = {
  'prp1-not-dword': [0, 0x13],
  'prp2-direct-offset': [0, 0x13],
  'prp-list-entry-offset': [0, 0x13],
  'sgl-data-block-short': [0, 0x0f],
  'sgl-last-segment-length': [0, 0x0d],
  'sgl-segment-in-middle': [0, 0x0e],
  'sgl-keyed': [0, 0x11],
  'sgl-on-admin': [0, 0x02],
  'psdt-reserved': [0, 0x02],
  'data-in-hole': [0, 0x04],
  'lba-out-of-range': [0, 0x80],
  'nsid-zero': [0, 0x0b],
  'over-mdts': [0, 0x02],
};

function u32(bytes: Uint8Array, off: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(off, true);
}

describe('invalid placement', () => {
  it('makes every violation kind, each with the status the rules give', () => {
    const memory = hostMemory();
    const invalid = new InvalidPlacement(memory, { seed: 1 });
    const seen = new Set<InvalidKind>();
    for (let i = 0; i < 400; i++) {
      const layout = invalid.layout(i % 2 === 0 ? IO_READ : ADMIN_IDENTIFY);
      const expect_ = layout.expect!;
      seen.add(expect_.kind);
      expect(layout.tags).toEqual([expect_.kind]);
      const [sct, sc] = SPEC_STATUS[expect_.kind];
      expect([statusSct(expect_.status), statusSc(expect_.status)]).toEqual([sct, sc]);
      expect(statusAccepted(expect_.status, expect_.accept)).toBe(true);
      expect(expect_.rule).toBe(INVALID_KINDS[expect_.kind].rule);
      layout.release();
    }
    expect([...seen].sort()).toEqual([...ALL_INVALID_KINDS].sort());
  });

  it('knows which kinds apply: SGL kinds on SGL I/O queues, SGL-on-admin on the admin queue, LBA kinds with a command', () => {
    const invalid = new InvalidPlacement(hostMemory());
    const admin = invalid.applicableKinds(ADMIN_IDENTIFY);
    expect(admin).toContain(InvalidKind.SGL_ON_ADMIN);
    expect(admin).not.toContain(InvalidKind.SGL_KEYED);
    expect(admin).not.toContain(InvalidKind.NSID_ZERO);
    expect(admin).not.toContain(InvalidKind.PRP_LIST_ENTRY_OFFSET);
    const io = invalid.applicableKinds(IO_READ);
    expect(io).not.toContain(InvalidKind.SGL_ON_ADMIN);
    expect(io).toContain(InvalidKind.OVER_MDTS);
    expect(() => invalid.layoutOfKind(ADMIN_IDENTIFY, InvalidKind.NSID_ZERO)).toThrow(PlacementError);
  });

  it('breaks exactly the named rule', () => {
    const memory = hostMemory();
    const invalid = new InvalidPlacement(memory, { seed: 2 });
    const make = (kind: InvalidKind, req: DataRequest = IO_READ) => invalid.layoutOfKind(req, kind);

    const p1 = make(InvalidKind.PRP1_NOT_DWORD);
    expect(dptrPrp1(p1.dptr) & 3n).not.toBe(0n);
    expect(p1.psdt).toBe(Psdt.PRP);

    const p3 = make(InvalidKind.PRP2_DIRECT_OFFSET, request({ length: PAGE, qid: 0 }));
    const rest = PAGE - (PAGE - Number(dptrPrp1(p3.dptr) % BigInt(PAGE)));
    expect(rest).toBeGreaterThan(0);
    expect(rest).toBeLessThanOrEqual(PAGE);
    expect(dptrPrp2(p3.dptr) % BigInt(PAGE)).not.toBe(0n);

    const p7 = make(InvalidKind.PRP_LIST_ENTRY_OFFSET);
    const list = p7.structures[0]!;
    const entries = new Uint8Array(list.size);
    memory.read(list.addr, entries);
    const offsets = Array.from(
      { length: list.size / 8 },
      (_, i) => new DataView(entries.buffer).getBigUint64(i * 8, true) % BigInt(PAGE),
    );
    expect(offsets.filter((o) => o !== 0n)).toHaveLength(1);

    const s5 = make(InvalidKind.SGL_DATA_BLOCK_SHORT);
    expect(s5.dptr[15]! >> 4).toBe(SglType.DATA_BLOCK);
    expect(u32(s5.dptr, 8)).toBe(IO_READ.length - 1);

    const s2 = make(InvalidKind.SGL_LAST_SEGMENT_LENGTH);
    expect(s2.dptr[15]! >> 4).toBe(SglType.LAST_SEGMENT);
    expect(u32(s2.dptr, 8) % 16).not.toBe(0);

    const s3 = make(InvalidKind.SGL_SEGMENT_IN_MIDDLE);
    const seg = new Uint8Array(48);
    memory.read(dptrPrp1(s3.dptr), seg);
    expect([seg[15]! >> 4, seg[31]! >> 4, seg[47]! >> 4]).toEqual([
      SglType.DATA_BLOCK,
      SglType.SEGMENT,
      SglType.DATA_BLOCK,
    ]);

    expect(make(InvalidKind.SGL_KEYED).dptr[15]! >> 4).toBe(SglType.KEYED_DATA_BLOCK);
    expect(make(InvalidKind.SGL_ON_ADMIN, ADMIN_IDENTIFY).psdt).toBe(Psdt.SGL_MPTR_CONTIG);
    expect(make(InvalidKind.PSDT_RESERVED).psdt).toBe(Psdt.RESERVED);

    const hole = make(InvalidKind.DATA_IN_HOLE);
    expect(hole.data.every((c) => c.kind === 'hole' && !memory.isRam(c.addr, 1))).toBe(true);
    expect(hole.grants.filter((g) => g.direction === 'write')).toEqual([]);

    const lba = make(InvalidKind.LBA_OUT_OF_RANGE);
    expect(lba.patch!.slba! + BigInt(CMD.nlb)).toBeGreaterThan(CMD.nsze);
    expect(make(InvalidKind.NSID_ZERO).patch).toEqual({ nsid: 0 });
    const mdts = make(InvalidKind.OVER_MDTS);
    expect(mdts.patch!.nlb! * CMD.blockSize).toBeGreaterThan(CMD.mdtsBytes);
    expect(mdts.length).toBe(mdts.patch!.nlb! * CMD.blockSize);
    expect(mdts.expect!.accept).toEqual([Status.INVALID_FIELD]);
  });

  it('over MDTS on a namespace too small for it accepts LBA Out of Range too', () => {
    const invalid = new InvalidPlacement(hostMemory(), { seed: 3 });
    const tiny = request({ length: 512, sgl: SGL_BYTE, command: { ...CMD, nlb: 1, nsze: 64n } });
    const layout = invalid.layoutOfKind(tiny, InvalidKind.OVER_MDTS);
    expect(layout.expect!.accept).toEqual([Status.INVALID_FIELD, Status.LBA_RANGE]);
  });
});
