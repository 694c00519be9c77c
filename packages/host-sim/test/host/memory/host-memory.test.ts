import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { GrantTable } from '../../../src/host/memory/grant-table.js';
import { SimulatedHostMemory } from '../../../src/host/memory/host-memory.js';
import { MSI_DOORBELL_BASE, MsiDoorbell } from '../../../src/host/memory/msi-doorbell.js';
import { hostMemory, PAGE } from '../../support/fixtures.js';

describe('grant table', () => {
  it('allows exactly the granted range in the granted direction', () => {
    const t = new GrantTable();
    t.grant({ addr: 0x1000n, size: 0x100, direction: 'read' });
    expect(t.allows(0x1000n, 0x100, 'read')).toBe(true);
    expect(t.allows(0x1080n, 0x80, 'read')).toBe(true);
    expect(t.allows(0x0fffn, 2, 'read')).toBe(false);
    expect(t.allows(0x10ffn, 2, 'read')).toBe(false);
    expect(t.allows(0x1000n, 0x100, 'write')).toBe(false);
  });

  it('an access may span several adjacent or overlapping grants, not a gap', () => {
    const t = new GrantTable();
    t.grant({ addr: 0x1000n, size: 0x1000, direction: 'write' });
    t.grant({ addr: 0x2000n, size: 0x1000, direction: 'write' });
    t.grant({ addr: 0x2800n, size: 0x1000, direction: 'write' });
    t.grant({ addr: 0x4000n, size: 0x1000, direction: 'write' });
    expect(t.allows(0x1800n, 0x2000, 'write')).toBe(true);
    expect(t.allows(0x1000n, 0x2800, 'write')).toBe(true);
    expect(t.allows(0x1000n, 0x3800, 'write')).toBe(false);
    expect(t.allows(0x3000n, 0x1800, 'write')).toBe(false);
  });

  it('revoking removes coverage; a double revoke is reported', () => {
    const t = new GrantTable();
    const id = t.grant({ addr: 0x1000n, size: 0x1000, direction: 'read' });
    expect(t.allows(0x1000n, 8, 'read')).toBe(true);
    expect(t.revoke(id)).toBe(true);
    expect(t.allows(0x1000n, 8, 'read')).toBe(false);
    expect(t.revoke(id)).toBe(false);
    expect(t.size).toBe(0);
  });

  it('covers ranges up to the top of the 64-bit space', () => {
    const t = new GrantTable();
    const top = (1n << 64n) - 0x1000n;
    t.grant({ addr: top, size: 0x1000, direction: 'read' });
    expect(t.allows(top + 0xff8n, 8, 'read')).toBe(true);
  });

  propTest.prop([
    fc.array(
      fc.record({
        start: fc.integer({ min: 0, max: 63 }),
        len: fc.integer({ min: 0, max: 16 }),
        write: fc.boolean(),
      }),
      { maxLength: 12 },
    ),
    fc.integer({ min: 0, max: 79 }),
    fc.integer({ min: 1, max: 24 }),
    fc.boolean(),
  ])('matches a byte-by-byte model', (grants, start, len, write) => {
    const t = new GrantTable();
    const covered = { read: new Set<number>(), write: new Set<number>() };
    for (const g of grants) {
      const direction = g.write ? 'write' : 'read';
      t.grant({ addr: BigInt(g.start), size: g.len, direction });
      for (let b = g.start; b < g.start + g.len; b++) covered[direction].add(b);
    }
    const direction = write ? 'write' : 'read';
    let expected = true;
    for (let b = start; b < start + len; b++) if (!covered[direction].has(b)) expected = false;
    expect(t.allows(BigInt(start), len, direction)).toBe(expected);
  });

  it('keeps ranges apart whose index buckets share a key (2^46 bytes apart)', () => {
    const t = new GrantTable();
    const low = 0x1000n;
    const high = low + 2n ** 46n;
    t.grant({ addr: low, size: 4096, direction: 'write' });
    expect(t.allows(low, 4096, 'write')).toBe(true);
    expect(t.allows(high, 4096, 'write')).toBe(false);
    expect(t.allows(high - 8n, 16, 'write')).toBe(false);
    const id = t.grant({ addr: high, size: 4096, direction: 'write' });
    expect(t.allows(high, 4096, 'write')).toBe(true);
    t.revoke(id);
    expect(t.allows(high, 4096, 'write')).toBe(false);
    expect(t.allows(low, 4096, 'write')).toBe(true);
  });
});

