/** A few helpers to write SVG and HTML as strings: escaped text, elements with attributes. */

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export type Attributes = Readonly<Record<string, string | number | undefined>>;

/** Coordinates with at most two decimals keep the file small and stable. */
function attributeValue(value: string | number): string {
  return typeof value === 'number' ? String(Math.round(value * 100) / 100) : escapeXml(value);
}

function attributes(attrs: Attributes): string {
  return Object.entries(attrs)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${attributeValue(v)}"`)
    .join('');
}

/** Chart text size, in SVG user units (pixels). */
const FONT_SIZE = 11;

/** `<tag attrs>children</tag>`; children are already markup. */
export function element(tag: string, attrs: Attributes, ...children: string[]): string {
  return `<${tag}${attributes(attrs)}>${children.join('')}</${tag}>`;
}

/** A text node in an SVG. */
export function svgText(x: number, y: number, text: string, attrs: Attributes = {}): string {
  return element('text', { x, y, ...attrs }, escapeXml(text));
}

/**
 * A chart's root `<svg>`: its id (also `data-chart`, what the browser test looks for), a count
 * attribute the test reads (`data-cells`, `data-bars`...), its size, an accessible title.
 */
export function chartSvg(
  id: string,
  count: { readonly name: string; readonly value: number },
  size: { readonly width: number; readonly height: number },
  title: string,
  parts: readonly string[],
): string {
  const { width, height } = size;
  return element(
    'svg',
    {
      id,
      'data-chart': id,
      [`data-${count.name}`]: count.value,
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'font-family': 'system-ui, sans-serif',
      'font-size': FONT_SIZE,
    },
    element('title', {}, escapeXml(title)),
    ...parts,
  );
}
