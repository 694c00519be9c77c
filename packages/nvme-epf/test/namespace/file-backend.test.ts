/** The file backend: data reaches the file; Flush and FUA make it durable; close releases the file. */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NvmOpcode, packFields, READ_WRITE } from '@epfsim/nvme-spec-types';
import { afterEach, describe, expect, it } from 'vitest';
import { isNvmeConfigError } from '../../src/index.js';
import { pattern, ScriptedHost } from '../helpers/scripted-host.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function withFile(blockSize: 512 | 4096 = 512, blocks = 2048) {
  const dir = mkdtempSync(join(tmpdir(), 'nvme-epf-'));
  dirs.push(dir);
  const path = join(dir, 'ns1.img');
  const h = new ScriptedHost({ config: { namespaces: [{ blockSize, blocks, backend: { kind: 'file', path } }] } });
  h.enable();
  h.createPair(1, 16);
  return { h, path };
}

describe('file backend', () => {
  it('is sized to the namespace; written data is in the file after Flush', () => {
    const { h, path } = withFile();
    expect(statSync(path).size).toBe(2048 * 512);
    const data = pattern(8192, 21);
    const buf = h.alloc(data.length);
    h.write(buf, data);
    expect(h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, ...h.prps(buf, 8192), cdw10: 100, cdw12: 15 }).status).toBe(0);
    expect(h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 }).status).toBe(0);
    const file = readFileSync(path);
    expect(file.subarray(100 * 512, 100 * 512 + 8192).equals(data)).toBe(true);
    h.fn.close();
  });

  it('FUA writes are in the file at completion; reads come back from the file', () => {
    const { h, path } = withFile(4096, 64);
    const data = pattern(4096, 22);
    const buf = h.alloc(4096);
    h.write(buf, data);
    const fua = packFields(READ_WRITE.CDW12, { FUA: 1 });
    expect(h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: buf, cdw10: 3, cdw12: fua }).status).toBe(0);
    expect(
      readFileSync(path)
        .subarray(3 * 4096, 4 * 4096)
        .equals(data),
    ).toBe(true);
    const rbuf = h.alloc(4096);
    expect(h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: rbuf, cdw10: 3, cdw12: 0 }).status).toBe(0);
    expect(h.read(rbuf, 4096)).toEqual(data);
    expect(h.run(1, { opcode: NvmOpcode.WRITE_ZEROES, nsid: 1, cdw10: 3, cdw12: 0 }).status).toBe(0);
    expect(h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 0xffffffff }).status).toBe(0);
    expect(
      readFileSync(path)
        .subarray(3 * 4096, 4 * 4096)
        .every((b) => b === 0),
    ).toBe(true);
    h.fn.close();
    h.fn.close();
  });

  it('data survives a new function on the same file', () => {
    const { h, path } = withFile();
    const data = pattern(512, 23);
    const buf = h.alloc(512);
    h.write(buf, data);
    h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: buf, cdw10: 7, cdw12: 0 });
    h.fn.close();
    const h2 = new ScriptedHost({
      config: { namespaces: [{ blockSize: 512, blocks: 2048, backend: { kind: 'file', path } }] },
    });
    h2.enable();
    h2.createPair(1, 16);
    const rbuf = h2.alloc(512);
    expect(h2.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: rbuf, cdw10: 7, cdw12: 0 }).status).toBe(0);
    expect(h2.read(rbuf, 512)).toEqual(data);
    h2.fn.close();
  });

  it('an unopenable path is a configuration error', () => {
    let error: unknown;
    try {
      new ScriptedHost({
        config: {
          namespaces: [{ blockSize: 512, blocks: 8, backend: { kind: 'file', path: '/nonexistent-dir/x.img' } }],
        },
      });
    } catch (e) {
      error = e;
    }
    expect(isNvmeConfigError(error)).toBe(true);
  });
});
