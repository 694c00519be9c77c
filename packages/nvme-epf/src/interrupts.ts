/**
 * Interrupts of the function: MSI-X (table and PBA in BAR0, per-vector masking by the host), MSI
 * (INTMS/INTMC masking, NVMe Base 1.4 §3.1.3) and INTx (a level held while any interrupt-enabled
 * CQ has entries the host has not consumed, §7.5.1). The mode is whatever the host enabled in
 * configuration space, preferring MSI-X, then MSI, then INTx, as `nvmet_pci_epf_raise_irq()` falls back.
 *
 * Coalescing (Interrupt Coalescing feature, §5.21.1.8): per vector, an interrupt is raised once
 * THR + 1 completions have aggregated or TIME × 100 µs has passed since the first of them. The
 * admin CQ is never coalesced, and neither is a vector with Coalescing Disable set (§5.21.1.9).
 * TIME = 0 means "no delay" in the specification, so coalescing needs TIME > 0 (the Linux function
 * ignores TIME and uses THR alone; here THR without TIME raises at once, following the text).
 */
import { type Epc, EpcError } from '@epfsim/epc-core';
import { INTERRUPT_COALESCING_TIME_UNIT_US } from '@epfsim/nvme-spec-types';
import type { CompletionQueue } from './queues/completion-queue.js';
import { MSIX_ENTRY_SIZE } from './registers/bar0-layout.js';
import type { FunctionStats } from './stats.js';
import type { TraceRing } from './trace.js';

export type IrqMode = 'msix' | 'msi' | 'intx';

/** The admin CQ's vector: never coalesced. */
const ADMIN_VECTOR = 0;
/** The INTx and single-MSI vector. */
const SINGLE_VECTOR = 0;
/** Bits 1:0 of an MSI/MSI-X message address are reserved: messages are dwords. */
const MESSAGE_ALIGN_MASK = 3;
/** INTMS bit of the INTx/single-vector interrupt. */
const INTX_MASK_BIT = 1;

export class Interrupts {
  readonly #epc: Epc;
  readonly #stats: FunctionStats;
  readonly #trace: TraceRing;
  readonly #now: () => number;
  /** Vectors the function offers (MSI-X table size; MSI and INTx use fewer). */
  readonly vectors: number;
  /** Which modes the EPC profile and the configuration allow. */
  readonly #allowMsix: boolean;
  readonly #allowMsi: boolean;
  /** Interrupt Coalescing: THR (0's based) and TIME (100 µs units). */
  threshold = 0;
  time = 0;
  /** Per vector: Coalescing Disable, aggregated completions, and the deadline (µs; 0 = none). */
  readonly coalescingDisabled: Uint8Array;
  readonly #aggregated: Uint32Array;
  readonly #deadline: Float64Array;
  #armed = 0;
  /** MSI vectors masked by INTMS when they fired, sent when INTMC clears them. */
  #msiPending = 0;
  #intxAsserted = false;

  constructor(
    epc: Epc,
    vectors: number,
    allow: { msix: boolean; msi: boolean },
    stats: FunctionStats,
    trace: TraceRing,
    now: () => number,
  ) {
    this.#epc = epc;
    this.vectors = vectors;
    this.#allowMsix = allow.msix;
    this.#allowMsi = allow.msi;
    this.#stats = stats;
    this.#trace = trace;
    this.#now = now;
    this.coalescingDisabled = new Uint8Array(vectors);
    this.#aggregated = new Uint32Array(vectors);
    this.#deadline = new Float64Array(vectors);
  }

