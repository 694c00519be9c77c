// A controller whose outbound rule is none of the built-in kinds: a translation starts on a
// 64 KiB boundary (like DWC's region_align) but never crosses a 256 KiB boundary of the PCI
// address (like the pass-through controllers' blocks), so a request that crosses one is mapped
// partially and the map loop must go on from where the map ends. Everything else is what a
// JSON profile says.
const KiB = 1024;
const REGION = 64 * KiB;
const BLOCK = 256 * KiB;

export default {
  name: 'my-controller',
  description: 'translations on 64 KiB boundaries that never cross a 256 KiB block',
  windows: [{ physBase: 0x4000_0000, size: 16 * 1024 * KiB, pageSize: 4 * KiB }],
  atu: { kind: 'unlimited' },
  irq: { msi: true, msix: true, intx: false, mapping: 'direct' },
  barAlign: 4 * KiB,
  hasDma: false,
  // align_addr: where to map for [pciAddr, pciAddr + size), how much, and where the request
  // starts in the map. The map may cover less than the request (a partial map), never none of it.
  alignAddr(pciAddr, size) {
    const offset = Number(pciAddr % BigInt(REGION));
    const mapPciAddr = pciAddr - BigInt(offset);
    const toBlockEnd = BLOCK - Number(mapPciAddr % BigInt(BLOCK));
    const mapSize = Math.min(toBlockEnd, Math.ceil((offset + size) / (4 * KiB)) * 4 * KiB);
    return { mapPciAddr, mapSize, offset };
  },
};
