import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../packages/host-sim/dist/front/cli/main.js', import.meta.url));

/** Runs the built `epfsim` as a user would (npm test builds it first). */
export function epfsim(...args: string[]): { code: number; stdout: string; stderr: string } {
  return epfsimWithEnv({}, ...args);
}

/** As {@link epfsim}, with `env` added to the environment. */
export function epfsimWithEnv(
  env: Record<string, string>,
  ...args: string[]
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
