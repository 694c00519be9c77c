import { describe, expect, it } from 'vitest';
import { CASE_FILE_KIND } from '../../../src/runs/case-file/case-file.js';
import { ShapeError } from '../../../src/runs/case-file/json-shape.js';
import { parseCaseFile } from '../../../src/runs/case-file/parse-case-file.js';
import { serializeCaseFile } from '../../../src/runs/case-file/serialize-case-file.js';

const v2 = {
  kind: CASE_FILE_KIND,
  version: 2,
  description: 'PRP list entry with an offset (P-7)',
  profile: 'rk3399',
  controller: { strategy: 'mem-map' },
  inject: ['double-completion'],
  seed: 42,
  memory: [
    { addr: '0xfffffffffffff000', size: 4096, bytes: '00102000000000001020020000000000' },
    { addr: '0x200000', size: 12288, grant: 'write' },
    { addr: '0x300000', size: 8192, fill: { pattern: 7, offset: 512 }, grant: 'read' },
  ],
  steps: [
    {
      do: 'enable',
      admin: { sqAddr: '0x100000', cqAddr: '0x101000', sqSize: 32, cqSize: 32 },
      cc: { IOSQES: 6 },
      expect: { csts: { RDY: 1, CFS: 0 } },
    },
    { do: 'create-cq', qid: 1, addr: '0x103000', size: 64, ien: false, expect: { status: '0/00h' } },
    { do: 'create-sq', qid: 1, addr: '0x102000', size: 64, cqid: 1, expect: { status: '0/00h' } },
    {
      do: 'submit',
      qid: 1,
      doorbell: false,
      commands: [
        {
          id: 'read',
          opcode: 2,
          nsid: 1,
          prp1: '0x200000',
          prp2: '0xfffffffffffff000',
          cdw: ['0x0', 0, 23],
          expect: {
            status: ['0/13h'],
            dnr: true,
            sqid: 1,
            data: [{ addr: '0x300000', size: 16, fill: { pattern: 7, offset: 512 } }],
          },
        },
      ],
    },
    { do: 'ring', qid: 1 },
    { do: 'doorbell', queue: 'cq', qid: 9, value: 3 },
    { do: 'wait', for: ['read'], expect: { interrupts: [{ vector: 1, count: 0 }] } },
  ],
};

const v1 = {
  kind: CASE_FILE_KIND,
  version: 1,
  profile: 'rk3399',
  adminQueue: { sqAddr: '0x100000', cqAddr: '0x101000', depth: 32 },
  ioQueues: [{ qid: 1, sqAddr: '0x102000', cqAddr: '0x103000', depth: 64 }],
  memory: [{ addr: '0x200000', size: 4096, bytes: '0102', grant: 'write' }],
  commands: [
    {
      qid: 1,
      opcode: 2,
      nsid: 1,
      prp1: '0x200000',
      cdw: [0, 0, 7],
      expect: { status: ['0/00h'], data: { addr: '0x200000', bytes: '0000' } },
    },
  ],
};

