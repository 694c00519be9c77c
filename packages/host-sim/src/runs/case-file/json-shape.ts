/**
 * A small declarative description of a JSON document, from which both a strict validator and a
 * JSON Schema (draft 2020-12) are derived, so the published schema says exactly what the parser
 * accepts. Validation is strict: an unknown key anywhere is an error naming its path and the keys
 * that are known, a number where a hex string is wanted is an error, and every error is one line
 * beginning with the path of the offending value (`case.steps[3].expect.stauts: …`).
 */

/** A user's document does not have the shape asked for: one line naming the path. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
  readonly isUserError = true as const;
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.path = path;
  }
}

export interface Property {
  readonly shape: Shape;
  readonly required: boolean;
  readonly description?: string;
}

export type Shape = { readonly name?: string; readonly description?: string } & (
  | { readonly kind: 'object'; readonly props: Readonly<Record<string, Property>> }
  /** Any object: validated elsewhere (a profile, a controller configuration). */
  | { readonly kind: 'open-object' }
  | { readonly kind: 'array'; readonly items: Shape; readonly minItems?: number; readonly maxItems?: number }
  /** An integer in [min, max]; with `hex`, also a "0x…" string of at most `hex` digits. */
  | { readonly kind: 'integer'; readonly min: number; readonly max: number; readonly hex?: number }
  | { readonly kind: 'string'; readonly pattern?: RegExp; readonly patternText?: string; readonly minLength?: number }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'const'; readonly value: string | number }
  | { readonly kind: 'boolean' }
  /** One of several shapes, told apart by JSON type. */
  | { readonly kind: 'union'; readonly options: readonly Shape[] }
  /** Objects told apart by the value of `tag`. */
  | { readonly kind: 'tagged'; readonly tag: string; readonly variants: Readonly<Record<string, Shape>> }
);

type ObjectShape = Extract<Shape, { kind: 'object' }>;

// ---- building shapes ----

export function required(shape: Shape, description?: string): Property {
  return { shape, required: true, ...(description === undefined ? {} : { description }) };
}

export function optional(shape: Shape, description?: string): Property {
  return { shape, required: false, ...(description === undefined ? {} : { description }) };
}

export function object(props: Record<string, Property>, extra: { name?: string; description?: string } = {}): Shape {
  return { kind: 'object', props, ...extra };
}

export function integer(min: number, max: number, hex?: number): Shape {
  return { kind: 'integer', min, max, ...(hex === undefined ? {} : { hex }) };
}

export function arrayOf(items: Shape, limits: { min?: number; max?: number } = {}): Shape {
  return {
    kind: 'array',
    items,
    ...(limits.min === undefined ? {} : { minItems: limits.min }),
    ...(limits.max === undefined ? {} : { maxItems: limits.max }),
  };
}

export function oneOf(...options: Shape[]): Shape {
  return { kind: 'union', options };
}

export function named<S extends Shape>(name: string, shape: S, description?: string): S {
  return { ...shape, name, ...(description === undefined ? {} : { description }) };
}

// ---- validation ----

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** The JSON type a shape accepts (for unions and messages). */
function acceptedType(s: Shape): string {
  switch (s.kind) {
    case 'object':
    case 'open-object':
    case 'tagged':
      return 'object';
    case 'array':
      return 'array';
    case 'integer':
      return 'number';
    case 'string':
    case 'enum':
      return 'string';
    case 'const':
      return typeof s.value;
    case 'boolean':
      return 'boolean';
    case 'union':
      return s.options.map(acceptedType).join(' or ');
  }
}

