import { describe, expect, it } from 'vitest';
import { createEpc } from '../src/epc.js';
import { EpcConfigError, EpcError } from '../src/errors.js';
import { HostAddressSpace } from '../src/host-address-space.js';
import type { EpcProfile } from '../src/profile.js';
import { PROFILE_LIMITS } from '../src/profile-limits.js';
import { parseProfile } from '../src/profile-loader.js';
import { BUILTIN_PROFILES } from '../src/profiles.js';

const board = {
  name: 'my-board',
  description: 'a DWC board with 6 slots',
  windows: [{ physBase: '0x40000000', size: '0x10000000', pageSize: 65536 }],
  align: { kind: 'dwc', regionAlign: 65536 },
  atu: { kind: 'dwc', slots: 6, regionAlign: 65536, regionLimit: '0x100000000' },
  irq: { msi: true, msix: true, intx: false, mapping: 'transient' },
  barAlign: 65536,
};

describe('parseProfile', () => {
  it('accepts every built-in profile as JSON, unchanged', () => {
    for (const p of BUILTIN_PROFILES) expect(parseProfile(JSON.parse(JSON.stringify(p)))).toEqual(p);
  });

  it('reads hex strings and fills defaults', () => {
    const p = parseProfile(board);
    expect(p.windows[0]).toEqual({ physBase: 0x4000_0000, size: 0x1000_0000, pageSize: 65536 });
    expect(p.atu).toEqual({ kind: 'dwc', slots: 6, regionAlign: 65536, regionLimit: 2 ** 32 });
    expect(p.hasDma).toBe(false);
  });

  it('extends a built-in profile', () => {
    const p = parseProfile({
      extends: 'rk3588',
      name: 'rk3588-8',
      atu: { kind: 'dwc', slots: 8, regionAlign: 65536, regionLimit: 2 ** 33 },
    });
    expect(p.name).toBe('rk3588-8');
    expect(p.windows).toEqual(BUILTIN_PROFILES.find((b) => b.name === 'rk3588')!.windows);
    expect(p.atu).toMatchObject({ slots: 8 });
  });

  it('takes the text of a profile file too, and names a syntax error in one line', () => {
    expect(parseProfile(JSON.stringify(board), 'board.json')).toEqual(parseProfile(board));
    expect(() => parseProfile('{ "name": ', 'board.json')).toThrow(/^board\.json: not valid JSON \(/);
  });

  it("describes an extended profile by what it changed: the parent's words fit the parent only", () => {
    const rk3588 = BUILTIN_PROFILES.find((b) => b.name === 'rk3588')!;
    expect(parseProfile({ extends: 'rk3588', name: 'copy' }).description).toBe(rk3588.description);
    const changed = { extends: 'rk3588', name: 'x', windows: board.windows, atu: board.atu };
    expect(parseProfile(changed).description).toBe('rk3588 with its own windows, atu');
    expect(parseProfile({ ...changed, description: 'my board' }).description).toBe('my board');
  });

  it('an empty or missing description is valid (a case file writes what it read back)', () => {
    const { description: _none, ...plain } = board;
    expect(parseProfile(plain).description).toBe('');
    expect(parseProfile({ ...board, description: '' }).description).toBe('');
    expect(() => parseProfile({ ...board, description: 7 }, 'my')).toThrow('my.description: must be a string');
  });

  it.each([
    [{ ...board, windows: [] }, 'my.windows: must be a non-empty array'],
    [
      { ...board, windows: [{ physBase: 0, size: 100, pageSize: 4096 }] },
      'my.windows[0].size: smaller than its pageSize',
    ],
    [{ ...board, align: { kind: 'dwc', regionAlign: 3000 } }, 'my.align.regionAlign: must be a power of two'],
    [{ ...board, align: { kind: 'weird' } }, 'my.align.kind: must be one of none, dwc, pass-bits'],
    [
      { ...board, atu: { kind: 'dwc', slots: 0, regionAlign: 65536, regionLimit: 2 ** 32 } },
      'my.atu.slots: must be an integer from 1 to 256',
    ],
    [
      { ...board, irq: { msi: false, msix: false, intx: false, mapping: 'direct' } },
      'my.irq: at least one of msi, msix, intx must be true',
    ],
    [{ ...board, colour: 'red' }, 'my.colour: unknown field'],
    [{ ...board, extends: 'nope' }, "unknown profile 'nope'"],
    [
      { ...board, align: { kind: 'pass-bits', minBits: 8, maxBits: 30, sizeGranule: 256 } },
      'my.align.maxBits: 2^30 exceeds the largest window',
    ],
    ['rk3399', 'my: not valid JSON'],
    [42, 'my: must be an object'],
  ])('rejects %j with one clear line', (data, message) => {
    expect(() => parseProfile(data, 'my')).toThrow(EpcConfigError);
    expect(() => parseProfile(data, 'my')).toThrow(message);
  });

  it.each([
    [{ ...board, windows: [{ physBase: 0, size: 4096, pageSize: 8192 }] }, 'my.windows[0].size'],
    [{ ...board, bogus: 1 }, 'my.bogus'],
    [
      {
        ...board,
        atu: { kind: 'window-per-mapping' },
        windows: [{ physBase: 0x4000_0000, size: 8192, pageSize: 4096 }],
      },
      'my.windows[0].pageSize',
    ],
    [{ ...board, extends: 'nope' }, ''],
  ])('names the offending field of %j as the user error path', (data, path) => {
    let thrown: unknown;
    try {
      parseProfile(data, 'my');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ isUserError: true, path });
    expect((thrown as Error).message.startsWith(path)).toBe(true);
    expect((thrown as Error).message).not.toContain('\n');
  });
});

