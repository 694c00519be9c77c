/**
 * What a user expects of each command, one behaviour per test: verify on a run that reads
 * nothing, Ctrl-C during a run, the namespace backends, the placements help offers, a live
 * serve socket, compare --json and the current directory, fuzz --out checked up front, and
 * profiles that extend a built-in or have no description.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { epfsim } from './run-cli.js';

const CLI = fileURLToPath(new URL('../packages/host-sim/dist/front/cli/main.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'epfsim-expect-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function expectOneLineError(r: ReturnType<typeof epfsim>, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

describe('epfsim run', () => {
  it('verify is N/A, not a pass, when the workload read nothing', () => {
    const r = epfsim('run', '--rw', 'write', '--number-ios', '100');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ {2}N\/A {2}verify {14}not applicable: the workload read nothing back \(0 reads\)/);
    expect(r.stdout).toMatch(/PASS: all 9 checks passed \(1 not applicable\)\n$/);
    const json = JSON.parse(epfsim('run', '--rw', 'randwrite', '--number-ios', '50', '--json').stdout);
    expect(json.checks.list.find((c: { name: string }) => c.name === 'verify')).toMatchObject({
      passed: true,
      applicable: false,
    });
    // A run that reads verifies as before.
    expect(epfsim('run', '--rw', 'randrw', '--number-ios', '100').stdout).toMatch(/PASS verify {14}\d+ reads/);
  });

  it('Ctrl-C prints the report of the run so far and exits 130', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--runtime', '60s', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const started = Date.now();
    const timer = setTimeout(() => child.kill('SIGINT'), 1500);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(code).toBe(130);
    expect(stderr).toContain('epfsim run: interrupted (Ctrl-C): the report covers the run so far');
    const report = JSON.parse(stdout);
    expect(report.results.end).toBe('interrupted');
    expect(report.results.ios).toBeGreaterThan(0);
    expect(report.checks.list.find((c: { name: string }) => c.name === 'completed').detail).toMatch(
      /ended by an interrupt \(Ctrl-C\)/,
    );
  });

  it('--backend FILE keeps the data in the file across runs; null needs --no-verify; bad paths are one line', () => {
    const disk = join(scratch, 'disk.img');
    const args = ['--backend', disk, '--ns-size', '16m', '--size', '1m', '--bs', '4k'];
    const first = epfsim('run', ...args, '--rw', 'write', '--number-ios', '64', '--seed', '3');
    expect(first.code).toBe(0);
    const bytes = readFileSync(disk);
    expect(bytes.length).toBe(16 * 1024 * 1024);
    const written = bytes.subarray(0, 1024 * 1024).some((b) => b !== 0);
    expect(written).toBe(true);
    // A second run over the same file reads the first one's data and verifies what it writes itself.
    const second = epfsim('run', ...args, '--rw', 'randrw', '--number-ios', '200', '--seed', '4');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/PASS verify/);
    expect(
      readFileSync(disk)
        .subarray(0, 1024 * 1024)
        .equals(bytes.subarray(0, 1024 * 1024)),
    ).toBe(false);
    expectOneLineError(epfsim('run', '--backend', 'null'), /--backend null keeps no data.*add --no-verify/);
    expect(epfsim('run', '--backend', 'null', '--no-verify', '--number-ios', '50').code).toBe(0);
    expectOneLineError(epfsim('run', '--backend', scratch), /--backend: .* is a directory; give a file path/);
    expectOneLineError(
      epfsim('run', '--backend', join(scratch, 'no', 'such', 'dir', 'x')),
      /--backend: cannot open .*: ENOENT/,
    );
  });

  it('help offers only the placements run and serve take', () => {
    for (const command of ['run', 'serve']) {
      const help = epfsim(command, '--help').stdout;
      expect(help).toMatch(/--placement NAME +linux \| spdk \| adversarial \(default adversarial; 'invalid',/);
    }
    expect(epfsim('fuzz', '--help').stdout).toMatch(
      /--placement NAME\|all +repeatable: linux \| spdk \| adversarial \| invalid/,
    );
  });
});

describe('epfsim serve --socket', () => {
  it('refuses a socket another server listens on, and replaces a stale one', async () => {
    const path = join(scratch, 'live.sock');
    const other: Server = createServer();
    await new Promise<void>((resolve) => other.listen(path, resolve));
    try {
      expectOneLineError(
        epfsim('serve', '--socket', path),
        /epfsim serve: .*live\.sock is in use: another server is listening on it/,
      );
      expect(existsSync(path)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
    // A socket file nobody listens on (a server that died): served over, and removed on exit.
    const stale = join(scratch, 'stale.sock');
    await staleSocket(stale);
    expect(existsSync(stale)).toBe(true);
    const child = spawn(process.execPath, [CLI, 'serve', '--socket', stale, '--ns-size', '16m'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // One signal: a second one would stop the server without its report.
      if (stdout.includes('listening on') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stdout).toContain(`listening on nbd+unix:///?socket=${stale}`);
    expect(code).toBe(0);
    expect(existsSync(stale)).toBe(false);
  });
});

describe('epfsim compare --json', () => {
  it('writes report files only when --out names where', () => {
    const cwd = join(scratch, 'compare-cwd');
    mkdirSync(cwd);
    const args = ['compare', '--quick', '--ios', '8', '--profile', 'generic', '--strategy', 'mem-map', '--json'];
    const r = spawnIn(cwd, args);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).tool).toBe('epfsim compare');
    expect(readdirSync(cwd)).toEqual([]);
    const out = join(scratch, 'compare-out');
    expect(spawnIn(cwd, [...args, '--out', out]).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['report.html', 'report.json']);
  });
});

describe('epfsim fuzz --out', () => {
  it('is checked before the campaign: an impossible path is one line at once, exit 2', () => {
    const started = Date.now();
    expectOneLineError(epfsim('fuzz', '--cases', '100000', '--out', '/proc/epfsim/cases'), /--out: cannot create/);
    const file = join(scratch, 'not-a-dir');
    writeFileSync(file, '');
    expectOneLineError(
      epfsim('fuzz', '--cases', '100000', '--out', join(file, 'x')),
      /--out: .*not-a-dir is not a directory/,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('leaves no folder behind when no case failed, and creates it for a failure', () => {
    const out = join(scratch, 'fuzz-out', 'deeper');
    expect(epfsim('fuzz', '--cases', '3', '--out', out).code).toBe(0);
    expect(existsSync(join(scratch, 'fuzz-out'))).toBe(false);
    const failing = ['--profile', 'stress', '--strategy', 'epf-align', '--placement', 'linux', '--cases', '30'];
    expect(epfsim('fuzz', ...failing, '--out', out).code).toBe(1);
    expect(readdirSync(out).some((f) => f.endsWith('.case.json'))).toBe(true);
  });
});

describe('profile files', () => {
  it('one that extends a built-in describes itself, not its parent', () => {
    const file = join(scratch, 'board.json');
    writeFileSync(
      file,
      JSON.stringify({
        extends: 'dwc',
        name: 'board',
        atu: { kind: 'dwc', slots: 2, regionAlign: 65536, regionLimit: '0x100000000' },
      }),
    );
    expect(epfsim('profiles', file).stdout).toMatch(/^board: dwc with its own atu\n/);
    const same = join(scratch, 'renamed.json');
    writeFileSync(same, JSON.stringify({ extends: 'rk3399', name: 'renamed' }));
    expect(epfsim('profiles', same).stdout).toMatch(/^renamed: Rockchip RK3399: /);
  });

  it('one without a description runs under fuzz as under run', () => {
    const file = join(scratch, 'plain.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'plain',
        windows: [{ physBase: '0x40000000', size: '0x10000000', pageSize: 4096 }],
        align: { kind: 'none' },
        atu: { kind: 'unlimited' },
        irq: { msi: true, msix: true, intx: true, mapping: 'transient' },
        barAlign: 4096,
      }),
    );
    expect(epfsim('run', '--profile', file, '--number-ios', '20').code).toBe(0);
    const fuzz = epfsim('fuzz', '--profile', file, '--cases', '5');
    expect(fuzz.stderr).toBe('');
    expect(fuzz.code).toBe(0);
    expect(fuzz.stdout).toMatch(/plain x adversarial: 5 cases, 0 failed/);
  });
});

/** `epfsim args` with `cwd` as its current directory. */
function spawnIn(cwd: string, args: string[]): { code: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout };
}

/** A socket file left by a server that was killed: nobody listens on it any more. */
async function staleSocket(path: string): Promise<void> {
  const listener = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', listener], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGKILL');
  await exited;
}
