/** NVM I/O commands and their statuses (C-1..C-8, P-9, P-11), end to end through the scripted host. */
import {
  DSM_RANGE_SIZE,
  encodeDsmRanges,
  encodeSgl,
  NvmOpcode,
  packFields,
  READ_WRITE,
  SglType,
  Status,
  sglDescriptor,
  WRITE_ZEROES,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { NvmeFunctionConfigInput } from '../../src/index.js';
import { PAGE, pattern, ScriptedHost } from '../helpers/scripted-host.js';

function up(config: NvmeFunctionConfigInput = {}): ScriptedHost {
  const h = new ScriptedHost({ config });
  h.enable();
  h.createPair(1, 64);
  return h;
}

function writeBlocks(h: ScriptedHost, lba: number, data: Uint8Array, extra: { cdw12?: number; nsid?: number } = {}) {
  const buf = h.alloc(data.length);
  h.write(buf, data);
  const blocks = data.length / 512;
  return h.run(1, {
    opcode: NvmOpcode.WRITE,
    nsid: extra.nsid ?? 1,
    ...h.prps(buf, data.length),
    cdw10: lba,
    cdw12: (extra.cdw12 ?? 0) | (blocks - 1),
  });
}

function readBlocks(h: ScriptedHost, lba: number, length: number, nsid = 1) {
  const buf = h.alloc(length);
  const c = h.run(1, { opcode: NvmOpcode.READ, nsid, ...h.prps(buf, length), cdw10: lba, cdw12: length / 512 - 1 });
  return { c, data: h.read(buf, length) };
}

function sgl1(desc: Parameters<typeof sglDescriptor>[0]): { prp1: bigint; prp2: bigint } {
  const b = encodeSgl(sglDescriptor(desc));
  const v = new DataView(b.buffer);
  return { prp1: v.getBigUint64(0, true), prp2: v.getBigUint64(8, true) };
}

describe('Read and Write (C-2)', () => {
  it('write then read returns the data; SMART-visible counters move', () => {
    const h = up();
    const data = pattern(16 * 1024);
    expect(writeBlocks(h, 100, data).status).toBe(0);
    const { c, data: back } = readBlocks(h, 100, data.length);
    expect(c.status).toBe(0);
    expect(back).toEqual(data);
  });

  it('reads inside one backend chunk (sent straight from the media) and across chunks (through the bounce buffer) return the data', () => {
    const h = up();
    // 64 KiB backend chunks are 128 blocks: blocks 120..135 span chunks 0 and 1.
    const data = pattern(16 * 1024, 5);
    expect(writeBlocks(h, 120, data).status).toBe(0);
    for (const [lba, from, length] of [
      [120, 0, 4096],
      [128, 4096, 8192],
      [124, 2048, 8192],
      [120, 0, 16 * 1024],
    ] as const) {
      const { c, data: back } = readBlocks(h, lba, length);
      expect(c.status).toBe(0);
      expect(back).toEqual(data.subarray(from, from + length));
    }
  });

  it('unwritten blocks read as zero', () => {
    const { data } = readBlocks(up(), 5000, 4096);
    expect(data.every((b) => b === 0)).toBe(true);
  });

  it('FUA is accepted and the data is there', () => {
    const h = up();
    const data = pattern(4096, 9);
    expect(writeBlocks(h, 8, data, { cdw12: packFields(READ_WRITE.CDW12, { FUA: 1 }) }).status).toBe(0);
    expect(readBlocks(h, 8, 4096).data).toEqual(data);
  });

  it('LBA out of range → 0/80h (last block + 1, and SLBA + NLB overflowing 64 bits)', () => {
    const h = new ScriptedHost({
      config: { namespaces: [{ blockSize: 512, blocks: 1000, backend: { kind: 'ram' } }] },
    });
    h.enable();
    h.createPair(1, 16);
    const buf = h.alloc(PAGE);
    expect(h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: buf, cdw10: 999, cdw12: 0 }).status).toBe(0);
    expect(h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: buf, cdw10: 999, cdw12: 1 }).status).toBe(
      Status.LBA_RANGE,
    );
    expect(h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: buf, cdw10: 1000, cdw12: 0 }).status).toBe(
      Status.LBA_RANGE,
    );
    expect(
      h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: buf, cdw10: 0xffffffff, cdw11: 0xffffffff, cdw12: 1 }).status,
    ).toBe(Status.LBA_RANGE);
  });

  it('invalid namespace → 0/0Bh (NSID 0, NN + 1, FFFFFFFFh)', () => {
    const h = up();
    const buf = h.alloc(PAGE);
    for (const nsid of [0, 2, 0xffffffff]) {
      expect(h.run(1, { opcode: NvmOpcode.READ, nsid, prp1: buf, cdw12: 0 }).status).toBe(Status.INVALID_NS);
    }
  });

  it('more than MDTS → 0/02h', () => {
    const h = up({ mdtsBytes: 64 * 1024 });
    const buf = h.alloc(128 * 1024);
    const ok = h.run(1, { opcode: NvmOpcode.READ, nsid: 1, ...h.prps(buf, 64 * 1024), cdw12: 127 });
    expect(ok.status).toBe(0);
    const big = h.run(1, { opcode: NvmOpcode.READ, nsid: 1, ...h.prps(buf, 64 * 1024 + 512), cdw12: 128 });
    expect(big.status).toBe(Status.INVALID_FIELD);
  });

  it('mdtsBytes 0 means no limit', () => {
    const h = up({ mdtsBytes: 0 });
    const data = pattern(2 * 1024 * 1024, 3);
    expect(writeBlocks(h, 0, data).status).toBe(0);
    expect(Buffer.from(readBlocks(h, 0, data.length).data).equals(data)).toBe(true);
  });

  it('4 KiB blocks: NLB counts 4 KiB blocks', () => {
    const h = up({ namespaces: [{ blockSize: 4096, blocks: 1024, backend: { kind: 'ram' } }] });
    const data = pattern(3 * 4096, 4);
    const buf = h.alloc(data.length);
    h.write(buf, data);
    expect(h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, ...h.prps(buf, data.length), cdw10: 1, cdw12: 2 }).status).toBe(
      0,
    );
    const rbuf = h.alloc(data.length);
    expect(h.run(1, { opcode: NvmOpcode.READ, nsid: 1, ...h.prps(rbuf, data.length), cdw10: 1, cdw12: 2 }).status).toBe(
      0,
    );
    expect(h.read(rbuf, data.length)).toEqual(data);
  });

  it('several namespaces keep their own data', () => {
    const h = up({
      namespaces: [
        { blockSize: 512, blocks: 1 << 20, backend: { kind: 'ram' } },
        { blockSize: 4096, blocks: 1 << 10, backend: { kind: 'ram' } },
        { blockSize: 512, blocks: 1 << 10, backend: { kind: 'null' } },
      ],
    });
    const a = pattern(4096, 1);
    const b = pattern(4096, 2);
    expect(writeBlocks(h, 0, a, { nsid: 1 }).status).toBe(0);
    const buf = h.alloc(4096);
    h.write(buf, b);
    expect(h.run(1, { opcode: NvmOpcode.WRITE, nsid: 2, prp1: buf, cdw12: 0 }).status).toBe(0);
    expect(writeBlocks(h, 0, b, { nsid: 3 }).status).toBe(0);
    expect(readBlocks(h, 0, 4096, 1).data).toEqual(a);
    const rbuf = h.alloc(4096);
    expect(h.run(1, { opcode: NvmOpcode.READ, nsid: 2, prp1: rbuf, cdw12: 0 }).status).toBe(0);
    expect(h.read(rbuf, 4096)).toEqual(b);
    expect(readBlocks(h, 0, 4096, 3).data.every((x) => x === 0)).toBe(true);
  });
});

