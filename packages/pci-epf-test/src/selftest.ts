import { EndpointTestHost, type EndpointTestHostOptions, type EndpointTestResult } from './endpoint-test-host.js';
import { IRQ_TYPE } from './registers.js';

/** The transfer sizes of tools/testing/selftests/pci_endpoint (pci_endpoint_test.c). */
export const SELFTEST_SIZES = [1, 1024, 1025, 1024000, 1024001] as const;

export interface SelftestCase extends EndpointTestResult {
  readonly name: string;
  /** Maps the function left live after the case (a leak: 0 when it unmapped everything). */
  readonly leakedMaps: number;
  /** Device accesses the host refused (outside its RAM): each one a bus fault. */
  readonly busFaults: number;
  /** The case's map calls (`pci_epc_mem_map()`, or `pci_epc_map_addr()` for the pre-6.13 loops), and how many mapped only part of what was asked. */
  readonly mapCalls: number;
  readonly partialMaps: number;
}

/**
 * The kernel selftest's cases on one host and function: the register BAR, each interrupt type the
 * profile has, then read, write and copy of every size, with DMA too where the controller has an
 * engine. A fresh host for each case, as each selftest case opens the device anew.
 */
export function runSelftest(options: EndpointTestHostOptions): SelftestCase[] {
  const cases: SelftestCase[] = [];
  const run = (name: string, test: (h: EndpointTestHost) => EndpointTestResult) => {
    const h = new EndpointTestHost(options);
    const result = test(h);
    const leakedMaps = h.epc.liveMaps.length;
    const busFaults = h.host.faultCount;
    const clean = leakedMaps === 0 && busFaults === 0;
    const detail = clean ? result.detail : `${leakedMaps} maps leaked, ${busFaults} bus faults`;
    cases.push({
      name,
      ...result,
      ok: result.ok && clean,
      ...(detail === undefined ? {} : { detail }),
      leakedMaps,
      busFaults,
      mapCalls: h.epc.counters.memMapCalls + h.epc.counters.mapAddrCalls,
      partialMaps: h.epc.counters.partialMaps,
    });
  };
  run('BAR0', (h) => h.barTest());
  const irq = options.profile.irq;
  if (irq.intx) run('INTX_IRQ', (h) => h.irqTest(IRQ_TYPE.INTX));
  if (irq.msi) run('MSI_IRQ 1', (h) => h.irqTest(IRQ_TYPE.MSI, 1));
  if (irq.msix) run('MSIX_IRQ 1', (h) => h.irqTest(IRQ_TYPE.MSIX, 1));
  for (const dma of options.profile.hasDma ? [false, true] : [false]) {
    const how = dma ? ' (DMA)' : '';
    for (const size of SELFTEST_SIZES) {
      run(`READ ${size}${how}`, (h) => h.readTest(size, dma));
      run(`WRITE ${size}${how}`, (h) => h.writeTest(size, dma));
      run(`COPY ${size}${how}`, (h) => h.copyTest(size, dma));
    }
  }
  return cases;
}
