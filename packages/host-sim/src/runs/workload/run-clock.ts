/** How a workload run measures and waits for time: the wall clock in nanoseconds, sleeps, and yields to the event loop. */

export const NS_PER_MS = 1e6;
export const NS_PER_S = 1e9;

/** Waits `ms` of wall-clock time (a replay honouring arrival times; tests pass their own). */
export function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lets pending events (a signal handler) run before the next device step. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The wall clock, in nanoseconds. */
export function defaultClockNs(): number {
  return performance.now() * NS_PER_MS;
}
