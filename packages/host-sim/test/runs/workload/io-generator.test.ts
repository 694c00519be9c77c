import { describe, expect, it } from 'vitest';
import { HostSimConfigError } from '../../../src/host/errors.js';
import { createRandom } from '../../../src/host/random.js';
import { IoGenerator } from '../../../src/runs/workload/io-generator.js';
import { type IoGeometry, ioGeometry } from '../../../src/runs/workload/io-geometry.js';
import type { IoRequest } from '../../../src/runs/workload/io-request.js';
import { GeneratedSource } from '../../../src/runs/workload/io-source.js';
import { RW_MODES, type RwMode } from '../../../src/runs/workload/rw-mode.js';
import { generated, KIB, MIB } from './support.js';

const NS = { blockSize: 512, blocks: (64 * MIB) / 512, mdtsBytes: 512 * KIB };

function draw(rw: RwMode, geometry: IoGeometry, n: number, seed = 1, rwmixread = 50): IoRequest[] {
  const g = new IoGenerator({ rw, geometry, rwmixread }, createRandom(seed));
  return Array.from({ length: n }, () => g.next());
}

describe('I/O generator', () => {
  const geometry = ioGeometry(generated({ offsetBytes: MIB, sizeBytes: 2 * MIB }), NS);

  it.each(RW_MODES)('%s issues the operations of its mode', (rw) => {
    const ops = new Set(draw(rw, geometry, 400).map((r) => r.op));
    const expected = {
      read: ['read'],
      randread: ['read'],
      write: ['write'],
      randwrite: ['write'],
      trim: ['trim'],
      randtrim: ['trim'],
      rw: ['read', 'write'],
      randrw: ['read', 'write'],
    }[rw];
    expect([...ops].sort()).toEqual(expected);
  });

  it('keeps every I/O inside the region, aligned to the smallest size, sized within the bs range', () => {
    const g = ioGeometry(
      generated({ blockSize: { min: 4 * KIB, max: 64 * KIB }, offsetBytes: MIB, sizeBytes: MIB }),
      NS,
    );
    expect(g).toMatchObject({ regionStart: 2048, regionBlocks: 2048, minBlocks: 8, maxBlocks: 128, granuleBlocks: 8 });
    const sizes = new Set<number>();
    for (const rw of ['randrw', 'rw'] as const) {
      for (const r of draw(rw, g, 3000)) {
        expect(r.slba).toBeGreaterThanOrEqual(2048);
        expect(r.slba + r.nlb).toBeLessThanOrEqual(2048 + 2048);
        expect((r.slba - 2048) % 8).toBe(0);
        expect(r.nlb % 8).toBe(0);
        expect(r.nlb).toBeGreaterThanOrEqual(8);
        expect(r.nlb).toBeLessThanOrEqual(128);
        sizes.add(r.nlb);
      }
    }
    // Every multiple of 4 KiB from 4 KiB to 64 KiB is drawn.
    expect([...sizes].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => (i + 1) * 8));
  });

  it('uses one-block steps when the smallest size is not a power of two', () => {
    const g = ioGeometry(generated({ blockSize: { min: 1536, max: 2560 } }), NS);
    expect(g.granuleBlocks).toBe(1);
    expect(new Set(draw('randread', g, 500).map((r) => r.nlb))).toEqual(new Set([3, 4, 5]));
  });

  it('goes sequentially through the region and wraps at its end', () => {
    const g = ioGeometry(generated({ sizeBytes: 16 * KIB, offsetBytes: 8 * KIB }), NS);
    expect(draw('write', g, 6).map((r) => r.slba)).toEqual([16, 24, 32, 40, 16, 24]);
  });

  it.each([10, 50, 70, 90])('reads %i%% of a randrw mix within tolerance', (pct) => {
    const n = 20_000;
    const reads = draw('randrw', geometry, n, 3, pct).filter((r) => r.op === 'read').length;
    // Binomial: 4.5 standard deviations at most.
    const sd = Math.sqrt(n * (pct / 100) * (1 - pct / 100));
    expect(Math.abs(reads - (n * pct) / 100)).toBeLessThan(4.5 * sd);
  });

  it('0 and 100 rwmixread give only writes or only reads', () => {
    expect(draw('randrw', geometry, 300, 1, 0).every((r) => r.op === 'write')).toBe(true);
    expect(draw('randrw', geometry, 300, 1, 100).every((r) => r.op === 'read')).toBe(true);
  });

  it('is deterministic: the same seed gives the same stream, another seed another', () => {
    expect(draw('randrw', geometry, 200, 42)).toEqual(draw('randrw', geometry, 200, 42));
    expect(draw('randrw', geometry, 200, 42)).not.toEqual(draw('randrw', geometry, 200, 43));
  });

  it('gives each queue (fio job) its own stream and stops each after number-ios', () => {
    const source = new GeneratedSource(
      { rw: 'randread', geometry, rwmixread: 50, queues: 2, numberIos: 3 },
      createRandom(5),
    );
    const a = [source.next(0), source.next(0), source.next(0)];
    const b = [source.next(1), source.next(1), source.next(1)];
    expect(a).not.toEqual(b);
    expect(source.next(0)).toBeUndefined();
    expect(source.next(1)).toBeUndefined();
  });

  it('refuses workloads that do not fit the namespace', () => {
    const cases: [Partial<Parameters<typeof generated>[0]>, RegExp][] = [
      [{ blockSize: { min: 1000, max: 1000 } }, /not a multiple of the 512-byte/],
      [{ blockSize: { min: 4 * KIB, max: MIB } }, /MDTS/],
      [{ sizeBytes: 2 * KIB }, /smaller than the largest I\/O/],
      [{ offsetBytes: 64 * MIB }, /beyond the/],
      [{ offsetBytes: 63 * MIB, sizeBytes: 2 * MIB }, /beyond the/],
    ];
    for (const [fields, message] of cases) {
      expect(() => ioGeometry(generated(fields), NS)).toThrow(HostSimConfigError);
      expect(() => ioGeometry(generated(fields), NS)).toThrow(message);
    }
    // A trim carries ranges, not data: MDTS does not limit it.
    expect(
      ioGeometry(generated({ rw: 'randtrim', blockSize: { min: MIB, max: MIB }, sizeBytes: 8 * MIB }), NS).maxBlocks,
    ).toBe(2048);
  });
});
