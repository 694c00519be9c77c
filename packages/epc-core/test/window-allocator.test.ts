import { describe, expect, it } from 'vitest';
import { KiB, MiB } from '../src/address.js';
import { OutboundAllocator } from '../src/window-allocator.js';

describe('OutboundAllocator (pci-epc-mem.c)', () => {
  it('rounds a request up to a power-of-two block of pages, naturally aligned', () => {
    const a = new OutboundAllocator([{ physBase: 0x1000_0000, size: 1 * MiB, pageSize: 4 * KiB }]);
    expect(a.alloc(4 * KiB)).toBe(0x1000_0000);
    // 12 KiB takes a 16 KiB block, aligned to 16 KiB inside the window.
    expect(a.alloc(12 * KiB)).toBe(0x1000_4000);
    expect(a.usedPages).toBe(5);
    expect(a.alloc(4 * KiB)).toBe(0x1000_1000);
  });

  it('clamps the page size to the kernel PAGE_SIZE', () => {
    const a = new OutboundAllocator([{ physBase: 0, size: 64 * KiB, pageSize: 256 }]);
    expect(a.alloc(1)).toBe(0);
    expect(a.alloc(1)).toBe(4 * KiB);
  });

  it('takes windows in index order and skips windows smaller than the request', () => {
    const a = new OutboundAllocator([
      { physBase: 0x100000, size: 16 * KiB, pageSize: 4 * KiB },
      { physBase: 0x800000, size: 64 * KiB, pageSize: 4 * KiB },
    ]);
    expect(a.alloc(32 * KiB)).toBe(0x800000);
    expect(a.alloc(4 * KiB)).toBe(0x100000);
  });

  it('fails when the power-of-two block exceeds the window although the raw size fits', () => {
    const a = new OutboundAllocator([{ physBase: 0, size: 48 * KiB, pageSize: 4 * KiB }]);
    expect(a.alloc(36 * KiB)).toBeNull();
    expect(a.alloc(32 * KiB)).toBe(0);
  });

  it('frees by (physAddr, size) and reuses the block', () => {
    const a = new OutboundAllocator([{ physBase: 0, size: 64 * KiB, pageSize: 4 * KiB }]);
    const p = a.alloc(12 * KiB)!;
    a.free(p, 12 * KiB);
    expect(a.usedPages).toBe(0);
    expect(a.alloc(16 * KiB)).toBe(p);
    expect(() => a.free(0x10_0000, 4 * KiB)).toThrow(RangeError);
  });

  it('gives one whole window per allocation when page size equals window size (RK3399, R-Car)', () => {
    const a = new OutboundAllocator([
      { physBase: 0, size: 1 * MiB, pageSize: 1 * MiB },
      { physBase: 1 * MiB, size: 1 * MiB, pageSize: 1 * MiB },
    ]);
    expect(a.alloc(256)).toBe(0);
    expect(a.alloc(256)).toBe(1 * MiB);
    expect(a.alloc(256)).toBeNull();
  });
});

describe('SparseMemory.zero', () => {
  it('drops whole pages and clears partial ones, reading back zero either way', async () => {
    const { SparseMemory } = await import('../src/sparse-memory.js');
    const m = new SparseMemory();
    m.addRegion(0n, 4 * 4096);
    m.write(0n, new Uint8Array(4 * 4096).fill(0xee));
    expect(m.residentBytes).toBe(4 * 4096);
    m.zero(100n, 3 * 4096);
    // Page 0 and page 3 are partly cleared and kept; pages 1 and 2 are dropped.
    expect(m.residentBytes).toBe(2 * 4096);
    const back = new Uint8Array(4 * 4096);
    m.read(0n, back);
    expect(back.subarray(0, 100).every((b) => b === 0xee)).toBe(true);
    expect(back.subarray(100, 100 + 3 * 4096).every((b) => b === 0)).toBe(true);
    expect(back.subarray(100 + 3 * 4096).every((b) => b === 0xee)).toBe(true);
  });
});
