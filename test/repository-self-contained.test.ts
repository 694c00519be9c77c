/**
 * A fresh clone is the whole product: every rule id, Linux fix number and docs section a comment
 * or a test cites resolves to an entry of docs/, and no file points outside the repository (a
 * sibling folder, a reference document the clone does not have, a path on one machine).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'coverage']);
/** Data files, not text anyone cites from. */
const DATA_FILE = /\.(trace|tsbuildinfo)$|package-lock\.json$/;

/** Tracked and not-yet-tracked files (what a commit would hold), or every file when git is not there. */
function repositoryFiles(): string[] {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT });
    return [...new Set(out.toString('utf8').split('\0'))].filter((f) => f !== '' && existsSync(join(ROOT, f)));
  } catch {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRS.has(entry.name)) walk(join(dir, entry.name));
        } else files.push(relative(ROOT, join(dir, entry.name)));
      }
    };
    walk(ROOT);
    return files;
  }
}

const FILES = repositoryFiles().filter((f) => !DATA_FILE.test(f));
const text = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
/** Source and tests of every package, and the cross-package tests: where rule ids are cited. */
const CITING = FILES.filter((f) => /^(packages\/[^/]+\/(src|test)|test)\/.*\.ts$/.test(f) || f.endsWith('.md'));

/** Every `| ID |` row of a docs table. */
function tableIds(doc: string, idPattern: string): Set<string> {
  const ids = new Set<string>();
  for (const m of text(doc).matchAll(new RegExp(`^\\| (${idPattern}) \\|`, 'gm'))) ids.add(m[1]!);
  return ids;
}

/** Each match of `pattern` (its group 1 is the id) in the citing files, with where it is. */
function citations(pattern: RegExp): { readonly id: string; readonly where: string }[] {
  const found: { id: string; where: string }[] = [];
  for (const file of CITING) {
    text(file)
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(pattern)) found.push({ id: m[1]!, where: `${file}:${i + 1}: ${m[0]}` });
      });
  }
  return found;
}

/** The citations of `pattern` whose id `known` lacks. */
function unresolved(pattern: RegExp, known: (id: string) => boolean): string[] {
  return citations(pattern)
    .filter((c) => !known(c.id))
    .map((c) => c.where);
}

describe('every citation resolves inside the repository', () => {
  it('rule ids (P-, S-, Q-, C-, C-A, V-) have an entry in docs/nvme-rules.md', () => {
    const ids = tableIds('docs/nvme-rules.md', '(?:C-A|[PSQCV]-)\\d+');
    // P-1..P-14, S-1..S-13, Q-1..Q-12, C-1..C-8, C-A1..C-A5, V-1..V-16 and V-20..V-35.
    expect(ids.size).toBe(84);
    const rule = /\b((?:C-A|[PSQCV]-)\d+)\b/g;
    expect(citations(rule).length).toBeGreaterThan(300);
    expect(unresolved(rule, (id) => ids.has(id))).toEqual([]);
  });

  it('"Linux fix #N" has a row in docs/linux-fixes.md', () => {
    const fixes = tableIds('docs/linux-fixes.md', '\\d+');
    expect(unresolved(/Linux fix #(\d+)/g, (n) => fixes.has(n))).toEqual([]);
  });

  it('"case X" labels of QEMU observations have a row in docs/nvme-rules.md §8', () => {
    const cases = tableIds('docs/nvme-rules.md', '[A-Z][0-9]?');
    expect(cases.has('J')).toBe(true);
    expect(unresolved(/\bcase ([A-Z][0-9]?)\)/g, (label) => cases.has(label))).toEqual([]);
  });

  it('a docs file cited with a section number exists and has that section', () => {
    const missing: string[] = [];
    for (const file of CITING) {
      for (const m of text(file).matchAll(/docs\/([\w-]+\.md)((?:,? §[\w.]+)*)/g)) {
        const doc = join('docs', m[1]!);
        if (!existsSync(join(ROOT, doc))) {
          missing.push(`${file}: ${m[0]}`);
          continue;
        }
        const headings = text(doc)
          .split('\n')
          .filter((l) => l.startsWith('#'));
        for (const section of m[2]!.matchAll(/§([\w.]+)/g)) {
          const number = section[1]!.replace(/\.$/, '');
          if (!headings.some((h) => new RegExp(`^#+ ${number.replace(/\./g, '\\.')}[. ]`).test(h)))
            missing.push(`${file}: ${m[0]} (no section ${number} in ${doc})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('nothing points outside the repository', () => {
  const offenders = (pattern: RegExp, files: readonly string[], onlyComments = false): string[] => {
    const found: string[] = [];
    for (const file of files) {
      text(file)
        .split('\n')
        .forEach((line, i) => {
          const comment = /^\s*(\/\/|\*|\/\*)/.test(line) || /\/\/ /.test(line);
          if (pattern.test(line) && (!onlyComments || comment)) found.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    return found;
  };

  it('no file reads or cites a sibling folder or the reference documents beside the repository', () => {
    expect(offenders(/\.\.\/shared|(?<![\w/])reference\/[\w-]+\.md/, FILES)).toEqual([]);
  });

  it('no file names a path on one machine (/work, /home, /root)', () => {
    expect(offenders(/(?<![\w.])\/(work|home|root)\//, FILES)).toEqual([]);
  });

  it('no source comment cites a file under /tmp', () => {
    const sources = FILES.filter((f) => f.endsWith('.ts'));
    expect(offenders(/(?<![\w.])\/tmp\/[\w-]+\.(md|txt|trace|json)/, sources, true)).toEqual([]);
  });
});
