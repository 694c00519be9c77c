/**
 * Chart 1: the share of commands that failed, strategy by profile; each cell split into one half
 * per placement (linux left, adversarial right), coloured from green (none) to red (all).
 */
import { failureColour } from './chart-style.js';
import type { CompareReport } from './compare-report.js';
import { chartSvg, element, svgText } from './svg.js';

const CELL = { width: 104, height: 34 } as const;
const MARGIN = { left: 96, top: 44, right: 8, bottom: 8 } as const;
const PERCENT = 100;

export function failureGridSvg(report: CompareReport): string {
  const { profiles, strategies, placements } = report.matrix;
  const half = CELL.width / Math.max(placements.length, 1);
  const parts: string[] = [];
  let cells = 0;
  profiles.forEach((profile, col) => {
    const x = MARGIN.left + col * CELL.width;
    parts.push(
      svgText(x + CELL.width / 2, MARGIN.top - 22, profile, { 'text-anchor': 'middle', 'font-weight': 'bold' }),
    );
    for (const [p, placement] of placements.entries())
      parts.push(svgText(x + half * (p + 0.5), MARGIN.top - 6, placement, { 'text-anchor': 'middle', fill: '#555' }));
  });
  strategies.forEach((strategy, rowIndex) => {
    const y = MARGIN.top + rowIndex * CELL.height;
    parts.push(svgText(MARGIN.left - 8, y + CELL.height / 2 + 4, strategy, { 'text-anchor': 'end' }));
    profiles.forEach((profile, col) => {
      const row = report.tables.find((t) => t.profile === profile)?.rows.find((r) => r.strategy === strategy);
      placements.forEach((placement, p) => {
        const counts = row?.byPlacement[placement] ?? { planned: 0, failed: 0 };
        const rate = counts.planned === 0 ? 0 : counts.failed / counts.planned;
        const x = MARGIN.left + col * CELL.width + p * half;
        cells++;
        parts.push(
          element(
            'rect',
            {
              class: 'cell',
              x,
              y,
              width: half - 1,
              height: CELL.height - 1,
              fill: failureColour(rate),
              'data-profile': profile,
              'data-strategy': strategy,
              'data-placement': placement,
              'data-failed': counts.failed,
              'data-planned': counts.planned,
              'data-rate': rate,
            },
            element(
              'title',
              {},
              `${profile} / ${strategy} / ${placement}: ${counts.failed} of ${counts.planned} failed`,
            ),
          ),
          svgText(x + half / 2, y + CELL.height / 2 + 4, `${Math.round(rate * PERCENT)}%`, { 'text-anchor': 'middle' }),
        );
      });
    });
  });
  const width = MARGIN.left + profiles.length * CELL.width + MARGIN.right;
  const height = MARGIN.top + strategies.length * CELL.height + MARGIN.bottom;
  return chartSvg(
    'failure-grid',
    { name: 'cells', value: cells },
    { width, height },
    'Failed commands by strategy, profile and placement',
    parts,
  );
}
