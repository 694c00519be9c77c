import { PCI_ADDR_LIMIT } from '../src/address.js';
import { createEpc, type Epc } from '../src/epc.js';
import { HostAddressSpace } from '../src/host-address-space.js';
import type { EpcProfile } from '../src/profile.js';
import { findProfile } from '../src/profiles.js';

export function profile(name: string): EpcProfile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

/** An EPC on `profileOrName` whose host has RAM exactly at the given ranges. */
export function testbed(
  profileOrName: EpcProfile | string,
  ram: readonly { addr: bigint; size: number }[] = [],
): { epc: Epc; host: HostAddressSpace } {
  const host = new HostAddressSpace();
  for (const r of ram) host.memory.addRegion(r.addr, BigInt(Math.min(r.size, Number(PCI_ADDR_LIMIT - r.addr))));
  const epc = createEpc(typeof profileOrName === 'string' ? profile(profileOrName) : profileOrName, host);
  return { epc, host };
}
