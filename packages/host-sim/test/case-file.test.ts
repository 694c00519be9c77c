import { describe, expect, it } from 'vitest';
import { CASE_FILE_KIND } from '../src/case-file/case-file.js';
import { parseCaseFile, serializeCaseFile } from '../src/case-file/parse-case-file.js';
import { UsageError } from '../src/cli/usage-error.js';

const example = {
  kind: CASE_FILE_KIND,
  version: 1,
  description: 'PRP list entry with an offset (P-7)',
  profile: 'rk3399',
  controller: { strategy: 'mem-map' },
  seed: 42,
  adminQueue: { sqAddr: '0x100000', cqAddr: '0x101000', depth: 32 },
  ioQueues: [{ qid: 1, sqAddr: '0x102000', cqAddr: '0x103000', depth: 64 }],
  memory: [
    { addr: '0xfffffffffffff000', size: 4096, bytes: '00102000000000001020020000000000' },
    { addr: '0x200000', size: 12288, grant: 'write' },
  ],
  commands: [
    {
      qid: 1,
      opcode: 2,
      nsid: 1,
      prp1: '0x200000',
      prp2: '0xfffffffffffff000',
      cdw: [0, 0, 23],
      expect: { status: ['0/13h'], data: { addr: '0x200000', bytes: '0000' } },
    },
  ],
};

describe('case files', () => {
  it('parse exactly, including 64-bit addresses and hex bytes', () => {
    const c = parseCaseFile(example);
    expect(c.memory[0]!.addr).toBe(0xffff_ffff_ffff_f000n);
    expect(c.memory[0]!.bytes?.length).toBe(16);
    expect(c.memory[1]!.grant).toBe('write');
    expect(c.commands[0]!.cdw).toEqual([0, 0, 23, 0, 0, 0]);
    expect(c.commands[0]!.prp2).toBe(0xffff_ffff_ffff_f000n);
    expect(c.commands[0]!.expect?.status).toEqual(['0/13h']);
  });

  it('round-trip through their JSON form', () => {
    const c = parseCaseFile(example);
    expect(parseCaseFile(JSON.parse(JSON.stringify(serializeCaseFile(c))))).toEqual(c);
  });

  it.each([
    [{ ...example, kind: 'x' }, 'case.kind: must be "epfsim-case"'],
    [{ ...example, version: 9 }, 'case.version: this epfsim reads version 1'],
    [{ ...example, profile: 7 }, 'case.profile: must be a profile name or a profile object'],
    [{ ...example, memory: [{ addr: '0xffffffffffffff00', size: 4096 }] }, 'case.memory[0]: range wraps past 2^64'],
    [{ ...example, memory: [{ addr: 'nope', size: 1 }] }, 'case.memory[0].addr: must be a 64-bit address'],
    [
      { ...example, memory: [{ addr: '0x0', size: 1, bytes: 'abc' }] },
      'case.memory[0].bytes: must be a string of hex byte pairs',
    ],
    [{ ...example, commands: [{ qid: 5, opcode: 2 }] }, 'case.commands[0].qid: no I/O queue 5 in ioQueues'],
    [{ ...example, commands: [{ qid: 1, opcode: 256 }] }, 'case.commands[0].opcode: must be an integer from 0 to 255'],
    [
      { ...example, commands: [{ qid: 1, opcode: 2, expect: { status: 'bad' } }] },
      'case.commands[0].expect.status[0]: must look like "0/13h"',
    ],
    [{ ...example, ioQueues: [example.ioQueues[0], example.ioQueues[0]] }, 'case.ioQueues[1].qid: 1 appears twice'],
    [
      { ...example, adminQueue: { sqAddr: '0x0', cqAddr: '0x0', depth: 1 } },
      'case.adminQueue.depth: must be an integer from 2',
    ],
  ])('reject bad input with one line naming the field (%#)', (data, message) => {
    expect(() => parseCaseFile(data)).toThrow(UsageError);
    expect(() => parseCaseFile(data)).toThrow(message);
  });
});
