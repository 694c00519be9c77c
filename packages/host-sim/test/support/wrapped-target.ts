/**
 * A target that delegates to another and lets a test misbehave in between: swallow doorbell
 * writes (a lost command) or rewrite what the controller just posted (a buggy controller).
 */
import type { HostMemory } from '../../src/host/memory/host-memory.js';
import type { InterruptCounter } from '../../src/host/memory/msi-doorbell.js';
import type { NvmeTarget } from '../../src/host/target/target.js';

export class WrappedTarget implements NvmeTarget {
  readonly inner: NvmeTarget;
  /** Return false to swallow a register write. */
  onWrite32: (offset: number, value: number) => boolean = () => true;
  /** Runs after each device step. */
  afterStep: () => void = () => {};

  constructor(inner: NvmeTarget) {
    this.inner = inner;
  }

  get name(): string {
    return `wrapped:${this.inner.name}`;
  }

  get memory(): HostMemory {
    return this.inner.memory;
  }

  get interrupts(): InterruptCounter {
    return this.inner.interrupts;
  }

  mmioRead32(offset: number): number {
    return this.inner.mmioRead32(offset);
  }

  mmioWrite32(offset: number, value: number): void {
    if (this.onWrite32(offset, value)) this.inner.mmioWrite32(offset, value);
  }

  mmioRead64(offset: number): bigint {
    return this.inner.mmioRead64(offset);
  }

  mmioWrite64(offset: number, value: bigint): void {
    this.inner.mmioWrite64(offset, value);
  }

  enableMsix(vectors: number): number {
    return this.inner.enableMsix(vectors);
  }

  maskMsixVector(vector: number, masked: boolean): void {
    this.inner.maskMsixVector(vector, masked);
  }

  enableMsi(vectors: number): number {
    return this.inner.enableMsi(vectors);
  }

  enableIntx(): boolean {
    return this.inner.enableIntx();
  }

  now(): number {
    return this.inner.now();
  }

  step(): number {
    const work = this.inner.step();
    this.afterStep();
    return work;
  }

  close(): void {
    this.inner.close();
  }
}
