/**
 * Placements bounded to a target's RAM (QEMU's guest RAM): every byte a layout places or points
 * the controller at stays inside it, and the adversarial policy still aims at the edges that
 * fall inside (1 MiB, 64 KiB, the end of RAM). No QEMU needed: the memory is simulated.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedHostMemory } from '../../../src/host/memory/host-memory.js';
import { type HostRange, rangeEnd } from '../../../src/host/memory/host-range.js';
import type { DataRequest } from '../../../src/host/placement/layout.js';
import { createPlacement, PLACEMENT_NAMES } from '../../../src/host/placement/placement-factory.js';
import { QEMU_HOST_RAM } from '../../../src/reference/qemu/qemu-target.js';

const PAGE = 4096;

function request(i: number): DataRequest {
  const length = ((i * 7919) % 64) * 512 + 512;
  return {
    qid: 1 + (i % 2),
    length,
    toDevice: i % 3 === 0,
    pageSize: PAGE,
    sgl: { support: 'byte', bitBucket: false, excessLength: false, mptrSgl: false },
    command: { nsid: 1, slba: 0n, nlb: length / 512, blockSize: 512, nsze: 16384n, mdtsBytes: 512 * 1024 },
  };
}

function inside(r: HostRange, ram: HostRange): boolean {
  return r.addr >= ram.addr && rangeEnd(r) <= rangeEnd(ram);
}

describe('placements bounded to QEMU guest RAM', () => {
  it.each(PLACEMENT_NAMES)('%s keeps queues, lists and data inside the RAM range', (name) => {
    const memory = new SimulatedHostMemory();
    const policy = createPlacement(name, memory, { seed: 5, ram: QEMU_HOST_RAM });
    const queue = policy.placeQueue({ kind: 'sq', qid: 1, bytes: 64 * 64, pageSize: PAGE });
    expect(inside(queue.range, QEMU_HOST_RAM)).toBe(true);
    for (let i = 0; i < 200; i++) {
      const l = policy.layout(request(i));
      for (const c of l.data) if (c.kind === 'ram') expect(inside(c, QEMU_HOST_RAM), `${name} data`).toBe(true);
      for (const s of l.structures) expect(inside(s, QEMU_HOST_RAM), `${name} structure`).toBe(true);
      l.release();
    }
  });

  it('adversarial still straddles 1 MiB and 64 KiB edges and ends buffers at the end of RAM', () => {
    const memory = new SimulatedHostMemory();
    const policy = createPlacement('adversarial', memory, { seed: 9, ram: QEMU_HOST_RAM });
    const tags = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const l = policy.layout(request(i));
      for (const t of l.tags) tags.add(t);
      l.release();
    }
    expect(tags).toContain('straddle-1MiB');
    expect(tags).toContain('straddle-64KiB');
    expect(tags).toContain('end-at-ram-end');
    expect(tags).toContain('list-last-slot');
    expect([...tags].some((t) => t.includes('4GiB') || t.includes('2^53') || t.includes('2^64'))).toBe(false);
  });
});
