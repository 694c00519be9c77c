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

/** The buffer's bytes in data order; bit-bucket and hole chunks read as zero. */
export function gather(memory: HostMemory, layout: CommandLayout): Uint8Array {
  const out = new Uint8Array(layout.length);
  let off = 0;
  for (const chunk of layout.data) {
    if (chunk.kind === 'ram') memory.read(chunk.addr, out.subarray(off, off + chunk.size));
    off += chunk.size;
  }
  return out;
}
