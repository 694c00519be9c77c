/**
 * Promises over the host driver's submit-then-step model, for the NBD front end. Commands are
 * submitted as requests arrive; the simulated device is stepped once the event loop has handed
 * over every request that came in (one setImmediate per batch, not per command), so the NBD
 * requests in flight are NVMe commands in flight together; each promise settles when the
 * command's CQE is reaped. An I/O queue admits at most its depth − 1 commands (a ring of N
 * entries holds N − 1); later ones wait their turn in order.
 */
import type { NvmeDriver } from '../../host/driver/nvme-driver.js';
import type { PendingCommand } from '../../host/driver/pending-command.js';

/** Wall-clock time the device is stepped before the event loop gets a turn (new requests, replies, signals). */
const STEP_BUDGET_MS = 5;
/** Steps between two looks at the wall clock (performance.now() costs more than a step's bookkeeping). */
const STEPS_PER_CLOCK_CHECK = 32;

interface Waiter {
  readonly start: () => PendingCommand;
  readonly resolve: (cmd: PendingCommand) => void;
  readonly reject: (error: unknown) => void;
}

interface Running {
  readonly cmd: PendingCommand;
  readonly qid: number;
  readonly resolve: (cmd: PendingCommand) => void;
  readonly reject: (error: unknown) => void;
}

/** Submits commands for many callers on a shared driver and steps the device while any is in flight. */
export class CommandPump {
  private readonly driver: NvmeDriver;
  private readonly running: Running[] = [];
  /** Per I/O queue: commands waiting for room, oldest first. */
  private readonly waiting = new Map<number, Waiter[]>();
  /** Per I/O queue: commands submitted and not yet reaped. */
  private readonly busy = new Map<number, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private scheduled = false;
  private seenCompleted: number;
  /** Set when the controller could not be driven any more; every later command fails with it. */
  failure: Error | undefined;

  constructor(driver: NvmeDriver) {
    this.driver = driver;
    this.seenCompleted = driver.stats.completed;
  }

  /**
   * Submits the command `start` builds on I/O queue `qid` once the queue has room, and resolves
   * with it once it completed (its `completion` says how). Rejects when `start` throws (a
   * placement that cannot describe the buffer...) or the controller can no longer be driven.
   */
  run(qid: number, start: () => PendingCommand): Promise<PendingCommand> {
    return new Promise((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.failure);
        return;
      }
      const waiter: Waiter = { start, resolve, reject };
      if ((this.busy.get(qid) ?? 0) < this.room(qid)) this.start(qid, waiter);
      else {
        let queue = this.waiting.get(qid);
        if (queue === undefined) {
          queue = [];
          this.waiting.set(qid, queue);
        }
        queue.push(waiter);
      }
    });
  }

  /** Commands submitted or waiting for room. */
  get inFlight(): number {
    let n = this.running.length;
    for (const q of this.waiting.values()) n += q.length;
    return n;
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private room(qid: number): number {
    const depth = this.driver.queue(qid)?.depth ?? 0;
    // An unknown queue still admits one, so that the driver reports the error for it.
    return Math.max(1, depth - 1);
  }

  private start(qid: number, waiter: Waiter): void {
    let cmd: PendingCommand;
    try {
      cmd = waiter.start();
    } catch (error) {
      waiter.reject(error);
      return;
    }
    this.busy.set(qid, (this.busy.get(qid) ?? 0) + 1);
    this.running.push({ cmd, qid, resolve: waiter.resolve, reject: waiter.reject });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.drive);
  }

  /** Steps the device until nothing is in flight or the time budget is spent. */
  private readonly drive = (): void => {
    this.scheduled = false;
    const started = performance.now();
    let steps = 0;
    try {
      while (this.running.length > 0) {
        this.driver.pump();
        const oldest = this.running[0] as Running;
        if (this.driver.stats.completed === this.seenCompleted && this.driver.target.now() >= oldest.cmd.deadline) {
          // Nothing moves and a command is overdue: the driver's timeout handling (Abort, then reset) decides.
          this.driver.wait(oldest.cmd);
        }
        if (this.driver.stats.completed !== this.seenCompleted) {
          this.seenCompleted = this.driver.stats.completed;
          this.collect();
        }
        if (++steps % STEPS_PER_CLOCK_CHECK === 0 && performance.now() - started >= STEP_BUDGET_MS) {
          if (this.running.length > 0) this.schedule();
          return;
        }
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
    this.settleIdle();
  };

  /** Settles every completed command and lets waiting ones take the room they left. */
  private collect(): void {
    const done: Running[] = [];
    let kept = 0;
    for (const r of this.running) {
      if (r.cmd.completion === undefined) this.running[kept++] = r;
      else done.push(r);
    }
    this.running.length = kept;
    for (const r of done) {
      this.busy.set(r.qid, (this.busy.get(r.qid) ?? 1) - 1);
      r.resolve(r.cmd);
    }
    for (const r of done) this.admit(r.qid);
  }

  private admit(qid: number): void {
    const queue = this.waiting.get(qid);
    while (queue !== undefined && queue.length > 0 && (this.busy.get(qid) ?? 0) < this.room(qid)) {
      this.start(qid, queue.shift() as Waiter);
    }
  }

  /** The controller can no longer be driven: fail everything now and later, never throw out of a timer. */
  private fail(error: Error): void {
    this.failure = error;
    const running = this.running.splice(0);
    const waiting = [...this.waiting.values()].flatMap((q) => q.splice(0));
    this.busy.clear();
    // These commands never completed: their buffers stay with the controller that cannot be driven.
    for (const r of running) r.reject(error);
    for (const w of waiting) w.reject(error);
  }

  private settleIdle(): void {
    if (this.inFlight > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
