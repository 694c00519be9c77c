/**
 * The packages are what a project outside this repository can depend on: `npm pack` makes a
 * tarball of each, a scratch project in the system's temporary folder installs them (nothing of
 * the repository is on its resolution path), and there the host-sim README's example runs and the
 * installed `epfsim` fuzzes a user's strategy module in worker threads.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsBlocks } from './readme-blocks.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'epfsim-pack-'));
const app = join(scratch, 'app');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const PACKAGES = ['epc-core', 'host-sim', 'nvme-epf', 'nvme-host', 'nvme-spec-types', 'pci-epf-test'];

beforeAll(() => {
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  execFileSync(npm, ['pack', '--workspaces', '--pack-destination', tarballs], { cwd: root, stdio: 'pipe' });
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  // fast-check comes from npm's cache (the repository's install put it there) or the registry.
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', ...files], { cwd: app, stdio: 'pipe' });
}, 300_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the packed packages, installed outside the repository', () => {
  it('are every package, public, with its built files', () => {
    for (const name of PACKAGES) {
      const dir = join(app, 'node_modules', '@epfsim', name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(manifest.private, name).toBeUndefined();
      expect(readdirSync(join(dir, 'dist')), name).toContain('index.d.ts');
      expect(readdirSync(dir), name).toContain('README.md');
    }
  });

  it("run the host-sim README's example", () => {
    const [example] = tsBlocks(readFileSync(join(root, 'packages/host-sim/README.md'), 'utf8'));
    const js = ts.transpileModule(example?.code ?? '', {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(app, 'example.mjs'), js);
    const r = spawnSync(process.execPath, ['example.mjs'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('PASS: all 10 checks passed');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('true undefined');
  });

  it('give a working epfsim command that takes a strategy module', () => {
    copyFileSync(join(root, 'examples/strategies/partial-map-loop.mjs'), join(app, 'my-loop.mjs'));
    const bin = join(app, 'node_modules', '.bin', 'epfsim');
    const version = spawnSync(bin, ['--version'], { cwd: app, encoding: 'utf8' });
    expect(version.stdout.trim()).toBe(
      `epfsim ${JSON.parse(readFileSync(join(root, 'packages/host-sim/package.json'), 'utf8')).version}`,
    );
    const r = spawnSync(
      bin,
      ['fuzz', '--strategy', 'my-loop.mjs', '--profile', 'rk3399', '--cases', '60', '--workers', '2'],
      {
        cwd: app,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/60 cases .* 0 failed/);
  });
});
