/** The commands a benchmark keeps in flight, oldest first. */
import type { PendingCommand } from '../../host/driver/pending-command.js';

/**
 * A fixed ring of in-flight commands. A finished command's slot is cleared at once: a benchmark
 * that kept finished commands referenced (an array it only trims now and then) would keep every
 * command's layout and data alive across collections, and time the garbage collector instead.
 */
export class CommandRing {
  private readonly slots: (PendingCommand | undefined)[];
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    this.slots = new Array(Math.max(1, capacity)).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.slots.length;
  }

  push(cmd: PendingCommand): void {
    if (this.full) throw new RangeError('command ring is full');
    this.slots[(this.head + this.count) % this.slots.length] = cmd;
    this.count++;
  }

  /** Takes the oldest command out (undefined when empty). */
  shift(): PendingCommand | undefined {
    if (this.count === 0) return undefined;
    const cmd = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.slots.length;
    this.count--;
    return cmd;
  }
}
