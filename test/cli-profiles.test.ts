import { writeFileSync } from 'node:fs';
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
});