  /** The mode the host has enabled right now. */
  get mode(): IrqMode {
    const c = this.#epc.config;
    if (this.#allowMsix && c.msixEnabled) return 'msix';
    if (this.#allowMsi && c.msiEnabled) return 'msi';
    return 'intx';
  }

  /** Vectors usable in the current mode: Create I/O CQ checks IV against this. */
  get usableVectors(): number {
    const mode = this.mode;
    if (mode === 'msix') return Math.min(this.vectors, this.#epc.config.msixCapable);
    if (mode === 'msi') return Math.max(1, this.#epc.config.msiVectors);
    return 1;
  }

  /** A completion was posted to `cq`: raise now, or aggregate. `intMask` is INTMS. */
  onPosted(cq: CompletionQueue, intMask: number): void {
    if (!cq.ien) return;
    const v = cq.vector;
    if (v >= this.vectors) return;
    const coalesce =
      cq.qid !== 0 && v !== ADMIN_VECTOR && this.coalescingDisabled[v] === 0 && this.threshold > 0 && this.time > 0;
    if (!coalesce) {
      this.raise(v, intMask);
      return;
    }
    const n = (this.#aggregated[v] ?? 0) + 1;
    if (n > this.threshold) {
      this.#aggregated[v] = 0;
      this.#disarm(v);
      this.raise(v, intMask);
      return;
    }
    this.#aggregated[v] = n;
    if (this.#deadline[v] === 0) {
      this.#deadline[v] = this.#now() + this.time * INTERRUPT_COALESCING_TIME_UNIT_US;
      this.#armed++;
    }
  }

  /**
   * The last interrupt-enabled CQ on `vector` was deleted: the completions aggregated there went
   * with it (§5.21.1.8 counts completions of the vector's CQs), so no interrupt is still due.
   */
  dropAggregated(vector: number): void {
    if (vector >= this.vectors) return;
    this.#aggregated[vector] = 0;
    this.#disarm(vector);
  }

  /** Raises the vectors whose aggregation time has run out. Returns how many. */
  tick(intMask: number): number {
    if (this.#armed === 0) return 0;
    const now = this.#now();
    let raised = 0;
    for (let v = 0; v < this.vectors; v++) {
      const deadline = this.#deadline[v] ?? 0;
      if (deadline === 0 || now < deadline) continue;
      this.#aggregated[v] = 0;
      this.#disarm(v);
      this.raise(v, intMask);
      raised++;
    }
    return raised;
  }

  /** Sends one interrupt for `vector` in the current mode. */
  raise(vector: number, intMask: number): void {
    const mode = this.mode;
    if (mode === 'intx') return; // INTx is a level: see updateIntx().
    if (mode === 'msi') {
      const v = vector < this.#epc.config.msiVectors ? vector : SINGLE_VECTOR;
      if ((intMask & (1 << v)) !== 0) {
        this.#msiPending |= 1 << v;
        return;
      }
      this.#send('msi', v);
      return;
    }
    this.#send('msix', vector);
  }

  /** INTMC cleared these mask bits: send the MSIs that fired while they were masked. */
  onUnmasked(bits: number, intMask: number): void {
    const due = this.#msiPending & bits;
    if (due === 0) return;
    this.#msiPending &= ~due;
    for (let v = 0; due >>> v !== 0; v++) if ((due & (1 << v)) !== 0) this.raise(v, intMask);
  }

  /** MSI-X vectors the host unmasked since they fired: the EPC sends their pending messages. */
  deliverPending(): void {
    if (this.mode === 'msix') this.#epc.deliverPendingMsix();
  }

  /** INTx: assert while an interrupt-enabled CQ holds unconsumed entries and INTMS does not mask it. */
  updateIntx(cqs: readonly (CompletionQueue | undefined)[], intMask: number): void {
    let level = false;
    if (this.mode === 'intx' && (intMask & INTX_MASK_BIT) === 0) {
      for (const cq of cqs) {
        if (cq?.ien && cq.unconsumed > 0) {
          level = true;
          break;
        }
      }
    }
    if (level === this.#intxAsserted) return;
    this.#intxAsserted = level;
    if (level) this.#stats.interruptsRaised++;
    this.#epc.setIntx(level);
  }

  /** Controller reset: coalescing back to its defaults, nothing pending, INTx deasserted. */
  reset(): void {
    this.threshold = 0;
    this.time = 0;
    this.coalescingDisabled.fill(0);
    this.#aggregated.fill(0);
    this.#deadline.fill(0);
    this.#armed = 0;
    this.#msiPending = 0;
    if (this.#intxAsserted) {
      this.#intxAsserted = false;
      this.#epc.setIntx(false);
    }
  }

  /** Low dword of the Message Address of MSI-X table entry `vector` (0 when the vector does not exist). */
  #msixAddressLow(vector: number): number {
    const c = this.#epc.config;
    if (vector >= c.msixCapable) return 0;
    return this.#epc.bar(c.msixBar).read32(c.msixTableOffset + vector * MSIX_ENTRY_SIZE);
  }

  #disarm(v: number): void {
    if (this.#deadline[v] !== 0) {
      this.#deadline[v] = 0;
      this.#armed--;
    }
  }

  #send(type: 'msi' | 'msix', vector: number): void {
    // A message address must be dword aligned (PCI Local Bus 3.0 §6.8.1.4, §6.8.2.4: bits 1:0
    // are reserved). A host that programs otherwise gets no interrupt and a trace event.
    const low =
      type === 'msi' ? Number(this.#epc.config.msiAddress & BigInt(MESSAGE_ALIGN_MASK)) : this.#msixAddressLow(vector);
    if ((low & MESSAGE_ALIGN_MASK) !== 0) {
      this.#trace.record({
        kind: 'interrupt-failed',
        message: `${type} vector ${vector}: message address not dword aligned`,
      });
      return;
    }
    const error = this.#epc.raiseIrq(type, vector);
    if (error === null) {
      this.#stats.interruptsRaised++;
      return;
    }
    // EPERM: a masked MSI-X vector; the EPC set its PBA bit and deliverPending() sends it later.
    if (error instanceof EpcError && error.errno === 'EPERM') return;
    this.#trace.record({
      kind: 'interrupt-failed',
      message: `${type} vector ${vector}: ${error.toString()}`,
      ...(error instanceof EpcError ? { epc: error } : {}),
    });
  }
}