describe('data pointer errors reach the CQE with the right CID, SQID and SQHD (Linux fix #3)', () => {
  it('PRP1 not dword aligned → 0/13h (P-1)', () => {
    const h = up();
    const buf = h.alloc(PAGE);
    h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    const cid = h.submit(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: buf + 2n, cdw12: 0 });
    h.ring(1);
    const c = h.wait(1, cid)!;
    expect(c).toMatchObject({ status: Status.PRP_INVALID_OFFSET, cid, sqid: 1, sqhd: 2 });
  });

  it('PRP2 with an offset where it must be a page → 0/13h (P-3)', () => {
    const h = up();
    const buf = h.alloc(3 * PAGE);
    const c = h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: buf + 0x800n, prp2: buf + 0x1010n, cdw12: 7 });
    expect(c.status).toBe(Status.PRP_INVALID_OFFSET);
  });

  it('checkPrp1Dword: false accepts PRP1 bits 1:0 and moves the data as if they were 0 (P-1)', () => {
    const h = up({ options: { checkPrp1Dword: false } });
    const src = h.alloc(PAGE);
    const dst = h.alloc(PAGE);
    const data = pattern(512);
    h.write(src, data);
    expect(h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: src + 2n, cdw12: 0 }).status).toBe(0);
    h.write(dst, new Uint8Array(PAGE));
    expect(h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: dst + 2n, cdw12: 0 }).status).toBe(0);
    // The block holds the 512 bytes from src, and they land at dst, not two bytes later.
    expect(h.read(dst, 512)).toEqual(data);
    expect(h.read(dst + 512n, 2)).toEqual(new Uint8Array(2));
  });

  it('a data page in a hole of host memory → 0/04h (P-9)', () => {
    const h = up();
    const c = h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: 0x4000_0000n, cdw12: 0 });
    expect(c.status).toBe(Status.DATA_XFER_ERROR);
    expect(c.sqid).toBe(1);
  });

  it('SGL Data Block one byte short → 0/0Fh (S-5)', () => {
    const h = up();
    const buf = h.alloc(PAGE);
    const cid = h.submit(1, {
      opcode: NvmOpcode.READ,
      nsid: 1,
      psdt: 1,
      ...sgl1({ address: buf, length: 511 }),
      cdw12: 0,
    });
    h.ring(1);
    expect(h.wait(1, cid)).toMatchObject({ status: Status.SGL_INVALID_DATA, cid, sqid: 1, sqhd: 1 });
  });

  it('SGL1 Keyed Data Block → 0/11h (S-7)', () => {
    const h = up();
    const c = h.run(1, {
      opcode: NvmOpcode.READ,
      nsid: 1,
      psdt: 1,
      ...sgl1({ address: 0n, length: 512, type: SglType.KEYED_DATA_BLOCK }),
      cdw12: 0,
    });
    expect(c.status).toBe(Status.SGL_INVALID_TYPE);
  });

  it('SGL with a bit bucket on a read discards those bytes (S-8)', () => {
    const h = up();
    const data = pattern(1024, 7);
    expect(writeBlocks(h, 0, data).status).toBe(0);
    const buf = h.alloc(PAGE);
    const dptr = h.sgl([
      { addr: buf, length: 256 },
      { addr: 0n, length: 512, bitBucket: true },
      { addr: buf + 256n, length: 256 },
    ]);
    const c = h.run(1, { opcode: NvmOpcode.READ, nsid: 1, psdt: 1, ...dptr, cdw12: 1 });
    expect(c.status).toBe(0);
    const back = h.read(buf, 512);
    expect(back.subarray(0, 256)).toEqual(data.subarray(0, 256));
    expect(back.subarray(256, 512)).toEqual(data.subarray(768, 1024));
  });

  it('PSDT 11b → 0/02h; SGL when SGLS says none → 0/02h (P-11)', () => {
    const h = up();
    expect(h.run(1, { opcode: NvmOpcode.READ, nsid: 1, psdt: 3, prp1: h.alloc(PAGE), cdw12: 0 }).status).toBe(
      Status.INVALID_FIELD,
    );
    const n = up({ options: { sglSupport: 'none' } });
    const buf = n.alloc(PAGE);
    expect(
      n.run(1, { opcode: NvmOpcode.READ, nsid: 1, psdt: 1, ...sgl1({ address: buf, length: 512 }), cdw12: 0 }).status,
    ).toBe(Status.INVALID_FIELD);
  });
});

