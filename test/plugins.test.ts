/**
 * A user's own code under epfsim, from files outside the repository as a user would have them:
 * a strategy module that follows partial maps passes a fuzz campaign on every profile, one that
 * ignores them fails it with a shrunk case file that replays; a profile module with its own
 * alignAddr runs and fuzzes; compare puts a user strategy in its table by the name it gives itself.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { epfsim, epfsimWithEnv } from './run-cli.js';

const examples = fileURLToPath(new URL('../examples/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'epfsim-plugins-'));
const copy = (from: string) => {
  const to = join(dir, from.split('/').at(-1) as string);
  copyFileSync(join(examples, from), to);
  return to;
};
const goodLoop = copy('strategies/partial-map-loop.mjs');
const mapOnce = copy('strategies/ignores-partial-maps.mjs');
const myController = copy('profiles/my-controller.mjs');
// Outside the repository the package is found by its file, as an installed one would be by name.
const wrappedNvme = join(dir, 'wrapped-nvme.mjs');
writeFileSync(
  wrappedNvme,
  readFileSync(join(examples, 'functions/wrapped-nvme.mjs'), 'utf8').replace(
    "'@epfsim/nvme-epf'",
    `'${pathToFileURL(fileURLToPath(new URL('../packages/nvme-epf/dist/index.js', import.meta.url))).href}'`,
  ),
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('user strategy modules', () => {
  it('a map loop that follows partial maps passes fuzz on every profile', () => {
    const r = epfsim('fuzz', '--strategy', goodLoop, '--profile', 'all', '--cases', '400', '--out', dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/400 cases .* 0 failed/);
    expect(r.stdout).toContain('rk3399 x adversarial: 50 cases, 0 failed');
  });

  it('one that ignores partial maps fails it with a shrunk case file that replays the failure', () => {
    const out = mkdtempSync(join(dir, 'out-'));
    const r = epfsim(
      'fuzz',
      '--strategy',
      mapOnce,
      '--profile',
      'rk3399',
      '--cases',
      '200',
      '--workers',
      '2',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAILED rk3399 x adversarial: .*differs from byte/);
    const [caseFile] = readdirSync(out);
    expect(caseFile).toMatch(/^epfsim-rk3399-\d+\.case\.json$/);
    const replay = epfsim('replay', join(out, caseFile as string));
    expect(replay.code, replay.stderr).toBe(1);
    expect(replay.stdout).toMatch(/FAILED: .*differs from byte/);
  });

  it('compare lists it by its own name beside the built-in ones', () => {
    const r = epfsim(
      'compare',
      '--quick',
      '--profile',
      'rk3399',
      '--strategy',
      'mem-map',
      '--strategy',
      goodLoop,
      '--out',
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}my-map-loop +0\/\d+ /m);
    expect(r.stdout).toMatch(/^ {2}mem-map +0\/\d+ /m);
  });

  it('a module that is not a strategy is one line and exit 2', () => {
    const notOne = join(dir, 'not-a-strategy.mjs');
    writeFileSync(notOne, 'export const answer = 42;\n');
    for (const file of [notOne, join(dir, 'missing.mjs')]) {
      const r = epfsim('run', '--strategy', file);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^epfsim run: --strategy: /);
    }
  });
});

describe('user profile modules', () => {
  it('a controller with its own alignAddr runs and fuzzes, with the shipped map loop and the user one', () => {
    const run = epfsim('run', '--profile', myController, '--size', '1m');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('PASS: all 10 checks passed');
    const fuzz = epfsim('fuzz', '--profile', myController, '--placement', 'all', '--cases', '200', '--workers', '2');
    expect(fuzz.code, fuzz.stdout + fuzz.stderr).toBe(0);
    expect(fuzz.stdout).toContain('my-controller x adversarial: 50 cases, 0 failed');
    // Its rule truncates maps at 256 KiB blocks: a loop that ignores partial maps loses data there.
    const buggy = epfsim('fuzz', '--profile', myController, '--strategy', mapOnce, '--cases', '200', '--out', dir);
    expect(buggy.code).toBe(1);
  });

  it('a rule that breaks the map contract is refused when the module loads, naming the request', () => {
    const bad = join(dir, 'late-rule.mjs');
    writeFileSync(
      bad,
      `import base from './my-controller.mjs';
export default { ...base, name: 'late', alignAddr: (a, s) => ({ mapPciAddr: a + 16n, mapSize: s, offset: 0 }) };
`,
    );
    const r = epfsim('profiles', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /alignAddr\(0x0, 0x1000\) of .*late-rule\.mjs returned a map that does not cover the start/,
    );
  });
});

describe('user NVMe function modules', () => {
  it('run and fuzz take one, under the same driver, placements and checks', () => {
    const run = epfsim('run', '--function', wrappedNvme, '--profile', 'rk3399', '--number-ios', '2000');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('PASS: all 10 checks passed');
    const fuzz = epfsim('fuzz', '--function', wrappedNvme, '--profile', 'all', '--cases', '200', '--workers', '2');
    expect(fuzz.code, fuzz.stdout + fuzz.stderr).toBe(0);
  });

  it('one whose createFunction throws is one line naming the module: exit 2', () => {
    const throwing = join(dir, 'throwing.mjs');
    writeFileSync(throwing, "export default function createFunction() { throw new Error('not ready'); }\n");
    const r = epfsim('run', '--function', throwing);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`epfsim run: ${throwing}: createFunction threw: not ready`);
  });

  it('a bug planted in it is caught by run and fuzz, and the shrunk case replays it with the module', () => {
    const bug = { EPFSIM_DEMO_BUG: '1' };
    const run = epfsimWithEnv(bug, 'run', '--function', wrappedNvme, '--profile', 'rk3399', '--number-ios', '2000');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('FAIL: verify');
    const out = mkdtempSync(join(dir, 'fn-'));
    const fuzz = epfsimWithEnv(
      bug,
      'fuzz',
      '--function',
      wrappedNvme,
      '--profile',
      'generic',
      '--cases',
      '100',
      '--out',
      out,
    );
    expect(fuzz.code).toBe(1);
    const [caseFile] = readdirSync(out);
    const replayed = epfsimWithEnv(bug, 'replay', join(out, caseFile as string));
    expect(replayed.code).toBe(1);
    // Without the bug the same module passes the same case.
    expect(epfsim('replay', join(out, caseFile as string)).code).toBe(0);
  });
});
