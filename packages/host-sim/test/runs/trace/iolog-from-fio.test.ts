/**
 * An iolog recorded by fio itself (write_iolog, over the NBD server) parses to exactly the
 * requests the server saw. Skipped where fio is not installed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNbdServer } from '../../../src/front/nbd/index.js';
import { parseTrace } from '../../../src/runs/trace/index.js';
import { MemoryBlockDevice } from '../../front/nbd/memory-device.js';

const hasFio = spawnSync('sh', ['-c', 'command -v fio'], { stdio: 'ignore' }).status === 0;
if (!hasFio)
  console.log('fio is not installed (apt fio): the fio-recorded iolog test is skipped here; CI installs it.');

describe.runIf(hasFio)('an iolog written by fio', () => {
  it('parses to the requests fio sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'epfsim-iolog-'));
    const device = new MemoryBlockDevice({ size: 16 * 1024 * 1024 });
    const server = await startNbdServer({ device, unixSocket: join(dir, 'nbd.sock') });
    try {
      const log = join(dir, 'rec.iolog');
      const code = await new Promise<number | null>((resolve) => {
        execFile(
          'fio',
          [
            '--name=rec',
            '--ioengine=nbd',
            `--uri=${server.uri}`,
            '--rw=randrw',
            '--bs=4k',
            '--size=8m',
            '--iodepth=4',
            '--number_ios=200',
            `--write_iolog=${log}`,
            `--output=${join(dir, 'out.txt')}`,
          ],
          { timeout: 60_000, killSignal: 'SIGKILL' },
          (error) => resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : null),
        );
      });
      expect(code).toBe(0);
      const text = readFileSync(log, 'utf8');
      expect(text.startsWith('fio version 3 iolog\n')).toBe(true);
      const t = parseTrace(text, { source: 'rec.iolog' });
      const reads = t.requests.filter((r) => r.op === 'read').length;
      const writes = t.requests.filter((r) => r.op === 'write').length;
      expect(reads + writes).toBe(t.requests.length);
      expect(reads).toBe(server.stats.requests.read);
      expect(writes).toBe(server.stats.requests.write);
      expect(t.requests.length).toBeGreaterThanOrEqual(200);
      expect(t.requests.every((r) => r.length === 4096 && r.offset % 4096 === 0)).toBe(true);
      expect(t.span).toBeLessThanOrEqual(8 * 1024 * 1024);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
