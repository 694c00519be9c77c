import { readFileSync } from 'node:fs';
import { type EpcProfile, findProfile, PROFILE_NAMES, parseProfile } from '@epfsim/epc-core';
import { userProfile } from '../../host/plugins/user-modules.js';
import { UsageError } from './usage-error.js';

/** A built-in profile by name, a profile module loaded by its key, or a JSON profile file by path. */
export function resolveProfile(nameOrPath: string): EpcProfile {
  const known = findProfile(nameOrPath) ?? userProfile(nameOrPath);
  if (known !== undefined) return known;
  if (!nameOrPath.endsWith('.json')) {
    throw new UsageError(
      `unknown profile '${nameOrPath}' (built-in: ${PROFILE_NAMES.join(', ')}; or a path to a .json profile or .mjs profile module)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read profile file ${nameOrPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`profile file ${nameOrPath} is not valid JSON: ${(error as Error).message}`);
  }
  return parseProfile(data, nameOrPath);
}
