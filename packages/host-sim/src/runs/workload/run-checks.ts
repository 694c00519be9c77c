/**
 * The checks a run passes or fails besides its figures: data verification, I/O errors, isolation
 * (no device access outside the host's grants), bus faults, the host driver's protocol checks,
 * the EPC map contract, and mappings left behind (before and after shutdown).
 */
import { EpcContractError, hex } from '@epfsim/epc-core';
import type { NvmeDriver } from '../../host/driver/nvme-driver.js';
import { isNvmeDriverError } from '../../host/errors.js';
import type { Testbed } from '../../host/target/epfsim-target.js';
import type { WorkloadResult } from './workload-result.js';

export const CHECK_NAMES = [
  'completed',
  'verify',
  'io-errors',
  'isolation',
  'bus-faults',
  'protocol',
  'timeouts',
  'epc-contract',
  'leaks',
  'maps-after-shutdown',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface RunCheck {
  readonly name: CheckName;
  /** True when it passed, or when it does not apply to the target (see {@link RunCheck.applicable}). */
  readonly passed: boolean;
  /** One line: what was counted, and the first offender when it failed. */
  readonly detail: string;
  /** False when the target cannot be checked this way (QEMU has no EPC and no IOMMU); absent: it applies. */
  readonly applicable?: false;
}

/** Checks that need the in-process host and EPC (grants, bus faults, the map contract, mappings). */
const IN_PROCESS_CHECKS: readonly CheckName[] = [
  'isolation',
  'bus-faults',
  'epc-contract',
  'leaks',
  'maps-after-shutdown',
];

/** What the testbed looked like around shutdown, gathered by the caller in order. */
export interface ShutdownObservation {
  /** Data mappings still live after the run, before shutdown (the function's persistent CQ maps allowed). */
  readonly leaksBeforeShutdown: number;
  /** Every mapping still live after shutdown. */
  readonly mapsAfterShutdown: number;
  /** Why shutdown failed, when it did. */
  readonly shutdownError?: string;
}

/** Live maps other than the function's persistent ones, without the strict EPC's throw. */
export function countLeaks(testbed: Testbed): number {
  try {
    return testbed.leaks();
  } catch (e) {
    if (!(e instanceof EpcContractError)) throw e;
    const persistent = testbed.fn.persistentMaps();
    return testbed.epc.liveMaps.filter((m) => !persistent.has(m)).length;
  }
}

/**
 * Counts the leaks left by the run, shuts the controller down and counts the maps left after it.
 * A driver or EPC contract error in shutdown is an observation for the checks, not a crash.
 */
export function shutDownObserved(driver: NvmeDriver, testbed: Testbed | undefined): ShutdownObservation {
  const leaksBeforeShutdown = testbed === undefined ? 0 : countLeaks(testbed);
  let shutdownError: string | undefined;
  try {
    driver.shutdown();
  } catch (e) {
    if (!isNvmeDriverError(e) && !(e instanceof EpcContractError)) throw e;
    shutdownError = e.message;
  }
  return {
    leaksBeforeShutdown,
    mapsAfterShutdown: testbed === undefined ? 0 : testbed.epc.liveMaps.length,
    ...(shutdownError === undefined ? {} : { shutdownError }),
  };
}

function check(name: CheckName, passed: boolean, detail: string): RunCheck {
  return { name, passed, detail };
}

/**
 * Every check of a run, in {@link CHECK_NAMES} order. Without a testbed (an external target such as
 * QEMU) the checks that need the in-process host and EPC are reported as not applicable.
 */
export function runChecks(
  testbed: Testbed | undefined,
  driver: NvmeDriver,
  result: WorkloadResult,
  shutdown: ShutdownObservation,
): RunCheck[] {
  const checks = testbed === undefined ? [] : inProcessChecks(testbed, shutdown);
  const list = [...targetChecks(driver, result, shutdown), ...checks];
  if (testbed === undefined) {
    const why = `not applicable: ${driver.target.name} has no in-process EPC or IOMMU to watch`;
    for (const name of IN_PROCESS_CHECKS) list.push({ name, passed: true, detail: why, applicable: false });
  }
  return CHECK_NAMES.map((name) => list.find((c) => c.name === name) as RunCheck);
}

/** The checks any target allows: completion, data, statuses, the driver's protocol checks, timeouts. */
function targetChecks(driver: NvmeDriver, result: WorkloadResult, shutdown: ShutdownObservation): RunCheck[] {
  const v = result.verify;
  const firstMismatch = v.mismatches[0];
  const firstViolation = driver.violations[0];
  const errorStatuses = Object.entries(result.statuses).filter(([status]) => !status.startsWith('0/00h'));
  const verify: RunCheck =
    v.enabled && v.readsChecked === 0
      ? {
          name: 'verify',
          passed: true,
          applicable: false,
          // fio verifies only what it reads; a write-only job here reads nothing back to compare.
          detail:
            'not applicable: the workload read nothing back (0 reads); a mix with reads (--rw rw, randrw) verifies',
        }
      : check(
          'verify',
          v.mismatchedBlocks === 0,
          !v.enabled
            ? 'off'
            : `${v.readsChecked} reads, ${v.bytesCompared} bytes compared (${v.blocksWithData} of ${v.blocksChecked} blocks written before), ` +
                `${v.bytesDiscarded} discarded by bit buckets, ${v.mismatchedBlocks} blocks differ` +
                (firstMismatch === undefined
                  ? ''
                  : `; first: LBA ${firstMismatch.lba} byte ${firstMismatch.byte}: expected ${firstMismatch.expected}, found ${firstMismatch.found}`),
        );
  return [
    check(
      'completed',
      result.end !== 'error' && shutdown.shutdownError === undefined,
      result.error !== undefined
        ? `stopped: ${result.error}`
        : shutdown.shutdownError !== undefined
          ? `shutdown failed: ${shutdown.shutdownError}`
          : `${result.ios} I/Os, ended by ${result.end === 'interrupted' ? 'an interrupt (Ctrl-C): the run so far' : result.end}`,
    ),
    verify,
    check(
      'io-errors',
      result.errors === 0,
      result.errors === 0
        ? 'every command completed successfully'
        : `${result.errors} commands failed: ${errorStatuses.map(([s, n]) => `${n} × ${s}`).join(', ')}`,
    ),
    check(
      'protocol',
      driver.violationCount === 0,
      `${driver.violationCount} protocol violations seen by the host driver` +
        (firstViolation === undefined ? '' : `; first: ${firstViolation.kind}: ${firstViolation.detail}`),
    ),
    check(
      'timeouts',
      driver.stats.timeouts === 0,
      `${driver.stats.timeouts} command timeouts, ${driver.stats.aborts} aborts, ${driver.stats.resets} controller resets`,
    ),
  ];
}

/** The checks only the in-process testbed allows: isolation, bus faults, the EPC map contract, mappings. */
function inProcessChecks(testbed: Testbed, shutdown: ShutdownObservation): RunCheck[] {
  const isolation = testbed.memory.isolationViolationCount;
  const firstIsolation = testbed.memory.isolationViolations[0];
  const busFaults = testbed.epc.counters.busFaults;
  const firstFault = testbed.memory.busFaults[0];
  const contract = testbed.epc.checker.violations.filter((c) => c.kind !== 'leak');
  return [
    check(
      'isolation',
      isolation === 0,
      `${isolation} device accesses outside the host's grants` +
        (firstIsolation === undefined
          ? ''
          : `; first: ${firstIsolation.direction} ${hex(firstIsolation.addr)}+${hex(firstIsolation.size)}`),
    ),
    check(
      'bus-faults',
      busFaults === 0,
      `${busFaults} bus faults` +
        (firstFault === undefined
          ? ''
          : `; first: ${firstFault.direction} ${hex(firstFault.addr)}+${hex(firstFault.size)} (${firstFault.reason})`),
    ),
    check(
      'epc-contract',
      contract.length === 0,
      `${contract.length} EPC map contract violations` +
        (contract[0] === undefined ? '' : `; first: ${contract[0].kind}: ${contract[0].message}`),
    ),
    check('leaks', shutdown.leaksBeforeShutdown === 0, `${shutdown.leaksBeforeShutdown} maps leaked by the function`),
    check(
      'maps-after-shutdown',
      shutdown.mapsAfterShutdown === 0,
      `${shutdown.mapsAfterShutdown} maps live after shutdown`,
    ),
  ];
}
