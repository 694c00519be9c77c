/**
 * What a fuzz campaign fixes for its cases (the controller, its namespace, the placement policy),
 * and what follows from it: the case file's controller configuration, interrupt vectors, the
 * largest command, whether the host-protocol actions apply.
 */
import { isDeepStrictEqual } from 'node:util';
import { type EpcProfile, findProfile } from '@epfsim/epc-core';
import { type NvmeFunctionConfigInput, resolveConfig } from '@epfsim/nvme-epf';
import type { HostRange } from '../../host/memory/host-range.js';
import type { PlacementName } from '../../host/placement/placement-factory.js';
import type { CaseFile } from '../case-file/case-file.js';
import { MSI_MAX_VECTORS, RING_REGION_BYTES } from './fuzz-constants.js';
import type { CaseBehaviour } from './qemu-expectations.js';

/** What a campaign fixes for its cases: the controller, the namespace and the placement policy. */
export interface FuzzTarget {
  readonly profile: EpcProfile;
  readonly placement: PlacementName;
  /** A built-in strategy's name, or a registered strategy module's key. */
  readonly strategy: string;
  /** A user's NVMe function module by key, instead of nvme-epf (the case file's `controller.module`). */
  readonly implementation?: string;
  readonly blockSize: 512 | 4096;
  /** Namespace size in blocks. */
  readonly blocks: number;
  /**
   * Controller settings beyond strategy and namespace (MDTS, queue limits, behaviour options):
   * for QEMU, a function configured like QEMU's controller. Default: the function's defaults.
   */
  readonly controller?: FuzzControllerSettings;
  /**
   * The only host RAM the target has (QEMU's guest RAM): rings and every placement stay inside
   * it. Default: the whole 64-bit space.
   */
  readonly ram?: HostRange;
  /** Whose behaviour the expectations follow (default the specification). */
  readonly behaviour?: CaseBehaviour;
  /** Named faults injected into the controller (docs/faults.md). */
  readonly inject?: readonly string[];
  /** Host-protocol actions beside placed I/O (default true); false: placed I/O and Identify only. */
  readonly protocol?: boolean;
  /**
   * Commands that touch the same blocks never share a batch (default false: they may, and the
   * model leaves what such a batch makes of them unchecked). A differential run needs it: it
   * compares every byte read and the namespace left, which commands in flight together leave
   * undefined.
   */
  readonly ordered?: boolean;
}

/** What {@link FuzzTarget.controller} may set. */
export type FuzzControllerSettings = Readonly<Omit<NvmeFunctionConfigInput, 'strategy' | 'namespaces' | 'now'>>;

/** The controller configuration of a target, as a case file records it. */
export function fuzzController(target: FuzzTarget): Record<string, unknown> {
  return {
    ...target.controller,
    ...(target.implementation === undefined ? {} : { module: target.implementation }),
    strategy: target.strategy,
    namespaces: [{ blockSize: target.blockSize, blocks: target.blocks, backend: { kind: 'ram' } }],
  };
}

/** Where the rings and the placement go in a target's bounded RAM. */
export function splitRam(ram: HostRange): { rings: HostRange; placement: HostRange } {
  if (ram.size <= 2 * RING_REGION_BYTES) throw new RangeError(`fuzz: ${ram.size} bytes of RAM are too few`);
  return {
    rings: { addr: ram.addr, size: RING_REGION_BYTES },
    placement: { addr: ram.addr + BigInt(RING_REGION_BYTES), size: ram.size - RING_REGION_BYTES },
  };
}

/** A built-in profile by name (as a user would write it), any other profile inline. */
export function caseProfile(profile: EpcProfile): CaseFile['profile'] {
  const builtin = findProfile(profile.name);
  return builtin !== undefined && isDeepStrictEqual(builtin, profile)
    ? profile.name
    : (JSON.parse(JSON.stringify(profile)) as Record<string, unknown>);
}

/** Largest block count one data command moves on `target` (MDTS over the block size). */
export function maxBlocks(target: FuzzTarget): number {
  const mdts = resolveConfig(fuzzController(target)).mdtsBytes;
  return mdts === 0 ? 256 : Math.max(1, mdts / target.blockSize);
}

/** Whether the target's behaviour is the specification's, so the whole host-protocol vocabulary applies. */
export function protocolActions(target: FuzzTarget): boolean {
  // QEMU (bounded guest RAM, or its own behaviour) is compared on placed I/O only.
  return target.protocol !== false && (target.behaviour ?? 'spec') === 'spec' && target.ram === undefined;
}

/** Interrupt vectors the function offers on this target: its MSI-X table, else its MSI messages, else INTx's one. */
export function functionVectors(target: FuzzTarget): number {
  const config = resolveConfig(fuzzController(target));
  const irq = target.profile.irq;
  if (config.irq === 'msix' && irq.msix) return config.msixVectors;
  if (config.irq !== 'intx' && irq.msi)
    return Math.min(MSI_MAX_VECTORS, 2 ** Math.ceil(Math.log2(config.maxIoQueues + 1)));
  return 1;
}
