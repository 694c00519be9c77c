import { closeSync, readSync, writeSync } from 'node:fs';

/** Most bytes one b64write/b64read line carries: QEMU's line handling is quadratic beyond this. */
export const QTEST_CHUNK = 64 * 1024;
const REPLY_BUFFER = 1 << 20;

/** QEMU answered FAIL or ERR, or went away: the reference target is unusable. */
export class QtestError extends Error {
  override readonly name = 'QtestError';
}

/**
 * A synchronous client of QEMU's qtest text protocol (QEMU `softmmu/qtest.c`, docs/devel/qtest.rst) over
 * the two FIFOs of `-qtest pipe:`. One command per line, one reply per command, in
 * order; `IRQ raise/lower` lines may arrive anywhere and are handed to `onIrq`.
 * Every line is built here from validated numbers: a malformed line aborts QEMU.
 */
export class QtestClient {
  private readonly toQemu: number;
  private readonly fromQemu: number;
  private readonly buffer = Buffer.alloc(REPLY_BUFFER);
  private pending = '';
  onIrq: ((raised: boolean, line: number) => void) | null = null;

  constructor(toQemu: number, fromQemu: number) {
    this.toQemu = toQemu;
    this.fromQemu = fromQemu;
  }

  readl(addr: bigint): number {
    return Number(this.value(this.command(`readl ${addrArg(addr)}`)));
  }

  readq(addr: bigint): bigint {
    return this.value(this.command(`readq ${addrArg(addr)}`));
  }

  writel(addr: bigint, value: number): void {
    this.command(`writel ${addrArg(addr)} 0x${(value >>> 0).toString(16)}`);
  }

  writeq(addr: bigint, value: bigint): void {
    this.command(`writeq ${addrArg(addr)} 0x${BigInt.asUintN(64, value).toString(16)}`);
  }

  inl(port: number): number {
    return Number(this.value(this.command(`inl ${portArg(port)}`)));
  }

  outl(port: number, value: number): void {
    this.command(`outl ${portArg(port)} 0x${(value >>> 0).toString(16)}`);
  }

  outw(port: number, value: number): void {
    this.command(`outw ${portArg(port)} 0x${(value & 0xffff).toString(16)}`);
  }

  inw(port: number): number {
    return Number(this.value(this.command(`inw ${portArg(port)}`)));
  }

  /** Guest memory into `dst`, in chunks QEMU handles in linear time. */
  memRead(addr: bigint, dst: Uint8Array): void {
    for (let done = 0; done < dst.length; done += QTEST_CHUNK) {
      const n = Math.min(QTEST_CHUNK, dst.length - done);
      const reply = this.command(`b64read ${addrArg(addr + BigInt(done))} 0x${n.toString(16)}`);
      const data = Buffer.from(reply.slice(3), 'base64');
      if (data.length !== n) throw new QtestError(`b64read returned ${data.length} bytes, not ${n}`);
      dst.set(data, done);
    }
  }

  /** `src` into guest memory; the base64 always decodes to exactly the length sent. */
  memWrite(addr: bigint, src: Uint8Array): void {
    for (let done = 0; done < src.length; done += QTEST_CHUNK) {
      const chunk = src.subarray(done, Math.min(src.length, done + QTEST_CHUNK));
      const b64 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString('base64');
      this.command(`b64write ${addrArg(addr + BigInt(done))} 0x${chunk.length.toString(16)} ${b64}`);
    }
  }

  /** `size` bytes of `value` into guest memory in one command (QEMU's `memset`): zeroing costs no data on the pipe. */
  memSet(addr: bigint, size: number, value: number): void {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`qtest memset size ${size}`);
    this.command(`memset ${addrArg(addr)} 0x${size.toString(16)} 0x${(value & 0xff).toString(16)}`);
  }

  /** Enables `IRQ raise/lower` lines for the interrupt controller at `qomPath`. */
  interceptIrq(qomPath: string): void {
    if (!/^[\w/.-]+$/.test(qomPath)) throw new RangeError(`bad QOM path ${qomPath}`);
    this.command(`irq_intercept_in ${qomPath}`);
  }

  close(): void {
    for (const fd of [this.toQemu, this.fromQemu]) {
      try {
        closeSync(fd);
      } catch {
        // Already gone with QEMU.
      }
    }
  }

  /** Sends one line and returns its reply (`OK…`); FAIL and ERR throw. */
  command(line: string): string {
    writeSync(this.toQemu, `${line}\n`);
    for (;;) {
      const reply = this.readLine();
      if (reply.startsWith('IRQ ')) {
        const [, what, n] = reply.split(' ');
        this.onIrq?.(what === 'raise', Number(n));
        continue;
      }
      if (!reply.startsWith('OK'))
        throw new QtestError(`qtest '${line.slice(0, 60)}' answered '${reply.slice(0, 120)}'`);
      return reply;
    }
  }

  private value(reply: string): bigint {
    const text = reply.slice(3).trim();
    if (!/^0x[0-9a-f]+$/i.test(text)) throw new QtestError(`qtest reply '${reply}' has no value`);
    return BigInt(text);
  }

  private readLine(): string {
    for (;;) {
      const nl = this.pending.indexOf('\n');
      if (nl >= 0) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        return line;
      }
      const n = readSync(this.fromQemu, this.buffer, 0, this.buffer.length, null);
      if (n === 0) throw new QtestError('QEMU closed the qtest connection');
      this.pending += this.buffer.toString('latin1', 0, n);
    }
  }
}

/** An address as QEMU parses it: 0x-hex, never negative (a JS bit operation can make one). */
function addrArg(addr: bigint): string {
  if (addr < 0n || addr >= 1n << 64n) throw new RangeError(`qtest address ${addr} out of range`);
  return `0x${addr.toString(16)}`;
}

function portArg(port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`qtest port ${port} out of range`);
  return `0x${port.toString(16)}`;
}
