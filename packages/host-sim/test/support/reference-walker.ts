/**
 * A small, independent reference walker: reads a command's PRP or SGL back out of host memory the
 * way the specification describes (NVMe Base 1.4 §4.3, §4.4), and returns the host byte ranges it
 * names in data order. Tests compare it with what a placement policy says it built.
 */
import type { SimulatedHostMemory } from '../../src/host/memory/host-memory.js';

export interface WalkedRange {
  readonly addr: bigint;
  readonly size: number;
  readonly bitBucket: boolean;
}

const SGL_DATA_BLOCK = 0x0;
const SGL_BIT_BUCKET = 0x1;
const SGL_SEGMENT = 0x2;
const SGL_LAST_SEGMENT = 0x3;
/** Descriptors followed before the walker declares the SGL cyclic. */
const MAX_DESCRIPTORS = 100_000;

function u64(bytes: Uint8Array, off: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(off, true);
}

function readBytes(memory: SimulatedHostMemory, addr: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  memory.read(addr, out);
  return out;
}

/** Appends, merging with the previous range when contiguous (both data, or both bit buckets). */
function push(out: WalkedRange[], addr: bigint, size: number, bitBucket: boolean): void {
  if (size === 0) return;
  const last = out.at(-1);
  if (last !== undefined && last.bitBucket === bitBucket && (bitBucket || last.addr + BigInt(last.size) === addr)) {
    out[out.length - 1] = { addr: last.addr, size: last.size + size, bitBucket };
  } else {
    out.push({ addr: bitBucket ? 0n : addr, size, bitBucket });
  }
}

/** PRP1/PRP2 (PSDT 00b): PRP1 to its page end, then PRP2 direct or a list chained in last slots. */
export function walkPrp(memory: SimulatedHostMemory, dptr: Uint8Array, length: number, ps: number): WalkedRange[] {
  const out: WalkedRange[] = [];
  const prp1 = u64(dptr, 0);
  const first = Math.min(length, ps - Number(prp1 % BigInt(ps)));
  push(out, prp1, first, false);
  let rest = length - first;
  if (rest === 0) return out;
  const prp2 = u64(dptr, 8);
  if (rest <= ps) {
    push(out, prp2, rest, false);
    return out;
  }
  let list = prp2;
  for (;;) {
    const slots = Math.floor((ps - Number(list % BigInt(ps))) / 8);
    const needed = Math.ceil(rest / ps);
    const fits = needed <= slots;
    const n = fits ? needed : slots;
    const entries = readBytes(memory, list, n * 8);
    const dataEntries = fits ? n : n - 1;
    for (let i = 0; i < dataEntries; i++) {
      const take = Math.min(ps, rest);
      push(out, u64(entries, i * 8), take, false);
      rest -= take;
    }
    if (fits) return out;
    list = u64(entries, (n - 1) * 8);
  }
}

/** SGL (PSDT 01b/10b): SGL1, then segments; takes exactly `length` bytes. */
export function walkSgl(memory: SimulatedHostMemory, dptr: Uint8Array, length: number): WalkedRange[] {
  const out: WalkedRange[] = [];
  let rest = length;
  const take = (type: number, addr: bigint, len: number): void => {
    const n = Math.min(len, rest);
    push(out, addr, n, type === SGL_BIT_BUCKET);
    rest -= n;
  };
  const type1 = (dptr[15] ?? 0) >> 4;
  if (type1 === SGL_DATA_BLOCK) {
    take(type1, u64(dptr, 0), new DataView(dptr.buffer, dptr.byteOffset).getUint32(8, true));
    return out;
  }
  let seg = u64(dptr, 0);
  let segLen = new DataView(dptr.buffer, dptr.byteOffset).getUint32(8, true);
  let seen = 0;
  for (;;) {
    const bytes = readBytes(memory, seg, segLen);
    const view = new DataView(bytes.buffer);
    const count = segLen / 16;
    let next: { addr: bigint; len: number } | undefined;
    for (let i = 0; i < count; i++) {
      if (++seen > MAX_DESCRIPTORS) throw new Error('SGL too long or cyclic');
      const type = view.getUint8(i * 16 + 15) >> 4;
      const addr = view.getBigUint64(i * 16, true);
      const len = view.getUint32(i * 16 + 8, true);
      if (type === SGL_SEGMENT || type === SGL_LAST_SEGMENT) {
        if (i !== count - 1) throw new Error('segment descriptor before the last slot');
        next = { addr, len };
      } else {
        take(type, addr, len);
      }
    }
    if (next === undefined) return out;
    seg = next.addr;
    segLen = next.len;
  }
}

/** Walks PRPs or an SGL by PSDT. */
export function walk(
  memory: SimulatedHostMemory,
  layout: { psdt: number; dptr: Uint8Array; length: number },
  ps = 4096,
): WalkedRange[] {
  return layout.psdt === 0
    ? walkPrp(memory, layout.dptr, layout.length, ps)
    : walkSgl(memory, layout.dptr, layout.length);
}

/** A layout's data chunks in the walker's merged form. */
export function chunksAsRanges(chunks: readonly { addr: bigint; size: number; kind: string }[]): WalkedRange[] {
  const out: WalkedRange[] = [];
  for (const c of chunks) push(out, c.addr, c.size, c.kind === 'bit-bucket');
  return out;
}
