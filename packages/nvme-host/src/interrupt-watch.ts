/**
 * The host's account of interrupts per vector, held against the CQs that may raise them (NVMe
 * Base 1.4 §7.5: MSI-X and multiple-message MSI; §5.21.1.8 Interrupt Coalescing; Q-7). It tells
 * which vectors fired since the last look, and finds the two ways a controller can get interrupts
 * wrong that a host can see:
 * - an interrupt on a vector that no interrupt-enabled CQ uses (a CQ created with IEN = 0 must
 *   never interrupt, Linux fix "clear completion queue IRQ flag on delete");
 * - entries on an interrupt-enabled CQ with no interrupt on its vector: at once without coalescing,
 *   within THR + 1 entries and TIME × 100 µs with it (a lost MSI-X write, DWC "Flush MSI-X write
 *   before unmapping its ATU entry").
 * INTx is a level shared by every CQ, counted per assertion: neither check applies to it.
 */
import { INTERRUPT_COALESCING_TIME_UNIT_US } from '@epfsim/nvme-spec-types';
import type { HostCq } from './host-queues.js';
import type { InterruptCounts } from './queue-bus.js';

/** How the host takes interrupts: what it enabled in configuration space. */
export type HostInterruptMode = 'msix' | 'msi' | 'intx' | 'none';

/** The vector that never coalesces: the admin CQ's (§5.21.1.8). */
const ADMIN_VECTOR = 0;
/** Microseconds per millisecond. */
const US_PER_MS = 1000;
/** Slack on the coalescing time before an interrupt counts as missing: one controller poll and rounding. */
const COALESCING_SLACK_MS = 1;

/** What the watch reports to its engine. */
export interface InterruptFinding {
  readonly kind: 'interrupt-without-cq' | 'missing-interrupt';
  readonly vector: number;
  readonly cq?: number;
  readonly detail: string;
}

export class InterruptWatch {
  private readonly counts: InterruptCounts;
  private readonly now: () => number;
  /** How late an interrupt may follow the entry it announces (ms). */
  private readonly latencyMs: number;
  mode: HostInterruptMode = 'none';
  /** Vectors enabled (MSI-X table entries or MSI messages). */
  vectors = 0;
  /** Interrupt Coalescing feature: THR (0's based) and TIME (100 µs units). */
  private threshold = 0;
  private time = 0;
  /** Vectors with Coalescing Disable set (Interrupt Vector Configuration feature). */
  private readonly coalescingDisabled = new Set<number>();
  /** MSI-X vectors the host masked; MSI vectors masked through INTMS. */
  private readonly masked = new Set<number>();
  /** Vectors that may send one message held while masked. */
  private readonly released = new Set<number>();
  /** Per vector: the count last seen. */
  private seen: number[] = [];
  private seenTotal = -1;
  /** Per vector: entries consumed without an interrupt, and since when (ms). */
  private readonly quiet = new Map<
    number,
    { entries: number; since: number; cq: number; limitMs: number; coalesced: boolean }
  >();
  /** Vectors of CQs removed with entries still owed an interrupt, since the last interrupt on them (it may follow late). */
  private readonly removedSinceIrq = new Set<number>();

  constructor(counts: InterruptCounts, now: () => number, latencyMs = 0) {
    this.counts = counts;
    this.now = now;
    this.latencyMs = latencyMs;
  }

  /** The host enabled `mode` with `vectors` vectors; counting starts now. */
  enable(mode: HostInterruptMode, vectors: number): void {
    this.mode = mode;
    this.vectors = mode === 'none' ? 0 : vectors;
    this.masked.clear();
    this.released.clear();
    this.quiet.clear();
    this.removedSinceIrq.clear();
    this.seen = [];
    for (let v = 0; v < this.vectors; v++) this.seen[v] = this.counts.count(v);
    this.seenTotal = this.counts.total;
  }

  /** A controller reset: features back to their defaults. */
  resetFeatures(): void {
    this.threshold = 0;
    this.time = 0;
    this.coalescingDisabled.clear();
    this.quiet.clear();
  }

  /** The host set Interrupt Coalescing (THR, TIME) successfully. */
  setCoalescing(threshold: number, time: number): void {
    this.threshold = threshold;
    this.time = time;
  }

  /** The host set Interrupt Vector Configuration for `vector` successfully. */
  setCoalescingDisabled(vector: number, disabled: boolean): void {
    if (disabled) this.coalescingDisabled.add(vector);
    else this.coalescingDisabled.delete(vector);
  }

  /** The host masked or unmasked a vector (MSI-X Vector Control, or INTMS/INTMC with MSI). */
  setMasked(vector: number, masked: boolean): void {
    if (masked) {
      this.masked.add(vector);
      return;
    }
    if (this.masked.delete(vector)) this.released.add(vector);
  }

  /** The vector a CQ's interrupts arrive on: MSI folds vectors past the enabled count onto 0. */
  deliveredVector(iv: number): number {
    return this.mode === 'msi' && iv >= this.vectors ? 0 : iv;
  }

  /** The count of `vector` now. */
  count(vector: number): number {
    return this.counts.count(vector);
  }

  /** True when the controller may hold this vector's interrupt back (coalescing, or a mask). */
  private mayHold(vector: number): boolean {
    return this.masked.has(vector) || this.coalesces(vector);
  }

  private coalesces(vector: number): boolean {
    return vector !== ADMIN_VECTOR && this.threshold > 0 && this.time > 0 && !this.coalescingDisabled.has(vector);
  }

