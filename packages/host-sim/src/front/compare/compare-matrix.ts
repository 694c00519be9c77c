/**
 * What `epfsim compare` runs: the same seeded workloads, under the same host placements, on every
 * controller profile with every transfer strategy. One cell is one (profile, strategy, placement,
 * workload); every cell runs on a fresh testbed, so cells never influence each other.
 */
import { type EpcProfile, findProfile, PROFILE_NAMES, STRATEGY_NAMES } from '@epfsim/epc-core';
import type { PlacementName } from '../../host/placement/placement-factory.js';
import type { RwMode } from '../../runs/workload/rw-mode.js';

const KIB = 1024;

/** One workload of the matrix, in fio's terms. */
export interface CompareWorkload {
  /** Short label, e.g. `4k-randread`. */
  readonly name: string;
  readonly rw: RwMode;
  /** Bytes per I/O. */
  readonly blockSize: number;
}

/** 4 KiB random and 128 KiB sequential, reads and writes: the small-I/O and the large-transfer case. */
export const COMPARE_WORKLOADS: readonly CompareWorkload[] = [
  { name: '4k-randread', rw: 'randread', blockSize: 4 * KIB },
  { name: '4k-randwrite', rw: 'randwrite', blockSize: 4 * KIB },
  { name: '128k-read', rw: 'read', blockSize: 128 * KIB },
  { name: '128k-write', rw: 'write', blockSize: 128 * KIB },
];

/** How a real Linux host lays out buffers, and every legal placement including the hostile ones. */
export const COMPARE_PLACEMENTS = ['linux', 'adversarial'] as const satisfies readonly PlacementName[];
export type ComparePlacement = (typeof COMPARE_PLACEMENTS)[number];

/** I/Os per workload cell by default: enough for every placement shape to come up, a minute or two in all. */
export const DEFAULT_IOS = 500;
/** `--quick`: fewer I/Os on the profiles that tell the story (ideal, DWC, RK3399, the tiny stress one). */
export const QUICK_IOS = 64;
export const QUICK_PROFILES: readonly string[] = ['generic', 'dwc', 'rk3399', 'stress'];
/** Commands in flight, as `epfsim run` issues them by default. */
export const COMPARE_IODEPTH = 32;
/** Bytes of the namespace region the workloads use (128 KiB × 500 sequential I/Os fit without wrapping). */
export const COMPARE_REGION_BYTES = 64 * KIB * KIB;
export const DEFAULT_SEED = 1;

export interface CompareMatrix {
  readonly profiles: readonly EpcProfile[];
  readonly strategies: readonly string[];
  readonly placements: readonly ComparePlacement[];
  readonly workloads: readonly CompareWorkload[];
  /** I/Os per cell. */
  readonly ios: number;
  readonly seed: number;
}

/** One run of the matrix. */
export interface CompareCell {
  readonly profile: EpcProfile;
  readonly strategy: string;
  readonly placement: ComparePlacement;
  readonly workload: CompareWorkload;
}

function builtin(name: string): EpcProfile {
  const profile = findProfile(name);
  if (profile === undefined) throw new RangeError(`no built-in profile ${name}`);
  return profile;
}

/** The full matrix, or the reduced `--quick` one; the caller may narrow profiles and strategies. */
export function compareMatrix(
  options: {
    readonly quick?: boolean;
    readonly profiles?: readonly EpcProfile[];
    readonly strategies?: readonly string[];
    readonly ios?: number;
    readonly seed?: number;
  } = {},
): CompareMatrix {
  const quick = options.quick ?? false;
  return {
    profiles: options.profiles ?? (quick ? QUICK_PROFILES : PROFILE_NAMES).map(builtin),
    strategies: options.strategies ?? STRATEGY_NAMES,
    placements: COMPARE_PLACEMENTS,
    workloads: COMPARE_WORKLOADS,
    ios: options.ios ?? (quick ? QUICK_IOS : DEFAULT_IOS),
    seed: options.seed ?? DEFAULT_SEED,
  };
}

/** Every cell, profile by profile (the order the tables print in). */
export function matrixCells(matrix: CompareMatrix): CompareCell[] {
  const cells: CompareCell[] = [];
  for (const profile of matrix.profiles)
    for (const strategy of matrix.strategies)
      for (const placement of matrix.placements)
        for (const workload of matrix.workloads) cells.push({ profile, strategy, placement, workload });
  return cells;
}
