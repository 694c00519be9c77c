/**
 * Watches one testbed's EPC through its transfer observer: every failed access (with where it sat)
 * and, once the workload starts, the map calls, ATU programs, partial maps and bytes of each
 * command. A transfer is charged to the command the function is executing, which is the one after
 * the last it completed: the function runs one command at a time and posts its completion last, so
 * a command's SQE-fetch share, list reads, data and completion post all land on it.
 */
import type { EpcCounters, EpcError, TransferDirection } from '@epfsim/epc-core';
import type { Testbed } from '../../host/target/epfsim-target.js';
import { type AccessPhase, describeFailedAccess, type FailedAccess } from './failed-access.js';

/** Failed accesses kept as examples per cell (all of them are counted). */
export const FAILED_ACCESS_SAMPLES = 32;

/** What the workload's commands cost, summed over them. */
export interface CommandCosts {
  /** Commands the figures cover. */
  readonly commands: number;
  /** `pci_epc_mem_map()` plus `pci_epc_map_addr()` calls. */
  readonly mapCalls: number;
  readonly atuPrograms: number;
  readonly partialMaps: number;
  /** Bytes moved to and from host memory (queue entries and lists included). */
  readonly bytes: number;
}

export interface FailedAccessSummary {
  readonly total: number;
  /** Failed accesses whose start the controller's align_addr would move (not aligned as it needs). */
  readonly unalignedStart: number;
  /** Failed accesses no single map can cover on this controller. */
  readonly crossesMapLimit: number;
  readonly byErrno: Readonly<Record<string, number>>;
  /** Every failed access, counted by where it sat (start alignment, largest edge crossed). */
  readonly positions: readonly AccessPosition[];
  /** The first {@link FAILED_ACCESS_SAMPLES}. */
  readonly samples: readonly FailedAccess[];
}

/** How many failed accesses had this start alignment and crossed this edge. */
export interface AccessPosition {
  readonly startAlign: number;
  readonly block: number;
  readonly count: number;
}

function mapCallsOf(c: EpcCounters): number {
  return c.memMapCalls + c.mapAddrCalls;
}

export class TransferRecorder {
  readonly #testbed: Testbed;
  #phase: AccessPhase = 'bring-up';
  #base = 0;
  #limit = 0;
  #perCommand: number[] = [];
  #last = { mapCalls: 0, atuPrograms: 0, partialMaps: 0, bytes: 0 };
  #totals = { mapCalls: 0, atuPrograms: 0, partialMaps: 0, bytes: 0 };
  #failed = 0;
  #unaligned = 0;
  #crossing = 0;
  readonly #byErrno: Record<string, number> = {};
  readonly #samples: FailedAccess[] = [];
  /** Counts by `startAlign:block`. */
  readonly #positions = new Map<string, AccessPosition>();

  /** Starts watching `testbed`'s EPC (before bring-up, so its failures are seen too). */
  constructor(testbed: Testbed) {
    this.#testbed = testbed;
    testbed.epc.transferObserver = (pciAddr, size, direction, error) =>
      this.#onTransfer(pciAddr, size, direction, error);
  }

  /** The workload begins: charge costs to its first `commands` commands from now on. */
  startWorkload(commands: number): void {
    this.#phase = 'workload';
    this.#base = this.#testbed.fn.stats.commandsCompleted;
    this.#limit = commands;
    this.#perCommand = new Array<number>(commands).fill(0);
    this.#last = this.#snapshot();
  }

  /** Stops watching. */
  detach(): void {
    this.#testbed.epc.transferObserver = null;
  }

  /** Map calls of each of the first `commands` workload commands. */
  mapCallsPerCommand(commands: number): number[] {
    return this.#perCommand.slice(0, Math.min(commands, this.#perCommand.length));
  }

  costs(commands: number): CommandCosts {
    return { commands, ...this.#totals };
  }

  failedAccesses(): FailedAccessSummary {
    return {
      total: this.#failed,
      unalignedStart: this.#unaligned,
      crossesMapLimit: this.#crossing,
      byErrno: { ...this.#byErrno },
      positions: [...this.#positions.values()],
      samples: [...this.#samples],
    };
  }

  #snapshot(): { mapCalls: number; atuPrograms: number; partialMaps: number; bytes: number } {
    const c = this.#testbed.epc.counters;
    return {
      mapCalls: mapCallsOf(c),
      atuPrograms: c.atuPrograms,
      partialMaps: c.partialMaps,
      bytes: c.bytesFromHost + c.bytesToHost,
    };
  }

  #onTransfer(pciAddr: bigint, size: number, direction: TransferDirection, error: EpcError | null): void {
    if (error !== null) this.#recordFailure(pciAddr, size, direction, error);
    if (this.#phase !== 'workload') return;
    const now = this.#snapshot();
    const index = this.#testbed.fn.stats.commandsCompleted - this.#base;
    // Past the workload's commands: the shutdown's queue deletions, not part of the comparison.
    if (index < this.#limit) {
      const calls = now.mapCalls - this.#last.mapCalls;
      this.#perCommand[index] = (this.#perCommand[index] ?? 0) + calls;
      this.#totals.mapCalls += calls;
      this.#totals.atuPrograms += now.atuPrograms - this.#last.atuPrograms;
      this.#totals.partialMaps += now.partialMaps - this.#last.partialMaps;
      this.#totals.bytes += now.bytes - this.#last.bytes;
    }
    this.#last = now;
  }

  #recordFailure(pciAddr: bigint, size: number, direction: TransferDirection, error: EpcError): void {
    const access = describeFailedAccess(this.#testbed.epc, pciAddr, size, direction, error.errno, this.#phase);
    this.#failed++;
    if (access.controllerOffset > 0) this.#unaligned++;
    if (access.mapsNeeded > 1) this.#crossing++;
    this.#byErrno[access.errno] = (this.#byErrno[access.errno] ?? 0) + 1;
    if (this.#samples.length < FAILED_ACCESS_SAMPLES) this.#samples.push(access);
    const key = `${access.startAlign}:${access.block}`;
    const seen = this.#positions.get(key);
    this.#positions.set(key, {
      startAlign: access.startAlign,
      block: access.block,
      count: (seen?.count ?? 0) + 1,
    });
  }
}
