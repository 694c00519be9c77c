/**
 * A memory-backed BlockDevice for the NBD tests, with a call log and fault and delay injection.
 */
import { type BlockDevice, BlockDeviceError, type BlockDeviceErrorCode } from '../../../src/front/nbd/index.js';

export interface DeviceCall {
  readonly op: 'read' | 'write' | 'flush' | 'trim' | 'writeZeroes';
  readonly offset: number;
  readonly length: number;
  readonly fua: boolean;
}

export interface MemoryDeviceOptions {
  readonly size: number;
  readonly blockSize?: number;
  readonly maxRequest?: number;
}

export class MemoryBlockDevice implements BlockDevice {
  readonly size: number;
  readonly blockSize: number;
  readonly maxRequest: number;
  readonly data: Buffer;
  readonly calls: DeviceCall[] = [];
  flushes = 0;
  /** Fail any request touching [offset, offset+length) with `code`. */
  failRange: { offset: number; length: number; code: BlockDeviceErrorCode } | null = null;
  /** Throw a plain Error (a device bug) on every read when set. */
  crashOnRead = false;
  /** Milliseconds to hold a request before completing it, by offset (for out-of-order replies). */
  delayMs: (op: DeviceCall['op'], offset: number) => number = () => 0;

  constructor(options: MemoryDeviceOptions) {
    this.size = options.size;
    this.blockSize = options.blockSize ?? 512;
    this.maxRequest = options.maxRequest ?? 32 * 1024 * 1024;
    this.data = Buffer.alloc(options.size);
  }

  /** Requests inside the device now, and the most there ever were at once. */
  active = 0;
  maxActive = 0;

  private async enter(op: DeviceCall['op'], offset: number, length: number, fua: boolean): Promise<void> {
    this.calls.push({ op, offset, length, fua });
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const delay = this.delayMs(op, offset);
    try {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      else await Promise.resolve();
    } finally {
      this.active--;
    }
    const f = this.failRange;
    if (f !== null && op !== 'flush' && offset < f.offset + f.length && f.offset < offset + length)
      throw new BlockDeviceError(f.code, `injected ${f.code} at ${offset}`);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    await this.enter('read', offset, length, false);
    if (this.crashOnRead) throw new Error('device bug');
    return Buffer.from(this.data.subarray(offset, offset + length));
  }

  async write(offset: number, data: Uint8Array, fua: boolean): Promise<void> {
    await this.enter('write', offset, data.length, fua);
    this.data.set(data, offset);
  }

  async flush(): Promise<void> {
    await this.enter('flush', 0, 0, false);
    this.flushes++;
  }

  async trim(offset: number, length: number): Promise<void> {
    await this.enter('trim', offset, length, false);
    // Trimmed blocks read back as zeroes here (allowed: contents are undefined after TRIM).
    this.data.fill(0, offset, offset + length);
  }

  async writeZeroes(offset: number, length: number, fua: boolean): Promise<void> {
    await this.enter('writeZeroes', offset, length, fua);
    this.data.fill(0, offset, offset + length);
  }
}