/** A profile the simulator can honour, to vary one field at a time. */
const plain = {
  name: 'plain',
  windows: [{ physBase: 0x4000_0000, size: 1 << 20, pageSize: 4096 }],
  align: { kind: 'none' },
  atu: { kind: 'unlimited' },
  irq: { msi: true, msix: true, intx: true, mapping: 'direct' },
  barAlign: 4096,
};
const reservedIrq = (reservedSize: number) => ({
  msi: true,
  msix: false,
  intx: true,
  mapping: 'reserved',
  reservedSize,
});

describe('profile limits: what the simulator cannot honour is refused', () => {
  it.each([
    [
      { ...plain, windows: [{ physBase: 0, size: 2 ** 52, pageSize: 4096 }] },
      `my.windows: ${2 ** 40} allocator pages in all; the limit is ${PROFILE_LIMITS.maxWindowPages}`,
    ],
    [{ ...plain, barAlign: 2 ** 40 }, 'my.barAlign: 0x10000000000 exceeds the limit of 0x100000'],
    [{ ...plain, irq: reservedIrq(2 ** 50) }, 'my.irq.reservedSize: no outbound window can hold 0x4000000000000 bytes'],
    [
      { ...plain, irq: reservedIrq(1 << 20) },
      'my.irq.reservedSize: the interrupt chunk (0x100000 bytes) leaves no window page',
    ],
    [
      {
        ...plain,
        windows: [
          { physBase: 0x4000_0000, size: 0x10000, pageSize: 4096 },
          { physBase: 0x4000_8000, size: 0x10000, pageSize: 4096 },
        ],
      },
      'my.windows[1]: overlaps my.windows[0] (0x40000000+0x10000 and 0x40008000+0x10000)',
    ],
    [
      { ...plain, windows: [{ physBase: 2 ** 53 - 1, size: 1 << 20, pageSize: 4096 }] },
      'my.windows[0].physBase: 9007199254740991 is not a CPU address below 2^52',
    ],
    [
      { ...plain, windows: [{ physBase: 2 ** 52 - 4096, size: 8192, pageSize: 4096 }] },
      'my.windows[0].size: the window must end at or below 2^52',
    ],
    [{ ...plain, windows: [{ physBase: 0, size: 2048, pageSize: 1024 }] }, 'cannot hold one 4096-byte kernel page'],
    [
      {
        ...plain,
        windows: Array.from({ length: 257 }, (_, i) => ({ physBase: i * 4096, size: 4096, pageSize: 4096 })),
      },
      'my.windows: 257 windows; the limit is 256',
    ],
    [
      { ...plain, align: { kind: 'dwc', regionAlign: 1 << 21 } },
      'my.align.regionAlign: 0x200000 exceeds the largest window',
    ],
    [
      { ...plain, align: { kind: 'pass-bits', minBits: 8, maxBits: 12, sizeGranule: 1 << 21 } },
      'my.align.sizeGranule: 0x200000 exceeds the largest window',
    ],
  ])('rejects %j with one clear line', (data, message) => {
    expect(() => parseProfile(data, 'my')).toThrow(EpcConfigError);
    expect(() => parseProfile(data, 'my')).toThrow(message);
  });

  it('accepts the limits themselves: a window ending at 2^52, the largest BAR alignment, a fitting interrupt chunk', () => {
    const p = parseProfile({
      ...plain,
      windows: [
        { physBase: 2 ** 52 - 2 ** 22, size: 2 ** 22, pageSize: 4096 },
        { physBase: 0x4000_0000, size: 1 << 20, pageSize: 1 << 20 },
      ],
      barAlign: PROFILE_LIMITS.maxBarAlign,
      irq: reservedIrq(1 << 20),
    });
    const epc = createEpc(p, new HostAddressSpace());
    expect(epc.memMap(0x1000n, 4096)).not.toBeInstanceOf(EpcError);
  });

  it('createEpc refuses a profile object built in code with the same typed error', () => {
    const p: EpcProfile = { ...BUILTIN_PROFILES[0]!, name: 'code', barAlign: 2 ** 40 };
    expect(() => createEpc(p, new HostAddressSpace())).toThrow(EpcConfigError);
    expect(() => createEpc(p, new HostAddressSpace())).toThrow('profile code.barAlign: 0x10000000000 exceeds');
  });
});
