/** The exit report as text and the live progress line, from a real (small) session. */
import { describe, expect, it } from 'vitest';
import { openTestbed, resolveTestbedFlags } from '../../../src/front/cli/common-options.js';
import { NBD_CMD_READ, NBD_CMD_WRITE } from '../../../src/front/nbd/index.js';
import { formatServeReport } from '../../../src/front/serve/exit-report.js';
import { sampleOf, serveProgressLine } from '../../../src/front/serve/progress-line.js';
import { startServeSession } from '../../../src/front/serve/serve-session.js';
import { pattern } from '../nbd/fixture.js';
import { RawClient, tempSocket } from '../nbd/raw-client.js';

describe('serve exit report and progress line', () => {
  it('prints what was served, the NVMe commands, EPC and driver counters, and every check', async () => {
    const choice = resolveTestbedFlags({ profile: 'rk3588', 'ns-size': '2m' });
    const sock = tempSocket();
    const session = await startServeSession(openTestbed(choice, { ioQueues: 2, ioQueueDepth: 9 }), {
      unixSocket: sock.path,
      seed: choice.seed,
    });
    const start = sampleOf(0, session.server.stats, session.nvme, session.testbed.epc.counters);
    const c = await RawClient.connect(sock.path);
    await c.connectGo();
    c.sendRequest({ type: NBD_CMD_WRITE, handle: 1n, offset: 0, payload: pattern(1024 * 1024 + 4096, 1) });
    expect((await c.readReply()).error).toBe(0);
    c.sendRequest({ type: NBD_CMD_READ, handle: 2n, offset: 4096, length: 8192 });
    expect((await c.readReply(() => 8192)).error).toBe(0);
    const later = sampleOf(2000, session.server.stats, session.nvme, session.testbed.epc.counters);
    expect(serveProgressLine(later, { ...start, requests: 0 })).toMatch(
      /^serve: 1 of 1 connections open, 2 NBD requests \(1\/s\), 8\.0 KiB read, 1\.0 MiB written, 0 error replies; 4 NVMe commands, 0 failed; EPC \d+ maps, \d+ partial$/,
    );
    c.destroy();
    sock.cleanup();
    const lines = formatServeReport(await session.stop('SIGINT'));
    expect(lines[0]).toMatch(/^epfsim serve: nbd\+unix:\/\/\/\?socket=.*nbd\.sock, stopped by SIGINT after [\d.]+ s$/);
    expect(lines[1]).toBe(
      '  epfsim:rk3588/mem-map, placement adversarial, seed 1, namespace 1: 2.0 MiB of 512-byte blocks, I/O queues 1, 2, 8 commands in flight each',
    );
    // 1 MiB + 4 KiB at an MDTS of 512 KiB: three Writes; then one Read and the final Flush.
    expect(lines).toContain(
      '  NVMe: 5 commands (read 1, write 3, flush 1, dataset management 0, write zeroes 0), 1 requests split at MDTS or NLB, 0 failed',
    );
    expect(lines).toContain('  status: 5 × 0/00h Successful Completion');
    expect(lines.some((l) => /^ {2}EPC \(rk3588\): \d+ map calls, \d+ partial maps/.test(l))).toBe(true);
    expect(lines).toContain("  PASS isolation           0 device accesses outside the host's grants");
    expect(lines.at(-1)).toBe('PASS: all 10 checks passed');
  });
});
