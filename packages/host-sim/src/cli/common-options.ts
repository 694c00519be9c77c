import type { ParseArgsConfig } from 'node:util';
import { STRATEGY_NAMES } from '@epfsim/epc-core';
import { FAULT_CATALOGUE } from '@epfsim/nvme-epf';
import type { NvmeDriverOptions } from '../driver/driver-options.js';
import type { NvmeDriver } from '../driver/nvme-driver.js';
import type { PlacementPolicy } from '../placement/layout.js';
import { PLACEMENT_NAMES } from '../placement/placement-factory.js';
import type { Testbed } from '../target/epfsim-target.js';
import { openEpfsimTarget, TARGET_KINDS, type TargetChoice } from '../target/open-target.js';
import { parseChoice, parseInteger, parseSize } from './options.js';
import { resolveProfile } from './resolve-profile.js';
import { UsageError } from './usage-error.js';

/** Flags every command that builds a testbed understands (parseArgs option definitions). */
export const TESTBED_FLAGS = {
  profile: { type: 'string' },
  strategy: { type: 'string' },
  placement: { type: 'string' },
  seed: { type: 'string' },
  'ns-size': { type: 'string' },
  'block-size': { type: 'string' },
  target: { type: 'string' },
  inject: { type: 'string', multiple: true },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const TESTBED_FLAGS_HELP = `testbed:
  --profile NAME|FILE.json   controller profile (default ${'`'}rk3588${'`'}); see 'epfsim profiles'
  --strategy NAME            ${STRATEGY_NAMES.join(' | ')} (default mem-map)
  --placement NAME           ${PLACEMENT_NAMES.join(' | ')} (default adversarial)
  --seed N                   seed of every random choice (default 1)
  --ns-size SIZE             namespace size (default 1g)
  --block-size 512|4096      logical block size (default 512)
  --target epfsim|qemu       the controller to drive: epfsim (default, the in-process function on the
                             profile's EPC) or qemu (QEMU 7.2's NVMe controller over qtest; needs
                             qemu-system-x86_64; placements stay in its 240 MiB of guest RAM, and the
                             EPC checks are not applicable)
  --inject NAME              inject a named fault of the catalogue (docs/faults.md), each modelling a
                             bug fixed upstream in the Linux NVMe endpoint function or the DWC
                             endpoint driver; repeatable (epfsim target only)`;

/** The flags' choice of target, profile, strategy, placement and namespace. */
export type TestbedChoice = TargetChoice;

export const TESTBED_DEFAULTS = {
  target: 'epfsim',
  profile: 'rk3588',
  strategy: 'mem-map',
  placement: 'adversarial',
  seed: '1',
  nsSize: '1g',
  blockSize: '512',
} as const;

type FlagValues = { [K in Exclude<keyof typeof TESTBED_FLAGS, 'inject'>]?: string | undefined } & {
  readonly inject?: readonly string[] | undefined;
};

/** Reads and checks the testbed flags; every mistake is one {@link UsageError} line. */
export function resolveTestbedFlags(values: FlagValues): TestbedChoice {
  const target = parseChoice(values.target ?? TESTBED_DEFAULTS.target, '--target', TARGET_KINDS);
  const blockSize = Number(
    parseChoice(values['block-size'] ?? TESTBED_DEFAULTS.blockSize, '--block-size', ['512', '4096']),
  );
  const namespaceBytes = parseSize(values['ns-size'] ?? TESTBED_DEFAULTS.nsSize, '--ns-size');
  if (namespaceBytes % blockSize !== 0)
    throw new UsageError(`--ns-size: ${namespaceBytes} is not a multiple of the ${blockSize}-byte block`);
  const faults = [...new Set(values.inject ?? [])];
  const known: readonly string[] = FAULT_CATALOGUE.map((f) => f.name);
  const unknown = faults.find((f) => !known.includes(f));
  if (unknown !== undefined) throw new UsageError(`--inject: unknown fault '${unknown}' (known: ${known.join(', ')})`);
  if (faults.length > 0 && target !== 'epfsim')
    throw new UsageError(`--inject: faults are injected into epfsim, not ${target}`);
  return {
    target,
    ...(faults.length === 0 ? {} : { faults }),
    profile: resolveProfile(values.profile ?? TESTBED_DEFAULTS.profile),
    strategy: parseChoice(values.strategy ?? TESTBED_DEFAULTS.strategy, '--strategy', STRATEGY_NAMES),
    placement: parseChoice(values.placement ?? TESTBED_DEFAULTS.placement, '--placement', PLACEMENT_NAMES),
    seed: parseInteger(values.seed ?? TESTBED_DEFAULTS.seed, '--seed', 0, 2 ** 32 - 1),
    namespaceBytes,
    blockSize: blockSize as 512 | 4096,
  };
}

export interface OpenTestbed {
  readonly testbed: Testbed;
  readonly placement: PlacementPolicy;
  readonly driver: NvmeDriver;
}

/**
 * Builds the default target (the in-process function on the chosen profile) and an
 * initialised host driver whose queues and data use the chosen placement. For commands that
 * need the in-process testbed; `openTarget` opens either target.
 */
export function openTestbed(
  choice: TestbedChoice,
  driverOptions: Omit<NvmeDriverOptions, 'placement' | 'seed'> = {},
): OpenTestbed {
  if (choice.target !== 'epfsim') throw new UsageError(`--target ${choice.target}: this command drives epfsim only`);
  const { testbed, placement, driver } = openEpfsimTarget(choice, driverOptions);
  return { testbed, placement, driver };
}
