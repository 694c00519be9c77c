/**
 * Chart 2: how many map calls each command took (SQE-fetch share, lists, data, CQE post), as a
 * small histogram per strategy and profile over all its cells. One bar per count; the last bar
 * holds everything from {@link OVERFLOW_BIN} up.
 */
import { strategyColour } from './chart-style.js';
import type { CompareReport } from './compare-report.js';
import { chartSvg, element, svgText } from './svg.js';

/** Map calls from this number up share the last bar. */
export const OVERFLOW_BIN = 16;
const PANEL = { width: 120, height: 64, gapX: 14, gapY: 30 } as const;
const MARGIN = { left: 96, top: 24, right: 8, bottom: 8 } as const;
/** Room under each panel for its caption. */
const CAPTION = 12;

/** Commands per bin (0..OVERFLOW_BIN) of one (profile, strategy), over its cells. */
export function mapCallBins(report: CompareReport, profile: string, strategy: string): number[] {
  const bins = new Array<number>(OVERFLOW_BIN + 1).fill(0);
  for (const cell of report.cells) {
    if (cell.profile !== profile || cell.strategy !== strategy) continue;
    for (const [calls, commands] of Object.entries(cell.mapCallsHistogram)) {
      const bin = Math.min(Number(calls), OVERFLOW_BIN);
      bins[bin] = (bins[bin] ?? 0) + commands;
    }
  }
  return bins;
}

function panel(report: CompareReport, profile: string, strategy: string, x: number, y: number): string[] {
  const bins = mapCallBins(report, profile, strategy);
  const total = bins.reduce((a, b) => a + b, 0);
  const parts = [element('rect', { x, y, width: PANEL.width, height: PANEL.height, fill: 'none', stroke: '#ddd' })];
  if (total === 0) {
    parts.push(
      svgText(x + PANEL.width / 2, y + PANEL.height / 2, 'no command ran', { 'text-anchor': 'middle', fill: '#999' }),
    );
    return parts;
  }
  const tallest = Math.max(...bins);
  const barWidth = PANEL.width / bins.length;
  let weighted = 0;
  bins.forEach((commands, calls) => {
    weighted += commands * calls;
    if (commands === 0) return;
    const h = (commands / tallest) * (PANEL.height - 2);
    parts.push(
      element(
        'rect',
        {
          class: 'bar',
          x: x + calls * barWidth + 0.5,
          y: y + PANEL.height - h,
          width: barWidth - 1,
          height: h,
          fill: strategyColour(strategy),
          'data-profile': profile,
          'data-strategy': strategy,
          'data-calls': calls === OVERFLOW_BIN ? `${OVERFLOW_BIN}+` : calls,
          'data-commands': commands,
        },
        element(
          'title',
          {},
          `${commands} commands with ${calls === OVERFLOW_BIN ? `${OVERFLOW_BIN} or more` : calls} map calls`,
        ),
      ),
    );
  });
  const label = `mean ${(weighted / total).toFixed(1)}${bins[OVERFLOW_BIN]! > 0 ? '+' : ''}`;
  parts.push(svgText(x, y + PANEL.height + CAPTION, '0', { fill: '#777' }));
  parts.push(
    svgText(x + PANEL.width, y + PANEL.height + CAPTION, `${OVERFLOW_BIN}+`, { 'text-anchor': 'end', fill: '#777' }),
  );
  parts.push(svgText(x + PANEL.width / 2, y + PANEL.height + CAPTION, label, { 'text-anchor': 'middle' }));
  return parts;
}

export function mapCallsHistogramSvg(report: CompareReport): string {
  const { profiles, strategies } = report.matrix;
  const parts: string[] = [];
  profiles.forEach((profile, col) => {
    const x = MARGIN.left + col * (PANEL.width + PANEL.gapX);
    parts.push(
      svgText(x + PANEL.width / 2, MARGIN.top - 8, profile, { 'text-anchor': 'middle', 'font-weight': 'bold' }),
    );
  });
  strategies.forEach((strategy, row) => {
    const y = MARGIN.top + row * (PANEL.height + PANEL.gapY);
    parts.push(svgText(MARGIN.left - 8, y + PANEL.height / 2, strategy, { 'text-anchor': 'end' }));
    profiles.forEach((profile, col) => {
      parts.push(...panel(report, profile, strategy, MARGIN.left + col * (PANEL.width + PANEL.gapX), y));
    });
  });
  const bars = parts.filter((p) => p.startsWith('<rect class="bar"')).length;
  const width = MARGIN.left + profiles.length * (PANEL.width + PANEL.gapX) + MARGIN.right;
  const height = MARGIN.top + strategies.length * (PANEL.height + PANEL.gapY) + MARGIN.bottom;
  return chartSvg(
    'map-calls-histogram',
    { name: 'bars', value: bars },
    { width, height },
    'Map calls per command, by strategy and profile',
    parts,
  );
}
