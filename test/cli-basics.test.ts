import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { epfsim } from './run-cli.js';

const LAUNCHER = fileURLToPath(new URL('../packages/host-sim/bin/epfsim.js', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('../packages/host-sim/package.json', import.meta.url), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};
const COMMANDS = ['bench', 'compare', 'fuzz', 'profiles', 'replay', 'run', 'serve'];

function node(...args: string[]) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('epfsim --version and help', () => {
  it('--version prints the package version; with --json, as JSON', () => {
    const r = epfsim('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`epfsim ${PACKAGE.version}`);
    expect(JSON.parse(epfsim('--json', '--version').stdout)).toEqual({ name: 'epfsim', version: PACKAGE.version });
  });

  it.each(COMMANDS)('help %s prints the same text as --help', (command) => {
    const help = epfsim('help', command);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^usage: epfsim ${command}`));
    expect(help.stdout).toBe(epfsim(command, '--help').stdout);
  });

  it('help without a command is the general help; an unknown one is a one-line error, exit 2', () => {
    expect(epfsim('help').stdout).toMatch(/^usage: epfsim <command>/);
    const r = epfsim('help', 'frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "epfsim help: unknown command 'frobnicate' (commands: bench, compare, fuzz, profiles, replay, run, serve)",
    ]);
  });
});

describe('negative numbers are one-line errors naming the flag', () => {
  it.each([
    [['run', '--size', '-1'], "epfsim run: --size: '-1' is negative; a size is a positive number of bytes"],
    [['run', '--iodepth', '-3'], "epfsim run: --iodepth: '-3' is negative; give a whole number from 1 to 1023"],
    [['fuzz', '--cases', '-5'], "epfsim fuzz: --cases: '-5' is negative"],
    [['serve', '--port', '-1'], "epfsim serve: --port: '-1' is negative"],
    [['compare', '--ios', '-2'], "epfsim compare: --ios: '-2' is negative"],
  ])('%j', (args, message) => {
    const r = epfsim(...args);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });
});

describe('the committed launcher npm links as `epfsim`', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'epfsim-launcher-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is what package.json names, so the bin exists at install time', () => {
    expect(PACKAGE.bin).toEqual({ epfsim: 'bin/epfsim.js' });
  });

  it('runs the built CLI', () => {
    const r = node(LAUNCHER, '--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`epfsim ${PACKAGE.version}`);
    expect(node(LAUNCHER, 'profiles').stdout).toBe(epfsim('profiles').stdout);
  });

  it('says in one line how to build when dist/ is not there yet, exit 2', () => {
    // The launcher as a fresh clone has it before the first build: bin/ and no dist/ beside it.
    mkdirSync(join(scratch, 'bin'));
    const copy = join(scratch, 'bin', 'epfsim.js');
    copyFileSync(LAUNCHER, copy);
    const r = node(copy, '--help');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'epfsim: the command is not built yet: run `npm run build` (or `npm start`) in the repository',
    ]);
  });
});
