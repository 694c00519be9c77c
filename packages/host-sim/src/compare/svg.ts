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

/** `<tag attrs>children</tag>`; children are already markup. */
export function element(tag: string, attrs: Attributes, ...children: string[]): string {
  return `<${tag}${attributes(attrs)}>${children.join('')}</${tag}>`;
}

/** A text node in an SVG. */
export function svgText(x: number, y: number, text: string, attrs: Attributes = {}): string {
  return element('text', { x, y, ...attrs }, escapeXml(text));
}
