/**
 * The fault catalogue, the configuration check and docs/faults.md name the same faults, and every
 * fault has its scenario test. Each list here is derived from the code or the page, never copied.
 */
import { existsSync, readFileSync } from 'node:fs';
import { EPC_FAULTS, EpcConfigError } from '@epfsim/epc-core';
import { describe, expect, it } from 'vitest';
import {
  FAULT_CATALOGUE,
  FUNCTION_FAULT_NAMES,
  FUNCTION_FAULTS,
  isNvmeConfigError,
  resolveConfig,
  splitFaults,
} from '../../src/index.js';
import { ScriptedHost } from '../helpers/scripted-host.js';

const DOC = new URL('../../../../docs/faults.md', import.meta.url);
const TESTS = new URL('./', import.meta.url);
const KEBAB = /^[a-z]+(-[a-z]+)*$/;

/** The `## \`name\`` sections of docs/faults.md, in order, with their text. */
function docSections(): { name: string; text: string }[] {
  const parts = readFileSync(DOC, 'utf8').split(/^## `([^`]+)`$/m);
  const sections: { name: string; text: string }[] = [];
  for (let i = 1; i < parts.length; i += 2) sections.push({ name: parts[i]!, text: parts[i + 1]! });
  return sections;
}

/** The fault names in the first column of the summary table of docs/faults.md. */
function docTableNames(): string[] {
  return [...readFileSync(DOC, 'utf8').matchAll(/^\| `([^`]+)` \| ([a-z-]+) \|/gm)].map((m) => m[1]!);
}

/** The names a rejected configuration lists as known. */
function knownNamesInError(faults: readonly string[]): string[] {
  try {
    resolveConfig({ faults: faults as never });
  } catch (e) {
    if (!isNvmeConfigError(e)) throw e;
    expect(e.field).toBe('faults');
    const known = /known: (.*)$/.exec(e.message)?.[1];
    if (known === undefined) throw new Error(`no list of known names in: ${e.message}`);
    return known.split(', ');
  }
  throw new Error(`faults ${faults.join(', ')} were accepted`);
}

describe('fault catalogue', () => {
  it('FAULT_CATALOGUE is the function faults then the EPC faults, each with its layer; names are unique kebab-case', () => {
    expect(FAULT_CATALOGUE.map((f) => [f.name, f.layer])).toEqual([
      ...FUNCTION_FAULTS.map((f) => [f.name, 'nvme-epf']),
      ...EPC_FAULTS.map((f) => [f.name, 'epc-core']),
    ]);
    const names = FAULT_CATALOGUE.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(KEBAB);
    for (const f of FAULT_CATALOGUE) {
      expect(f.title.length).toBeGreaterThan(0);
      expect(f.upstream.title.length).toBeGreaterThan(0);
      expect(f.hostSees.length).toBeGreaterThan(0);
      expect(f.correct.length).toBeGreaterThan(0);
    }
  });

  it('the configuration accepts exactly the function faults and lists them when it rejects a name', () => {
    expect(resolveConfig().faults).toEqual([]);
    expect(resolveConfig({ faults: [...FUNCTION_FAULT_NAMES] }).faults).toEqual(FUNCTION_FAULTS.map((f) => f.name));
    expect(knownNamesInError(['no-such-fault'])).toEqual(FUNCTION_FAULTS.map((f) => f.name));
    for (const f of EPC_FAULTS) {
      expect(() => resolveConfig({ faults: [f.name as never] })).toThrow(/epc-core fault/);
    }
  });

  it('createEpc accepts exactly the EPC faults', () => {
    for (const f of EPC_FAULTS) expect(() => new ScriptedHost({ epcFaults: [f.name] })).not.toThrow();
    for (const f of FUNCTION_FAULTS) {
      expect(() => new ScriptedHost({ epcFaults: [f.name as never] })).toThrow(EpcConfigError);
    }
  });

  it('docs/faults.md has one section per fault, in catalogue order, and its table lists them all', () => {
    const names = FAULT_CATALOGUE.map((f) => f.name);
    expect(docSections().map((s) => s.name)).toEqual(names);
    expect(docTableNames()).toEqual(names);
  });

  it('each section of docs/faults.md names the upstream commit its fault models', () => {
    const sections = new Map(docSections().map((s) => [s.name, s.text]));
    for (const f of FAULT_CATALOGUE) {
      const text = sections.get(f.name) ?? '';
      expect(text).toMatch(/\*\*Models:\*\*/);
      expect(text).toMatch(/\*\*Scenario:\*\*/);
      expect(text).toMatch(/\*\*The host sees:\*\*/);
      expect(text).toMatch(/\*\*Correct:\*\*/);
      if (f.upstream.commit !== null) expect(text).toContain(f.upstream.commit);
    }
  });

  it('every fault has a scenario test', () => {
    for (const f of FAULT_CATALOGUE) expect(existsSync(new URL(`${f.name}.test.ts`, TESTS)), f.name).toBe(true);
  });

  it('splitFaults hands each name to its layer and keeps the unknown ones', () => {
    const epc = EPC_FAULTS[0].name;
    const fn = FUNCTION_FAULTS[0].name;
    expect(splitFaults([fn, epc, 'nope', fn])).toEqual({ function: [fn, fn], epc: [epc], unknown: ['nope'] });
  });
});
