/**
 * Chart 3: where the failing host accesses sat. One panel per profile that had any: x is how
 * aligned the access's start was (the largest power of two dividing it), y the smallest naturally
 * aligned power-of-two block holding the range. Above the diagonal, the range crosses an edge its
 * start is not aligned to. Dashed lines mark the profile's edges: the alignment the function
 * driver knows (`epc_features->align`), the start alignment every DWC translation needs
 * (region_align), and the block no map can exceed on pass-through controllers (map limit).
 */
import { sizeLabel, strategyColour } from './chart-style.js';
import type { CompareReport, ProfileEdges } from './compare-report.js';
import { chartSvg, element, svgText } from './svg.js';

/** Both axes run over powers of two from 2^0 to 2^MAX_BITS (bigger values sit at the end). */
const MAX_BITS = 32;
const TICK_EVERY_BITS = 4;
const PANEL = { width: 330, height: 250, gap: 24 } as const;
const PLOT = { left: 44, top: 28, right: 12, bottom: 36 } as const;
const RADIUS = { min: 2.5, perSqrtCount: 1.5, max: 14 } as const;
/** Points of different strategies at the same spot are moved apart by this much. */
const STRATEGY_NUDGE = 3;

interface Point {
  readonly strategy: string;
  readonly startAlign: number;
  readonly block: number;
  count: number;
}

function bitsOf(bytes: number): number {
  return Math.min(Math.log2(bytes), MAX_BITS);
}

/** Failed accesses of one profile, summed over its cells by strategy and position. */
function pointsOf(report: CompareReport, profile: string): Point[] {
  const points = new Map<string, Point>();
  for (const cell of report.cells) {
    if (cell.profile !== profile) continue;
    for (const p of cell.failedAccesses.positions) {
      const key = `${cell.strategy}:${p.startAlign}:${p.block}`;
      const seen = points.get(key);
      if (seen === undefined) points.set(key, { strategy: cell.strategy, ...p });
      else seen.count += p.count;
    }
  }
  return [...points.values()];
}

function panel(report: CompareReport, profile: string, edges: ProfileEdges, x0: number, y0: number): string[] {
  const w = PANEL.width - PLOT.left - PLOT.right;
  const h = PANEL.height - PLOT.top - PLOT.bottom;
  const left = x0 + PLOT.left;
  const bottom = y0 + PLOT.top + h;
  const xOf = (bits: number) => left + (bits / MAX_BITS) * w;
  const yOf = (bits: number) => bottom - (bits / MAX_BITS) * h;
  const parts = [
    svgText(x0 + PANEL.width / 2, y0 + 14, profile, { 'text-anchor': 'middle', 'font-weight': 'bold' }),
    element('rect', { x: left, y: y0 + PLOT.top, width: w, height: h, fill: 'none', stroke: '#ccc' }),
  ];
  for (let bits = 0; bits <= MAX_BITS; bits += TICK_EVERY_BITS) {
    const label = sizeLabel(2 ** bits);
    parts.push(svgText(xOf(bits), bottom + 12, label, { 'text-anchor': 'middle', fill: '#777' }));
    parts.push(svgText(left - 4, yOf(bits) + 4, label, { 'text-anchor': 'end', fill: '#777' }));
  }
  parts.push(
    svgText(left + w / 2, bottom + 28, 'start address alignment (y: aligned block holding the range)', {
      'text-anchor': 'middle',
    }),
  );
  parts.push(
    element('line', {
      x1: xOf(0),
      y1: yOf(0),
      x2: xOf(MAX_BITS),
      y2: yOf(MAX_BITS),
      stroke: '#bbb',
      'stroke-dasharray': '2 3',
    }),
  );
  const vertical = (bytes: number, label: string, colour: string) => {
    const x = xOf(bitsOf(bytes));
    parts.push(
      element('line', { x1: x, y1: y0 + PLOT.top, x2: x, y2: bottom, stroke: colour, 'stroke-dasharray': '4 3' }),
      svgText(x + 2, y0 + PLOT.top + 10, label, { fill: colour }),
    );
  };
  const sameAlign = edges.controllerAlign === edges.functionAlign;
  vertical(
    edges.functionAlign,
    `EPF align${sameAlign ? ' = region_align' : ''} ${sizeLabel(edges.functionAlign)}`,
    '#555',
  );
  if (edges.controllerAlign !== undefined && !sameAlign)
    vertical(edges.controllerAlign, `region_align ${sizeLabel(edges.controllerAlign)}`, '#a33');
  if (edges.mapLimit !== undefined) {
    const y = yOf(bitsOf(edges.mapLimit));
    parts.push(
      element('line', { x1: left, y1: y, x2: left + w, y2: y, stroke: '#a33', 'stroke-dasharray': '4 3' }),
      svgText(left + w - 2, y - 3, `map limit ${sizeLabel(edges.mapLimit)}`, { 'text-anchor': 'end', fill: '#a33' }),
    );
  }
  const strategies = report.matrix.strategies;
  for (const p of pointsOf(report, profile)) {
    const nudge = (strategies.indexOf(p.strategy) - (strategies.length - 1) / 2) * STRATEGY_NUDGE;
    parts.push(
      element(
        'circle',
        {
          class: 'point',
          cx: xOf(bitsOf(p.startAlign)) + nudge,
          cy: yOf(bitsOf(p.block)),
          r: Math.min(RADIUS.min + RADIUS.perSqrtCount * Math.sqrt(p.count), RADIUS.max),
          fill: strategyColour(p.strategy),
          'fill-opacity': 0.6,
          stroke: strategyColour(p.strategy),
          'data-profile': profile,
          'data-strategy': p.strategy,
          'data-count': p.count,
          'data-start-align': p.startAlign,
          'data-block': p.block,
        },
        element(
          'title',
          {},
          `${p.strategy}: ${p.count} failed accesses starting ${sizeLabel(p.startAlign)}-aligned, held by a ${sizeLabel(p.block)} aligned block`,
        ),
      ),
    );
  }
  return parts;
}

export function failureAddressesSvg(report: CompareReport): string {
  const tables = report.tables.filter((t) => t.rows.some((r) => r.failedAccesses.total > 0));
  const perRow = Math.max(1, Math.min(tables.length, 3));
  const rows = Math.ceil(tables.length / perRow);
  const width = Math.max(perRow * (PANEL.width + PANEL.gap), PANEL.width);
  const height = Math.max(rows, 1) * (PANEL.height + PANEL.gap);
  const parts =
    tables.length === 0
      ? [svgText(width / 2, height / 2, 'no host access failed', { 'text-anchor': 'middle', fill: '#999' })]
      : tables.flatMap((t, i) =>
          panel(
            report,
            t.profile,
            t.edges,
            (i % perRow) * (PANEL.width + PANEL.gap),
            Math.floor(i / perRow) * (PANEL.height + PANEL.gap),
          ),
        );
  return chartSvg(
    'failure-addresses',
    { name: 'points', value: parts.filter((p) => p.startsWith('<circle class="point"')).length },
    { width, height },
    'Where the failing host accesses sat relative to alignment and map-limit edges',
    parts,
  );
}
