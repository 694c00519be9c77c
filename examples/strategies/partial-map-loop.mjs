// A map loop as a function driver writes it against pci_epc_mem_map() (Linux 6.13+): map what
// the controller allows, copy that much, unmap, go on from where the map ended. It imports
// nothing from epfsim: memMap returns the map or an error value (it has `errno`), and the
// loop returns null when every byte moved, or the error.
export default {
  name: 'my-map-loop',
  description: 'memMap loop that follows partial maps',
  transfer(epc, pciAddr, buf, direction) {
    let done = 0;
    while (done < buf.length) {
      const map = epc.memMap(pciAddr + BigInt(done), buf.length - done);
      if ('errno' in map) return map;
      const chunk = buf.subarray(done, done + map.pciSize);
      const fault = direction === 'toHost' ? map.write(0, chunk) : map.read(0, chunk);
      epc.memUnmap(map);
      if (fault !== null)
        return { errno: 'EFAULT', message: `host access failed at 0x${(pciAddr + BigInt(done)).toString(16)}` };
      done += map.pciSize;
    }
    return null;
  },
};
