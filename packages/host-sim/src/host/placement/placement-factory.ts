/** Placement policies by name, for the CLI, case files and workloads. */
import type { EpcProfile } from '@epfsim/epc-core';
import { HostSimConfigError } from '../errors.js';
import type { HostMemory } from '../memory/host-memory.js';
import { alignDownBig, alignUpBig, type HostRange, rangeEnd } from '../memory/host-range.js';
import { AdversarialPlacement } from './adversarial.js';
import { InvalidPlacement } from './invalid.js';
import type { PlacementPolicy } from './layout.js';
import { LinuxPlacement } from './linux.js';
import { SpdkPlacement } from './spdk.js';

export const PLACEMENT_NAMES = ['linux', 'spdk', 'adversarial', 'invalid'] as const;
export type PlacementName = (typeof PLACEMENT_NAMES)[number];

export interface PlacementFactoryOptions {
  readonly seed?: number;
  /** The controller profile, whose edges the adversarial policy targets. */
  readonly profile?: EpcProfile;
  /** Where the policy's RAM arena starts (linux, spdk, invalid); each has its own default. */
  readonly arenaBase?: bigint;
  /** Its size (linux, spdk, invalid): a target with little RAM (QEMU's guest) needs a smaller one. */
  readonly arenaBytes?: number;
  /**
   * The only host RAM the target has (QEMU's guest RAM above its firmware area): every policy then
   * places inside it. The arena policies take it whole (unless an arena is given); adversarial
   * keeps to it, aiming at the edges that fall inside (pages, 64 KiB, 1 MiB, the end of RAM).
   */
  readonly ram?: HostRange;
}

/**
 * Arena alignment when carved from a RAM range: SPDK's huge pages (2 MiB) need it, and the
 * others lose nothing by it.
 */
const ARENA_ALIGN = 2 * 1024 * 1024;

/** The largest {@link ARENA_ALIGN}-aligned arena inside `ram`. */
export function arenaWithin(ram: HostRange): { readonly arenaBase: bigint; readonly arenaBytes: number } {
  const base = alignUpBig(ram.addr, ARENA_ALIGN);
  const end = alignDownBig(rangeEnd(ram), ARENA_ALIGN);
  if (end <= base) throw new RangeError(`no ${ARENA_ALIGN}-byte aligned arena fits in the RAM range`);
  return { arenaBase: base, arenaBytes: Number(end - base) };
}

/** A policy by name on `memory`. Throws {@link HostSimConfigError} for an unknown name. */
export function createPlacement(
  name: string,
  memory: HostMemory,
  options: PlacementFactoryOptions = {},
): PlacementPolicy {
  const seed = options.seed ?? 1;
  const arena = {
    ...(options.ram === undefined || options.arenaBase !== undefined ? {} : arenaWithin(options.ram)),
    ...(options.arenaBase === undefined ? {} : { arenaBase: options.arenaBase }),
    ...(options.arenaBytes === undefined ? {} : { arenaBytes: options.arenaBytes }),
  };
  switch (name) {
    case 'linux':
      return new LinuxPlacement(memory, { seed, ...arena });
    case 'spdk':
      return new SpdkPlacement(memory, { seed, ...arena });
    case 'adversarial':
      return new AdversarialPlacement(memory, {
        seed,
        ...(options.profile === undefined ? {} : { profile: options.profile }),
        ...(options.ram === undefined ? {} : { ram: options.ram }),
      });
    case 'invalid':
      return new InvalidPlacement(memory, { seed, ...arena });
    default:
      throw new HostSimConfigError(
        'UNKNOWN_PLACEMENT',
        `no placement "${name}" (known: ${PLACEMENT_NAMES.join(', ')})`,
      );
  }
}
