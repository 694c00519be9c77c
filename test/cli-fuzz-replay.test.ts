import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { epfsim } from './run-cli.js';

const cases = (name: string) => fileURLToPath(new URL(`./cases/${name}`, import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'epfsim-fuzz-'));

interface FuzzJson {
  seed: number;
  casesRun: number;
  failed: number;
  casesPerSecond: number;
  perTarget: { profile: string; placement: string; cases: number; failures: number }[];
  failures: { caseFile: string; failure: string }[];
  cases: { id: number; seed: number; profile: string; placement: string; ok: boolean }[];
}

const fuzzJson = (...args: string[]): FuzzJson => {
  const r = epfsim('fuzz', '--json', ...args);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as FuzzJson;
};

describe('epfsim replay', () => {
  it('passes a hand-written case (PRP lists mid-page on rk3399): exit 0', () => {
    const r = epfsim('replay', cases('rk3399-prp-list-mid-page.case.json'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/command-1 qid 1 READ 02h \(CID \d+\): 0\/00h Successful Completion {2}ok/);
    // Enable, Create I/O CQ and SQ, then each command submitted and waited for; queue creation counts as commands.
    expect(r.stdout).toMatch(/passed \(7 steps, 4 commands, every expectation holds\)/);
  });

  it('fails a case whose expectation is wrong, naming the command and what it got: exit 1', () => {
    const r = epfsim('replay', cases('rk3399-prp-list-entry-offset-wrong-expectation.case.json'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAILED: command-1 (qid 1, READ 02h): status 0/13h PRP Offset Invalid (DNR), expected 0/00h',
    );
  });

  it('prints per-command results with --json', () => {
    const r = epfsim('replay', cases('rk3399-prp-list-entry-offset-wrong-expectation.case.json'), '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(false);
    expect(json.commands.map((c: { status: string; ok: boolean }) => [c.status, c.ok])).toEqual([
      ['0/00h', true],
      ['0/00h', true],
      ['0/00h', true],
      ['0/13h', false],
    ]);
  });

  it('refuses a malformed or unreadable case file with one line naming the field: exit 2', () => {
    const malformed = epfsim('replay', cases('malformed-prp1.case.json'));
    expect(malformed.code).toBe(2);
    expect(malformed.stderr.trim().split('\n')).toEqual([
      'epfsim replay: case.commands[0].prp1: must be a string like "0x1000" (a 64-bit address as a hex string), got "0x12345678901234567"',
    ]);
    const missing = epfsim('replay', join(tmp(), 'nope.case.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^epfsim replay: cannot read case file .*nope\.case\.json: ENOENT\n$/);
    const notJson = join(tmp(), 'bad.case.json');
    writeFileSync(notJson, '{ "kind": ');
    const bad = epfsim('replay', notJson);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(epfsim('replay').code).toBe(2);
  });
});

describe('epfsim fuzz', () => {
  it('runs 200 adversarial cases on stress cleanly: exit 0', () => {
    const r = epfsim('fuzz', '--cases', '200', '--profile', 'stress', '--placement', 'adversarial');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^epfsim fuzz: 200 cases in .* 0 failed$/m);
    expect(r.stdout).toContain('stress x adversarial: 200 cases, 0 failed');
  });

  it('finds a genuine failure, shrinks it into a case file, and replay reports it failing', () => {
    // epf-align cannot map adversarial buffers on RK3399 (1 MiB translation limit): 0/04h.
    const out = tmp();
    const r = epfsim(
      'fuzz',
      ...['--cases', '40', '--profile', 'rk3399', '--placement', 'adversarial', '--strategy', 'epf-align'],
      ...['--seed', '3', '--out', out],
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED rk3399 x adversarial: case \d+ \(seed \d+\): .*0\/04h Data Transfer Error/);
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^epfsim-rk3399-\d+\.case\.json$/);
    const file = join(out, files[0]!);
    expect(r.stdout).toContain(`case file: ${file}`);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written.controller.strategy).toBe('epf-align');
    expect(written.description).toContain('--strategy epf-align --seed 3');
    const replay = epfsim('replay', file);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toMatch(/FAILED: c\d+ \(qid \d+, \w+ 0[12]h\): status 0\/04h Data Transfer Error/);
  });

  it('reports cases, counts per profile x placement, cases/s and seeds with --json', () => {
    const json = fuzzJson('--cases', '30', '--profile', 'stress', '--profile', 'rk3399', '--placement', 'all');
    expect(json.casesRun).toBe(30);
    expect(json.failed).toBe(0);
    expect(json.casesPerSecond).toBeGreaterThan(0);
    expect(json.perTarget.map((t) => `${t.profile}/${t.placement}`)).toEqual([
      'stress/linux',
      'stress/spdk',
      'stress/adversarial',
      'stress/invalid',
      'rk3399/linux',
      'rk3399/spdk',
      'rk3399/adversarial',
      'rk3399/invalid',
    ]);
    expect(json.cases.map((c) => c.id)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(new Set(json.cases.map((c) => c.seed)).size).toBe(30);
  });

  it('shards 1/3, 2/3 and 3/3 together run exactly the unsharded cases, with the same results', () => {
    const args = [
      '--cases',
      '45',
      '--profile',
      'stress',
      '--profile',
      'rk3588',
      '--placement',
      'adversarial',
      '--seed',
      '9',
    ];
    const whole = fuzzJson(...args);
    const shards = ['1/3', '2/3', '3/3'].map((s) => fuzzJson(...args, '--shard', s));
    const union = shards.flatMap((s) => s.cases).sort((a, b) => a.id - b.id);
    expect(union).toEqual(whole.cases);
    expect(shards.map((s) => s.casesRun)).toEqual([15, 15, 15]);

    // --merge puts the shards' results back together, in any order, into the unsharded counts.
    const dir = tmp();
    const files = shards.map((s, i) => {
      const path = join(dir, `shard-${i + 1}.json`);
      writeFileSync(path, JSON.stringify(s));
      return path;
    });
    const merged = epfsim('fuzz', '--merge', files[2]!, files[0]!, files[1]!, '--json');
    expect(merged.code).toBe(0);
    const m = JSON.parse(merged.stdout) as FuzzJson & { shard: string };
    expect(m.shard).toBe('all/3');
    expect(m.cases).toEqual(whole.cases);
    expect([m.casesRun, m.failed]).toEqual([whole.casesRun, whole.failed]);
    expect(m.perTarget).toEqual(whole.perTarget);
    const text = epfsim('fuzz', '--merge', ...files);
    expect(text.stdout).toMatch(/^epfsim fuzz --merge: 3 shards, 45 cases .*seed 9, 0 failed/);
    expect(text.stdout).toContain('  stress x adversarial: 23 cases, 0 failed');

    const missing = epfsim('fuzz', '--merge', files[0]!, files[1]!);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('epfsim fuzz: --merge: shard 3/3 missing');
    const notJson = epfsim('fuzz', '--merge', cases('rk3399-prp-list-mid-page.case.json'));
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(
      /--merge: .*rk3399-prp-list-mid-page.case.json is not the --json output of epfsim fuzz/,
    );
  });

  it('spreads a campaign over --workers 2 with the same cases and results', () => {
    const args = ['--cases', '60', '--profile', 'stress', '--placement', 'adversarial', '--placement', 'invalid'];
    const one = fuzzJson(...args);
    const two = fuzzJson(...args, '--workers', '2');
    expect(two.cases).toEqual(one.cases);
    expect(two.failed).toBe(0);
  });

  it.each([
    [['--shard', '4/3'], "--shard: '4/3' is not K/N with 1 <= K <= N"],
    [['--workers', '0'], '--workers: 0 is outside 1..256'],
    [['--cases', 'lots'], "--cases: 'lots' is not a whole number"],
    [['--time', 'soon'], "--time: 'soon' is not a duration"],
    [['--profile', 'rk9999'], "unknown profile 'rk9999'"],
    [['--placement', 'nowhere'], "--placement: 'nowhere' is not one of"],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('refuses bad flags with one line: exit 2 (%j)', (args, message) => {
    const r = epfsim('fuzz', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
  });

  it('documents itself', () => {
    for (const command of ['fuzz', 'replay']) {
      const r = epfsim(command, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: epfsim ${command}`));
    }
    expect(epfsim('--help').stdout).toMatch(/^ {2}fuzz {2,}.*\n(.*\n)* {2}replay {2,}/m);
  });
});
