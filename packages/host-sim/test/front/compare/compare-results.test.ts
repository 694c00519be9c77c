/**
 * The qualitative answer `epfsim compare` gives, pinned: the pre-6.13 exact-address mapping
 * (legacy) fails on hosts that are not aligned as DWC and RK3399 need; the function driver that
 * aligns by what it knows (epf-align) fails when a range crosses an edge one mapping cannot span;
 * the core's mem-map loop, multi-window and DMA fail on none. A small matrix keeps it fast.
 */
import { findProfile, STRATEGY_NAMES } from '@epfsim/epc-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareMatrix } from '../../../src/front/compare/compare-matrix.js';
import type { CompareReport, StrategyRow } from '../../../src/front/compare/compare-report.js';
import { runCompare } from '../../../src/front/compare/compare-runner.js';
import { NOT_RUN } from '../../../src/front/compare/run-cell.js';

const PROFILES = ['generic', 'dwc', 'rk3399', 'stress'] as const;
/** Enough I/Os for 128 KiB transfers to reach the stress profile's window limit. */
const IOS = 24;
const SEED = 3;

let report: CompareReport;

function row(profile: string, strategy: string): StrategyRow {
  const found = report.tables.find((t) => t.profile === profile)?.rows.find((r) => r.strategy === strategy);
  if (found === undefined) throw new Error(`no row ${profile}/${strategy}`);
  return found;
}

function cellsOf(profile: string, strategy: string) {
  return report.cells.filter((c) => c.profile === profile && c.strategy === strategy);
}

beforeAll(async () => {
  const profiles = PROFILES.map((name) => findProfile(name)!);
  report = await runCompare(compareMatrix({ profiles, ios: IOS, seed: SEED }));
});

describe('epfsim compare: what each strategy costs on each controller', () => {
  it('runs every profile x strategy x placement x workload and counts every planned command', () => {
    expect(report.cells).toHaveLength(PROFILES.length * STRATEGY_NAMES.length * 2 * 4);
    for (const c of report.cells) {
      expect(c.planned).toBe(IOS);
      expect(c.failed).toBe(Object.values(c.failures).reduce((a, b) => a + b, 0));
      expect(c.failed).toBeLessThanOrEqual(c.planned);
    }
  });

  it.each(['dwc', 'rk3399'])(
    'legacy fails on %s, and only where the host address is not aligned as the controller needs',
    (profile) => {
      const r = row(profile, 'legacy');
      expect(r.failed).toBeGreaterThan(0);
      for (const placement of ['linux', 'adversarial']) expect(r.byPlacement[placement]!.failed).toBeGreaterThan(0);
      expect(r.failedAccesses.total).toBeGreaterThan(0);
      expect(r.failedAccesses.unalignedStart).toBe(r.failedAccesses.total);
      for (const c of cellsOf(profile, 'legacy'))
        for (const a of c.failedAccesses.samples) expect(a.controllerOffset, a.pciAddr).toBeGreaterThan(0);
    },
  );

  it('legacy works on a controller without an alignment rule (the same hosts, so the hosts are not at fault)', () => {
    expect(row('generic', 'legacy').failed).toBe(0);
  });

  it('a controller that never comes up counts every planned command as not run, with the reason', () => {
    const broken = report.cells.filter((c) => c.bringUpError !== undefined);
    expect(broken.length).toBeGreaterThan(0);
    for (const c of broken) {
      expect(c.end).toBe('bring-up');
      expect(c.failures).toEqual({ [NOT_RUN]: c.planned });
      expect(c.bringUpError).toMatch(/Identify|timed out/);
    }
  });

  it.each(['rk3399', 'stress'])(
    'epf-align fails on %s, only on ranges that cross an edge beyond the alignment it knows',
    (name) => {
      const r = row(name, 'epf-align');
      const functionAlign = findProfile(name)!.barAlign;
      expect(r.failed).toBeGreaterThan(0);
      expect(r.failedAccesses.total).toBeGreaterThan(0);
      for (const c of cellsOf(name, 'epf-align'))
        for (const p of c.failedAccesses.positions) {
          // The range needs a bigger aligned block than the driver aligned to, and than its start is aligned to.
          expect(p.block).toBeGreaterThan(functionAlign);
          expect(p.block).toBeGreaterThan(p.startAlign);
        }
    },
  );

  it('on stress every epf-align failure is a range past the map limit, failed with a status, and 4 KiB I/O never fails', () => {
    const r = row('stress', 'epf-align');
    expect(r.failedAccesses.crossesMapLimit).toBe(r.failedAccesses.total);
    expect(Object.keys(r.failures).every((s) => s.startsWith('0/04h'))).toBe(true);
    for (const c of cellsOf('stress', 'epf-align')) if (c.workload.startsWith('4k')) expect(c.failed).toBe(0);
  });

  it('epf-align works on DWC, whose alignment the function driver knows', () => {
    expect(row('dwc', 'epf-align').failed).toBe(0);
  });

  it.each(['mem-map', 'multi-window', 'dma'])('%s fails on no profile', (strategy) => {
    for (const profile of PROFILES) {
      const r = row(profile, strategy);
      expect(r.failed, profile).toBe(0);
      expect(r.failedAccesses.total, profile).toBe(0);
      expect(r.commands, profile).toBe(r.planned);
    }
  });

  it('mem-map pays for it with partial maps where maps end early, and DMA with no window at all', () => {
    for (const profile of ['rk3399', 'stress']) expect(row(profile, 'mem-map').partialMaps).toBeGreaterThan(0);
    for (const profile of ['generic', 'dwc']) expect(row(profile, 'mem-map').partialMaps).toBe(0);
    expect(row('stress', 'mem-map').mapCallsPerCommand!).toBeGreaterThan(row('dwc', 'mem-map').mapCallsPerCommand!);
    expect(row('rk3399', 'dma').mapCallsPerCommand).toBe(0);
    expect(row('rk3399', 'dma').bytesPerMap).toBeNull();
  });

  it('the map-call histogram covers exactly the commands that ran', () => {
    for (const c of report.cells) {
      const commands = Object.values(c.mapCallsHistogram).reduce((a, b) => a + b, 0);
      expect(commands).toBe(c.completed);
      const calls = Object.entries(c.mapCallsHistogram).reduce((a, [k, n]) => a + Number(k) * n, 0);
      expect(calls).toBe(c.costs.mapCalls);
    }
  });
});
