/**
 * Simulated time for an in-process target: it advances by a fixed amount per device step, so
 * timeouts (CAP.TO, command timeouts) and interrupt coalescing times are counted in steps and a
 * run is the same on every machine.
 */

/** Microseconds per millisecond. */
const US_PER_MS = 1000;

export class SimClock {
  /** Microseconds each step adds. */
  readonly usPerStep: number;
  private us = 0;

  constructor(usPerStep: number) {
    if (!(usPerStep > 0)) throw new RangeError(`SimClock: ${usPerStep} µs per step`);
    this.usPerStep = usPerStep;
  }

  /** Current time in microseconds (the nvme-epf `now` unit). */
  get nowUs(): number {
    return this.us;
  }

  /** Current time in milliseconds (the host driver's unit). */
  get nowMs(): number {
    return this.us / US_PER_MS;
  }

  /** One device step passes. */
  tick(): void {
    this.us += this.usPerStep;
  }
}
