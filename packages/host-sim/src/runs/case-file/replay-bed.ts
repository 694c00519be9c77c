/**
 * What a case replays on: a target with its host memory and the checks only an in-process host can make, and the testbed a case asks for.
 */
import {
  type BusFault,
  EpcConfigError,
  type EpcProfile,
  findProfile,
  PROFILE_NAMES,
  parseProfile,
} from '@epfsim/epc-core';
import { isNvmeConfigError, type NvmeFunctionConfigInput } from '@epfsim/nvme-epf';
import { HostSimConfigError } from '../../host/errors.js';
import type { HostMemory } from '../../host/memory/host-memory.js';
import { createTestbed, type Testbed } from '../../host/target/epfsim-target.js';
import type { NvmeTarget } from '../../host/target/target.js';
import type { CaseFile } from './case-file.js';
import { ShapeError } from './json-shape.js';

/** Host memory a replay places the case in; it must tell whether a range is all RAM. */
export interface ReplayMemory extends HostMemory {
  isRam(addr: bigint, size: number): boolean;
}

/**
 * What a replay drives: a target and its host memory, and the checks only an in-process host can
 * make. A target without them (QEMU: no IOMMU, no view of refused accesses, no EPC) leaves them
 * out and those checks are not applicable.
 */
export interface ReplayBed {
  readonly target: NvmeTarget;
  readonly memory: ReplayMemory;
  /** Device accesses refused so far: how many, and the log of the first ones. */
  readonly faults?: { readonly count: () => number; readonly log: () => readonly BusFault[] };
  /** Interrupt messages that did not match an enabled vector. */
  readonly malformedInterrupts?: () => readonly { addr: bigint; size: number; data: number }[];
  /** The endpoint controller's map contract. */
  readonly epc?: {
    /** Maps live beyond the function's persistent ones. */
    leaks(): number;
    violations(): readonly { kind: string; message: string }[];
    liveMaps(): number;
  };
}

/** A replay bed over the in-process testbed: every check applies. */
export function testbedReplayBed(tb: Testbed): ReplayBed {
  return {
    target: tb.target,
    memory: tb.memory,
    faults: { count: () => tb.memory.space.faultCount, log: () => tb.memory.busFaults },
    malformedInterrupts: () => tb.doorbell.malformed,
    epc: {
      leaks: () => tb.leaks(),
      violations: () => tb.epc.checker.violations,
      liveMaps: () => tb.epc.liveMaps.length,
    },
  };
}

/** The in-process testbed a case asks for. */
export function openCaseTestbed(c: CaseFile): Testbed {
  const profile = caseProfile(c.profile);
  try {
    // Not strict: a leak is reported by the replay, not thrown from inside the function.
    const { module, ...config } = c.controller;
    return createTestbed({
      profile,
      strict: false,
      function: config as NvmeFunctionConfigInput,
      faults: c.inject,
      ...(typeof module === 'string' ? { implementation: module } : {}),
    });
  } catch (error) {
    if (isNvmeConfigError(error)) {
      throw new ShapeError(`case.controller.${error.field}`, error.message.slice(error.field.length + 2));
    }
    if (error instanceof HostSimConfigError)
      throw new ShapeError(error.code === 'BAD_MODULE' ? 'case.controller.module' : 'case.inject', error.message);
    throw error;
  }
}

/** A built-in profile by name, or an inline profile object (validated like a profile file). */
export function caseProfile(profile: CaseFile['profile']): EpcProfile {
  if (typeof profile !== 'string') {
    try {
      return parseProfile(profile, 'case.profile');
    } catch (error) {
      if (error instanceof EpcConfigError) throw new ShapeError('case.profile', error.message);
      throw error;
    }
  }
  const found = findProfile(profile);
  if (found === undefined) {
    throw new ShapeError('case.profile', `unknown profile '${profile}' (built-in: ${PROFILE_NAMES.join(', ')})`);
  }
  return found;
}
