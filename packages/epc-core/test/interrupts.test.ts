import { describe, expect, it } from 'vitest';
import { createEpc } from '../src/epc.js';
import { EpcError } from '../src/errors.js';
import { HostAddressSpace } from '../src/host-address-space.js';
import { profile } from './helpers.js';

const MSI_DOORBELL = 0xfee0_0000n;
const MSIX_TABLE = 0x2000;
const MSIX_PBA = 0x3000;

/** An EPC whose host counts interrupt messages written to its MSI doorbell page. */
function withDoorbell(name: string) {
  const host = new HostAddressSpace();
  const messages: { addr: bigint; data: number }[] = [];
  host.addMmioRegion({
    start: MSI_DOORBELL,
    size: 0x1000,
    onWrite: (addr, data) =>
      messages.push({ addr, data: new DataView(data.buffer, data.byteOffset).getUint32(0, true) }),
  });
  const epc = createEpc(profile(name), host);
  return { epc, host, messages };
}

function programMsix(epc: ReturnType<typeof createEpc>, vector: number, masked: boolean): void {
  const entry = MSIX_TABLE + vector * 16;
  epc.mmioWrite32(0, entry, Number(MSI_DOORBELL & 0xffff_ffffn) + vector * 4);
  epc.mmioWrite32(0, entry + 4, 0);
  epc.mmioWrite32(0, entry + 8, 0x4000 + vector);
  epc.mmioWrite32(0, entry + 12, masked ? 1 : 0);
}

