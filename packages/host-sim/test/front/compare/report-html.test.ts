/** report.html is one self-contained page whose three charts draw what the report counted. */
import { findProfile } from '@epfsim/epc-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareMatrix } from '../../../src/front/compare/compare-matrix.js';
import type { CompareReport } from '../../../src/front/compare/compare-report.js';
import { runCompare } from '../../../src/front/compare/compare-runner.js';
import { formatCompareReport, TABLE_COLUMNS } from '../../../src/front/compare/format-table.js';
import { renderReportHtml } from '../../../src/front/compare/report-html.js';

let report: CompareReport;
let html: string;

function count(pattern: RegExp): number {
  return html.match(pattern)?.length ?? 0;
}

beforeAll(async () => {
  const profiles = ['dwc', 'stress'].map((name) => findProfile(name)!);
  report = await runCompare(compareMatrix({ profiles, strategies: ['legacy', 'mem-map'], ios: 8, seed: 5 }));
  html = renderReportHtml(report);
});

describe('report.html', () => {
  it('is one HTML document with no script and no external resource', () => {
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).not.toMatch(/<script|https?:|src=|<link/i);
  });

  it('draws a failure-grid cell per profile, strategy and placement, red where commands failed', () => {
    expect(html).toMatch(/<svg id="failure-grid"[^>]* data-cells="8"/);
    expect(count(/<rect class="cell"/g)).toBe(2 * 2 * 2);
    expect(html).toMatch(
      /data-profile="dwc" data-strategy="legacy" data-placement="linux" data-failed="32" data-planned="32" data-rate="1"/,
    );
    expect(html).toMatch(
      /data-profile="dwc" data-strategy="mem-map" data-placement="linux" data-failed="0" data-planned="32" data-rate="0"/,
    );
  });

  it('draws map-call histogram bars for the strategies whose commands ran', () => {
    const bars = count(/<rect class="bar"/g);
    expect(bars).toBeGreaterThan(0);
    expect(html).toContain(`<svg id="map-calls-histogram" data-chart="map-calls-histogram" data-bars="${bars}"`);
    expect(html).not.toMatch(/<rect class="bar"[^>]*data-strategy="legacy"/);
    expect(html).toMatch(/<rect class="bar"[^>]*data-profile="stress" data-strategy="mem-map"/);
  });

  it('places every failed access in the address chart, and only the failing strategy', () => {
    const points = count(/<circle class="point"/g);
    expect(points).toBeGreaterThan(0);
    expect(html).toContain(`data-points="${points}"`);
    expect(html).not.toMatch(/<circle class="point"[^>]*data-strategy="mem-map"/);
    const drawn = [...html.matchAll(/<circle class="point"[^>]*data-count="(\d+)"/g)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    const failed = report.cells.reduce((n, c) => n + c.failedAccesses.total, 0);
    expect(drawn).toBe(failed);
  });

  it('carries the text tables, escaped', () => {
    for (const column of TABLE_COLUMNS) expect(html).toContain(column.replace('&', '&amp;'));
    expect(formatCompareReport(report).some((l) => l.startsWith('dwc: Synopsys DesignWare'))).toBe(true);
  });
});
