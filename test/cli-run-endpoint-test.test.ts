/** `epfsim run --function pci-epf-test`: the kernel's endpoint test function under its selftest. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { epfsim } from './run-cli.js';

describe('epfsim run --function pci-epf-test', () => {
  it('passes the selftest on rk3399 with buffers straddling the 1 MiB region edge', () => {
    const r = epfsim('run', '--function', 'pci-epf-test', '--profile', 'rk3399', '--placement', 'adversarial');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/placement adversarial \(buffers from 0xf[0-9a-f]{4}\)/);
    expect(r.stdout).toContain('  PASS COPY 1024001');
    expect(r.stdout).toContain('PASS: all 18 cases passed (checksums, no leaked map, no bus fault)');
  });

  it('--json lists every case with its status', () => {
    const r = epfsim('run', '--function', 'pci-epf-test', '--profile', 'dwc', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; cases: { name: string; ok: boolean; status: number }[] };
    expect(doc.ok).toBe(true);
    // dwc has DMA: 15 transfers each way, the BAR and three interrupt types.
    expect(doc.cases).toHaveLength(34);
    expect(doc.cases.find((c) => c.name === 'READ 1 (DMA)')).toMatchObject({ ok: true, status: 0x44 });
  });

  it.each([
    [['--placement', 'spdk'], "--placement: pci-epf-test places its buffers as linux or adversarial, not 'spdk'"],
    [['--rw', 'read'], '--rw: not for --function pci-epf-test'],
    [['--ns-size', '1m'], '--ns-size: not for --function pci-epf-test'],
    [['--alignment', '-4'], '--alignment'],
  ])('refuses what does not apply, in one line: exit 2 (%j)', (args, message) => {
    const r = epfsim('run', '--function', 'pci-epf-test', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
  });

  it('--alignment is for the test function only, and --function knows its names', () => {
    expect(epfsim('run', '--alignment', '4096').stderr).toContain('--alignment: only with --function pci-epf-test');
    expect(epfsim('run', '--function', 'virtio').stderr).toContain(
      "--function: 'virtio' is not one of nvme, pci-epf-test",
    );
  });
});

describe('epfsim fuzz --function pci-epf-test', () => {
  it('fuzzes buffer placement on every profile: clean, with the seed in the summary', () => {
    const r = epfsim('fuzz', '--function', 'pci-epf-test', '--profile', 'all', '--cases', '100', '--seed', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^epfsim fuzz --function pci-epf-test: 100 cases .* seed 3, 0 failed; profiles generic, /);
    const json = JSON.parse(epfsim('fuzz', '--function', 'pci-epf-test', '--cases', '20', '--json').stdout);
    expect(json).toMatchObject({ function: 'pci-epf-test', casesRun: 20, failed: 0 });
  });

  it('refuses the NVMe campaign flags in one line: exit 2', () => {
    const r = epfsim('fuzz', '--function', 'pci-epf-test', '--placement', 'spdk');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('epfsim fuzz: --placement: not for --function pci-epf-test');
  });
});

describe('the endpoint test function with other map loops', () => {
  const mapOnce = fileURLToPath(new URL('../examples/strategies/ignores-partial-maps.mjs', import.meta.url));

  it('run takes a strategy as its map loop: one that ignores partial maps fails the edge cases', () => {
    const r = epfsim('run', '--function', 'pci-epf-test', '--profile', 'rk3399', '--strategy', mapOnce);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL READ 1024000 /);
    expect(r.stdout).toMatch(/FAIL: 6 of 18 cases failed/);
  });

  it('compare uses its selftest as the workload, every strategy (and a module) as its map loop', () => {
    const r = epfsim(
      'compare',
      '--function',
      'pci-epf-test',
      '--profile',
      'rk3399',
      '--strategy',
      'all',
      '--strategy',
      mapOnce,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout).rows as {
      strategy: string;
      failed: number;
      cases: number;
      partialMaps: number;
    }[];
    const row = (name: string) => rows.find((x) => x.strategy === name);
    expect(rows.map((x) => x.strategy)).toEqual(['legacy', 'epf-align', 'mem-map', 'multi-window', 'dma', 'map-once']);
    // RK3399 passes only low address bits through: the pre-6.13 loops cannot reach buffers near an edge.
    expect(row('legacy')?.failed).toBeGreaterThan(0);
    expect(row('mem-map')).toMatchObject({ failed: 0, cases: 18 });
    expect(row('mem-map')?.partialMaps).toBeGreaterThan(0);
    expect(row('map-once')?.failed).toBeGreaterThan(0);
    expect(epfsim('compare', '--function', 'pci-epf-test', '--quick').code).toBe(2);
  });
});

describe('a reader that stops early', () => {
  it('ends the output quietly: no EPIPE stack, exit 0', async () => {
    const cli = fileURLToPath(new URL('../packages/host-sim/dist/front/cli/main.js', import.meta.url));
    const child = spawn(process.execPath, [cli, 'run', '--function', 'pci-epf-test', '--profile', 'stress']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});
