/**
 * report.html: one self-contained page (inline SVG and CSS, no script, no network) with the three
 * charts and the text tables, so it opens from disk in any browser and diffs well.
 */
import { failureAddressesSvg } from './chart-failure-addresses.js';
import { failureGridSvg } from './chart-failure-grid.js';
import { mapCallsHistogramSvg } from './chart-map-calls.js';
import { strategyColour } from './chart-style.js';
import type { CompareReport } from './compare-report.js';
import { formatCompareReport } from './format-table.js';
import { element, escapeXml } from './svg.js';

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
p.caption { color: #555; max-width: 70em; }
svg { display: block; margin: 0.5em 0; }
pre { font-size: 12px; background: #f7f7f7; padding: 1em; overflow-x: auto; }
.legend span { display: inline-block; margin-right: 1.2em; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
`;

function legend(strategies: readonly string[]): string {
  return element(
    'p',
    { class: 'legend' },
    ...strategies.map((s) =>
      element('span', {}, element('i', { style: `background: ${strategyColour(s)}` }), escapeXml(s)),
    ),
  );
}

function caption(text: string): string {
  return element('p', { class: 'caption' }, escapeXml(text));
}

export function renderReportHtml(report: CompareReport): string {
  const m = report.matrix;
  const body = [
    element('h1', {}, 'epfsim compare: mapping strategies on endpoint controllers'),
    caption(
      `Seed ${report.seed}, ${report.ios} I/Os per cell; placements ${m.placements.join(', ')}; workloads ${m.workloads.map((w) => w.name).join(', ')}. Counts are reproducible from the seed; throughput is the simulator's own wall-clock speed.`,
    ),
    element('h2', {}, 'Failed commands'),
    failureGridSvg(report),
    caption(
      'Share of planned commands that failed (an error status, or never issued because the controller did not come up), per strategy and profile; the left half of each cell is the linux placement, the right half the adversarial one.',
    ),
    element('h2', {}, 'Map calls per command'),
    legend(m.strategies),
    mapCallsHistogramSvg(report),
    caption(
      'How many pci_epc_mem_map() or pci_epc_map_addr() calls each command took: its share of the SQE fetch, PRP/SGL list reads, data and completion post. DMA takes none; legacy and epf-align one per piece; mem-map loops over partial maps.',
    ),
    element('h2', {}, 'Where the failing host accesses sat'),
    legend(m.strategies),
    failureAddressesSvg(report),
    caption(
      'Each bubble is a set of failed host accesses (area grows with the count): x is how aligned the start address was, y the smallest naturally aligned power-of-two block that holds the whole range. Left of a needed alignment line: the controller could not map the start as given. Above the diagonal: the range crosses an edge its start is not aligned to; above the map limit, an edge no single mapping can span.',
    ),
    element('h2', {}, 'Tables'),
    element('pre', {}, escapeXml(formatCompareReport(report).join('\n'))),
  ];
  return `<!doctype html>\n${element(
    'html',
    { lang: 'en' },
    element(
      'head',
      {},
      element('meta', { charset: 'utf-8' }),
      element('title', {}, 'epfsim compare'),
      element('style', {}, STYLE),
    ),
    element('body', {}, ...body),
  )}\n`;
}
