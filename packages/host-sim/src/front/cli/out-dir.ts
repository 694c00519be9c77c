/**
 * Output folders given on the command line (fuzz --out, compare --out): checked before long work
 * starts, created one level at a time, so a bad path is one line at once, not a lost result later.
 */
import { existsSync, mkdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './usage-error.js';

/**
 * Makes sure files can be written in `out`: the folders missing are created one at a time (a
 * recursive mkdir under /proc never returns on Node 20) and a probe file is written and removed.
 * Folders it had to create are removed again, so a run that writes nothing leaves nothing behind.
 */
export function checkOutDir(out: string, flag: string): void {
  const created = ensureDir(out, flag);
  const probe = join(out, `.epfsim-write-check-${process.pid}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    throw new UsageError(`${flag}: cannot write in ${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  } finally {
    for (const dir of created.reverse()) rmdirSync(dir);
  }
}

/** Creates `dir` and its missing parents, one level at a time; returns the folders it created. */
export function ensureDir(dir: string, flag: string): string[] {
  const missing: string[] = [];
  let at = resolve(dir);
  while (!existsSync(at)) {
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) throw new UsageError(`${flag}: ${at} is not a directory`);
  const created: string[] = [];
  try {
    for (const d of missing) {
      mkdirSync(d);
      created.push(d);
    }
  } catch (error) {
    for (const d of created.reverse()) rmdirSync(d);
    throw new UsageError(`${flag}: cannot create ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return created;
}
