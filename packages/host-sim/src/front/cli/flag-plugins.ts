/**
 * `--profile`, `--strategy` and `--function` take a built-in's name or a path to the user's own
 * module. Modules are loaded (asynchronously) before a command parses its flags, and the path is
 * replaced by the module's key, which the command's parsing then finds like a built-in name.
 */
import { isModulePath, loadPlugin, type PluginKind } from '../../host/plugins/user-modules.js';
import { isUserError } from '../../host/user-error.js';
import { UsageError } from './usage-error.js';

const PLUGIN_FLAGS: Readonly<Record<string, PluginKind>> = {
  '--profile': 'profile',
  '--strategy': 'strategy',
  '--function': 'function',
};

/** `args` with every module path a plug-in flag names loaded and replaced by its key. */
export async function loadFlagPlugins(args: readonly string[]): Promise<string[]> {
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    const arg = out[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const kind = PLUGIN_FLAGS[flag];
    if (kind === undefined) continue;
    const value = eq < 0 ? out[i + 1] : arg.slice(eq + 1);
    if (value === undefined || !isModulePath(value)) continue;
    let key: string;
    try {
      key = await loadPlugin(kind, value);
    } catch (e) {
      throw isUserError(e) ? new UsageError(`${flag}: ${e.message}`) : e;
    }
    if (eq < 0) out[++i] = key;
    else out[i] = `${flag}=${key}`;
  }
  return out;
}
