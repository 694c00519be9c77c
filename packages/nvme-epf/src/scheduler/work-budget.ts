/**
 * How much one poll may do (NVMe Base 1.4 §4.13 leaves the work of an arbitration round to the
 * controller). Work is measured in bytes moved to and from the host, a fixed cost per host access
 * and per command, and what handlers charge for backend work that moves no host bytes.
 */
import type { Epc } from '@epfsim/epc-core';

const KIB = 1024;
const MIB = 1024 * KIB;
/**
 * Work one poll may do: once it is spent, the arbitration round stops after the running command
 * and resumes at the next SQ on the next poll. 4 MiB holds a whole default round of small I/Os
 * (64 queues × a burst of 8 × 4 KiB is about 3.9 MiB by this measure), and is at most about 20 ms
 * of the slowest work measured (the pieces of a 256 MiB transfer); a host can make a poll slower
 * only by one command on top of it (bench figure 11 measures the longest poll).
 */
export const POLL_WORK_BUDGET = 4 * MIB;
/** Work charged per command: fetch, decode, completion. */
export const COMMAND_WORK = 1 * KIB;
/** Work charged per host access (a map and unmap, a map_addr, a DMA transfer): its fixed cost. */
const HOST_ACCESS_WORK = 2 * KIB;

/** What handlers see of the budget: what is left, and a way to charge work that moves no host bytes. */
export interface WorkAccount {
  /** Work this poll may still do (≤ 0: the round stops after the running command). */
  readonly workLeft: number;
  /** Charges backend work that moves no host bytes (Verify reads, zeroing, deallocation). */
  chargeWork(bytes: number): void;
}

export class WorkBudget implements WorkAccount {
  readonly #epc: Epc;
  /** Work charged by hand, by earlier polls and this one. */
  #charged = 0;
  /** {@link #meter} when the poll started. */
  #pollStart = 0;

  constructor(epc: Epc) {
    this.#epc = epc;
  }

  /** Starts a poll's budget. */
  startPoll(): void {
    this.#pollStart = this.#meter();
  }

  get workLeft(): number {
    return POLL_WORK_BUDGET - (this.#meter() - this.#pollStart);
  }

  chargeWork(bytes: number): void {
    this.#charged += bytes;
  }

  #meter(): number {
    const c = this.#epc.counters;
    return (
      c.bytesFromHost +
      c.bytesToHost +
      (c.memMapCalls + c.mapAddrCalls + c.dmaTransfers) * HOST_ACCESS_WORK +
      this.#charged
    );
  }
}
