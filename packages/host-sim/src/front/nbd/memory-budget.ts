/**
 * The request data all connections of one server may pin at once, so that no client, and no set
 * of clients, can exhaust the server's memory. A READ holds its length from the moment it is
 * accepted until its reply payload has been handed to the kernel; a WRITE holds its payload as it
 * arrives, until the device has taken it. A request that does not fit waits, and its connection stops
 * reading; while some wait, a connection that holds bytes and has made no progress (read nothing,
 * drained nothing, completed nothing) for the stall timeout is closed: the offender, never the
 * process, and never a client that keeps up.
 */

/** A connection as the budget sees it. */
export interface BudgetHolder {
  /** Bytes this holder has acquired and not released. */
  budgetHeld: number;
  /** When the peer last made progress (performance.now() milliseconds). */
  readonly lastProgress: number;
  /** Bytes were released: try again what waited. */
  wake(): void;
  /** It stalled while holding bytes others wait for: close it. */
  evict(): void;
}

export class MemoryBudget {
  readonly limit: number;
  readonly stallTimeoutMs: number;
  /** Bytes held by all holders. */
  used = 0;
  readonly #holders = new Set<BudgetHolder>();
  readonly #waiters = new Set<BudgetHolder>();
  #wakeScheduled = false;
  #stallTimer: ReturnType<typeof setInterval> | null = null;

  constructor(limit: number, stallTimeoutMs: number) {
    this.limit = limit;
    this.stallTimeoutMs = stallTimeoutMs;
  }

  /**
   * Takes `bytes` for `holder` if they fit; a request larger than the whole limit still passes when
   * nothing else is held, so that it can never wait forever. False: call {@link wait}.
   */
  tryAcquire(holder: BudgetHolder, bytes: number): boolean {
    if (this.used > 0 && this.used + bytes > this.limit) return false;
    this.used += bytes;
    if (holder.budgetHeld === 0) this.#holders.add(holder);
    holder.budgetHeld += bytes;
    return true;
  }

  /** Gives back up to `bytes` of what `holder` holds (nothing once {@link releaseAll} ran). */
  release(holder: BudgetHolder, bytes: number): void {
    const n = Math.min(bytes, holder.budgetHeld);
    if (n <= 0) return;
    holder.budgetHeld -= n;
    this.used -= n;
    if (holder.budgetHeld === 0) this.#holders.delete(holder);
    this.#scheduleWake();
  }

  /** The holder is gone: everything it held is free again, and it waits for nothing. */
  releaseAll(holder: BudgetHolder): void {
    this.#waiters.delete(holder);
    this.release(holder, holder.budgetHeld);
    if (this.#waiters.size === 0) this.#stopStallTimer();
  }

  /** `holder` could not acquire: it is woken after the next release. */
  wait(holder: BudgetHolder): void {
    this.#waiters.add(holder);
    if (this.#stallTimer === null) {
      // Checked a few times per timeout: an offender is closed within 1.5 timeouts of stalling.
      this.#stallTimer = setInterval(() => this.#evictStalled(), this.stallTimeoutMs / 2);
      this.#stallTimer.unref();
    }
  }

  #scheduleWake(): void {
    if (this.#waiters.size === 0 || this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    // After the releasing call returns: a waiter's retry must not run inside another's completion.
    setImmediate(() => {
      this.#wakeScheduled = false;
      // Clients that made progress most recently go first: one that keeps up is not queued behind
      // connections that grabbed bytes and went quiet, each of which would cost a stall timeout.
      const waiters = [...this.#waiters].sort((a, b) => b.lastProgress - a.lastProgress);
      this.#waiters.clear();
      for (const w of waiters) w.wake();
      if (this.#waiters.size === 0) this.#stopStallTimer();
    });
  }

  /**
   * Closes the holders that stalled while others wait. A holder that is itself waiting is held back
   * by the budget, not by its peer, so it goes only when every holder waits (nothing else would
   * free a byte): then the stalled waiter holding the most.
   */
  #evictStalled(): void {
    if (this.#waiters.size === 0) {
      this.#stopStallTimer();
      return;
    }
    const now = performance.now();
    const stalled = [...this.#holders].filter((h) => now - h.lastProgress >= this.stallTimeoutMs);
    const idle = stalled.filter((h) => !this.#waiters.has(h));
    if (idle.length > 0) {
      for (const h of idle) h.evict();
      return;
    }
    if (stalled.length === 0 || [...this.#holders].some((h) => !this.#waiters.has(h))) return;
    const largest = stalled.reduce((a, b) => (b.budgetHeld > a.budgetHeld ? b : a));
    largest.evict();
  }

  #stopStallTimer(): void {
    if (this.#stallTimer === null) return;
    clearInterval(this.#stallTimer);
    this.#stallTimer = null;
  }
}
