/**
 * What the host queue engine needs of the machine it runs on: host memory as the CPU sees it,
 * the controller's BAR0 for doorbells, interrupt counts per vector, and a clock. An epfsim or
 * QEMU target satisfies it as it is; a test's scripted host builds one in a few lines.
 */

/** Host memory, read and written by the host CPU (not the device: no IOMMU check applies). */
export interface HostBusMemory {
  read(addr: bigint, into: Uint8Array): void;
  write(addr: bigint, bytes: Uint8Array): void;
}

/** Interrupts received per vector since the machine started (INTx counts as vector 0 per assertion). */
export interface InterruptCounts {
  count(vector: number): number;
  /** Interrupts on all vectors: an unchanged total means no vector fired. */
  readonly total: number;
}

export interface QueueBus {
  readonly memory: HostBusMemory;
  readonly interrupts: InterruptCounts;
  /** A 32-bit write to the controller's BAR0 (doorbells). */
  mmioWrite32(offset: number, value: number): void;
  /** Milliseconds on the machine's clock, for timestamps and coalescing time limits. */
  now(): number;
  /**
   * How long after an entry is visible its interrupt may still arrive (ms): 0 for a controller that
   * raises as it posts; more for one whose messages are collected asynchronously (QEMU over qtest).
   */
  readonly interruptLatencyMs?: number;
}
