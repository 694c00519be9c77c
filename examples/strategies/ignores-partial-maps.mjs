// The classic bug: map once and copy the whole buffer, as if pci_epc_mem_map() always mapped
// everything asked for. On a controller whose alignment rule truncates maps (RK3399's 1 MiB
// blocks, Cadence regions), the bytes past the map's end never reach the host.
export default {
  name: 'map-once',
  description: 'maps once and ignores partial maps (buggy)',
  transfer(epc, pciAddr, buf, direction) {
    const map = epc.memMap(pciAddr, buf.length);
    if ('errno' in map) return map;
    const size = Math.min(buf.length, map.pciSize);
    const chunk = buf.subarray(0, size);
    const fault = direction === 'toHost' ? map.write(0, chunk) : map.read(0, chunk);
    epc.memUnmap(map);
    return fault === null ? null : new Error('host access failed');
  },
};
