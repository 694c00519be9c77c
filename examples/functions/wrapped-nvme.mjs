// Your own NVMe function under epfsim: a module whose default export is
// createFunction(epc, config), returning an object with the interface of @epfsim/nvme-epf's
// NvmeFunction (poll, close, persistentMaps, stats, trace, ...). The quickest start is to wrap
// nvme-epf's and change the part you are working on.
//
// This one plants a bug behind an environment variable, to show a fuzz campaign catching it:
// with EPFSIM_DEMO_BUG=1 the function's writes to host memory through a map lose their last
// byte whenever they are larger than a completion entry (a classic off-by-one in a copy loop).
import { createNvmeFunction } from '@epfsim/nvme-epf';

/** Writes this size or smaller (SQ and CQ entries, interrupt messages) are left alone. */
const SMALL = 64;

export default function createFunction(epc, config) {
  if (process.env.EPFSIM_DEMO_BUG !== '1') return createNvmeFunction(epc, config);
  const originals = new WeakMap();
  const fn = createNvmeFunction(offByOne(epc, originals), config);
  // The testbed's leak check compares the EPC's live maps with the ones the function keeps.
  const persistentMaps = fn.persistentMaps.bind(fn);
  fn.persistentMaps = () => new Set([...persistentMaps()].map((map) => originals.get(map) ?? map));
  return fn;
}

/** The EPC as the function sees it, with every map's large writes one byte short. */
function offByOne(epc, originals) {
  const shortMap = (map) => {
    const proxy = new Proxy(map, {
      get(target, key) {
        if (key === 'write')
          return (offset, src) => target.write(offset, src.length > SMALL ? src.subarray(0, src.length - 1) : src);
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    originals.set(proxy, map);
    return proxy;
  };
  return new Proxy(epc, {
    get(target, key) {
      if (key === 'memMap')
        return (pciAddr, size) => {
          const map = target.memMap(pciAddr, size);
          return 'errno' in map ? map : shortMap(map);
        };
      if (key === 'memUnmap') return (map) => target.memUnmap(originals.get(map) ?? map);
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
