import { isPowerOfTwo } from './address.js';
import { isAlignRuleRegistered } from './custom-align.js';
import { EpcConfigError } from './errors.js';
import type { AlignRule, AtuRule, EpcProfile, IrqCapabilities, IrqMapping, OutboundWindow } from './profile.js';
import { checkProfileLimits } from './profile-limits.js';
import { findProfile, PROFILE_NAMES } from './profiles.js';

type Json = Record<string, unknown>;

/**
 * Validates a profile: the text of a JSON profile file, or the value it parses to. Numbers
 * may be written as JSON numbers or as "0x…" strings. `"extends": "rk3588"` starts from a
 * built-in profile and replaces the top-level fields given; the description is the parent's
 * only when nothing else changes, else it says what the profile changed. Every problem becomes
 * one {@link EpcConfigError} line naming the field, including what the simulator cannot honour
 * ({@link checkProfileLimits}).
 */
export function parseProfile(json: unknown, source = 'profile'): EpcProfile {
  const obj = object(typeof json === 'string' ? parseJson(json, source) : json, source);
  const base = obj.extends === undefined ? undefined : builtin(string(obj.extends, `${source}.extends`));
  const field = (key: string): unknown => (obj[key] !== undefined ? obj[key] : base?.[key as keyof EpcProfile]);
  const at = (key: string) => `${source}.${key}`;
  const known = new Set(['name', 'description', 'extends', 'windows', 'align', 'atu', 'irq', 'barAlign', 'hasDma']);
  for (const key of Object.keys(obj)) if (!known.has(key)) throw new EpcConfigError(at(key), `unknown field`);

  const windowsData = field('windows');
  if (!Array.isArray(windowsData) || windowsData.length === 0)
    throw new EpcConfigError(at('windows'), `must be a non-empty array`);
  const windows = windowsData.map((w, i) => window(w, `${at('windows')}[${i}]`));
  const align = alignRule(field('align'), at('align'));
  const largestWindow = Math.max(...windows.map((w) => w.size));
  if (align.kind === 'pass-bits' && 2 ** align.maxBits > largestWindow) {
    throw new EpcConfigError(
      `${at('align')}.maxBits`,
      `2^${align.maxBits} exceeds the largest window (${largestWindow} bytes)`,
    );
  }
  const profile: EpcProfile = {
    name: string(field('name'), at('name')),
    description: description(obj, base, at('description')),
    windows,
    align,
    atu: atuRule(field('atu'), at('atu')),
    irq: irq(field('irq'), at('irq')),
    barAlign: powerOfTwo(field('barAlign'), at('barAlign')),
    hasDma: field('hasDma') === undefined ? false : boolean(field('hasDma'), at('hasDma')),
  };
  checkProfileLimits(profile, source);
  return profile;
}

/** The JSON value of profile text; a syntax error is one line naming the source. */
function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EpcConfigError(source, `not valid JSON (${(error as Error).message})`);
  }
}

/** The profile's own description; for one that extends a built-in, the parent's words apply only to the parent. */
function description(obj: Json, base: EpcProfile | undefined, at: string): string {
  if (obj.description !== undefined) {
    if (typeof obj.description !== 'string') throw new EpcConfigError(at, `must be a string`);
    return obj.description;
  }
  if (base === undefined) return '';
  const changed = Object.keys(obj).filter((k) => k !== 'extends' && k !== 'name');
  return changed.length === 0 ? base.description : `${base.name} with its own ${changed.join(', ')}`;
}

function builtin(name: string): EpcProfile {
  const profile = findProfile(name);
  if (profile === undefined)
    throw new EpcConfigError('', `unknown profile '${name}' (known: ${PROFILE_NAMES.join(', ')})`);
  return profile;
}

function window(data: unknown, at: string): OutboundWindow {
  const w = object(data, at);
  const win = {
    physBase: size(w.physBase, `${at}.physBase`, true),
    size: size(w.size, `${at}.size`),
    pageSize: powerOfTwo(w.pageSize, `${at}.pageSize`),
  };
  if (win.size < win.pageSize) throw new EpcConfigError(`${at}.size`, `smaller than its pageSize`);
  return win;
}

