/**
 * A failure explains itself: when the controller does not come up or a command fails, `run`,
 * `replay`, `fuzz` and `serve` print the function's own account (the event that set CSTS.CFS, the
 * EPC error behind a Data Transfer Error with its errno, request and profile limit), and
 * `--verbose` adds the function's event trace.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { epfsim } from './run-cli.js';

const CASES = fileURLToPath(new URL('./cases/', import.meta.url));
const STACK_FRAME = /\bat .*\.js:\d+/;
const scratch = mkdtempSync(join(tmpdir(), 'epfsim-root-cause-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A DesignWare profile whose only outbound window is 64 KiB. */
const SMALL_WINDOW = join(scratch, 'small-window.json');
writeFileSync(
  SMALL_WINDOW,
  JSON.stringify({
    extends: 'dwc',
    name: 'small-window',
    windows: [{ physBase: '0x40000000', size: '0x10000', pageSize: 65536 }],
  }),
);

describe('epfsim run names the root cause', () => {
  it('a profile whose only window is 64 KiB: ENOMEM on the SQ fetch, CSTS.CFS, the window limit', () => {
    const r = epfsim('run', '--profile', SMALL_WINDOW);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(
      'epfsim run: the controller did not come up: opcode 6 (CID 4096) timed out during bring-up or shutdown',
    );
    expect(lines[1]).toBe("  the function's account (nvme-epf):");
    expect(lines[2]).toMatch(
      /^ {4}root cause: CSTS\.CFS set: SQ 0: fetching entry 0 failed \(ENOMEM: memMap 0x[0-9a-f]+\+0x40: no outbound window can hold 0x10000 bytes \(no free 0x10000-byte block: 0x10000 of the 0x10000 bytes of the 1 window that large are held by live maps\)\)$/,
    );
    expect(r.stderr).toContain('CSTS: RDY 1, CFS 1');
    expect(r.stderr).toContain('1 of them completion queues the function keeps mapped');
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('--verbose adds the event trace; --json carries the same account', () => {
    const verbose = epfsim('run', '--profile', SMALL_WINDOW, '--verbose');
    expect(verbose.stderr).toMatch(
      /events \(1, oldest first\):\n\s+controller-fatal: SQ 0: fetching entry 0 failed \(ENOMEM/,
    );
    const json = JSON.parse(epfsim('run', '--profile', SMALL_WINDOW, '--json').stdout);
    expect(json.account.fatal).toMatchObject({
      kind: 'controller-fatal',
      qid: 0,
      epc: { errno: 'ENOMEM', request: { op: 'memMap', size: 64 } },
    });
    expect(json.account.fatal.epc.limit).toMatch(/held by live maps/);
  });

  it('legacy on RK3399: the EFAULT of the exact-address map and the pass-through rule', () => {
    const r = epfsim('run', '--strategy', 'legacy', '--profile', 'rk3399');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Identify Controller failed: 0/04h Data Transfer Error (DNR)');
    expect(r.stderr).toMatch(
      /root cause: last failed command: SQ 0 CID \d+ IDENTIFY 06h: 0\/04h Data Transfer Error \(DNR\): EFAULT: mapAddr 0x[0-9a-f]+\+0x1000: mapping reaches 0x[0-9a-f]+, not 0x[0-9a-f]+/,
    );
    expect(r.stderr).toContain('(the controller passes the low 8..20 address bits through');
  });

  it('failed commands after bring-up: the report ends with the account, the FAIL line names the cause', () => {
    const args = ['--strategy', 'epf-align', '--profile', 'stress', '--rw', 'randread', '--bs', '128k'];
    const r = epfsim('run', ...args, '--number-ios', '40');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL io-errors +\d+ commands failed: \d+ × 0\/04h/);
    expect(r.stdout).toContain("the function's account (nvme-epf):");
    expect(r.stdout).toMatch(/READ 02h: 0\/04h Data Transfer Error \(DNR\): ENOMEM: mapAddr 0x[0-9a-f]+\+0x[0-9a-f]+/);
    expect(r.stderr).toMatch(/^epfsim run: FAIL: io-errors; last failed command: SQ 1 CID \d+ READ 02h: .*ENOMEM/);
  });
});

describe('epfsim replay names the root cause', () => {
  it('a shrunk data-transfer failure: ENOMEM, the mapAddr request and the window limit on the failed line', () => {
    const r = epfsim('replay', join(CASES, 'stress-epf-align-write-enomem.case.json'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /command-0 qid 1 WRITE 01h \(CID \d+\): 0\/04h Data Transfer Error \(DNR\) {2}FAILED: status 0\/04h Data Transfer Error \(DNR\), expected 0\/00h \(the function: ENOMEM: mapAddr 0x132703000\+0x9000: no outbound window can hold 0x9000 bytes \(no free 0x10000-byte block: 0x1000 of the 0x10000 bytes of the 1 window that large are held by live maps\)\)/,
    );
    expect(r.stdout).toMatch(/FAILED: command-0 \(qid 1, WRITE 01h\): .*\(the function: ENOMEM/);
  });

  it('a setup that never completes: the SQ fetch that set CSTS.CFS', () => {
    const r = epfsim('replay', join(CASES, 'small-window-admin-sq-enomem.case.json'), '--verbose');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /CREATE_IO_CQ 05h \(CID \d+\): no completion {2}FAILED: no completion within \d+ ms \(controller fatal status, CSTS\.CFS\) \(the function: CSTS\.CFS set: SQ 0: fetching entry 0 failed \(ENOMEM: memMap 0x1000\+0x40/,
    );
    expect(r.stdout).toMatch(/events \(\d+, oldest first\):/);
    expect(r.stdout).toContain('controller-fatal: SQ 0: fetching entry 0 failed');
  });
});

describe('epfsim fuzz and serve name the root cause', () => {
  it('fuzz: the failure line, the shrunk line and the written case file carry the function account', () => {
    const out = join(scratch, 'fuzz');
    const r = epfsim('fuzz', '--profile', SMALL_WINDOW, '--cases', '2', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /FAILED small-window x adversarial: case 0 .*\(the function: CSTS\.CFS set: SQ 0: fetching entry 0 failed \(ENOMEM/,
    );
    expect(r.stdout).toMatch(/shrunk in \d+ runs to \d+ step\(s\): .*\(the function: CSTS\.CFS set/);
    const [file] = readdirSync(out);
    const written = JSON.parse(readFileSync(join(out, file!), 'utf8'));
    expect(written.description).toMatch(/\(the function: CSTS\.CFS set: SQ 0: fetching entry 0 failed \(ENOMEM/);
  });

  it('serve: a controller that does not come up gets the same account', () => {
    const r = epfsim('serve', '--socket', join(scratch, 's.sock'), '--profile', SMALL_WINDOW);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^epfsim serve: the controller did not come up: .*\n {2}the function's account/);
    expect(r.stderr).toContain('root cause: CSTS.CFS set: SQ 0: fetching entry 0 failed (ENOMEM');
  });
});
