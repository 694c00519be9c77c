/**
 * Users' own code, loaded from ES modules: a controller profile with its own `alignAddr` rule, a
 * transfer strategy (the map loop a function driver author writes), and an NVMe function. Each is
 * registered under a key, the module's absolute path, and named by that key wherever a built-in
 * one is named by its name (a testbed's options, a case file, a fuzz plan), so everything else
 * stays plain data. Worker threads and `replay` load the same modules again from the keys.
 *
 * Module shapes (the default export, or the named export given):
 * - profile: `export default { name, description?, windows, atu, irq, barAlign, hasDma, align? , alignAddr? }`
 *   (`profile`), the fields of a JSON profile plus an optional `alignAddr(pciAddr, size)`;
 * - strategy: `export default { name, description?, transfer(epc, pciAddr, buf, direction) }` (`strategy`);
 * - function: `export default function createFunction(epc, config)` (`createFunction`), which
 *   returns an object with the interface of `@epfsim/nvme-epf`'s `NvmeFunction`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type AlignAddrFunction,
  alignAddr,
  type Epc,
  type EpcProfile,
  PCI_ADDR_MAX,
  parseProfile,
  registerAlignRule,
  registerStrategy,
} from '@epfsim/epc-core';
import type { NvmeFunction, NvmeFunctionConfigInput } from '@epfsim/nvme-epf';
import { HostSimConfigError } from '../errors.js';

export type PluginKind = 'profile' | 'strategy' | 'function';

/** A loaded module: what it is, and its key (absolute path). */
export interface PluginRef {
  readonly kind: PluginKind;
  readonly key: string;
}

/** A user NVMe function: a factory over an EPC, as `createNvmeFunction` is. */
export type NvmeFunctionFactory = (epc: Epc, config: NvmeFunctionConfigInput) => NvmeFunction;

const NAMED_EXPORT: Readonly<Record<PluginKind, string>> = {
  profile: 'profile',
  strategy: 'strategy',
  function: 'createFunction',
};

/** Requests a custom `alignAddr` is tried on at load, so that a broken rule is refused before it runs: low, odd and top of the 64-bit space. */
const ALIGN_PROBES: readonly (readonly [bigint, number])[] = [
  [0n, 4096],
  [0x1_2345_6789n, 0x3000],
  [PCI_ADDR_MAX - 0xfffn, 0x1000],
];

const loaded = new Map<string, PluginRef>();
const profiles = new Map<string, EpcProfile>();
const functions = new Map<string, NvmeFunctionFactory>();

/** A flag value that names a module rather than a built-in (a path ending in .mjs or .js). */
export function isModulePath(value: string): boolean {
  return value.endsWith('.mjs') || value.endsWith('.js');
}

/** Loads the module at `path` as a `kind` plug-in (once per thread) and returns its key. */
export async function loadPlugin(kind: PluginKind, path: string): Promise<string> {
  const key = resolve(path);
  const known = loaded.get(key);
  if (known !== undefined) {
    if (known.kind !== kind) throw userError(path, `already loaded as a ${known.kind} module, not a ${kind} module`);
    return key;
  }
  if (!existsSync(key)) throw userError(path, `no such ${kind} module`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(key).href)) as Record<string, unknown>;
  } catch (e) {
    throw userError(path, `cannot load the ${kind} module: ${e instanceof Error ? e.message : String(e)}`);
  }
  const value = exports.default ?? exports[NAMED_EXPORT[kind]];
  if (value === undefined)
    throw userError(path, `a ${kind} module exports its ${kind} as default or as '${NAMED_EXPORT[kind]}'`);
  if (kind === 'strategy') registerStrategy(key, value);
  else if (kind === 'profile') profiles.set(key, profileOf(key, path, value));
  else if (typeof value === 'function') functions.set(key, value as NvmeFunctionFactory);
  else throw userError(path, 'a function module exports createFunction(epc, config)');
  loaded.set(key, { kind, key });
  return key;
}

/** Loads every module of `refs` (a worker thread, or a replay, taking up where the CLI loaded them). */
export async function loadPlugins(refs: readonly PluginRef[]): Promise<void> {
  for (const r of refs) await loadPlugin(r.kind, r.key);
}

/** The modules loaded in this thread, for a worker thread to load too. */
export function loadedPlugins(): PluginRef[] {
  return [...loaded.values()];
}

export function userProfile(key: string): EpcProfile | undefined {
  return profiles.get(key);
}

export function userFunction(key: string): NvmeFunctionFactory | undefined {
  return functions.get(key);
}

/** A profile module's value as a profile: its own `alignAddr` becomes a custom align rule. */
function profileOf(key: string, path: string, value: unknown): EpcProfile {
  if (typeof value !== 'object' || value === null) throw userError(path, 'a profile module exports a profile object');
  const { alignAddr: rule, ...data } = value as Record<string, unknown>;
  if (rule !== undefined) {
    if (typeof rule !== 'function') throw userError(path, 'alignAddr must be a function (pciAddr, size)');
    registerAlignRule(key, rule as AlignAddrFunction);
    data.align = { kind: 'custom', key };
  }
  const profile = parseProfile(data, path);
  if (profile.align.kind === 'custom') for (const [addr, size] of ALIGN_PROBES) alignAddr(profile.align, addr, size, 1);
  return profile;
}

function userError(path: string, problem: string): HostSimConfigError {
  return new HostSimConfigError('BAD_MODULE', `${path}: ${problem}`);
}