function describe(s: Shape): string {
  switch (s.kind) {
    case 'object':
    case 'open-object':
    case 'tagged':
      return 'an object';
    case 'array':
      return 'an array';
    case 'integer':
      return s.hex === undefined
        ? `an integer from ${s.min} to ${s.max}`
        : `an integer from ${s.min} to ${s.max} (or a "0x…" string)`;
    case 'string':
      return s.patternText === undefined ? 'a string' : `a string like ${s.patternText}`;
    case 'enum':
      return `one of ${s.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return JSON.stringify(s.value);
    case 'boolean':
      return 'true or false';
    case 'union':
      return s.options.map(describe).join(', or ');
  }
}

/** Checks `data` against `shape`; throws a {@link ShapeError} naming the first problem's path. */
export function validate(shape: Shape, data: unknown, path: string): void {
  switch (shape.kind) {
    case 'object': {
      if (jsonType(data) !== 'object') throw new ShapeError(path, `must be ${describe(shape)}`);
      validateObject(shape, data as Record<string, unknown>, path);
      return;
    }
    case 'open-object':
      if (jsonType(data) !== 'object') throw new ShapeError(path, 'must be an object');
      return;
    case 'array': {
      if (!Array.isArray(data)) throw new ShapeError(path, 'must be an array');
      if (shape.minItems !== undefined && data.length < shape.minItems)
        throw new ShapeError(path, `must have at least ${shape.minItems} item${shape.minItems === 1 ? '' : 's'}`);
      if (shape.maxItems !== undefined && data.length > shape.maxItems)
        throw new ShapeError(path, `must have at most ${shape.maxItems} items`);
      data.forEach((item, i) => {
        validate(shape.items, item, `${path}[${i}]`);
      });
      return;
    }
    case 'integer': {
      const value = integerValue(shape, data);
      if (value === undefined || value < shape.min || value > shape.max)
        throw new ShapeError(path, `must be ${describe(shape)}, got ${JSON.stringify(data)}`);
      return;
    }
    case 'string':
      if (typeof data !== 'string' || (shape.minLength !== undefined && data.length < shape.minLength))
        throw new ShapeError(path, `must be ${describe(shape)}, got ${JSON.stringify(data)}`);
      if (shape.pattern !== undefined && !shape.pattern.test(data))
        throw new ShapeError(path, `must be ${describe(shape)}, got ${JSON.stringify(data)}`);
      return;
    case 'enum':
      if (typeof data !== 'string' || !shape.values.includes(data))
        throw new ShapeError(path, `must be ${describe(shape)}, got ${JSON.stringify(data)}`);
      return;
    case 'const':
      if (data !== shape.value) throw new ShapeError(path, `must be ${describe(shape)}, got ${JSON.stringify(data)}`);
      return;
    case 'boolean':
      if (typeof data !== 'boolean') throw new ShapeError(path, `must be true or false, got ${JSON.stringify(data)}`);
      return;
    case 'union': {
      const type = jsonType(data);
      const option = shape.options.find((o) =>
        acceptedType(o)
          .split(' or ')
          .includes(type === 'null' ? '-' : type),
      );
      if (option === undefined) throw new ShapeError(path, `must be ${describe(shape)}, got ${JSON.stringify(data)}`);
      validate(option, data, path);
      return;
    }
    case 'tagged': {
      if (jsonType(data) !== 'object') throw new ShapeError(path, 'must be an object');
      const record = data as Record<string, unknown>;
      const tag = record[shape.tag];
      const variant = typeof tag === 'string' ? shape.variants[tag] : undefined;
      if (variant === undefined)
        throw new ShapeError(
          `${path}.${shape.tag}`,
          `must be one of ${Object.keys(shape.variants)
            .map((k) => JSON.stringify(k))
            .join(', ')}, got ${JSON.stringify(tag)}`,
        );
      validate(variant, data, path);
      return;
    }
  }
}

function validateObject(shape: ObjectShape, data: Record<string, unknown>, path: string): void {
  const known = Object.keys(shape.props);
  for (const key of Object.keys(data)) {
    if (!(key in shape.props)) {
      throw new ShapeError(`${path}.${key}`, `unknown key (known here: ${known.join(', ')})`);
    }
  }
  for (const [key, prop] of Object.entries(shape.props)) {
    const value = data[key];
    if (value === undefined) {
      if (prop.required) throw new ShapeError(`${path}.${key}`, 'is required');
      continue;
    }
    validate(prop.shape, value, `${path}.${key}`);
  }
}

function integerValue(shape: Extract<Shape, { kind: 'integer' }>, data: unknown): number | undefined {
  if (typeof data === 'number') return Number.isSafeInteger(data) ? data : undefined;
  if (shape.hex !== undefined && typeof data === 'string' && new RegExp(`^0x[0-9a-fA-F]{1,${shape.hex}}$`).test(data))
    return Number.parseInt(data, 16);
  return undefined;
}

/** An integer field of a validated document (a number, or a hex string where allowed). */
export function readInteger(data: unknown): number {
  return typeof data === 'string' ? Number.parseInt(data, 16) : (data as number);
}

// ---- JSON Schema ----

/** The JSON Schema (draft 2020-12) of `root`; named shapes go to `$defs`. */
export function toJsonSchema(root: Shape, meta: { id: string; title: string }): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const emit = (s: Shape, top = false): Record<string, unknown> => {
    if (s.name !== undefined && !top) {
      if (!(s.name in defs)) {
        defs[s.name] = {};
        defs[s.name] = body(s);
      }
      return { $ref: `#/$defs/${s.name}` };
    }
    return body(s);
  };
  const body = (s: Shape): Record<string, unknown> => {
    const d = s.description === undefined ? {} : { description: s.description };
    switch (s.kind) {
      case 'object': {
        const properties: Record<string, unknown> = {};
        for (const [key, p] of Object.entries(s.props)) {
          const schema = emit(p.shape);
          properties[key] = p.description === undefined ? schema : { ...schema, description: p.description };
        }
        const req = Object.entries(s.props)
          .filter(([, p]) => p.required)
          .map(([k]) => k);
        return {
          ...d,
          type: 'object',
          ...(req.length === 0 ? {} : { required: req }),
          additionalProperties: false,
          properties,
        };
      }
      case 'open-object':
        return { ...d, type: 'object' };
      case 'array':
        return {
          ...d,
          type: 'array',
          items: emit(s.items),
          ...(s.minItems === undefined ? {} : { minItems: s.minItems }),
          ...(s.maxItems === undefined ? {} : { maxItems: s.maxItems }),
        };
      case 'integer': {
        const int = { type: 'integer', minimum: s.min, maximum: s.max };
        if (s.hex === undefined) return { ...d, ...int };
        return { ...d, oneOf: [int, { type: 'string', pattern: `^0x[0-9a-fA-F]{1,${s.hex}}$` }] };
      }
      case 'string':
        return {
          ...d,
          type: 'string',
          ...(s.pattern === undefined ? {} : { pattern: s.pattern.source }),
          ...(s.minLength === undefined ? {} : { minLength: s.minLength }),
        };
      case 'enum':
        return { ...d, enum: [...s.values] };
      case 'const':
        return { ...d, const: s.value };
      case 'boolean':
        return { ...d, type: 'boolean' };
      case 'union':
        return { ...d, oneOf: s.options.map((o) => emit(o)) };
      case 'tagged':
        return { ...d, oneOf: Object.values(s.variants).map((v) => emit(v)) };
    }
  };
  const top = emit(root, true);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: meta.id,
    title: meta.title,
    ...top,
    $defs: defs,
  };
}