describe('interrupts', () => {
  it('MSI-X: a masked vector sets its PBA bit and is delivered once unmasked', () => {
    const { epc, messages } = withDoorbell('generic');
    epc.setBar(0, 0x4000);
    epc.setMsix(8, 0, MSIX_TABLE, MSIX_PBA);
    epc.config.msixEnabled = true;
    programMsix(epc, 3, true);
    const masked = epc.raiseIrq('msix', 3);
    expect(masked).toBeInstanceOf(EpcError);
    expect((masked as EpcError).errno).toBe('EPERM');
    expect(epc.bar(0).bytes[MSIX_PBA]).toBe(1 << 3);
    expect(messages).toHaveLength(0);
    programMsix(epc, 3, false);
    epc.deliverPendingMsix();
    expect(messages).toEqual([{ addr: MSI_DOORBELL + 12n, data: 0x4003 }]);
    expect(epc.bar(0).bytes[MSIX_PBA]).toBe(0);
  });

  it('MSI-X: the function mask holds every vector', () => {
    const { epc, messages } = withDoorbell('generic');
    epc.setBar(0, 0x4000);
    epc.setMsix(8, 0, MSIX_TABLE, MSIX_PBA);
    Object.assign(epc.config, { msixEnabled: true, msixFunctionMask: true });
    programMsix(epc, 0, false);
    expect(epc.raiseIrq('msix', 0)).toBeInstanceOf(EpcError);
    epc.config.msixFunctionMask = false;
    epc.deliverPendingMsix();
    expect(messages).toHaveLength(1);
  });

  it('MSI: the vector goes in the low data bits; disabled MSI is an error', () => {
    const { epc, messages } = withDoorbell('generic');
    epc.setMsi(4);
    expect(epc.raiseIrq('msi', 0)).toBeInstanceOf(EpcError);
    Object.assign(epc.config, { msiEnabled: true, msiAddress: MSI_DOORBELL, msiData: 0x50, msiVectors: 4 });
    expect(epc.raiseIrq('msi', 2)).toBeNull();
    expect(epc.raiseIrq('msi', 4)).toBeInstanceOf(EpcError);
    expect(messages).toEqual([{ addr: MSI_DOORBELL, data: 0x52 }]);
  });

  it('DWC raises MSI through a transient outbound map of the data slot pool', () => {
    const { epc, messages } = withDoorbell('imx8m');
    Object.assign(epc.config, { msiEnabled: true, msiAddress: MSI_DOORBELL + 0x40n, msiData: 1, msiVectors: 1 });
    expect(epc.raiseIrq('msi', 0)).toBeNull();
    expect(messages).toHaveLength(1);
    expect(epc.counters.memMapCalls).toBe(1);
    expect(epc.counters.irqMaps).toBe(1);
    expect(epc.liveMaps).toHaveLength(0);
    // With every slot taken by data maps, the raise fails like dw_pcie_ep_raise_msi_irq() would.
    for (let i = 0; i < 4; i++) epc.memMap(BigInt(i) << 16n, 16);
    const starved = epc.raiseIrq('msi', 0);
    expect((starved as EpcError).errno).toBe('EINVAL');
  });

  it('RK3399 keeps a reserved interrupt region and reprograms it only when the address changes', () => {
    const { epc, messages } = withDoorbell('rk3399');
    Object.assign(epc.config, { msiEnabled: true, msiAddress: MSI_DOORBELL, msiData: 7, msiVectors: 1 });
    for (let i = 0; i < 3; i++) expect(epc.raiseIrq('msi', 0)).toBeNull();
    expect(messages).toHaveLength(3);
    expect(epc.counters.irqMaps).toBe(1);
    expect(epc.counters.memMapCalls).toBe(0);
    epc.config.msiAddress = MSI_DOORBELL + 0x100n;
    expect(epc.raiseIrq('msi', 0)).toBeNull();
    expect(epc.counters.irqMaps).toBe(2);
    expect(messages.at(-1)?.addr).toBe(MSI_DOORBELL + 0x100n);
  });

  it('INTx: the host sees level changes only, and INTx disable holds the pin low', () => {
    const { epc } = withDoorbell('rcar');
    const levels: boolean[] = [];
    epc.onIntx((level) => levels.push(level));
    epc.setIntx(true);
    epc.setIntx(true);
    epc.setIntx(false);
    epc.config.intxDisabled = true;
    epc.setIntx(true);
    expect(levels).toEqual([true, false]);
  });

  it('BARs are powers of two of at least the profile alignment', () => {
    const { epc } = withDoorbell('rk3588');
    expect(epc.setBar(0, 5120).size).toBe(65536);
    epc.mmioWrite64(0, 0x28, 0x1_2345_6000n);
    expect(epc.mmioRead32(0, 0x28)).toBe(0x2345_6000);
    expect(epc.mmioRead32(0, 0x2c)).toBe(1);
  });
});

describe('interrupt messages the host programmed badly', () => {
  it('a message address that is not dword aligned is EINVAL, with no map left', () => {
    const { epc, messages } = withDoorbell('stress');
    epc.setBar(0, 0x4000);
    epc.setMsix(8, 0, MSIX_TABLE, MSIX_PBA);
    epc.config.msixEnabled = true;
    epc.mmioWrite32(0, MSIX_TABLE, 0xffff_ffff);
    const error = epc.raiseIrq('msix', 0);
    expect((error as EpcError).errno).toBe('EINVAL');
    expect(messages).toHaveLength(0);
    expect(epc.liveMaps).toHaveLength(0);
  });

  it('deliverPendingMsix counts what it sent', () => {
    const { epc } = withDoorbell('generic');
    epc.setBar(0, 0x4000);
    epc.setMsix(8, 0, MSIX_TABLE, MSIX_PBA);
    epc.config.msixEnabled = true;
    programMsix(epc, 1, true);
    programMsix(epc, 2, true);
    epc.raiseIrq('msix', 1);
    epc.raiseIrq('msix', 2);
    programMsix(epc, 1, false);
    expect(epc.deliverPendingMsix()).toBe(1);
    programMsix(epc, 2, false);
    expect(epc.deliverPendingMsix()).toBe(1);
    expect(epc.deliverPendingMsix()).toBe(0);
  });
});