  /**
   * An interrupt-enabled CQ went away; `live` are the CQs that stay. Entries on its vector still
   * owed an interrupt (held by coalescing) may get it late, or never once no interrupt-enabled CQ
   * uses the vector: the Linux function frees a vector's state with its last CQ. Neither is wrong.
   */
  noteRemoved(cq: HostCq, live: readonly (HostCq | undefined)[]): void {
    if (cq.vector === undefined) return;
    const vector = this.deliveredVector(cq.vector);
    if (!this.quiet.has(vector)) return;
    this.removedSinceIrq.add(vector);
    const shared = live.some(
      (other) => other !== cq && other?.vector !== undefined && this.deliveredVector(other.vector) === vector,
    );
    if (!shared) this.quiet.delete(vector);
  }

  /**
   * Looks at every vector (when the total moved): calls `fired` for each that fired, and reports an
   * interrupt no live interrupt-enabled CQ explains. `cqs` are the live CQs. Returns whether any fired.
   */
  collect(
    cqs: readonly (HostCq | undefined)[],
    fired: ((vector: number) => void) | undefined,
    report: (f: InterruptFinding) => void,
  ): boolean {
    const total = this.counts.total;
    if (total === this.seenTotal) {
      this.checkQuietTime(report);
      return false;
    }
    this.seenTotal = total;
    let any = false;
    for (let v = 0; v < this.vectors; v++) {
      const count = this.counts.count(v);
      if (count === this.seen[v]) continue;
      this.seen[v] = count;
      any = true;
      this.quiet.delete(v);
      if (this.mode === 'msix' || this.mode === 'msi') this.checkExplained(v, cqs, report);
      this.released.delete(v);
      this.removedSinceIrq.delete(v);
      fired?.(v);
    }
    this.checkQuietTime(report);
    return any;
  }

  private checkExplained(
    vector: number,
    cqs: readonly (HostCq | undefined)[],
    report: (f: InterruptFinding) => void,
  ): void {
    for (const cq of cqs) {
      if (cq?.vector !== undefined && this.deliveredVector(cq.vector) === vector) return;
    }
    // A message held by a mask, or a coalesced interrupt for entries of a CQ deleted since, is late, not wrong.
    if (this.released.has(vector)) return;
    if (this.removedSinceIrq.has(vector)) return;
    report({
      kind: 'interrupt-without-cq',
      vector,
      detail: `interrupt on vector ${vector}, which no interrupt-enabled CQ uses (IEN = 0 CQs must not interrupt)`,
    });
  }

  /**
   * `cq` gave `entries` new entries: they must have been announced by an interrupt on its vector
   * since the CQ was last emptied, unless coalescing or a mask may hold it. Marks the CQ emptied.
   */
  checkAnnounced(cq: HostCq, entries: number, report: (f: InterruptFinding) => void): void {
    const iv = cq.vector;
    if (iv === undefined || (this.mode !== 'msix' && this.mode !== 'msi')) return;
    const vector = this.deliveredVector(iv);
    const count = this.counts.count(vector);
    const announced = count !== cq.irqMark;
    cq.irqMark = count;
    if (entries === 0 || announced || this.masked.has(vector)) return;
    if (!this.mayHold(vector) && this.latencyMs === 0) {
      report({
        kind: 'missing-interrupt',
        vector,
        cq: cq.qid,
        detail: `CQ ${cq.qid}: ${entries} new entries and no interrupt on vector ${vector} (IEN = 1, no coalescing)`,
      });
      return;
    }
    // The limit is set by the settings under which the entries arrived: an interrupt the controller armed then still comes then.
    const coalesced = this.coalesces(vector);
    const limitMs =
      this.latencyMs +
      (coalesced ? (this.time * INTERRUPT_COALESCING_TIME_UNIT_US) / US_PER_MS + COALESCING_SLACK_MS : 0);
    const q = this.quiet.get(vector) ?? { entries: 0, since: this.now(), cq: cq.qid, limitMs, coalesced };
    q.entries += entries;
    this.quiet.set(vector, q);
    if (q.coalesced && coalesced && q.entries > this.threshold + 1) {
      report({
        kind: 'missing-interrupt',
        vector,
        cq: cq.qid,
        detail: `vector ${vector}: ${q.entries} entries without an interrupt, coalescing threshold is ${this.threshold + 1}`,
      });
      this.quiet.delete(vector);
    }
  }

  /** Marks `cq` emptied without looking for entries (it was just created, or the host stopped caring). */
  mark(cq: HostCq): void {
    if (cq.vector !== undefined) cq.irqMark = this.counts.count(this.deliveredVector(cq.vector));
  }

  /** Entries left unannounced longer than coalescing (if any) and the target's latency allow. */
  private checkQuietTime(report: (f: InterruptFinding) => void): void {
    if (this.quiet.size === 0) return;
    const now = this.now();
    for (const [vector, q] of this.quiet) {
      if (this.masked.has(vector)) continue;
      if (now - q.since <= q.limitMs) continue;
      report({
        kind: 'missing-interrupt',
        vector,
        cq: q.cq,
        detail: q.coalesced
          ? `vector ${vector}: ${q.entries} entries waited ${(now - q.since).toFixed(2)} ms for an interrupt, coalescing time is ${this.time * INTERRUPT_COALESCING_TIME_UNIT_US} µs`
          : `CQ ${q.cq}: ${q.entries} new entries and no interrupt on vector ${vector} within ${this.latencyMs} ms (IEN = 1, no coalescing)`,
      });
      this.quiet.delete(vector);
    }
  }
}
