import { STRATEGY_NAMES, strategyFor } from '@epfsim/epc-core';
import { UsageError } from './usage-error.js';

/** A negative number where only counts and sizes make sense. */
const NEGATIVE = /^\s*-\d/;

/** Parses a size with an optional binary suffix: 4k, 128K, 1m, 2G, 512 (bytes). */
export function parseSize(text: string, flag: string): number {
  if (NEGATIVE.test(text)) throw new UsageError(`${flag}: '${text}' is negative; a size is a positive number of bytes`);
  const match = /^(\d+)([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (match === null) throw new UsageError(`${flag}: '${text}' is not a size (examples: 4096, 4k, 128k, 1m)`);
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[
    match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'
  ];
  const value = Number(match[1]) * scale;
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${flag}: '${text}' is out of range`);
  return value;
}

/** Parses a whole number within [min, max]. */
export function parseInteger(text: string, flag: string, min: number, max: number): number {
  if (NEGATIVE.test(text))
    throw new UsageError(`${flag}: '${text}' is negative; give a whole number from ${min} to ${max}`);
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag}: '${text}' is not a whole number`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${flag}: ${value} is outside ${min}..${max}`);
  return value;
}

/** Parses a duration: 30, 30s, 500ms, 2m. Returns milliseconds. */
export function parseDuration(text: string, flag: string): number {
  if (NEGATIVE.test(text)) throw new UsageError(`${flag}: '${text}' is negative; give a duration such as 10s`);
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new UsageError(`${flag}: '${text}' is not a duration (examples: 10s, 500ms, 2m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** Checks that `text` is one of `choices`. */
/** A built-in strategy's name, or the key of a strategy module the CLI loaded. */
export function parseStrategy(text: string, flag = '--strategy'): string {
  if (strategyFor(text) === undefined)
    throw new UsageError(`${flag}: '${text}' is not one of ${STRATEGY_NAMES.join(', ')} (or a .mjs strategy module)`);
  return text;
}

export function parseChoice<T extends string>(text: string, flag: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text))
    throw new UsageError(`${flag}: '${text}' is not one of ${choices.join(', ')}`);
  return text as T;
}
