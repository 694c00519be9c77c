/** The host driver against the function: placement edges, a broken map loop, and hostile register values. */

import { type EpcProfile, findProfile } from '@epfsim/epc-core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { COMMAND, EndpointTestHost, IRQ_TYPE, MAX_TRANSFER, STATUS } from '../src/index.js';

const profile = (name: string): EpcProfile => {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
};
/** Seeded bytes, so a failing case replays. */
const seeded = (seed: number) => (into: Uint8Array) => {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < into.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    into[i] = x & 0xff;
  }
};

describe('buffers anywhere in host RAM', () => {
  test.prop([
    fc.constantFrom('rk3399', 'rk3588', 'cadence', 'stress', 'dwc'),
    fc.integer({ min: 0, max: 3 * 1024 * 1024 }),
    fc.integer({ min: 1, max: 300_000 }),
    fc.constantFrom('read', 'write', 'copy'),
  ])(
    'read, write and copy pass wherever the buffer sits, across window and alignment edges',
    (name, misalign, size, kind) => {
      const h = new EndpointTestHost({ profile: profile(name), misalign, random: seeded(misalign + size) });
      const r = kind === 'read' ? h.readTest(size) : kind === 'write' ? h.writeTest(size) : h.copyTest(size);
      expect(r.detail).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(h.epc.liveMaps.length).toBe(0);
    },
  );
});

describe('a map loop that ignores partial maps', () => {
  it('fails the checksum where a buffer crosses an RK3399 1 MiB region, naming the mismatch', () => {
    const options = { profile: profile('rk3399'), misalign: 0x100000 - 0x80, random: seeded(3) };
    expect(new EndpointTestHost(options).readTest(4096).ok).toBe(true);
    const broken = new EndpointTestHost({ ...options, function: { mapLoop: 'single-map' } });
    const read = broken.readTest(4096);
    expect(read.ok).toBe(false);
    expect(read.detail).toMatch(/^checksum mismatch: 0x[0-9a-f]+ over 4096 bytes at 0x10/);
    const write = new EndpointTestHost({ ...options, function: { mapLoop: 'single-map' } }).writeTest(4096);
    expect(write).toMatchObject({ ok: false, detail: 'READ failed (the function: checksum mismatch)' });
  });
});

describe('hostile register values get the status the kernel function sets, never a throw', () => {
  const host = () => new EndpointTestHost({ profile: profile('rk3588'), random: seeded(1) });

  it('size 0 and a size above the buffer the function can allocate fail the command', () => {
    const h = host();
    expect(h.rawCommand({ SIZE: 0, IRQ_TYPE: IRQ_TYPE.MSIX, IRQ_NUMBER: 1 }, COMMAND.READ)).toBe(
      STATUS.READ_FAIL | STATUS.IRQ_RAISED,
    );
    expect(h.rawCommand({ SIZE: MAX_TRANSFER + 1 }, COMMAND.WRITE)).toBe(STATUS.WRITE_FAIL | STATUS.IRQ_RAISED);
    expect(h.fn.events.at(-1)?.error).toContain('ENOMEM');
  });

  it('an address past the top of the 64-bit space or outside RAM is an invalid address, not a crash', () => {
    const h = host();
    const top = { SIZE: 4096, LOWER_SRC_ADDR: 0xffff_f800, UPPER_SRC_ADDR: 0xffff_ffff };
    expect(h.rawCommand(top, COMMAND.READ)).toBe(STATUS.READ_FAIL | STATUS.SRC_ADDR_INVALID | STATUS.IRQ_RAISED);
    const hole = { SIZE: 64, LOWER_DST_ADDR: 0x1000, UPPER_DST_ADDR: 0 };
    expect(h.rawCommand(hole, COMMAND.WRITE)).toBe(STATUS.WRITE_FAIL | STATUS.DST_ADDR_INVALID | STATUS.IRQ_RAISED);
    expect(h.epc.liveMaps.length).toBe(0);
  });

  it('unknown or combined command bits, a bad IRQ type and DMA without an engine are ignored, as the kernel does', () => {
    const h = host();
    expect(h.rawCommand({}, COMMAND.READ | COMMAND.WRITE)).toBe(0);
    expect(h.fn.events.at(-1)?.error).toBe('Invalid command 0x18');
    expect(h.rawCommand({}, 1 << 20)).toBe(0);
    expect(h.rawCommand({ IRQ_TYPE: 7 }, COMMAND.RAISE_MSI_IRQ)).toBe(0);
    expect(h.fn.events.at(-1)?.error).toBe('Failed to detect IRQ type');
    const noDma = new EndpointTestHost({ profile: profile('rk3399') });
    expect(noDma.readTest(64, true)).toMatchObject({ ok: false });
    expect(noDma.fn.events.at(-1)?.error).toBe('Cannot transfer data using DMA');
  });

  it('an interrupt number the function does not offer raises nothing and says why', () => {
    const h = host();
    const r = h.irqTest(IRQ_TYPE.MSIX, 33);
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('no interrupt 33 arrived (the function: Invalid MSI-X IRQ number 33)');
    expect(h.irqTest(IRQ_TYPE.MSIX, 32).ok).toBe(true);
  });
});
