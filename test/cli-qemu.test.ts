/**
 * `epfsim run --target qemu`, `epfsim fuzz --target qemu` and `epfsim fuzz --differential` as a
 * user runs them (the built CLI). Skipped, with one line saying so, where QEMU is not installed.
 */
import { describe, expect, it } from 'vitest';
import { qemuAvailable } from '../packages/host-sim/src/reference/qemu/qemu-process.js';
import { epfsim } from './run-cli.js';

const hasQemu = qemuAvailable();
if (!hasQemu)
  console.log('QEMU (qemu-system-x86_64) is not installed: the CLI QEMU suite is skipped here; CI runs it.');

const SMALL_RUN = ['--number-ios', '300', '--iodepth', '4', '--ns-size', '16m'];

describe('--target', () => {
  it('refuses an unknown target with one line and exit 2', () => {
    const r = epfsim('run', '--target', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["epfsim run: --target: 'nope' is not one of epfsim, qemu"]);
  });

  it('refuses --differential with the epfsim target, and --compat alone', () => {
    expect(epfsim('fuzz', '--differential', '--target', 'epfsim').code).toBe(2);
    const r = epfsim('fuzz', '--compat');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('epfsim fuzz: --compat needs --differential');
  });
});

describe.runIf(hasQemu)('the CLI on QEMU', () => {
  it.each(['linux', 'adversarial'])(
    'run --target qemu --placement %s: verified, EPC checks not applicable',
    (placement) => {
      const r = epfsim('run', '--target', 'qemu', '--placement', placement, ...SMALL_RUN);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('qemu:nvme, placement');
      expect(r.stdout).toMatch(/PASS verify +\d+ reads/);
      expect(r.stdout).toMatch(/N\/A +isolation/);
      expect(r.stdout).not.toContain('EPC (');
      expect(r.stdout).toContain('PASS: all 5 checks passed (5 not applicable)');
    },
  );

  it('run --target qemu --json reports no EPC counters and marks the checks not applicable', () => {
    const r = epfsim('run', '--target', 'qemu', '--placement', 'spdk', ...SMALL_RUN, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.counters.epc).toBeUndefined();
    expect(report.results.ios).toBe(300);
    const na = report.checks.list.filter((c: { applicable?: boolean }) => c.applicable === false);
    expect(na.map((c: { name: string }) => c.name)).toEqual([
      'isolation',
      'bus-faults',
      'epc-contract',
      'leaks',
      'maps-after-shutdown',
    ]);
  });

  it('fuzz --target qemu runs every placement on one QEMU', () => {
    const r = epfsim('fuzz', '--target', 'qemu', '--placement', 'all', '--cases', '40', '--ns-size', '8m');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/epfsim fuzz: 40 cases .* 0 failed/);
    expect(r.stdout).toContain('rk3588 x invalid: 10 cases, 0 failed');
  });

  it('fuzz --differential compares every case and prints the agreement rate', () => {
    const r = epfsim('fuzz', '--differential', '--placement', 'all', '--cases', '40', '--json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const d = JSON.parse(r.stdout).differential;
    expect(d.identical + d.explained + d.undocumented).toBe(40);
    expect(d.undocumented).toBe(0);
    // The invalid placement breaks rules QEMU is lax about: known differences, not agreement.
    expect(d.explained).toBeGreaterThan(0);
    expect(d.known['prp1-not-dword-aligned']).toBeGreaterThan(0);
    const text = epfsim('fuzz', '--differential', '--cases', '10');
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /differential \(epfsim with specification defaults vs QEMU 7\.2\): \d+\/10 cases identical/,
    );
  });

  it('refuses a namespace too large to compare after every case, and workers', () => {
    expect(epfsim('fuzz', '--differential', '--ns-size', '1g').code).toBe(2);
    const r = epfsim('fuzz', '--target', 'qemu', '--workers', '2');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--workers: one QEMU serves the whole campaign');
  });
});
