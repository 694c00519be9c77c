/** What the three charts share: strategy colours, the failure-rate colour scale, size labels. */

/** One colour per strategy, in STRATEGY_NAMES order; unknown names get grey. */
const STRATEGY_COLOURS: Readonly<Record<string, string>> = {
  legacy: '#d62728',
  'epf-align': '#ff7f0e',
  'mem-map': '#1f77b4',
  'multi-window': '#2ca02c',
  dma: '#9467bd',
};
const OTHER_COLOUR = '#7f7f7f';

export function strategyColour(strategy: string): string {
  return STRATEGY_COLOURS[strategy] ?? OTHER_COLOUR;
}

/** Hue from green (no failures) to red (all failed). */
const HUE_OK = 120;
const LIGHTNESS_OK = 88;
const LIGHTNESS_SPAN = 30;

export function failureColour(rate: number): string {
  return `hsl(${Math.round(HUE_OK * (1 - rate))}, 65%, ${Math.round(LIGHTNESS_OK - LIGHTNESS_SPAN * rate)}%)`;
}

const UNITS = ['', 'K', 'M', 'G', 'T'] as const;
const KIB = 1024;

/** A power-of-two size as 4, 64, 1K, 64K, 1M, 4G. */
export function sizeLabel(bytes: number): string {
  let n = bytes;
  let unit = 0;
  while (n >= KIB && unit < UNITS.length - 1) {
    n /= KIB;
    unit++;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)}${UNITS[unit]}`;
}
