/** Moving a command's bytes between the caller and its buffer in host memory (host CPU side). */
import type { HostMemory } from '../memory/host-memory.js';
import type { CommandLayout } from '../placement/layout.js';

/** Writes `payload` into the buffer's RAM chunks in data order; bytes beyond the payload are zeroed. */
export function scatter(memory: HostMemory, layout: CommandLayout, payload: Uint8Array | undefined): void {
  let off = 0;
  for (const chunk of layout.data) {
    if (chunk.kind === 'ram') {
      const have = payload === undefined ? 0 : Math.max(0, Math.min(chunk.size, payload.length - off));
      if (have > 0 && payload !== undefined) memory.write(chunk.addr, payload.subarray(off, off + have));
      if (have < chunk.size) memory.zero(chunk.addr + BigInt(have), chunk.size - have);
    }
    off += chunk.size;
  }
}

/**
 * The buffer's bytes in data order; bit-bucket and hole chunks read as zero. The result is a
 * fresh array the caller owns; small results are views into a shared slab (as Node's Buffer pool
 * does), so use `byteOffset` with `buffer`.
 */
export function gather(memory: HostMemory, layout: CommandLayout): Uint8Array {
  const length = layout.length;
  const data = layout.data;
  let ram = 0;
  for (const chunk of data) if (chunk.kind === 'ram') ram += chunk.size;
  const out = resultBuffer(length);
  // Only bytes no RAM chunk supplies need clearing (the slab is not zero-filled).
  if (ram !== length) out.fill(0);
  let off = 0;
  for (const chunk of data) {
    if (chunk.kind === 'ram') {
      memory.read(chunk.addr, off === 0 && chunk.size === length ? out : out.subarray(off, off + chunk.size));
    }
    off += chunk.size;
  }
  return out;
}

/** Results are carved from slabs of this size (one ArrayBuffer per many commands). */
const SLAB_BYTES = 64 * 1024;
/** Larger results get an ArrayBuffer of their own. */
const SLAB_MAX_RESULT = 16 * 1024;
/** Slab offsets stay 8-byte aligned, so a caller can put any DataView or typed array over a result. */
const SLAB_ALIGN = 8;

let slab: ArrayBuffer | null = null;
let slabUsed = 0;

/** `length` bytes for a result (a slab's bytes may hold an earlier result: the caller writes every byte). */
function resultBuffer(length: number): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  // A large result gets memory Node does not zero (gather writes or clears every byte): zeroing
  // 128 KiB per command was the largest share of a 128 KiB read after the copies. A plain
  // Uint8Array over it, not the Buffer, so that slice() still copies for the caller.
  if (length > SLAB_MAX_RESULT) return new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
  if (slab === null || slabUsed + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, length);
  slabUsed += (length + SLAB_ALIGN - 1) & ~(SLAB_ALIGN - 1);
  return out;
}