describe('case files, version 2', () => {
  it('parse exactly: 64-bit addresses, fills, steps with their defaults', () => {
    const c = parseCaseFile(v2);
    expect(c.memory[0]!.addr).toBe(0xffff_ffff_ffff_f000n);
    expect(c.memory[2]!.content).toEqual({ kind: 'pattern', seed: 7, offset: 512, size: 8192 });
    expect(c.inject).toEqual(['double-completion']);
    const submit = c.steps[3]!;
    expect(submit.do === 'submit' && submit.doorbell).toBe(false);
    const cmd = submit.do === 'submit' ? submit.commands[0]! : undefined;
    expect(cmd?.cdw).toEqual([0, 0, 23, 0, 0, 0]);
    expect(cmd?.expect?.data?.[0]?.expected).toEqual({ kind: 'pattern', seed: 7, offset: 512, size: 16 });
    const createCq = c.steps[1]!;
    expect(createCq).toMatchObject({ do: 'create-cq', ien: false, pc: true });
    expect(createCq.do === 'create-cq' && createCq.iv).toBeUndefined();
  });

  it('round-trip through their JSON form', () => {
    const c = parseCaseFile(v2);
    expect(parseCaseFile(JSON.parse(JSON.stringify(serializeCaseFile(c))))).toEqual(c);
  });

  it.each([
    [{ ...v2, kind: 'x' }, 'case.kind: must be "epfsim-case"'],
    [{ ...v2, version: 9 }, 'case.version: must be 1 or 2'],
    [{ ...v2, profile: 7 }, 'case.profile: must be a string'],
    [{ ...v2, stepz: [] }, 'case.stepz: unknown key'],
    [{ ...v2, memory: [{ addr: '0xffffffffffffff00', size: 4096 }] }, 'case.memory[0]: the range wraps past 2^64'],
    [{ ...v2, memory: [{ addr: 4096, size: 1 }] }, 'case.memory[0].addr: must be a string like "0x1000"'],
    [{ ...v2, memory: [{ addr: '0x0', size: 1, bytes: 'abc' }] }, 'case.memory[0].bytes: must be a string like'],
    [{ ...v2, memory: [{ addr: '0x0', size: 8, bytes: '00', fill: { byte: 1 } }] }, 'give bytes or fill, not both'],
    [{ ...v2, memory: [{ addr: '0x0', size: 8, fill: { byte: 1, pattern: 2 } }] }, 'exactly one of byte and pattern'],
    [{ ...v2, steps: [{ do: 'fly' }] }, 'case.steps[0].do: must be one of "enable"'],
    [{ ...v2, steps: [{ do: 'ring' }] }, 'case.steps[0].qid: is required'],
    [{ ...v2, steps: [{ do: 'wait', for: ['nobody'] }] }, 'case.steps[0].for: no command "nobody" before this step'],
    [
      { ...v2, steps: [{ do: 'submit', qid: 1, commands: [{ opcode: 2, expect: { stauts: '0/00h' } }] }] },
      'case.steps[0].commands[0].expect.stauts: unknown key (known here: status, dnr',
    ],
    [
      { ...v2, steps: [{ do: 'submit', qid: 1, commands: [{ opcode: 256 }] }] },
      'case.steps[0].commands[0].opcode: must be an integer from 0 to 255',
    ],
    [
      { ...v2, steps: [{ do: 'submit', qid: 1, commands: [{ opcode: 2, expect: { status: 'bad' } }] }] },
      'case.steps[0].commands[0].expect.status: must be a string like "0/13h"',
    ],
    [
      {
        ...v2,
        steps: [
          { do: 'submit', qid: 1, commands: [{ opcode: 2, sgl1: { addr: '0x0', length: 16, type: 0 }, prp1: '0x0' }] },
        ],
      },
      'case.steps[0].commands[0].sgl1: give sgl1, or prp1/prp2, not both',
    ],
    [
      {
        ...v2,
        steps: [
          {
            do: 'submit',
            qid: 1,
            commands: [
              { opcode: 2, id: 'a' },
              { opcode: 2, id: 'a' },
            ],
          },
        ],
      },
      'command id "a" is used twice',
    ],
    [
      { ...v2, steps: [{ do: 'check', expect: { interrupts: [{ vector: 1, count: 1, max: 2 }] } }] },
      'case.steps[0].expect.interrupts[0]: give count, or min and/or max',
    ],
  ])('reject bad input with one line naming the path (%#)', (data, message) => {
    expect(() => parseCaseFile(data)).toThrow(ShapeError);
    expect(() => parseCaseFile(data)).toThrow(message);
  });
});

describe('case files, version 1', () => {
  it('are migrated: enable, create CQ and SQ, then each command submitted and waited for', () => {
    const c = parseCaseFile(v1);
    expect(c.version).toBe(2);
    expect(c.steps.map((s) => s.do)).toEqual(['enable', 'create-cq', 'create-sq', 'submit', 'wait']);
    expect(c.steps[0]).toMatchObject({ admin: { sqAddr: 0x100000n, cqAddr: 0x101000n, sqSize: 32, cqSize: 32 } });
    const submit = c.steps[3]!;
    expect(submit.do === 'submit' && submit.commands[0]?.expect?.data?.[0]).toEqual({
      addr: 0x200000n,
      expected: { kind: 'bytes', bytes: Uint8Array.of(0, 0) },
    });
    expect(c.memory[0]!.content).toEqual({ kind: 'bytes', bytes: Uint8Array.of(1, 2) });
  });

  it.each([
    [{ ...v1, commands: [{ qid: 5, opcode: 2 }] }, 'case.commands[0].qid: no I/O queue 5 in ioQueues'],
    [{ ...v1, ioQueues: [v1.ioQueues[0], v1.ioQueues[0]] }, 'case.ioQueues[1].qid: 1 appears twice'],
    [
      { ...v1, adminQueue: { sqAddr: '0x0', cqAddr: '0x0', depth: 1 } },
      'case.adminQueue.depth: must be an integer from 2',
    ],
    [{ ...v1, adminQueue: { sqAddr: '0x0', cqAddr: '0x0', depth: 5000 } }, 'case.adminQueue.depth: at most 4096'],
    [
      { ...v1, commands: [{ qid: 1, opcode: 2, expect: { stauts: ['0/00h'] } }] },
      'case.commands[0].expect.stauts: unknown key',
    ],
  ])('reject bad input with one line naming the path (%#)', (data, message) => {
    expect(() => parseCaseFile(data)).toThrow(message);
  });
});
