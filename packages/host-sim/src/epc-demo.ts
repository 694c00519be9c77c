/**
 * `npm start` until the full `epfsim` CLI lands: maps a few awkward host ranges on every
 * built-in profile with the 6.13 loop and prints the resulting maps (`--json` for data).
 */
import { parseArgs } from 'node:util';
import { BUILTIN_PROFILES, createEpc, EpcError, type EpcMap, HostAddressSpace, hex } from '@epfsim/epc-core';

/** Ranges that trip real controllers: mid-page, across 64 KiB, across 1 MiB, near 4 GiB, at the top of the space. */
const RANGES: readonly { addr: bigint; size: number }[] = [
  { addr: 0xff00n, size: 0x200 },
  { addr: 0x1_2345_6789n, size: 0x3000 },
  { addr: 0xfff00n, size: 0x20000 },
  { addr: 0xffff_f000n, size: 0x2000 },
  { addr: (1n << 64n) - 0x100n, size: 0x100 },
];

interface MapRow {
  profile: string;
  pciAddr: string;
  size: number;
  maps: { pciSize: number; mapPciAddr: string; mapSize: number; offset: number; physAddr: string }[];
  error?: string;
}

function mapRange(profileName: string, addr: bigint, size: number): MapRow {
  const profile = BUILTIN_PROFILES.find((p) => p.name === profileName)!;
  const epc = createEpc(profile, new HostAddressSpace());
  const row: MapRow = { profile: profileName, pciAddr: hex(addr), size, maps: [] };
  let done = 0;
  while (done < size) {
    const map: EpcMap | EpcError = epc.memMap(addr + BigInt(done), size - done);
    if (map instanceof EpcError) {
      row.error = map.toString();
      break;
    }
    const { pciSize, mapPciAddr, mapSize, offset, physAddr } = map;
    row.maps.push({ pciSize, mapPciAddr: hex(mapPciAddr), mapSize, offset, physAddr: hex(physAddr) });
    epc.memUnmap(map);
    done += pciSize;
  }
  return row;
}

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const rows = BUILTIN_PROFILES.flatMap((p) => RANGES.map((r) => mapRange(p.name, r.addr, r.size)));
if (values.json) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  for (const p of BUILTIN_PROFILES) {
    console.log(`\n${p.name}: ${p.description}`);
    for (const row of rows.filter((r) => r.profile === p.name)) {
      const maps = row.maps.map(
        (m) => `[${m.mapPciAddr}+${hex(m.mapSize)} off ${hex(m.offset)} -> ${hex(m.pciSize)} B]`,
      );
      console.log(
        `  ${row.pciAddr}+${hex(row.size)}: ${maps.length} map(s) ${maps.join(' ')}${row.error ? ` ${row.error}` : ''}`,
      );
    }
  }
}
