import {
  createEpc,
  findProfile,
  HostAddressSpace,
  leastMapCount,
  STRATEGIES,
  type StrategyName,
} from '@epfsim/epc-core';

export interface MapEfficiency {
  readonly profile: string;
  readonly strategy: StrategyName;
  readonly segments: number;
  readonly mapCalls: number;
  /** The least number of maps the controller's rule allows for the same segments. */
  readonly leastMaps: number;
}

/** Sizes and offsets of the NVMe data segments a host hands a function: up to 512 KiB, any dword offset. */
function* segments(count: number, seed: number): Generator<{ addr: bigint; size: number }> {
  let s = seed >>> 0 || 1;
  const next = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const sizes = [512, 4096, 8192, 65536, 131072, 524288];
  for (let i = 0; i < count; i++) {
    const page = BigInt(next(1 << 30)) << 12n;
    yield {
      addr: page + BigInt(next(1024) * 4),
      size: sizes[next(sizes.length)]! - (next(2) === 0 ? 0 : next(64) * 4),
    };
  }
}

/** Transfers `count` segments with `strategy` on `profileName` and counts the maps it made. */
export function measureMapEfficiency(
  profileName: string,
  strategy: StrategyName,
  count: number,
  seed: number,
): MapEfficiency {
  const profile = findProfile(profileName)!;
  const host = new HostAddressSpace();
  const epc = createEpc(profile, host);
  let least = 0;
  let n = 0;
  for (const seg of segments(count, seed)) {
    host.memory.addRegion(seg.addr, seg.size);
    const error = STRATEGIES[strategy].transfer(epc, seg.addr, new Uint8Array(seg.size), 'toHost');
    if (error !== null) throw new Error(`${strategy} on ${profileName} failed on a legal segment: ${error}`);
    host.memory.removeRegion(seg.addr, seg.size);
    least += leastMapCount(profile.align, seg.addr, seg.size);
    n++;
  }
  return { profile: profileName, strategy, segments: n, mapCalls: epc.counters.memMapCalls, leastMaps: least };
}
