/**
 * Each package's README is its public contract: the `## API` section names every export of the
 * package's index and nothing else, and every ```ts example is a program that type-checks against
 * the package roots a user imports (`@epfsim/<name>`), so a renamed export breaks this test, not a reader.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { tsBlocks } from './readme-blocks.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = readdirSync(join(root, 'packages')).sort();
/** Inside the repository, so that `@epfsim/*` resolves through the root node_modules. */
const scratch = join(root, 'node_modules', '.cache', 'readme-examples');

const readme = (pkg: string): string => readFileSync(join(root, 'packages', pkg, 'README.md'), 'utf8');

/** The names a README's `## API` section lists as `` `name` `` at the start of a list item (several per item allowed). */
function apiNames(text: string): Set<string> {
  const section = /^## API\s*$([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(text)?.[1] ?? '';
  const names = new Set<string>();
  for (const item of section.split('\n').filter((l) => /^\s*[-*] /.test(l))) {
    const head = item.split(/ [—–:] | - /)[0] ?? '';
    for (const m of head.matchAll(/`([A-Za-z_$][\w$]*)`/g)) names.add(m[1] as string);
  }
  return names;
}

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.test.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (parsed === undefined) throw new Error('tsconfig.test.json did not parse');
  return { ...parsed.options, noEmit: true, noUnusedLocals: false };
}

/** Names exported from a package's index, as the type checker sees them. */
function indexExports(program: ts.Program, pkg: string): string[] {
  const file = program.getSourceFile(join(root, 'packages', pkg, 'src', 'index.ts'));
  if (file === undefined) throw new Error(`${pkg}: no src/index.ts`);
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(file);
  return symbol === undefined ? [] : checker.getExportsOfModule(symbol).map((s) => s.name);
}

describe('package READMEs', () => {
  const documented = packages.filter((p) => {
    try {
      readme(p);
      return true;
    } catch {
      return false;
    }
  });
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const examples = documented.flatMap((pkg) =>
    tsBlocks(readme(pkg)).map((b, n) => {
      const path = join(scratch, `${pkg}-${n + 1}.ts`);
      writeFileSync(path, `${b.code}\nexport {};\n`);
      return { pkg, line: b.line, path };
    }),
  );
  const indexes = documented.map((pkg) => join(root, 'packages', pkg, 'src', 'index.ts'));
  const program = ts.createProgram([...examples.map((e) => e.path), ...indexes], compilerOptions());

  it('every package has a README', () => {
    expect(packages.filter((p) => !documented.includes(p))).toEqual([]);
  });

  it.each(documented)('%s: the API section lists exactly the exports of src/index.ts', (pkg) => {
    const exported = new Set(indexExports(program, pkg));
    const listed = apiNames(readme(pkg));
    expect({ missing: [...exported].filter((n) => !listed.has(n)).sort() }).toEqual({ missing: [] });
    expect({ notExported: [...listed].filter((n) => !exported.has(n)).sort() }).toEqual({ notExported: [] });
  });

  it.each(documented)('%s: every ts example compiles against the package roots', (pkg) => {
    const mine = examples.filter((e) => e.pkg === pkg);
    expect(mine.length, `${pkg}/README.md has no \`\`\`ts example`).toBeGreaterThan(0);
    const problems = mine.flatMap((e) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(e.path)).map((d) => {
        const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
        return `packages/${pkg}/README.md:${e.line + at}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      }),
    );
    expect(problems).toEqual([]);
  });
});
