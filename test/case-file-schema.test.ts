/**
 * The published case-file schema is the one the parser validates against: docs/case-file.schema.json
 * must equal what `epfsim replay --schema` prints, and every example case in test/cases parses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { caseFileJsonSchema } from '../packages/host-sim/src/runs/case-file/case-schema.js';
import { parseCaseFile } from '../packages/host-sim/src/runs/case-file/parse-case-file.js';

const published = JSON.parse(readFileSync(new URL('../docs/case-file.schema.json', import.meta.url), 'utf8'));
const casesDir = new URL('./cases/', import.meta.url);

describe('the published case-file schema', () => {
  it('is the schema the parser is built from (regenerate: epfsim replay --schema > docs/case-file.schema.json)', () => {
    expect(published).toEqual(caseFileJsonSchema());
  });

  it('names a key the parser refuses nowhere: every object in it forbids unknown keys', () => {
    const open: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const o = node as Record<string, unknown>;
      if (o.type === 'object' && o.properties !== undefined && o.additionalProperties !== false) open.push(path);
      for (const [k, v] of Object.entries(o)) walk(v, `${path}/${k}`);
    };
    walk(published, '#');
    expect(open).toEqual([]);
  });

  it('describes every example case in test/cases, and they all parse', () => {
    const names = readdirSync(casesDir).filter((n) => n.endsWith('.case.json') && !n.startsWith('malformed'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const data = JSON.parse(readFileSync(new URL(name, casesDir), 'utf8'));
      expect(() => parseCaseFile(data, name), name).not.toThrow();
    }
  });
});