describe('host memory', () => {
  it('records a device access to ungranted RAM as an isolation violation, with address, size and direction', () => {
    const memory = hostMemory();
    memory.place(0x10_0000n, 2 * PAGE);
    const dst = new Uint8Array(16);
    expect(memory.space.read(0x10_0100n, dst)).toMatchObject({ reason: 'ungranted', direction: 'read' });
    expect(memory.space.write(0x10_1000n, dst)).toMatchObject({ reason: 'ungranted', direction: 'write' });
    expect(memory.isolationViolationCount).toBe(2);
    expect(memory.isolationViolations).toEqual([
      { addr: 0x10_0100n, size: 16, direction: 'read', seq: 0 },
      { addr: 0x10_1000n, size: 16, direction: 'write', seq: 1 },
    ]);
    expect(memory.space.faultCount).toBe(2);
  });

  it('lets the device access what is granted, only in that direction, until revoked', () => {
    const memory = hostMemory();
    memory.place(0x10_0000n, PAGE);
    memory.write(0x10_0000n, new Uint8Array([1, 2, 3, 4]));
    const id = memory.grant({ addr: 0x10_0000n, size: 8, direction: 'read' });
    const dst = new Uint8Array(4);
    expect(memory.space.read(0x10_0000n, dst)).toBeNull();
    expect([...dst]).toEqual([1, 2, 3, 4]);
    expect(memory.space.write(0x10_0000n, dst)).not.toBeNull();
    memory.revoke(id);
    expect(memory.space.read(0x10_0000n, dst)).not.toBeNull();
    expect(memory.isolationViolationCount).toBe(2);
    expect(() => memory.revoke(id)).toThrow(RangeError);
  });

  it('a hole is a bus fault but not an isolation violation', () => {
    const memory = hostMemory();
    memory.grant({ addr: 0x20_0000n, size: PAGE, direction: 'read' });
    expect(memory.space.read(0x20_0000n, new Uint8Array(4))).toMatchObject({ reason: 'hole' });
    expect(memory.isolationViolationCount).toBe(0);
    expect(memory.busFaults).toHaveLength(1);
  });

  it('places RAM at exact addresses, refuses overlaps and the MSI window, and frees it', () => {
    const memory = hostMemory();
    const top = (1n << 64n) - 0x100n;
    expect(memory.place(top, 0x100)).toEqual({ addr: top, size: 0x100 });
    expect(memory.isRam(top, 0x100)).toBe(true);
    expect(() => memory.place(top - 0x10n, 0x20)).toThrow(RangeError);
    expect(memory.isFree(MSI_DOORBELL_BASE + 0x100n, 4)).toBe(false);
    expect(() => memory.place(MSI_DOORBELL_BASE, PAGE)).toThrow(RangeError);
    expect(memory.isFree(top, 0x101)).toBe(false);
    memory.free({ addr: top, size: 0x100 });
    expect(memory.isRam(top, 1)).toBe(false);
    expect(memory.isFree(top, 0x100)).toBe(true);
    expect(() => memory.free({ addr: top, size: 0x100 })).toThrow(RangeError);
  });

  it('freeing drops page storage and zeroes bytes of a page another placement shares', () => {
    const memory = hostMemory();
    const a = memory.place(0x30_0000n, 0x800);
    const b = memory.place(0x30_0800n, 0x800);
    memory.write(a.addr, new Uint8Array(0x800).fill(0xaa));
    memory.write(b.addr, new Uint8Array(0x800).fill(0xbb));
    memory.free(a);
    const again = memory.place(0x30_0000n, 0x800);
    const bytes = new Uint8Array(0x800);
    memory.read(again.addr, bytes);
    expect(bytes.every((x) => x === 0)).toBe(true);
    memory.free(again);
    memory.free(b);
    expect(memory.residentBytes).toBe(0);
  });

  it('the host CPU touching memory it never placed is a host-sim bug', () => {
    const memory = hostMemory();
    expect(() => memory.write(0x40_0000n, new Uint8Array(4))).toThrow(RangeError);
  });
});

describe('MSI doorbell', () => {
  it('counts one interrupt per dword message, by vector; malformed messages are kept apart', () => {
    const memory = new SimulatedHostMemory();
    const doorbell = new MsiDoorbell();
    doorbell.install(memory);
    const msg = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
    expect(memory.space.write(MSI_DOORBELL_BASE, msg(3))).toBeNull();
    expect(memory.space.write(MSI_DOORBELL_BASE + 4n, msg(3))).toBeNull();
    expect(memory.space.write(MSI_DOORBELL_BASE, msg(0))).toBeNull();
    memory.space.write(MSI_DOORBELL_BASE, new Uint8Array(8));
    expect(doorbell.count(3)).toBe(2);
    expect(doorbell.count(0)).toBe(1);
    expect(doorbell.total).toBe(3);
    expect(doorbell.malformed).toHaveLength(1);
    expect(memory.isolationViolationCount).toBe(0);
  });
});