function alignRule(data: unknown, at: string): AlignRule {
  const a = object(data, at);
  switch (a.kind) {
    case 'none':
      return { kind: 'none' };
    case 'dwc':
      return { kind: 'dwc', regionAlign: powerOfTwo(a.regionAlign, `${at}.regionAlign`) };
    case 'pass-bits': {
      const minBits = bits(a.minBits, `${at}.minBits`);
      const maxBits = bits(a.maxBits, `${at}.maxBits`);
      if (maxBits < minBits) throw new EpcConfigError(`${at}.maxBits`, `must be at least minBits`);
      const sizeGranule = a.sizeGranule === 'pow2' ? 'pow2' : powerOfTwo(a.sizeGranule, `${at}.sizeGranule`);
      return { kind: 'pass-bits', minBits, maxBits, sizeGranule };
    }
    case 'custom': {
      const key = string(a.key, `${at}.key`);
      if (!isAlignRuleRegistered(key))
        throw new EpcConfigError(
          `${at}.key`,
          `no alignAddr rule is loaded from ${key} (a profile module brings its own)`,
        );
      return { kind: 'custom', key };
    }
    default:
      throw new EpcConfigError(`${at}.kind`, `must be one of none, dwc, pass-bits, custom`);
  }
}

function atuRule(data: unknown, at: string): AtuRule {
  const a = object(data, at);
  switch (a.kind) {
    case 'unlimited':
    case 'region-per-window':
    case 'window-per-mapping':
      return { kind: a.kind };
    case 'dwc':
      return {
        kind: 'dwc',
        slots: count(a.slots, `${at}.slots`, 1),
        regionAlign: powerOfTwo(a.regionAlign, `${at}.regionAlign`),
        regionLimit: powerOfTwo(a.regionLimit, `${at}.regionLimit`),
      };
    case 'cadence':
      return { kind: 'cadence', maxRegions: count(a.maxRegions, `${at}.maxRegions`, 3) };
    default:
      throw new EpcConfigError(
        `${at}.kind`,
        `must be one of unlimited, dwc, region-per-window, cadence, window-per-mapping`,
      );
  }
}

const IRQ_MAPPINGS: readonly IrqMapping[] = ['direct', 'transient', 'reserved', 'register'];

function irq(data: unknown, at: string): IrqCapabilities {
  const i = object(data, at);
  if (!IRQ_MAPPINGS.includes(i.mapping as IrqMapping))
    throw new EpcConfigError(`${at}.mapping`, `must be one of ${IRQ_MAPPINGS.join(', ')}`);
  const caps = {
    msi: boolean(i.msi, `${at}.msi`),
    msix: boolean(i.msix, `${at}.msix`),
    intx: boolean(i.intx, `${at}.intx`),
    mapping: i.mapping as IrqMapping,
  };
  if (!caps.msi && !caps.msix && !caps.intx)
    throw new EpcConfigError(at, `at least one of msi, msix, intx must be true`);
  return i.reservedSize === undefined ? caps : { ...caps, reservedSize: size(i.reservedSize, `${at}.reservedSize`) };
}

function object(data: unknown, at: string): Json {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new EpcConfigError(at, `must be an object`);
  return data as Json;
}

function string(data: unknown, at: string): string {
  if (typeof data !== 'string' || data === '') throw new EpcConfigError(at, `must be a non-empty string`);
  return data;
}

function boolean(data: unknown, at: string): boolean {
  if (typeof data !== 'boolean') throw new EpcConfigError(at, `must be true or false`);
  return data;
}

function size(data: unknown, at: string, zeroAllowed = false): number {
  const value = typeof data === 'string' && /^0x[0-9a-f]+$/i.test(data) ? Number.parseInt(data, 16) : data;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (zeroAllowed ? 0 : 1)) {
    throw new EpcConfigError(at, `must be a ${zeroAllowed ? 'non-negative' : 'positive'} integer or a 0x hex string`);
  }
  return value;
}

function powerOfTwo(data: unknown, at: string): number {
  const value = size(data, at);
  if (!isPowerOfTwo(value)) throw new EpcConfigError(at, `must be a power of two`);
  return value;
}

function count(data: unknown, at: string, min: number): number {
  if (typeof data !== 'number' || !Number.isInteger(data) || data < min || data > 256)
    throw new EpcConfigError(at, `must be an integer from ${min} to 256`);
  return data;
}

function bits(data: unknown, at: string): number {
  if (typeof data !== 'number' || !Number.isInteger(data) || data < 1 || data > 40)
    throw new EpcConfigError(at, `must be an integer from 1 to 40`);
  return data;
}
