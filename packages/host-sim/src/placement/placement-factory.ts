/** Placement policies by name, for the CLI, case files and workloads. */
import type { EpcProfile } from '@epfsim/epc-core';
import { HostSimConfigError } from '../errors.js';
import type { HostMemory } from '../memory/host-memory.js';
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
}

/** A policy by name on `memory`. Throws {@link HostSimConfigError} for an unknown name. */
export function createPlacement(
  name: string,
  memory: HostMemory,
  options: PlacementFactoryOptions = {},
): PlacementPolicy {
  const seed = options.seed ?? 1;
  const arena = {
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