describe('options where the specification, Linux and QEMU differ, end to end', () => {
  /** A 16 KiB read whose PRP list starts in the last two slots of a page and chains to a list at `chainOffset`. */
  function chainedRead(h: ScriptedHost, chainOffset: bigint) {
    const data = h.alloc(4 * PAGE);
    const list1 = h.alloc(PAGE) + 0xff0n;
    const list2 = h.alloc(2 * PAGE) + chainOffset;
    const l1 = new DataView(new ArrayBuffer(16));
    l1.setBigUint64(0, data + 0x1000n, true);
    l1.setBigUint64(8, list2, true);
    h.write(list1, new Uint8Array(l1.buffer));
    const l2 = new DataView(new ArrayBuffer(16));
    l2.setBigUint64(0, data + 0x2000n, true);
    l2.setBigUint64(8, data + 0x3000n, true);
    h.write(list2, new Uint8Array(l2.buffer));
    return h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: data, prp2: list1, cdw12: 31 });
  }

  it('P-7: a chained PRP list pointer with an offset is 0/13h (strict) or followed (lenient)', () => {
    expect(chainedRead(up(), 0n).status).toBe(0);
    expect(chainedRead(up(), 0x10n).status).toBe(Status.PRP_INVALID_OFFSET);
    expect(chainedRead(up({ options: { prpChainPointerOffset: 'lenient' } }), 0x10n).status).toBe(0);
  });

  it("S-8: a Bit Bucket on a write is 0/11h ('reject') or contributes nothing ('ignore')", () => {
    const write = (h: ScriptedHost) => {
      const buf = h.alloc(PAGE);
      h.write(buf, pattern(512, 31));
      const dptr = h.sgl([
        { addr: buf, length: 512 },
        { addr: 0n, length: 64, bitBucket: true },
      ]);
      return h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, psdt: 1, ...dptr, cdw12: 0 });
    };
    expect(write(up()).status).toBe(Status.SGL_INVALID_TYPE);
    const h = up({ options: { bitBucketOnWrite: 'ignore' } });
    expect(write(h).status).toBe(0);
    expect(readBlocks(h, 0, 512).data).toEqual(pattern(512, 31));
  });
});

