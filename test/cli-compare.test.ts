/**
 * `epfsim compare` through the built CLI: the quick matrix prints a table per profile and writes
 * report.json and report.html; the page renders in headless Chromium (Debian's `chromium`, which
 * .ci/run installs) with its three charts drawn.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epfsim } from './run-cli.js';

const QUICK_PROFILES = ['generic', 'dwc', 'rk3399', 'stress'];
const STRATEGIES = ['legacy', 'epf-align', 'mem-map', 'multi-window', 'dma'];
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', 'chromium'];
const CHROMIUM_TIMEOUT_MS = 60_000;
const STACK_FRAME = /\bat .*\.js:\d+/;

let out: string;
let quick: ReturnType<typeof epfsim>;

function chromium(): string | undefined {
  return CHROMIUM_CANDIDATES.find((c) => spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0);
}

function expectUsageError(r: ReturnType<typeof epfsim>, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_FRAME);
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'epfsim-compare-'));
  quick = epfsim('compare', '--quick', '--out', out);
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('epfsim compare', () => {
  it('--quick prints a table per profile with a row per strategy', () => {
    expect(quick.code).toBe(0);
    expect(quick.stdout).toMatch(/^epfsim compare: 4 profiles x 5 strategies x placements linux, adversarial/);
    for (const profile of QUICK_PROFILES) expect(quick.stdout).toMatch(new RegExp(`^${profile}: `, 'm'));
    expect(quick.stdout).toMatch(
      /strategy +failed +failed % +map calls\/cmd +ATU\/cmd +partial maps +slots hw +bytes\/map +sim IOPS +sim MiB\/s +failures by status/,
    );
    const dwc = quick.stdout.slice(quick.stdout.indexOf('dwc: '), quick.stdout.indexOf('rk3399: '));
    expect(dwc).toMatch(/ legacy +512\/512 +100\.0% .*not run ×512/);
    expect(dwc).toMatch(/ mem-map +0\/512 +0\.0% /);
    expect(quick.stdout).toMatch(/reports: .*report\.json, .*report\.html\n$/);
  });

  it('writes report.json with the tables and every cell', () => {
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ version: 1, tool: 'epfsim compare', seed: 1, ios: 64 });
    expect(report.tables.map((t: { profile: string }) => t.profile)).toEqual(QUICK_PROFILES);
    expect(report.cells).toHaveLength(4 * 5 * 2 * 4);
    for (const table of report.tables)
      expect(table.rows.map((r: { strategy: string }) => r.strategy)).toEqual(STRATEGIES);
  });

  it('--json prints the report as data, reproducibly from the seed', () => {
    const args = [
      'compare',
      '--profile',
      'stress',
      '--strategy',
      'epf-align',
      '--strategy',
      'dma',
      '--ios',
      '16',
      '--seed',
      '9',
      '--out',
      join(out, 'json'),
      '--json',
    ];
    const first = epfsim(...args);
    const again = epfsim(...args);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    const a = JSON.parse(first.stdout);
    const b = JSON.parse(again.stdout);
    expect(a.tables).toHaveLength(1);
    expect(a.tables[0].rows.map((r: { strategy: string }) => r.strategy)).toEqual(['epf-align', 'dma']);
    const counts = (r: { cells: { failed: number; costs: unknown; failures: unknown }[] }) =>
      r.cells.map((c) => [c.failed, c.costs, c.failures]);
    expect(counts(b)).toEqual(counts(a));
  });

  it('refuses bad flags with one line and exit 2', () => {
    expectUsageError(epfsim('compare', '--strategy', 'bogus'), /--strategy: 'bogus' is not one of legacy/);
    expectUsageError(epfsim('compare', '--ios', '0'), /--ios: 0 is outside 1\.\./);
    expectUsageError(epfsim('compare', '--profile', 'nope'), /unknown profile 'nope'/);
    expectUsageError(epfsim('compare', '--bogus'), /bogus/);
    const file = join(out, 'a-file');
    writeFileSync(file, '');
    expectUsageError(epfsim('compare', '--out', file), /--out: .* is not a directory/);
  });

  it('report.html renders in headless Chromium with its three charts drawn', (ctx) => {
    const html = join(out, 'report.html');
    expect(existsSync(html)).toBe(true);
    const browser = chromium();
    if (browser === undefined) {
      console.log('cli-compare: chromium not found (CI installs Debian chromium); skipping the browser check');
      ctx.skip();
      return;
    }
    const r = spawnSync(
      browser,
      ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', pathToFileURL(html).href],
      { encoding: 'utf8', timeout: CHROMIUM_TIMEOUT_MS },
    );
    expect(r.status).toBe(0);
    const dom = r.stdout;
    const cells = dom.match(/<rect class="cell"/g)?.length ?? 0;
    const bars = dom.match(/<rect class="bar"/g)?.length ?? 0;
    const points = dom.match(/<circle class="point"/g)?.length ?? 0;
    expect(dom).toMatch(/<svg id="failure-grid"[^>]*data-cells="40"/);
    expect(cells).toBe(4 * 5 * 2);
    expect(dom).toContain(`<svg id="map-calls-histogram" data-chart="map-calls-histogram" data-bars="${bars}"`);
    expect(bars).toBeGreaterThan(0);
    expect(dom).toContain(`data-points="${points}"`);
    expect(points).toBeGreaterThan(0);
  });
});
