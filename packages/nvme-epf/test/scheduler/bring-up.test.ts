/** Bring-up: CAP/VS, CC.EN edges with every CFS case (Q-1, P-13), reset, shutdown and re-enable. */
import {
  AdminOpcode,
  CC,
  CSTS,
  CSTS_SHST,
  decodeCap,
  decodeVs,
  encodeCc,
  getBits,
  NVME_REG_AQA,
  NVME_REG_CAP,
  NVME_REG_CC,
  NVME_REG_CMBSZ,
  NVME_REG_CSTS,
  NVME_REG_INTMC,
  NVME_REG_INTMS,
  NVME_REG_NSSR,
  NVME_REG_VS,
  setBits,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { PAGE, ScriptedHost } from '../helpers/scripted-host.js';

describe('registers', () => {
  it('CAP reports MQES, CQR, DSTRD, TO, CSS = NVM and MPSMIN/MPSMAX; VS is 2.0', () => {
    const h = new ScriptedHost({ config: { mqes: 255, dstrd: 2 } });
    const cap = decodeCap(h.reg64(NVME_REG_CAP));
    expect(cap).toMatchObject({
      MQES: 255,
      CQR: 1,
      DSTRD: 2,
      TO: 15,
      CSS: 1,
      MPSMIN: 0,
      MPSMAX: 4,
      NSSRS: 0,
      CMBS: 0,
      PMRS: 0,
      BPS: 0,
    });
    expect(decodeVs(h.reg32(NVME_REG_VS))).toEqual({ MJR: 2, MNR: 0, TER: 0 });
  });

  it('read-only registers ignore writes and reserved bits read as zero', () => {
    const h = new ScriptedHost();
    const cap = h.reg64(NVME_REG_CAP);
    h.setReg64(NVME_REG_CAP, 0n);
    h.setReg32(NVME_REG_VS, 0);
    h.setReg32(NVME_REG_CSTS, 0xffff_ffff);
    h.setReg32(NVME_REG_NSSR, 0x4e564d65);
    h.setReg32(NVME_REG_CMBSZ, 0x1234);
    h.setReg32(NVME_REG_AQA, 0xffff_ffff);
    h.setReg32(NVME_REG_CC, 0xfe00_000e);
    h.fn.poll();
    expect(h.reg64(NVME_REG_CAP)).toBe(cap);
    expect(h.reg32(NVME_REG_VS)).toBe(0x20000);
    expect(h.reg32(NVME_REG_CSTS)).toBe(0);
    expect(h.reg32(NVME_REG_NSSR)).toBe(0);
    expect(h.reg32(NVME_REG_CMBSZ)).toBe(0);
    expect(h.reg32(NVME_REG_AQA)).toBe(0x0fff_0fff);
    expect(h.reg32(NVME_REG_CC)).toBe(0);
  });

  it('INTMS sets and INTMC clears interrupt mask bits', () => {
    const h = new ScriptedHost({ irq: 'msi' });
    h.setReg32(NVME_REG_INTMS, 0b101);
    h.fn.poll();
    expect(h.reg32(NVME_REG_INTMS)).toBe(0b101);
    h.setReg32(NVME_REG_INTMS, 0b010);
    h.fn.poll();
    expect(h.reg32(NVME_REG_INTMS)).toBe(0b111);
    h.setReg32(NVME_REG_INTMC, 0b111);
    h.fn.poll();
    expect(h.reg32(NVME_REG_INTMS)).toBe(0);
  });
});

describe('CC.EN 0→1 (Q-1)', () => {
  it('sets CSTS to exactly RDY (Linux fix #1)', () => {
    const h = new ScriptedHost();
    expect(h.enable()).toBe(1);
    expect(h.fn.state).toBe('ready');
  });

  const cfsCases: [string, Parameters<ScriptedHost['enable']>[0]][] = [
    ['MPS above MPSMAX', { cc: { MPS: 5 } }],
    ['CSS not supported', { cc: { CSS: 1 } }],
    ['CSS admin only not supported', { cc: { CSS: 7 } }],
    ['AMS weighted round robin not supported', { cc: { AMS: 1 } }],
    ['ASQS = 0 (one entry)', { asqs: 1 }],
    ['ACQS = 0 (one entry)', { acqs: 1 }],
    ['ASQ not page aligned', { asq: 0x10_0000_0800n }],
    ['ACQ not page aligned', { acq: 0x10_0000_0010n }],
    ['ASQ aligned to 4 KiB but not to the 8 KiB page of MPS = 1', { asq: 0x10_0000_1000n, cc: { MPS: 1 } }],
    ['IOSQES = 7 (Linux fix #17)', { cc: { IOSQES: 7 } }],
    ['IOCQES = 5', { cc: { IOCQES: 5 } }],
  ];
  for (const [name, opts] of cfsCases) {
    it(`fails with CSTS.CFS: ${name}`, () => {
      const h = new ScriptedHost();
      const csts = h.enable(opts);
      expect(getBits(csts, CSTS.CFS)).toBe(1);
      expect(getBits(csts, CSTS.RDY)).toBe(0);
      expect(h.fn.trace.at(-1)?.kind).toBe('enable-failed');
    });
  }

  it('accepts IOSQES = IOCQES = 0 at enable (they are checked at queue creation)', () => {
    const h = new ScriptedHost();
    expect(h.enable({ cc: { IOSQES: 0, IOCQES: 0 } })).toBe(1);
  });

  it('accepts MPS = 1 (8 KiB pages) with aligned queues', () => {
    const h = new ScriptedHost();
    expect(h.enable({ asq: h.alloc(8192, 8192), acq: h.alloc(8192, 8192), cc: { MPS: 1 } })).toBe(1);
  });

  it('a reset clears CFS and a correct enable then works', () => {
    const h = new ScriptedHost();
    h.enable({ asqs: 1 });
    expect(h.fatal).toBe(true);
    h.disable();
    expect(h.csts).toBe(0);
    expect(h.enable()).toBe(1);
  });
});

describe('CC.EN 1→0 and shutdown', () => {
  it('reset deletes every queue and releases every map', () => {
    const h = new ScriptedHost({ profile: 'dwc' });
    h.enable();
    h.createPair(1, 32);
    h.createPair(2, 32);
    expect(h.fn.persistentMaps().size).toBe(3);
    expect(h.epc.liveMaps.length).toBe(3);
    h.disable();
    expect(h.fn.state).toBe('disabled');
    expect(h.epc.liveMaps.length).toBe(0);
    expect(h.fn.persistentMaps().size).toBe(0);
    // The queues are gone: re-enable and the old I/O qid is free again.
    h.enable();
    h.createPair(1, 32);
  });

  for (const shn of [1, 2] as const) {
    it(`SHN = ${shn} moves SHST to 10b; re-enable works with EN still 1 (Linux fix #4)`, () => {
      const h = new ScriptedHost();
      h.enable();
      h.createPair(1, 16);
      const cc = h.reg32(NVME_REG_CC);
      h.setReg32(NVME_REG_CC, setBits(cc, CC.SHN, shn));
      h.fn.poll();
      expect(getBits(h.csts, CSTS.SHST)).toBe(CSTS_SHST.COMPLETE);
      expect(h.fn.state).toBe('shutdown');
      expect(h.epc.liveMaps.length).toBe(0);
      // The host clears SHN without ever clearing EN: the function must come back.
      h.setReg32(NVME_REG_CC, setBits(cc, CC.SHN, 0));
      h.fn.poll();
      expect(h.csts).toBe(1);
      // Like a host driver re-initialising, the host takes the admin queue where the registers say, its CQ zeroed.
      h.adoptAdminQueue();
      const c = h.admin({ opcode: AdminOpcode.IDENTIFY, prp1: h.alloc(PAGE), cdw10: 1 });
      expect(c.status).toBe(0);
    });
  }

  it('shutdown, EN 1→0, EN 0→1 works and clears SHST', () => {
    const h = new ScriptedHost();
    h.enable();
    h.setReg32(NVME_REG_CC, encodeCc({ EN: 1, SHN: 1, IOSQES: 6, IOCQES: 4 }));
    h.fn.poll();
    expect(getBits(h.csts, CSTS.SHST)).toBe(CSTS_SHST.COMPLETE);
    h.disable();
    expect(h.csts).toBe(0);
    expect(h.enable()).toBe(1);
    const c = h.admin({ opcode: AdminOpcode.IDENTIFY, prp1: h.alloc(PAGE), cdw10: 1 });
    expect(c.status).toBe(0);
  });

  it('close() while enabled releases every map and makes the function inert', () => {
    const h = new ScriptedHost({ profile: 'rk3399' });
    h.enable();
    h.createPair(1, 16);
    expect(h.epc.liveMaps.length).toBeGreaterThan(0);
    h.fn.close();
    expect(h.epc.liveMaps.length).toBe(0);
    expect(h.fn.poll()).toBe(0);
  });

  it('ignores changes to AQA/ASQ/ACQ while enabled', () => {
    const h = new ScriptedHost();
    h.enable();
    h.setReg32(NVME_REG_AQA, 0);
    h.fn.poll();
    const c = h.admin({ opcode: AdminOpcode.IDENTIFY, prp1: h.alloc(PAGE), cdw10: 1 });
    expect(c.status).toBe(0);
  });
});