describe('namespaces', () => {
  it('a 1 TiB RAM namespace costs nothing until written and works at its last block', () => {
    const h = up({ namespaces: [{ blockSize: 512, blocks: 2 ** 31, backend: { kind: 'ram' } }] });
    const data = pattern(512, 41);
    expect(writeBlocks(h, 2 ** 31 - 1, data).status).toBe(0);
    expect(readBlocks(h, 2 ** 31 - 1, 512).data).toEqual(data);
    expect(readBlocks(h, 2 ** 30, 512).data.every((b) => b === 0)).toBe(true);
  });

  it('the null backend accepts writes and reads zeroes', () => {
    const h = up({ namespaces: [{ blockSize: 4096, blocks: 2 ** 30, backend: { kind: 'null' } }] });
    const buf = h.alloc(PAGE);
    h.write(buf, pattern(PAGE, 5));
    expect(h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: buf, cdw12: 0 }).status).toBe(0);
    expect(h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: buf, cdw12: 0 }).status).toBe(0);
    expect(h.read(buf, PAGE).every((b) => b === 0)).toBe(true);
  });
});

describe('Compare (C-5), Verify, Write Zeroes (C-6), Dataset Management (C-7), Flush (C-1)', () => {
  it('Compare: equal → success, different → 2/85h', () => {
    const h = up();
    const data = pattern(2048, 5);
    writeBlocks(h, 40, data);
    const buf = h.alloc(2048);
    h.write(buf, data);
    expect(h.run(1, { opcode: NvmOpcode.COMPARE, nsid: 1, ...h.prps(buf, 2048), cdw10: 40, cdw12: 3 }).status).toBe(0);
    h.write(buf + 1000n, Uint8Array.of(data[1000]! ^ 1));
    expect(h.run(1, { opcode: NvmOpcode.COMPARE, nsid: 1, ...h.prps(buf, 2048), cdw10: 40, cdw12: 3 }).status).toBe(
      Status.COMPARE_FAILED,
    );
  });

  it('Verify succeeds in range and gives 0/80h out of range; it moves no data', () => {
    const h = up({ namespaces: [{ blockSize: 512, blocks: 100, backend: { kind: 'ram' } }] });
    const before = h.epc.counters.bytesToHost;
    expect(h.run(1, { opcode: NvmOpcode.VERIFY, nsid: 1, cdw10: 0, cdw12: 99 }).status).toBe(0);
    expect(h.epc.counters.bytesToHost - before).toBe(16);
    expect(h.run(1, { opcode: NvmOpcode.VERIFY, nsid: 1, cdw10: 50, cdw12: 50 }).status).toBe(Status.LBA_RANGE);
  });

  it('Write Zeroes zeroes the range (with and without DEAC); not bound by MDTS', () => {
    const h = up({ mdtsBytes: 4096 });
    const data = pattern(4096, 11);
    writeBlocks(h, 0, data);
    writeBlocks(h, 8, data);
    expect(h.run(1, { opcode: NvmOpcode.WRITE_ZEROES, nsid: 1, cdw10: 1, cdw12: 1 }).status).toBe(0);
    const { data: back } = readBlocks(h, 0, 4096);
    expect(back.subarray(0, 512)).toEqual(data.subarray(0, 512));
    expect(back.subarray(512, 1536).every((b) => b === 0)).toBe(true);
    expect(back.subarray(1536)).toEqual(data.subarray(1536));
    const deac = packFields(WRITE_ZEROES.CDW12, { DEAC: 1, NLB: 1023 });
    expect(h.run(1, { opcode: NvmOpcode.WRITE_ZEROES, nsid: 1, cdw10: 0, cdw12: deac }).status).toBe(0);
    expect(readBlocks(h, 8, 4096).data.every((b) => b === 0)).toBe(true);
    expect(
      h.run(1, { opcode: NvmOpcode.WRITE_ZEROES, nsid: 1, cdw10: 0xffff_fff0, cdw11: 0, cdw12: 0xffff }).status,
    ).toBe(Status.LBA_RANGE);
  });

  it('Dataset Management deallocate: ranges read back as zero; a range out of bounds → 0/80h', () => {
    const h = up({ namespaces: [{ blockSize: 512, blocks: 4096, backend: { kind: 'ram' } }] });
    const data = pattern(8192, 13);
    writeBlocks(h, 0, data);
    const ranges = h.alloc(PAGE);
    h.write(
      ranges,
      encodeDsmRanges([
        { cattr: 0, nlb: 2, slba: 1n },
        { cattr: 0, nlb: 4, slba: 10n },
      ]),
    );
    expect(h.run(1, { opcode: NvmOpcode.DATASET_MANAGEMENT, nsid: 1, prp1: ranges, cdw10: 1, cdw11: 4 }).status).toBe(
      0,
    );
    const { data: back } = readBlocks(h, 0, 8192);
    for (const [lba, n] of [
      [1, 2],
      [10, 4],
    ] as const) {
      expect(back.subarray(lba * 512, (lba + n) * 512).every((b) => b === 0)).toBe(true);
    }
    expect(back.subarray(0, 512)).toEqual(data.subarray(0, 512));
    expect(back.subarray(3 * 512, 10 * 512)).toEqual(data.subarray(3 * 512, 10 * 512));
    h.write(ranges, encodeDsmRanges([{ cattr: 0, nlb: 1, slba: 4096n }]));
    expect(h.run(1, { opcode: NvmOpcode.DATASET_MANAGEMENT, nsid: 1, prp1: ranges, cdw10: 0, cdw11: 4 }).status).toBe(
      Status.LBA_RANGE,
    );
    // Without AD, the ranges are hints only.
    expect(h.run(1, { opcode: NvmOpcode.DATASET_MANAGEMENT, nsid: 1, prp1: ranges, cdw10: 0, cdw11: 1 }).status).toBe(
      0,
    );
    expect(DSM_RANGE_SIZE).toBe(16);
  });

  it('Flush succeeds for NSID 1 and for every namespace (FFFFFFFFh); NSID 0 → 0/0Bh', () => {
    const h = up();
    expect(h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 }).status).toBe(0);
    expect(h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 0xffffffff }).status).toBe(0);
    expect(h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 0 }).status).toBe(Status.INVALID_NS);
  });

  it('an unsupported I/O opcode gets exactly one completion, 0/01h (Linux fix #10)', () => {
    const h = up();
    const cid = h.submit(1, { opcode: NvmOpcode.WRITE_UNCORRECTABLE, nsid: 1 });
    h.ring(1);
    for (let i = 0; i < 5; i++) h.fn.poll();
    const cqes = h.reap(1);
    expect(cqes).toHaveLength(1);
    expect(cqes[0]).toMatchObject({ cid, status: Status.INVALID_OPCODE });
  });
});
