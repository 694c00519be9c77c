import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCaseFile } from '../packages/host-sim/src/case-file/parse-case-file.js';

const schema = JSON.parse(readFileSync(new URL('../docs/case-file.schema.json', import.meta.url), 'utf8'));
const casesDir = new URL('./cases/', import.meta.url);

describe('the published case-file schema', () => {
  it('names exactly the top-level fields the parser reads, with the same required ones', () => {
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        'kind',
        'version',
        'description',
        'profile',
        'controller',
        'seed',
        'adminQueue',
        'ioQueues',
        'memory',
        'commands',
      ].sort(),
    );
    // Dropping any required field makes the parser refuse the file.
    const example = JSON.parse(readFileSync(new URL('rk3399-prp-list-mid-page.case.json', casesDir), 'utf8'));
    for (const field of schema.required as string[]) {
      const { [field]: _dropped, ...rest } = example;
      expect(() => parseCaseFile(rest), field).toThrow();
    }
  });

  it('describes every example case in test/cases, and they all parse', () => {
    const commandFields = new Set(Object.keys(schema.$defs.command.properties));
    for (const name of readdirSync(casesDir).filter((n) => n.endsWith('.case.json') && !n.startsWith('malformed'))) {
      const data = JSON.parse(readFileSync(new URL(name, casesDir), 'utf8'));
      for (const key of Object.keys(data)) expect(schema.properties, `${name}: ${key}`).toHaveProperty(key);
      for (const cmd of data.commands)
        for (const key of Object.keys(cmd)) expect(commandFields.has(key), `${name}: command.${key}`).toBe(true);
      expect(() => parseCaseFile(data, name)).not.toThrow();
    }
  });
});
