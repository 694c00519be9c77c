/** Interrupts: MSI-X per-vector masking, MSI with INTMS/INTMC, INTx level, coalescing (except the admin CQ). */
import {
  AdminOpcode,
  FEATURE_DW11,
  FeatureId,
  NVME_REG_INTMC,
  NVME_REG_INTMS,
  NvmOpcode,
  packFields,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { ScriptedHost } from './helpers/scripted-host.js';

function clockedHost(irq?: 'msix' | 'msi' | 'intx') {
  let now = 0;
  const h = new ScriptedHost({ config: { now: () => now }, ...(irq ? { irq } : {}) });
  h.enable();
  return { h, advance: (us: number) => (now += us) };
}

const coalescing = (thr: number, time: number) => ({
  opcode: AdminOpcode.SET_FEATURES,
  cdw10: FeatureId.INTERRUPT_COALESCING,
  cdw11: packFields(FEATURE_DW11.INTERRUPT_COALESCING, { THR: thr, TIME: time }),
});

function flushes(h: ScriptedHost, qid: number, n: number): void {
  for (let i = 0; i < n; i++) h.submit(qid, { opcode: NvmOpcode.FLUSH, nsid: 1 });
  h.ring(qid);
  h.fn.poll();
}

describe('MSI-X', () => {
  it('each CQ interrupts on its own vector', () => {
    const { h } = clockedHost();
    h.createPair(1, 16);
    h.createPair(2, 16);
    h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    h.run(2, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    h.run(2, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    expect([h.irqCount(1), h.irqCount(2)]).toEqual([1, 2]);
    expect(h.irqCount(0)).toBeGreaterThan(0);
  });

  it('a masked vector sets its PBA bit and is delivered once unmasked', () => {
    const { h } = clockedHost();
    h.createPair(1, 16);
    h.maskMsix(1, true);
    flushes(h, 1, 1);
    expect(h.irqCount(1)).toBe(0);
    const pba = h.epc.config.msixPbaOffset;
    expect(h.reg32(pba) & 0b10).toBe(0b10);
    h.maskMsix(1, false);
    h.fn.poll();
    expect(h.irqCount(1)).toBe(1);
    expect(h.reg32(pba) & 0b10).toBe(0);
  });
});

describe('coalescing (Interrupt Coalescing feature)', () => {
  it('aggregates THR + 1 completions per interrupt; TIME flushes the remainder', () => {
    const { h, advance } = clockedHost();
    h.createPair(1, 64);
    expect(h.admin(coalescing(3, 10)).status).toBe(0);
    flushes(h, 1, 10);
    // 10 completions, threshold 4: two interrupts now, the last two wait for the time.
    expect(h.irqCount(1)).toBe(2);
    h.fn.poll();
    expect(h.irqCount(1)).toBe(2);
    advance(999);
    h.fn.poll();
    expect(h.irqCount(1)).toBe(2);
    advance(1);
    h.fn.poll();
    expect(h.irqCount(1)).toBe(3);
    expect(h.reap(1)).toHaveLength(10);
  });

  it('never applies to the admin CQ', () => {
    const { h } = clockedHost();
    h.admin(coalescing(7, 255));
    const before = h.irqCount(0);
    for (let i = 0; i < 5; i++) h.admin({ opcode: AdminOpcode.GET_FEATURES, cdw10: FeatureId.ARBITRATION });
    expect(h.irqCount(0) - before).toBe(5);
  });

  it('Coalescing Disable on a vector raises every completion', () => {
    const { h } = clockedHost();
    h.createPair(1, 64);
    h.admin(coalescing(7, 255));
    h.admin({
      opcode: AdminOpcode.SET_FEATURES,
      cdw10: FeatureId.INTERRUPT_VECTOR_CONFIGURATION,
      cdw11: packFields(FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION, { IV: 1, CD: 1 }),
    });
    flushes(h, 1, 6);
    expect(h.irqCount(1)).toBe(6);
  });

  it('deleting the last CQ on a vector drops what it aggregated: no interrupt after the delete', () => {
    const { h, advance } = clockedHost();
    h.createPair(1, 64);
    h.admin(coalescing(3, 3));
    flushes(h, 1, 1);
    expect(h.irqCount(1)).toBe(0);
    h.reap(1);
    expect(h.deleteSq(1).status).toBe(0);
    expect(h.deleteCq(1).status).toBe(0);
    // Re-created with interrupts off on the same vector: nothing may arrive there.
    expect(h.createCq(1, 64, { iv: 1, ien: false }).status).toBe(0);
    advance(1000);
    h.fn.poll();
    expect(h.irqCount(1)).toBe(0);
  });

  it('a CQ deleted beside another on its vector leaves the aggregation to the one that stays', () => {
    const { h, advance } = clockedHost();
    h.createPair(1, 64);
    expect(h.createCq(2, 64, { iv: 1 }).status).toBe(0);
    expect(h.createSq(2, 64, 2).status).toBe(0);
    h.admin(coalescing(3, 3));
    flushes(h, 2, 1);
    h.reap(2);
    expect(h.deleteSq(2).status).toBe(0);
    expect(h.deleteCq(2).status).toBe(0);
    advance(300);
    h.fn.poll();
    expect(h.irqCount(1)).toBe(1);
  });

  it('TIME = 0 means no delay, so THR alone does not hold interrupts back', () => {
    const { h } = clockedHost();
    h.createPair(1, 64);
    h.admin(coalescing(7, 0));
    flushes(h, 1, 3);
    expect(h.irqCount(1)).toBe(3);
  });
});

describe('MSI and INTx', () => {
  it('MSI: vectors in the message data, INTMS masks and INTMC releases the pending message', () => {
    const { h } = clockedHost('msi');
    h.createPair(1, 16);
    h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    expect(h.irqCount(1)).toBe(1);
    h.setReg32(NVME_REG_INTMS, 0b10);
    flushes(h, 1, 1);
    expect(h.irqCount(1)).toBe(1);
    h.setReg32(NVME_REG_INTMC, 0b10);
    h.fn.poll();
    expect(h.irqCount(1)).toBe(2);
  });

  it('INTx: asserted while a CQ holds unconsumed entries, deasserted when the host consumes them', () => {
    const { h } = clockedHost('intx');
    expect(h.epc.config.msixEnabled).toBe(false);
    h.createCq(1, 16, { iv: 0 });
    h.createSq(1, 16, 1);
    h.reap(0);
    h.fn.poll();
    expect(h.intx.at(-1)).toBe(false);
    flushes(h, 1, 1);
    expect(h.intx.at(-1)).toBe(true);
    h.reap(1);
    h.fn.poll();
    expect(h.intx.at(-1)).toBe(false);
  });

  it("config irq: 'intx' offers neither MSI-X nor MSI; 'msi' offers no MSI-X table", () => {
    const intx = new ScriptedHost({ config: { irq: 'intx' }, irq: 'intx' });
    expect([intx.epc.config.msixCapable, intx.epc.config.msiCapable]).toEqual([0, 0]);
    intx.enable();
    intx.createPair(1, 16, 0);
    flushes(intx, 1, 1);
    expect(intx.intx.at(-1)).toBe(true);
    const msi = new ScriptedHost({ config: { irq: 'msi' } });
    expect(msi.epc.config.msixCapable).toBe(0);
    expect(msi.fn.layout.msixTableOffset).toBeUndefined();
    msi.enable();
    msi.createPair(1, 16);
    msi.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    expect(msi.irqCount(1)).toBe(1);
  });

  it('profiles without MSI-X fall back to MSI (rk3399)', () => {
    const h = new ScriptedHost({ profile: 'rk3399' });
    expect(h.epc.config.msixCapable).toBe(0);
    expect(h.epc.config.msiCapable).toBeGreaterThan(0);
    h.enable();
    h.createPair(1, 16);
    h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    expect(h.irqCount(1)).toBe(1);
  });
});
