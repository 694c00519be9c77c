import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { epfsim } from './run-cli.js';

describe('epfsim profiles', () => {
  it('lists every built-in profile', () => {
    const r = epfsim('profiles');
    expect(r.code).toBe(0);
    for (const name of ['generic', 'dwc', 'rk3588', 'imx8m', 'rk3399', 'cadence', 'rcar', 'stress']) {
      expect(r.stdout).toMatch(new RegExp(`^${name} `, 'm'));
    }
  });

  it('describes one, and prints JSON with --json', () => {
    expect(epfsim('profiles', 'rk3399').stdout).toContain('32 x 0xfa000000 size 0x100000');
    const json = JSON.parse(epfsim('profiles', 'imx8m', '--json').stdout);
    expect(json.version).toBe(1);
    expect(json.profiles[0].atu).toEqual({ kind: 'dwc', slots: 4, regionAlign: 65536, regionLimit: 2 ** 32 });
  });

  it('validates a profile file and names the bad field in one line, exit 2', () => {
    const file = join(tmpdir(), `epfsim-bad-profile-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ extends: 'dwc', name: 'x', atu: { kind: 'dwc', slots: 0 } }));
    const r = epfsim('profiles', file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('atu.slots: must be an integer from 1 to 256');
  });

  it('rejects unknown profiles and commands with exit 2 and no stack trace', () => {
    const profile = epfsim('profiles', 'rk9999');
    expect(profile.code).toBe(2);
    expect(profile.stderr).toMatch(/unknown profile 'rk9999'/);
    const command = epfsim('frobnicate');
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(command.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  describe('profiles it cannot honour are refused by every command, one line, exit 2', () => {
    const plain = {
      windows: [{ physBase: 0x4000_0000, size: 0x10_0000, pageSize: 4096 }],
      align: { kind: 'none' },
      atu: { kind: 'unlimited' },
      irq: { msi: true, msix: true, intx: true, mapping: 'direct' },
      barAlign: 4096,
    };
    const reserved = { msi: true, msix: false, intx: true, mapping: 'reserved' };
    /** The profiles of issue 15 that validation used to accept and every command then crashed on. */
    const hostile: Record<string, [object, string]> = {
      'window-2^52': [
        { ...plain, windows: [{ physBase: 0, size: 2 ** 52, pageSize: 4096 }] },
        'allocator pages in all; the limit is 4194304',
      ],
      'bar-align-2^40': [{ ...plain, barAlign: 2 ** 40 }, 'barAlign: 0x10000000000 exceeds the limit of 0x100000'],
      'irq-2^50': [{ ...plain, irq: { ...reserved, reservedSize: 2 ** 50 } }, 'irq.reservedSize: no outbound window'],
      overlap: [
        {
          ...plain,
          windows: [
            { physBase: 0x4000_0000, size: 0x10_0000, pageSize: 4096 },
            { physBase: 0x4000_8000, size: 0x10_0000, pageSize: 65536 },
          ],
        },
        'windows[1]: overlaps',
      ],
      'phys-2^53-1': [
        { ...plain, windows: [{ physBase: 2 ** 53 - 1, size: 0x10_0000, pageSize: 4096 }] },
        'physBase: 9007199254740991 is not a CPU address below 2^52',
      ],
    };
    const fileOf = (name: string): string => {
      const file = join(tmpdir(), `epfsim-hostile-${name}-${process.pid}.json`);
      writeFileSync(file, JSON.stringify({ name, ...hostile[name]![0] }));
      return file;
    };
    const refused = (r: { code: number; stderr: string }, message: string) => {
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    };

    it.each(Object.keys(hostile))('epfsim profiles and run: %s', (name) => {
      const file = fileOf(name);
      const message = hostile[name]![1];
      refused(epfsim('profiles', file), message);
      refused(epfsim('run', '--profile', file, '--number-ios', '10'), message);
    });

    it('serve, fuzz, compare and replay (a case file with the profile inline) too', () => {
      const [data, message] = hostile.overlap!;
      const file = fileOf('overlap');
      refused(epfsim('serve', '--profile', file), message);
      refused(epfsim('fuzz', '--profile', file, '--cases', '1'), message);
      refused(epfsim('compare', '--quick', '--profile', file), message);
      const caseFile = join(tmpdir(), `epfsim-hostile-case-${process.pid}.json`);
      const base = JSON.parse(
        readFileSync(new URL('./cases/rk3399-prp-list-mid-page.case.json', import.meta.url), 'utf8'),
      );
      writeFileSync(caseFile, JSON.stringify({ ...base, profile: { name: 'overlap', ...data } }));
      refused(epfsim('replay', caseFile), message);
    });
  });
});
