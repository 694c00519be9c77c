/**
 * Opening a target by name: the in-process epfsim function on a simulated EPC, or QEMU's NVMe
 * controller over qtest, each with the host driver brought up on the chosen placement. Commands
 * (`run`, …) open one here instead of asking which kind they have; what only the in-process
 * target can offer (the EPC, its counters and checks) comes as the optional `testbed`.
 */
import type { EpcProfile } from '@epfsim/epc-core';
import type { NamespaceBackendConfig } from '@epfsim/nvme-epf';
import type { NvmeDriverOptions } from '../host/driver/driver-options.js';
import { NvmeDriver } from '../host/driver/nvme-driver.js';
import type { HostMemory } from '../host/memory/host-memory.js';
import type { PlacementPolicy } from '../host/placement/layout.js';
import { createPlacement, type PlacementName } from '../host/placement/placement-factory.js';
import { avoidingQemuQuirks } from '../host/placement/qemu-quirks.js';
import { createTestbed, type Testbed } from '../host/target/epfsim-target.js';
import type { NvmeTarget } from '../host/target/target.js';
import { QEMU_DEFAULTS, QemuTarget } from './qemu/qemu-target.js';

/** The controllers a host can drive. */
export const TARGET_KINDS = ['epfsim', 'qemu'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** What to open: the target, and for epfsim its EPC profile and strategy; the namespace and placement for both. */
export interface TargetChoice {
  readonly target: TargetKind;
  /** The EPC profile (epfsim only; QEMU has no EPC). */
  readonly profile: EpcProfile;
  /** The transfer strategy (epfsim only). */
  readonly strategy: string;
  /** A user's NVMe function module by key (epfsim only), instead of nvme-epf. */
  readonly implementation?: string;
  readonly placement: PlacementName;
  readonly seed: number;
  readonly namespaceBytes: number;
  readonly blockSize: 512 | 4096;
  /** Named faults injected into the function and the EPC (docs/faults.md); epfsim only. */
  readonly faults?: readonly string[];
  /** Where the namespace keeps its data (epfsim only): RAM (the default), nothing, or a file. */
  readonly backend?: NamespaceBackendConfig;
}

/** A target with its host driver up. */
export interface OpenTarget {
  readonly kind: TargetKind;
  readonly target: NvmeTarget;
  readonly memory: HostMemory;
  readonly placement: PlacementPolicy;
  readonly driver: NvmeDriver;
  /** The in-process testbed (EPC, function, host memory with grants): epfsim only. */
  readonly testbed?: Testbed;
  /** Releases the target (stops QEMU); safe to call twice. */
  close(): void;
}

export type DriverSetup = Omit<NvmeDriverOptions, 'placement' | 'seed'>;

/**
 * Told the in-process testbed whose bring-up failed, before it is closed: the function's account
 * of why (function-account.ts) is read here.
 */
export type BringUpFailureObserver = (testbed: Testbed) => void;

/**
 * Opens the chosen target and brings the host driver up on it. QEMU is started first (hence
 * async) and always stopped again when bring-up fails.
 */
export async function openTarget(
  choice: TargetChoice,
  driverOptions: DriverSetup = {},
  onBringUpFailure?: BringUpFailureObserver,
): Promise<OpenTarget> {
  return choice.target === 'qemu'
    ? openQemu(choice, driverOptions)
    : openEpfsimTarget(choice, driverOptions, onBringUpFailure);
}

/** The in-process testbed for a choice: the function on the profile's EPC, one namespace (RAM unless chosen). */
export function epfsimTestbed(
  choice: Pick<
    TargetChoice,
    'profile' | 'strategy' | 'namespaceBytes' | 'blockSize' | 'faults' | 'backend' | 'implementation'
  >,
): Testbed {
  return createTestbed({
    profile: choice.profile,
    ...(choice.implementation === undefined ? {} : { implementation: choice.implementation }),
    ...(choice.faults === undefined ? {} : { faults: choice.faults }),
    function: {
      strategy: choice.strategy,
      namespaces: [
        {
          blockSize: choice.blockSize,
          blocks: choice.namespaceBytes / choice.blockSize,
          backend: choice.backend ?? { kind: 'ram' },
        },
      ],
    },
  });
}

/**
 * The host driver brought up on `testbed` with the chosen placement. Callers that watch the EPC
 * from the first access (compare) attach to the testbed before calling this.
 */
export function bringUpDriver(
  testbed: Testbed,
  choice: Pick<TargetChoice, 'placement' | 'seed' | 'profile'>,
  driverOptions: DriverSetup = {},
): { readonly placement: PlacementPolicy; readonly driver: NvmeDriver } {
  const placement = createPlacement(choice.placement, testbed.memory, { seed: choice.seed, profile: choice.profile });
  const driver = new NvmeDriver(testbed.target, { ...driverOptions, placement, seed: choice.seed });
  driver.init();
  return { placement, driver };
}

/** {@link openTarget} for epfsim, which needs no waiting. */
export function openEpfsimTarget(
  choice: TargetChoice,
  driverOptions: DriverSetup = {},
  onBringUpFailure?: BringUpFailureObserver,
): OpenTarget & { testbed: Testbed } {
  const testbed = epfsimTestbed(choice);
  try {
    const { placement, driver } = bringUpDriver(testbed, choice, driverOptions);
    return {
      kind: 'epfsim',
      target: testbed.target,
      memory: testbed.memory,
      placement,
      driver,
      testbed,
      close: () => {},
    };
  } catch (error) {
    onBringUpFailure?.(testbed);
    testbed.close();
    throw error;
  }
}

async function openQemu(choice: TargetChoice, driverOptions: DriverSetup): Promise<OpenTarget> {
  const target = await QemuTarget.start({
    diskBytes: choice.namespaceBytes,
    blockSize: choice.blockSize,
    // QEMU allocates exactly max_ioqpairs: offer what the host asks for, at least QEMU's default.
    maxIoQueuePairs: Math.max(QEMU_DEFAULTS.maxIoQueuePairs, driverOptions.ioQueues ?? 0),
  });
  try {
    // Guest RAM is all the host has: the placement keeps inside it (its edges, not 4 GiB's or 2^64's),
    // and off the valid layouts QEMU is documented to mishandle.
    const placement = avoidingQemuQuirks(
      createPlacement(choice.placement, target.memory, { seed: choice.seed, ram: target.memory.usable }),
    );
    const driver = new NvmeDriver(target, { ...driverOptions, placement, seed: choice.seed });
    driver.init();
    return { kind: 'qemu', target, memory: target.memory, placement, driver, close: () => target.close() };
  } catch (error) {
    target.close();
    throw error;
  }
}
