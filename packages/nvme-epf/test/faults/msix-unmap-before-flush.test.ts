/**
 * Fault msix-unmap-before-flush (epc-core; DWC c22533c66cca, "Flush MSI-X write before unmapping
 * its ATU entry"), seen by a host through the NVMe function: on a controller that sends MSI-X
 * through a transient outbound map, the message goes out untranslated after the unmap. Correct:
 * the message arrives on its vector.
 */
import { type EpcFaultName, findProfile } from '@epfsim/epc-core';
import { NvmOpcode } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: EpcFaultName = 'msix-unmap-before-flush';
const QID = 1;
const FLUSHES = 3;
/** MSI-X and MSI messages are one dword. */
const MESSAGE_BYTES = 4;

function flushes(profile: string, epcFaults: readonly EpcFaultName[]): ScriptedHost {
  const h = new ScriptedHost({ profile, epcFaults });
  h.enable();
  h.createPair(QID, 16);
  for (let i = 0; i < FLUSHES; i++) expect(h.run(QID, { opcode: NvmOpcode.FLUSH, nsid: 1 }).status).toBe(0);
  return h;
}

/** The profile's outbound window: where an untranslated message lands. */
function outboundWindow(profile: string): { start: bigint; end: bigint } {
  const w = findProfile(profile)!.windows[0]!;
  return { start: BigInt(w.physBase), end: BigInt(w.physBase + w.size) };
}

describe('fault msix-unmap-before-flush', () => {
  it.each(['dwc', 'rk3588'])('off, %s: every completion interrupts on its vector, no stray write', (profile) => {
    const h = flushes(profile, []);
    expect(h.irqCount(QID)).toBe(FLUSHES);
    expect(h.host.faultCount).toBe(0);
  });

  it.each(['dwc', 'rk3588'])(
    'on, %s: no interrupt; the message is a write to the outbound window address',
    (profile) => {
      const h = flushes(profile, [FAULT]);
      expect(h.irqCount(QID)).toBe(0);
      expect(h.irqCount(0)).toBe(0);
      const { start, end } = outboundWindow(profile);
      const stray = h.host.faults.filter((f) => f.direction === 'write' && f.size === MESSAGE_BYTES);
      expect(stray.length).toBeGreaterThanOrEqual(FLUSHES);
      expect(h.host.faultCount).toBe(stray.length);
      for (const f of stray) {
        expect(f.addr >= start && f.addr < end).toBe(true);
      }
    },
  );

  it('on, generic (messages need no map): the fault changes nothing', () => {
    const h = flushes('generic', [FAULT]);
    expect(h.irqCount(QID)).toBe(FLUSHES);
    expect(h.host.faultCount).toBe(0);
  });

  it('on, dwc with MSI: only MSI-X messages are affected', () => {
    const h = new ScriptedHost({ profile: 'dwc', epcFaults: [FAULT], irq: 'msi' });
    h.enable();
    h.createPair(QID, 16);
    h.run(QID, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    expect(h.irqCount(QID)).toBe(1);
    expect(h.host.faultCount).toBe(0);
  });
});
