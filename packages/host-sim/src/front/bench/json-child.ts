/**
 * Measurements in a child Node process: the request goes in as JSON on stdin, the result comes
 * back as JSON on stdout. Each figure then runs in a fresh process, as a user's command does, and
 * does not depend on what the bench ran before it (code run on other shapes leaves the JIT's
 * inline caches less specialised: figure 4 read 30–50 % low in the bench's own process).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Room for a result (a few numbers) and an error message. */
const CHILD_OUTPUT_BYTES = 1 << 20;

/**
 * Runs the script at `script` with `request`, and returns what it printed; a failure (or a child
 * still running after `timeoutMs`) names its cause.
 */
export function runJsonChild<T>(what: string, script: URL, request: unknown, timeoutMs?: number): T {
  const child = spawnSync(process.execPath, [fileURLToPath(script)], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: CHILD_OUTPUT_BYTES,
    timeout: timeoutMs,
  });
  if (child.status !== 0)
    throw new Error(`${what} failed (exit ${child.status ?? child.signal}): ${child.stderr.trim()}`);
  return JSON.parse(child.stdout) as T;
}

/** The child's side: reads the request from stdin, prints what `run(request)` gives as JSON. */
export async function serveJsonChild<R, T>(run: (request: R) => T | Promise<T>): Promise<void> {
  const request = JSON.parse(readFileSync(0, 'utf8')) as R;
  process.stdout.write(`${JSON.stringify(await run(request))}\n`);
}
