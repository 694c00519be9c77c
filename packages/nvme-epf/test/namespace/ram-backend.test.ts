/** The ram backend: sparse chunks that read as zero until written, reused after close without leaking bytes. */
import { describe, expect, it } from 'vitest';
import { RAM_CHUNK_SIZE, RamBackend } from '../../src/namespace/ram-backend.js';

describe('RamBackend', () => {
  it('reads unwritten and deallocated bytes as zero', () => {
    const b = new RamBackend();
    const out = new Uint8Array(3 * RAM_CHUNK_SIZE).fill(1);
    b.read(RAM_CHUNK_SIZE - 7, out);
    expect(out.every((x) => x === 0)).toBe(true);
    b.write(10, new Uint8Array(RAM_CHUNK_SIZE * 2).fill(9));
    expect(b.allocatedBytes).toBe(3 * RAM_CHUNK_SIZE);
    b.deallocate(5, RAM_CHUNK_SIZE * 3);
    b.read(0, out);
    expect(out.every((x) => x === 0)).toBe(true);
    // The first chunk was only partly deallocated: it is kept, zeroed where it was written.
    expect(b.allocatedBytes).toBe(RAM_CHUNK_SIZE);
  });

  it("a namespace opened after another closed never shows the closed one's bytes", () => {
    const old = new RamBackend();
    old.write(0, new Uint8Array(32 * RAM_CHUNK_SIZE).fill(0xa5));
    old.close();
    expect(old.allocatedBytes).toBe(0);
    const b = new RamBackend();
    // A small write into each of 32 chunks (each may be one the old backend held), and one whole chunk.
    for (let c = 0; c < 32; c++) b.write(c * RAM_CHUNK_SIZE + 100, Uint8Array.of(c + 1, c + 2));
    b.write(40 * RAM_CHUNK_SIZE, new Uint8Array(RAM_CHUNK_SIZE).fill(7));
    const chunk = new Uint8Array(RAM_CHUNK_SIZE);
    for (let c = 0; c < 32; c++) {
      b.read(c * RAM_CHUNK_SIZE, chunk);
      const want = new Uint8Array(RAM_CHUNK_SIZE);
      want.set([c + 1, c + 2], 100);
      expect(Buffer.from(chunk).equals(want)).toBe(true);
    }
    b.read(40 * RAM_CHUNK_SIZE, chunk);
    expect(chunk.every((x) => x === 7)).toBe(true);
  });

  it('lends a view of the stored bytes for a range inside one chunk, and none across chunks', () => {
    const b = new RamBackend();
    // Unwritten: zeros.
    expect(b.view(RAM_CHUNK_SIZE + 4096, 4096)?.every((x) => x === 0)).toBe(true);
    const data = Uint8Array.from({ length: 8192 }, (_, i) => (i * 7) & 0xff);
    b.write(RAM_CHUNK_SIZE - 4096, data);
    // The last 4 KiB of chunk 0 and the first 4 KiB of chunk 1, each exactly as written.
    expect(Buffer.from(b.view(RAM_CHUNK_SIZE - 4096, 4096) ?? []).equals(data.subarray(0, 4096))).toBe(true);
    expect(Buffer.from(b.view(RAM_CHUNK_SIZE, 4096) ?? []).equals(data.subarray(4096))).toBe(true);
    // Spanning the boundary: no single piece holds it (the read goes through the bounce buffer).
    expect(b.view(RAM_CHUNK_SIZE - 512, 1024)).toBeUndefined();
    // A deallocated chunk reads as zeros through a view as through read().
    b.deallocate(RAM_CHUNK_SIZE, RAM_CHUNK_SIZE);
    expect(b.view(RAM_CHUNK_SIZE, 4096)?.every((x) => x === 0)).toBe(true);
  });
});
