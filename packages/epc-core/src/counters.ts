/** What the EPC counted; every figure is a count of events that happened, not a model. */
export interface EpcCounters {
  memMapCalls: number;
  memMapFailures: number;
  /** `pci_epc_map_addr()` calls (the pre-6.13 layer the legacy and epf-align strategies use). */
  mapAddrCalls: number;
  partialMaps: number;
  atuPrograms: number;
  slotsInUse: number;
  slotsHighWater: number;
  liveMapsHighWater: number;
  bytesFromHost: number;
  bytesToHost: number;
  dmaTransfers: number;
  busFaults: number;
  irqsRaised: number;
  irqMaps: number;
}

export function newCounters(): EpcCounters {
  return {
    memMapCalls: 0,
    memMapFailures: 0,
    mapAddrCalls: 0,
    partialMaps: 0,
    atuPrograms: 0,
    slotsInUse: 0,
    slotsHighWater: 0,
    liveMapsHighWater: 0,
    bytesFromHost: 0,
    bytesToHost: 0,
    dmaTransfers: 0,
    busFaults: 0,
    irqsRaised: 0,
    irqMaps: 0,
  };
}
