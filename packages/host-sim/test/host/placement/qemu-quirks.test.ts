/** The SGL chain QEMU 7.2 misreads (known difference sgl-segment-chain-slot-reuse), replayed on layouts. */
import { Psdt, SGL_DESCRIPTOR_SIZE, SglType } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { type CommandLayout, layoutOf, type PlacementPolicy } from '../../../src/host/placement/layout.js';
import { avoidingQemuQuirks, qemuMisreadsSegmentChain } from '../../../src/host/placement/qemu-quirks.js';
import { sglDptr } from '../../../src/host/placement/sgl-builder.js';

/** An SGL layout whose SGL1 has `type` and whose segments hold `counts` descriptors. */
function chain(type: number, counts: readonly number[], release = () => {}): CommandLayout {
  return layoutOf({
    policy: 'test',
    psdt: Psdt.SGL_MPTR_CONTIG,
    dptr: sglDptr({ type, subtype: 0, address: 0x100_0000n, length: (counts[0] ?? 1) * SGL_DESCRIPTOR_SIZE }),
    length: 4096,
    data: [],
    grants: [],
    structures: counts.map((n, i) => ({ addr: 0x200_0000n + BigInt(i * 4096), size: n * SGL_DESCRIPTOR_SIZE })),
    tags: [],
    release,
  });
}

describe('qemuMisreadsSegmentChain', () => {
  it('flags Segment → Segment → Last Segment with both pointers in the same slot (as QEMU 7.2 answered)', () => {
    expect(qemuMisreadsSegmentChain(chain(SglType.SEGMENT, [2, 2, 1]))).toBe(true);
    expect(qemuMisreadsSegmentChain(chain(SglType.SEGMENT, [3, 2, 2, 2]))).toBe(true);
  });

  it('passes the chains QEMU walks correctly', () => {
    expect(qemuMisreadsSegmentChain(chain(SglType.SEGMENT, [2, 1]))).toBe(false);
    expect(qemuMisreadsSegmentChain(chain(SglType.SEGMENT, [2, 3, 1]))).toBe(false);
    expect(qemuMisreadsSegmentChain(chain(SglType.SEGMENT, [2, 2, 3, 5]))).toBe(false);
    expect(qemuMisreadsSegmentChain(chain(SglType.LAST_SEGMENT, [2]))).toBe(false);
  });

  it('avoidingQemuQuirks draws again and releases what it drops', () => {
    const shapes = [
      [2, 2, 1],
      [2, 2, 1],
      [2, 3, 1],
    ];
    let released = 0;
    const inner: PlacementPolicy = {
      name: 'test',
      placeQueue: () => {
        throw new Error('unused');
      },
      layout: () => chain(SglType.SEGMENT, shapes.shift() ?? [], () => released++),
    };
    const l = avoidingQemuQuirks(inner).layout({} as never);
    expect(l.structures.map((s) => s.size / SGL_DESCRIPTOR_SIZE)).toEqual([2, 3, 1]);
    expect(released).toBe(2);
  });
});
