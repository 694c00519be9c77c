/**
 * Every `--json` document the CLI prints carries a version and matches its published schema in
 * docs/json: real output of each command, in passing and failing runs, checked by the small
 * validator in json-schema.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SchemaFolder } from './json-schema.js';
import { epfsim } from './run-cli.js';

const schemas = new SchemaFolder(fileURLToPath(new URL('../docs/json/', import.meta.url)));
const CLI = fileURLToPath(new URL('../packages/host-sim/dist/front/cli/main.js', import.meta.url));
const CASES = fileURLToPath(new URL('./cases/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'epfsim-json-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A DesignWare profile whose only window is 64 KiB: the controller cannot come up. */
const SMALL_WINDOW = join(scratch, 'small-window.json');
writeFileSync(
  SMALL_WINDOW,
  JSON.stringify({
    extends: 'dwc',
    name: 'small-window',
    windows: [{ physBase: '0x40000000', size: '0x10000', pageSize: 65536 }],
  }),
);

/** The command's stdout as JSON, after checking it carries version 1 and matches `schema`. */
function valid(schema: string, stdout: string): Record<string, unknown> {
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  expect(doc.version).toBe(1);
  expect(schemas.validate(schema, doc)).toEqual([]);
  return doc;
}

describe('the validator', () => {
  it('finds what a document lacks, adds or gets wrong', () => {
    const good = JSON.parse(epfsim('profiles', 'generic', '--json').stdout);
    expect(schemas.validate('profiles.schema.json', good)).toEqual([]);
    const { hasDma: _dropped, ...profile } = good.profiles[0];
    const broken = { ...good, extra: 1, profiles: [{ ...profile, barAlign: 'x' }] };
    expect(schemas.validate('profiles.schema.json', broken).sort()).toEqual([
      '$.profiles[0].barAlign: expected integer, got string',
      "$.profiles[0]: missing required 'hasDma'",
      "$: unexpected property 'extra'",
    ]);
    expect(schemas.validate('run.schema.json', { version: 1, ok: true, error: 'x' })[0]).toMatch(
      /matches none of oneOf/,
    );
  });
});

describe('--json output matches docs/json', () => {
  it('run: a report, and a bring-up failure with the function account (events with --verbose)', () => {
    const report = valid('run.schema.json', epfsim('run', '--number-ios', '50', '--json').stdout);
    expect(report).toHaveProperty('account.state', 'shutdown');
    const failed = epfsim('run', '--profile', SMALL_WINDOW, '--json', '--verbose');
    expect(failed.code).toBe(1);
    const doc = valid('run.schema.json', failed.stdout);
    expect(doc).toMatchObject({ ok: false, account: { fatal: { epc: { errno: 'ENOMEM' } } } });
    expect((doc.account as { events: unknown[] }).events.length).toBeGreaterThan(0);
  });

  it('replay: a passing case, and a failing one with the account', () => {
    valid('replay.schema.json', epfsim('replay', join(CASES, 'rk3399-prp-list-mid-page.case.json'), '--json').stdout);
    const failed = epfsim('replay', join(CASES, 'stress-epf-align-write-enomem.case.json'), '--json');
    expect(failed.code).toBe(1);
    expect(valid('replay.schema.json', failed.stdout)).toHaveProperty('account.commandErrors.0.epc.errno', 'ENOMEM');
  });

  it('fuzz: a passing campaign, and one whose failure carries the account', () => {
    valid('fuzz.schema.json', epfsim('fuzz', '--cases', '3', '--json').stdout);
    const args = ['--profile', 'stress', '--strategy', 'epf-align', '--placement', 'linux', '--cases', '30'];
    const failed = epfsim('fuzz', ...args, '--out', scratch, '--json');
    expect(failed.code).toBe(1);
    const doc = valid('fuzz.schema.json', failed.stdout);
    expect(doc).toHaveProperty('failures.0.account.rootCause');
  });

  it('serve: the exit report after SIGINT, and a bring-up failure', async () => {
    const socket = join(scratch, 'serve.sock');
    const r = await runUntilListening(['serve', '--socket', socket, '--ns-size', '16m', '--json']);
    expect(r.code).toBe(0);
    expect(valid('serve.schema.json', r.stdout)).toHaveProperty('stoppedBy', 'SIGINT');
    const failed = epfsim('serve', '--socket', socket, '--profile', SMALL_WINDOW, '--json');
    expect(failed.code).toBe(1);
    expect(valid('serve.schema.json', failed.stdout)).toHaveProperty('ok', false);
  });

  it('compare, bench and profiles', () => {
    const compare = ['compare', '--quick', '--ios', '8', '--profile', 'rk3399', '--strategy', 'mem-map', '--json'];
    valid('compare.schema.json', epfsim(...compare).stdout);
    valid('bench.schema.json', epfsim('bench', '--quick', '--figure', '1', '--figure', '6', '--json').stdout);
    valid('profiles.schema.json', epfsim('profiles', '--json').stdout);
    const doc = valid('profiles.schema.json', epfsim('profiles', 'rk3399', SMALL_WINDOW, '--json').stdout);
    expect(doc).toHaveProperty('profiles.1.description', 'dwc with its own windows');
  });
});

/** Starts `epfsim args`, waits until it listens, sends SIGINT, and collects its output. */
function runUntilListening(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // One signal: a second one would stop the server without its report.
      if (stderr.includes('listening on') && !child.killed) child.kill('SIGINT');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
