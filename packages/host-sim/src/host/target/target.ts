/**
 * What the host driver needs from an NVMe controller, whatever it is: the in-process epfsim
 * function on a simulated EPC, or QEMU's NVMe device over qtest. Deliberately small and
 * synchronous: register access on BAR0, host memory, interrupt vectors, and a way to let the
 * device run.
 */
import type { HostMemory } from '../memory/host-memory.js';
import type { InterruptCounter } from '../memory/msi-doorbell.js';

/** How the host takes interrupts from the controller. */
export type InterruptMode = 'msix' | 'msi' | 'intx';

/** A controller the host driver can drive. */
export interface NvmeTarget {
  /** For reports: `epfsim:rk3588/mem-map`, `qemu:7.2`. */
  readonly name: string;
  /** Host memory the controller reaches by DMA. */
  readonly memory: HostMemory;
  /** Interrupts received, per vector (INTx counts as vector 0). */
  readonly interrupts: InterruptCounter;
  /** How long after a CQE is visible its interrupt may still arrive (ms); 0 when the device raises as it posts. */
  readonly interruptLatencyMs?: number;

  /** BAR0 registers (NVMe Base 1.4 §3.1); 64-bit registers are two dword accesses, low first. */
  mmioRead32(offset: number): number;
  mmioWrite32(offset: number, value: number): void;
  mmioRead64(offset: number): bigint;
  mmioWrite64(offset: number, value: bigint): void;

  /**
   * Enables MSI-X with up to `vectors` vectors, each message going to the host's doorbell with
   * data = vector number, unmasked. Returns the vectors enabled; 0 when the function has no MSI-X.
   */
  enableMsix(vectors: number): number;
  /** Masks or unmasks one MSI-X vector (its Vector Control bit). */
  maskMsixVector(vector: number, masked: boolean): void;
  /** Enables MSI with up to `vectors` (rounded down to a power of two); returns the count, 0 without MSI. */
  enableMsi(vectors: number): number;
  /** Enables the INTx pin (counted as vector 0 on each assertion); false when the function has none. */
  enableIntx(): boolean;

  /**
   * The target's time in milliseconds, for timeouts: simulated (advancing with {@link step}) for an
   * in-process device, wall-clock time for an external one.
   */
  now(): number;
  /** Lets the device run one step; returns the work it did (0: idle). */
  step(): number;
  /** Releases the device. */
  close(): void;
}
