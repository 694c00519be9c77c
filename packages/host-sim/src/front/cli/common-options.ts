import { closeSync, openSync, statSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { STRATEGY_NAMES } from '@epfsim/epc-core';
import type { NamespaceBackendConfig } from '@epfsim/nvme-epf';
import { FAULT_CATALOGUE } from '@epfsim/nvme-epf';
import type { NvmeDriverOptions } from '../../host/driver/driver-options.js';
import type { NvmeDriver } from '../../host/driver/nvme-driver.js';
import type { PlacementPolicy } from '../../host/placement/layout.js';
import { PLACEMENT_NAMES } from '../../host/placement/placement-factory.js';
import type { Testbed } from '../../host/target/epfsim-target.js';
import {
  type BringUpFailureObserver,
  openEpfsimTarget,
  TARGET_KINDS,
  type TargetChoice,
} from '../../reference/open-target.js';
import { parseChoice, parseInteger, parseSize, parseStrategy } from './options.js';
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
  backend: { type: 'string' },
  target: { type: 'string' },
  inject: { type: 'string', multiple: true },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** The placement that breaks rules on purpose: `epfsim fuzz` only, never a verified workload. */
export const INVALID_PLACEMENT = 'invalid';
/** The placements a verified workload (run, serve) takes. */
const WORKLOAD_PLACEMENTS = PLACEMENT_NAMES.filter((p) => p !== INVALID_PLACEMENT);

export const TESTBED_FLAGS_HELP = `testbed:
  --profile NAME|FILE.json   controller profile (default ${'`'}rk3588${'`'}); see 'epfsim profiles'; or
            |FILE.mjs        a profile module, which may bring its own alignAddr(pciAddr, size)
  --strategy NAME|FILE.mjs   ${STRATEGY_NAMES.join(' | ')} (default mem-map), or a module exporting your
                             own map loop { name, transfer(epc, pciAddr, buf, direction) }
  --placement NAME           ${WORKLOAD_PLACEMENTS.join(' | ')} (default adversarial; '${INVALID_PLACEMENT}',
                             which breaks rules on purpose, is for 'epfsim fuzz')
  --seed N                   seed of every random choice (default 1)
  --ns-size SIZE             namespace size (default 1g)
  --block-size 512|4096      logical block size (default 512)
  --backend ram|null|FILE    where the namespace keeps its data (default ram): null keeps none, a file
                             path keeps it across runs (created if missing, extended to --ns-size);
                             Flush and FUA writes reach the disk (fdatasync) before they complete
  --target epfsim|qemu       the controller to drive: epfsim (default, the in-process function on the
                             profile's EPC) or qemu (QEMU 7.2's NVMe controller over qtest; needs
                             qemu-system-x86_64; placements stay in its 240 MiB of guest RAM, and the
                             EPC checks are not applicable)
  --inject NAME              inject a named fault of the catalogue (docs/faults.md), each modelling a
                             bug fixed upstream in the Linux NVMe endpoint function or the DWC
                             endpoint driver; repeatable (epfsim target only)`;

/** The flags' choice of target, profile, strategy, placement and namespace. */
export type TestbedChoice = TargetChoice;

/** The backends named by a word; anything else is a file path (`./ram` for a file called ram). */
const NAMED_BACKENDS = ['ram', 'null'] as const;

/** --backend: a named backend, or a file that can be opened for reading and writing. */
export function parseBackend(text: string): NamespaceBackendConfig {
  if (text === 'ram' || text === 'null') return { kind: text };
  if (text === '') throw new UsageError(`--backend: give ${NAMED_BACKENDS.join(', ')} or a file path`);
  try {
    if (statSync(text, { throwIfNoEntry: false })?.isDirectory() === true)
      throw new UsageError(`--backend: ${text} is a directory; give a file path`);
    closeSync(openSync(text, 'a+'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--backend: cannot open ${text}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return { kind: 'file', path: text };
}

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
  if (values.backend !== undefined && target !== 'epfsim')
    throw new UsageError(`--backend applies to the epfsim target; QEMU keeps its own disk image`);
  return {
    target,
    ...(faults.length === 0 ? {} : { faults }),
    ...(values.backend === undefined ? {} : { backend: parseBackend(values.backend) }),
    profile: resolveProfile(values.profile ?? TESTBED_DEFAULTS.profile),
    strategy: parseStrategy(values.strategy ?? TESTBED_DEFAULTS.strategy),
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
  onBringUpFailure?: BringUpFailureObserver,
): OpenTestbed {
  if (choice.target !== 'epfsim') throw new UsageError(`--target ${choice.target}: this command drives epfsim only`);
  const { testbed, placement, driver } = openEpfsimTarget(choice, driverOptions, onBringUpFailure);
  return { testbed, placement, driver };
}
