/**
 * A small JSON Schema (2020-12) validator for the subset the schemas in docs/json use: `type`,
 * `properties`, `required`, `additionalProperties`, `items`, `enum`, `const`, `oneOf`, `anyOf`,
 * `$ref` (to `#/$defs/…`, to a sibling file, or to a sibling file's `#/$defs/…`), `minimum`,
 * `maximum`, `pattern`. A keyword outside the subset is an error, so a schema cannot promise
 * what this validator does not check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = { readonly [keyword: string]: unknown };

/** Keywords that only document. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$defs']);
const CHECKED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'oneOf',
  'anyOf',
  '$ref',
  'minimum',
  'maximum',
  'pattern',
]);

/** Validates documents against the schemas of one folder; `$ref`s between its files resolve. */
export class SchemaFolder {
  private readonly dir: string;
  private readonly files = new Map<string, Schema>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Every problem of `value` against `file`, as `path: what` lines; empty when it is valid. */
  validate(file: string, value: unknown): string[] {
    const errors: string[] = [];
    this.check(this.load(file), file, value, '$', errors);
    return errors;
  }

  private load(file: string): Schema {
    let schema = this.files.get(file);
    if (schema === undefined) {
      schema = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as Schema;
      this.files.set(file, schema);
    }
    return schema;
  }

  private resolve(ref: string, file: string): { schema: Schema; file: string } {
    const [target, pointer] = ref.split('#') as [string, string | undefined];
    const inFile = target === '' ? file : target;
    let schema: unknown = this.load(inFile);
    for (const part of (pointer ?? '').split('/').filter((p) => p !== '')) {
      schema = (schema as Record<string, unknown>)[part];
      if (schema === undefined) throw new Error(`${file}: $ref ${ref} does not resolve`);
    }
    return { schema: schema as Schema, file: inFile };
  }

  private check(schema: Schema, file: string, value: unknown, path: string, errors: string[]): void {
    for (const keyword of Object.keys(schema)) {
      if (!ANNOTATIONS.has(keyword) && !CHECKED.has(keyword))
        throw new Error(`${file}: keyword '${keyword}' is outside the subset this validator checks`);
    }
    if (typeof schema.$ref === 'string') {
      const { schema: target, file: targetFile } = this.resolve(schema.$ref, file);
      this.check(target, targetFile, value, path, errors);
    }
    if (schema.type !== undefined) {
      const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
      if (!types.some((t) => hasType(value, t))) {
        errors.push(`${path}: expected ${types.join(' or ')}, got ${describe(value)}`);
        return;
      }
    }
    if ('const' in schema && !equal(value, schema.const))
      errors.push(`${path}: expected ${JSON.stringify(schema.const)}, got ${JSON.stringify(value)}`);
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => equal(value, e)))
      errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
    if (typeof value === 'number') {
      if (typeof schema.minimum === 'number' && value < schema.minimum)
        errors.push(`${path}: ${value} is below ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && value > schema.maximum)
        errors.push(`${path}: ${value} is above ${schema.maximum}`);
    }
    if (typeof value === 'string' && typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (Array.isArray(value) && schema.items !== undefined) {
      value.forEach((item, i) => {
        this.check(schema.items as Schema, file, item, `${path}[${i}]`, errors);
      });
    }
    if (isObject(value)) this.checkObject(schema, file, value, path, errors);
    for (const [keyword, exactlyOne] of [
      ['oneOf', true],
      ['anyOf', false],
    ] as const) {
      const options = schema[keyword];
      if (!Array.isArray(options)) continue;
      const results = options.map((option) => {
        const e: string[] = [];
        this.check(option as Schema, file, value, path, e);
        return e;
      });
      const passing = results.filter((e) => e.length === 0).length;
      if (passing === 0) {
        const closest = results.reduce((a, b) => (b.length < a.length ? b : a));
        errors.push(`${path}: matches none of ${keyword} (closest: ${closest.join('; ')})`);
      } else if (exactlyOne && passing > 1) errors.push(`${path}: matches ${passing} of oneOf, not exactly one`);
    }
  }

  private checkObject(
    schema: Schema,
    file: string,
    value: Record<string, unknown>,
    path: string,
    errors: string[],
  ): void {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in value)) errors.push(`${path}: missing required '${name}'`);
    }
    for (const [name, item] of Object.entries(value)) {
      const property = properties[name];
      if (property !== undefined) this.check(property, file, item, `${path}.${name}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property '${name}'`);
      else if (isObject(schema.additionalProperties))
        this.check(schema.additionalProperties as Schema, file, item, `${path}.${name}`, errors);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
