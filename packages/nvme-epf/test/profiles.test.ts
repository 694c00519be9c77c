/**
 * End to end on every epc-core profile: bring-up, queues, writes and reads through PRPs (including
 * chained lists) and SGLs, with the strategies that loop over partial maps, and no leaked mapping.
 */
import { BUILTIN_PROFILES, type StrategyName } from '@epfsim/epc-core';
import { CSTS, getBits, NVME_REG_CC, NvmOpcode, setBits } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { pattern, ScriptedHost } from './helpers/scripted-host.js';

const STRATEGIES: StrategyName[] = ['mem-map', 'multi-window', 'dma'];
/** Transfer sizes: one block, a page and a bit, 64 KiB (list), 512 KiB (MDTS; 128 entries). */
const SIZES = [512, 4096 + 512, 64 * 1024, 512 * 1024];

function ioRoundTrip(h: ScriptedHost, qid: number, length: number, offset: number, sgl: boolean, lba: number): void {
  const data = pattern(length, length + offset + lba);
  const wbuf = h.alloc(length + offset + 4096) + BigInt(offset);
  h.write(wbuf, data);
  const blocks = length / 512;
  const dptr = sgl
    ? h.sgl([
        { addr: wbuf, length: Math.floor(length / 3) },
        { addr: wbuf + BigInt(Math.floor(length / 3)), length: length - Math.floor(length / 3) },
      ])
    : h.prps(wbuf, length);
  const w = h.run(qid, { opcode: NvmOpcode.WRITE, nsid: 1, psdt: sgl ? 1 : 0, ...dptr, cdw10: lba, cdw12: blocks - 1 });
  expect(w.status, `write ${length}@${offset}`).toBe(0);
  const rbuf = h.alloc(length + offset + 4096) + BigInt(offset);
  const rptr = sgl ? h.sgl([{ addr: rbuf, length }]) : h.prps(rbuf, length);
  const r = h.run(qid, { opcode: NvmOpcode.READ, nsid: 1, psdt: sgl ? 1 : 0, ...rptr, cdw10: lba, cdw12: blocks - 1 });
  expect(r.status, `read ${length}@${offset}`).toBe(0);
  expect(r.sqid).toBe(qid);
  expect(Buffer.from(h.read(rbuf, length)).equals(data), `data ${length}@${offset}`).toBe(true);
}

describe.each(BUILTIN_PROFILES.map((p) => p.name))('profile %s', (profile) => {
  describe.each(STRATEGIES)('strategy %s', (strategy) => {
    it('writes and reads back through PRPs and SGLs, with no leaked mapping', () => {
      const h = new ScriptedHost({ profile, config: { strategy } });
      expect(h.enable()).toBe(1);
      h.createPair(1, 64);
      h.createPair(2, 32);
      let lba = 0;
      for (const length of SIZES) {
        for (const offset of [0, 4, 0x800]) {
          ioRoundTrip(h, 1, length, offset, false, lba);
          ioRoundTrip(h, 2, length, offset, true, lba + 2048);
          lba += length / 512;
          expect(h.epc.checkLeaks(h.fn.persistentMaps())).toBe(0);
        }
      }
      expect(h.fn.stats.fatalErrors).toBe(0);
      h.disable();
      expect(h.epc.liveMaps.length).toBe(0);
      h.fn.close();
      expect(h.epc.liveMaps.length).toBe(0);
    });
  });
});

describe('CQ that the profile cannot map in one piece', () => {
  it.each(STRATEGIES)('stress (%s): a CQ straddling a 16 KiB map boundary still completes', (strategy) => {
    const h = new ScriptedHost({ profile: 'stress', config: { strategy } });
    h.enable();
    // 512 entries × 16 B = 8 KiB starting 4 KiB before a 16 KiB boundary: maps end at every 16 KiB.
    const base = h.alloc(0x8000, 0x4000) + 0x4000n - 0x1000n;
    expect(h.createCq(1, 512, { base, iv: 1 }).status).toBe(0);
    expect(h.createSq(1, 256, 1).status).toBe(0);
    expect(h.fn.trace.some((e) => e.kind === 'cq-fallback' && e.qid === 1 && e.message.includes('in one piece'))).toBe(
      true,
    );
    for (let i = 0; i < 300; i++) ioRoundTrip(h, 1, 4096, 0, i % 2 === 1, i * 8);
    expect(h.fn.stats.cqePostsTransferred).toBeGreaterThan(0);
    expect(h.epc.checkLeaks(h.fn.persistentMaps())).toBe(0);
    h.disable();
    expect(h.epc.liveMaps.length).toBe(0);
  });

  it('stress: a CQ larger than any outbound window (128 KiB) still completes', () => {
    const h = new ScriptedHost({ profile: 'stress', config: { mqes: 8191 } });
    h.enable();
    expect(h.createCq(1, 8192, { iv: 1 }).status).toBe(0);
    expect(h.createSq(1, 64, 1).status).toBe(0);
    for (let i = 0; i < 10; i++) ioRoundTrip(h, 1, 4096, 0, false, i * 8);
    expect(h.fn.trace.some((e) => e.kind === 'cq-fallback' && e.qid === 1)).toBe(true);
    expect(h.epc.checkLeaks(h.fn.persistentMaps())).toBe(0);
  });

  it('rk3399: a CQ crossing a 1 MiB region edge completes (the Linux function refuses it)', () => {
    const h = new ScriptedHost({ profile: 'rk3399' });
    h.enable();
    const base = h.alloc(0x200000, 0x100000) + 0x100000n - 0x1000n;
    expect(h.createCq(1, 1024, { base, iv: 0 }).status).toBe(0);
    expect(h.createSq(1, 64, 1).status).toBe(0);
    expect(h.fn.trace.some((e) => e.kind === 'cq-fallback' && e.message.includes('in one piece'))).toBe(true);
    for (let i = 0; i < 20; i++) ioRoundTrip(h, 1, 8192, 0, false, i * 16);
    expect(h.epc.checkLeaks(h.fn.persistentMaps())).toBe(0);
  });
});

describe('reset in the middle of I/O', () => {
  it.each(['generic', 'dwc', 'stress', 'rcar'])(
    '%s: EN 1→0 with commands queued and completions pending leaves no map',
    (profile) => {
      const h = new ScriptedHost({ profile });
      h.enable();
      h.createPair(1, 8);
      const buf = h.alloc(64 * 1024);
      // Fill the SQ, ring, poll once (some execute, the CQ fills), then reset.
      for (let i = 0; i < 7; i++)
        h.submit(1, { opcode: NvmOpcode.WRITE, nsid: 1, ...h.prps(buf, 8192), cdw10: i * 16, cdw12: 15 });
      h.ring(1);
      h.fn.poll();
      h.fn.poll();
      const cc = h.reg32(NVME_REG_CC);
      h.setReg32(NVME_REG_CC, setBits(cc, { bit: 0, len: 1 }, 0));
      h.fn.poll();
      expect(getBits(h.csts, CSTS.RDY)).toBe(0);
      expect(h.epc.liveMaps.length).toBe(0);
      const s = h.fn.stats;
      expect(s.commandsFetched).toBe(s.commandsCompleted + s.commandsDropped);
      expect(h.enable()).toBe(1);
      h.createPair(1, 8);
      ioRoundTrip(h, 1, 4096, 0, false, 0);
    },
  );
});
