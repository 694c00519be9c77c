/** Endpoint-controller faults: the catalogue, the option check, and msix-unmap-before-flush at the EPC API. */
import { describe, expect, it } from 'vitest';
import { createEpc } from '../src/epc.js';
import { EpcConfigError } from '../src/errors.js';
import { EPC_FAULT_NAMES, EPC_FAULTS, type EpcFaultName, faultFlagName } from '../src/faults.js';
import { HostAddressSpace } from '../src/host-address-space.js';
import { profile } from './helpers.js';

const FAULT: EpcFaultName = 'msix-unmap-before-flush';
const MSI_DOORBELL = 0xfee0_0000n;
const MSIX_TABLE = 0x2000;
const MSIX_PBA = 0x3000;
const MSIX_ENTRY_SIZE = 16;
const VECTOR = 2;
const MESSAGE_BYTES = 4;
const U32_MASK = 0xffff_ffffn;

/** An EPC whose host counts messages arriving at its MSI doorbell, with MSI-X vector 2 programmed. */
function withMsix(name: string, faults: readonly EpcFaultName[]) {
  const host = new HostAddressSpace();
  const messages: bigint[] = [];
  host.addMmioRegion({ start: MSI_DOORBELL, size: 0x1000, onWrite: (addr) => messages.push(addr) });
  const epc = createEpc(profile(name), host, { faults });
  epc.setBar(0, 0x4000);
  epc.setMsix(8, 0, MSIX_TABLE, MSIX_PBA);
  epc.config.msixEnabled = true;
  const entry = MSIX_TABLE + VECTOR * MSIX_ENTRY_SIZE;
  epc.mmioWrite32(0, entry, Number(MSI_DOORBELL & U32_MASK));
  epc.mmioWrite32(0, entry + 4, 0);
  epc.mmioWrite32(0, entry + 8, VECTOR);
  epc.mmioWrite32(0, entry + 12, 0);
  return { epc, host, messages };
}

describe('EPC faults', () => {
  it('an unknown fault name is an EpcConfigError naming the field and the known faults', () => {
    const make = () =>
      createEpc(profile('generic'), new HostAddressSpace(), { faults: ['no-such-fault' as EpcFaultName] });
    expect(make).toThrow(EpcConfigError);
    expect(make).toThrow(`faults: unknown fault 'no-such-fault' (known: ${EPC_FAULT_NAMES.join(', ')})`);
  });

  it('the flags follow the catalogue: all off by default, one on when named', () => {
    const off = createEpc(profile('generic'), new HostAddressSpace());
    const on = createEpc(profile('generic'), new HostAddressSpace(), { faults: [FAULT] });
    for (const f of EPC_FAULTS) {
      expect(off.faults[faultFlagName(f.name)]).toBe(false);
      expect(on.faults[faultFlagName(f.name)]).toBe(f.name === FAULT);
    }
  });

  it('msix-unmap-before-flush off (imx8m, transient map): the message arrives through the map', () => {
    const { epc, host, messages } = withMsix('imx8m', []);
    expect(epc.raiseIrq('msix', VECTOR)).toBeNull();
    expect(messages).toEqual([MSI_DOORBELL]);
    expect(host.faultCount).toBe(0);
    expect(epc.liveMaps).toHaveLength(0);
  });

  it('msix-unmap-before-flush on (imx8m): no message; an untranslated write at the outbound address', () => {
    const { epc, host, messages } = withMsix('imx8m', [FAULT]);
    const window = profile('imx8m').windows[0]!;
    // The raise looks successful to the function driver, as it did on the real controller.
    expect(epc.raiseIrq('msix', VECTOR)).toBeNull();
    expect(messages).toEqual([]);
    expect(host.faults).toHaveLength(1);
    const fault = host.faults[0]!;
    expect(fault).toMatchObject({ direction: 'write', size: MESSAGE_BYTES, reason: 'hole' });
    expect(fault.addr >= BigInt(window.physBase) && fault.addr < BigInt(window.physBase + window.size)).toBe(true);
    expect(epc.liveMaps).toHaveLength(0);
    expect(epc.counters.busFaults).toBe(1);
  });

  it('msix-unmap-before-flush on: MSI, and profiles without a transient map, are unaffected', () => {
    const dwc = withMsix('imx8m', [FAULT]);
    Object.assign(dwc.epc.config, { msiEnabled: true, msiAddress: MSI_DOORBELL, msiData: 0, msiVectors: 1 });
    expect(dwc.epc.raiseIrq('msi', 0)).toBeNull();
    expect(dwc.messages).toEqual([MSI_DOORBELL]);
    const generic = withMsix('generic', [FAULT]);
    expect(generic.epc.raiseIrq('msix', VECTOR)).toBeNull();
    expect(generic.messages).toEqual([MSI_DOORBELL]);
  });
});
