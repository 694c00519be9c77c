import { describe, expect, it } from 'vitest';
import { type BudgetHolder, MemoryBudget } from '../../../src/front/nbd/memory-budget.js';

const STALL_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A holder whose peer last made progress `ago` ms back; records whether it was closed. */
function holder(ago: number): BudgetHolder & { evicted: boolean; woken: number } {
  return {
    budgetHeld: 0,
    lastProgress: performance.now() - ago,
    evicted: false,
    woken: 0,
    wake() {
      this.woken++;
    },
    evict() {
      this.evicted = true;
    },
  };
}

describe('memory budget', () => {
  it('lets a request fit, refuses what does not, and lets one larger than the whole limit pass alone', () => {
    const b = new MemoryBudget(100, STALL_MS);
    const a = holder(0);
    expect(b.tryAcquire(a, 60)).toBe(true);
    expect(b.tryAcquire(a, 50)).toBe(false);
    b.release(a, 60);
    expect(b.used).toBe(0);
    expect(b.tryAcquire(a, 500)).toBe(true);
  });

  it('closes a holder that stalled while another waits, never the waiter the budget holds back', async () => {
    const b = new MemoryBudget(100, STALL_MS);
    const stalled = holder(10_000);
    const waiter = holder(10_000);
    expect(b.tryAcquire(stalled, 90)).toBe(true);
    expect(b.tryAcquire(waiter, 5)).toBe(true);
    expect(b.tryAcquire(waiter, 50)).toBe(false);
    b.wait(waiter);
    await sleep(3 * STALL_MS);
    expect(stalled.evicted).toBe(true);
    expect(waiter.evicted).toBe(false);
    // The stalled holder's close frees its bytes: the waiter is woken to try again.
    b.releaseAll(stalled);
    await sleep(1);
    expect(waiter.woken).toBe(1);
  });

  it('when every holder waits, closes the stalled one holding the most', async () => {
    const b = new MemoryBudget(100, STALL_MS);
    const small = holder(10_000);
    const large = holder(10_000);
    b.tryAcquire(small, 30);
    b.tryAcquire(large, 60);
    for (const h of [small, large]) {
      expect(b.tryAcquire(h, 20)).toBe(false);
      b.wait(h);
    }
    await sleep(3 * STALL_MS);
    expect(large.evicted).toBe(true);
    expect(small.evicted).toBe(false);
    b.releaseAll(large);
    b.releaseAll(small);
  });

  it('closes nobody while a holder that does not wait keeps making progress', async () => {
    const b = new MemoryBudget(100, STALL_MS);
    const busy = holder(0);
    const waiter = holder(10_000);
    b.tryAcquire(busy, 90);
    b.tryAcquire(waiter, 5);
    expect(b.tryAcquire(waiter, 50)).toBe(false);
    b.wait(waiter);
    for (let i = 0; i < 4; i++) {
      (busy as { lastProgress: number }).lastProgress = performance.now();
      await sleep(STALL_MS / 2);
    }
    expect(busy.evicted || waiter.evicted).toBe(false);
    b.releaseAll(busy);
    b.releaseAll(waiter);
  });
});
