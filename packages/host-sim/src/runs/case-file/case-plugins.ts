/**
 * The user modules a case file names: an NVMe function module's key in `controller.module`, a
 * strategy module's key in `controller.strategy`, a profile
 * module's key as `profile` or as the key of an inline profile's custom align rule. A case found
 * with a user's module records the module's path; replaying it loads the module again first.
 */
import { isModulePath, loadPlugin, type PluginKind } from '../../host/plugins/user-modules.js';
import { isUserError } from '../../host/user-error.js';
import { ShapeError } from './json-shape.js';

/** Loads the modules the case data (JSON, not yet parsed) names, so that parsing finds them. */
export async function loadCasePlugins(data: unknown): Promise<void> {
  if (typeof data !== 'object' || data === null) return;
  const c = data as { profile?: unknown; controller?: { strategy?: unknown; module?: unknown } };
  const module = c.controller?.module;
  if (typeof module === 'string') await load('function', module, 'case.controller.module');
  const strategy = c.controller?.strategy;
  if (typeof strategy === 'string' && isModulePath(strategy))
    await load('strategy', strategy, 'case.controller.strategy');
  if (typeof c.profile === 'string' && isModulePath(c.profile)) await load('profile', c.profile, 'case.profile');
  const align = (c.profile as { align?: { kind?: unknown; key?: unknown } } | undefined)?.align;
  if (align?.kind === 'custom' && typeof align.key === 'string')
    await load('profile', align.key, 'case.profile.align.key');
}

async function load(kind: PluginKind, path: string, at: string): Promise<void> {
  try {
    await loadPlugin(kind, path);
  } catch (e) {
    throw isUserError(e) ? new ShapeError(at, e.message) : e;
  }
}
