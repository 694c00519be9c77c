import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../../src/runs/case-file/json-shape.js';
import { parseCaseFile } from '../../../src/runs/case-file/parse-case-file.js';
import { replayCase } from '../../../src/runs/case-file/replay-case.js';
import { firstFailure } from '../../../src/runs/case-file/replay-report.js';
import { serializeCaseFile } from '../../../src/runs/case-file/serialize-case-file.js';

const le64 = (...values: bigint[]) =>
  values
    .map((v) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(v);
      return b.toString('hex');
    })
    .join('');
const DATA = Buffer.from(Uint8Array.from({ length: 12 * 1024 }, (_, i) => (i * 7 + 3) & 0xff)).toString('hex');

/**
 * Write 24 blocks through a PRP list in the middle of a page (P-4: a list may start at any qword
 * offset), then read them back through a list in the last two slots of a page (P-5).
 */
function prpListCase(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'epfsim-case',
    version: 1,
    description: 'PRP lists mid-page on rk3399',
    profile: 'rk3399',
    controller: { strategy: 'mem-map', namespaces: [{ blockSize: 512, blocks: 65536, backend: { kind: 'ram' } }] },
    adminQueue: { sqAddr: '0x100000', cqAddr: '0x101000', depth: 8 },
    ioQueues: [{ qid: 1, sqAddr: '0x102000', cqAddr: '0x103000', depth: 4 }],
    memory: [
      { addr: '0x200000', size: 12288, bytes: DATA, grant: 'read' },
      { addr: '0x300100', size: 16, bytes: le64(0x201000n, 0x202000n), grant: 'read' },
      { addr: '0x300ff0', size: 16, bytes: le64(0x401000n, 0x402000n), grant: 'read' },
      { addr: '0x400000', size: 12288, grant: 'write' },
    ],
    commands: [
      { qid: 1, opcode: 1, nsid: 1, prp1: '0x200000', prp2: '0x300100', cdw: [0, 0, 23], expect: { status: '0/00h' } },
      {
        qid: 1,
        opcode: 2,
        nsid: 1,
        prp1: '0x400000',
        prp2: '0x300ff0',
        cdw: [0, 0, 23],
        expect: { status: ['0/00h'], data: { addr: '0x400000', bytes: DATA } },
      },
    ],
    ...overrides,
  };
}

const replay = (data: unknown) => replayCase(parseCaseFile(data));

describe('replaying a case file', () => {
  it('passes when every expectation holds', () => {
    const r = replay(prpListCase());
    expect(r.steps.flatMap((s) => s.failures)).toEqual([]);
    // Create I/O CQ, Create I/O SQ, then the case's two commands.
    expect(r.commands.map((c) => c.failures)).toEqual([[], [], [], []]);
    expect(r.ok).toBe(true);
    expect(r.counts).toEqual({ isolationViolations: 0, busFaults: 0, leaks: 0, protocolViolations: 0 });
  });

  it('fails on a wrong status and says which command got what', () => {
    const c = prpListCase();
    const commands = c.commands as Record<string, unknown>[];
    // A list entry with an offset (P-7): the controller answers 0/13h, the case wrongly expects success.
    const broken = {
      ...prpListCase(),
      memory: [...(c.memory as unknown[]), { addr: '0x500000', size: 16, bytes: le64(0x401010n, 0x402000n) }],
      commands: [commands[0], { ...commands[1], prp2: '0x500000' }],
    };
    const r = replay(broken);
    expect(r.ok).toBe(false);
    expect(r.commands[3]!.failures[0]).toBe('status 0/13h PRP Offset Invalid (DNR), expected 0/00h');
    expect(firstFailure(r)).toBe('command-1 (qid 1, READ 02h): status 0/13h PRP Offset Invalid (DNR), expected 0/00h');
  });

  it('fails when memory does not hold the expected data', () => {
    const c = prpListCase();
    const commands = c.commands as Record<string, unknown>[];
    const wrong = DATA.replace(/^../, 'ff');
    const r = replay({
      ...c,
      commands: [commands[0], { ...commands[1], expect: { data: [{ addr: '0x400000', bytes: wrong }] } }],
    });
    expect(r.commands[3]!.failures).toEqual([
      expect.stringMatching(/^data at 0x400000\+0x3000 differs from byte 0x0 \(expected 0xff, got 0x3\)$/),
    ]);
  });

  it('fails on a refused device access the case does not expect, and accepts it where expected', () => {
    // The read buffer's second page is not RAM: the controller must fail the transfer (P-9).
    const base = {
      ...prpListCase(),
      memory: [{ addr: '0x600000', size: 4096 }],
      commands: [{ qid: 1, opcode: 2, nsid: 1, prp1: '0x600000', prp2: '0x601000', cdw: [0, 0, 15] }],
    };
    const unexpected = replay({ ...base, commands: [{ ...base.commands[0], expect: { status: ['0/04h'] } }] });
    expect(unexpected.ok).toBe(false);
    expect(unexpected.commands[2]!.failures).toEqual([
      expect.stringMatching(/^device write of 0x60[01]000\+0x[0-9a-f]+ refused \(hole\) during this command$/),
    ]);
    const expected = replay({
      ...base,
      commands: [{ ...base.commands[0], expect: { status: ['0/04h'], faults: [{ addr: '0x601000', size: 4096 }] } }],
    });
    expect(expected.ok).toBe(true);
    expect(expected.counts.busFaults).toBeGreaterThan(0);
  });

  it('holds the grants: memory without a grant is refused unless the command grants it', () => {
    const base = {
      ...prpListCase(),
      memory: [{ addr: '0x600000', size: 4096, grant: 'none' }],
      commands: [{ qid: 1, opcode: 2, nsid: 1, prp1: '0x600000', cdw: [0, 0, 7], expect: { status: '0/00h' } }],
    };
    const refused = replay(base);
    expect(refused.ok).toBe(false);
    expect(refused.counts.isolationViolations).toBeGreaterThan(0);
    const granted = replay({
      ...base,
      commands: [{ ...base.commands[0], grants: [{ addr: '0x600000', size: 4096, direction: 'write' }] }],
    });
    expect(granted.ok).toBe(true);
    expect(granted.counts.isolationViolations).toBe(0);
  });

  it('runs admin commands on the admin queue and honours arbitrary queue ids and depths', () => {
    const r = replay({
      ...prpListCase(),
      ioQueues: [{ qid: 5, sqAddr: '0x102000', cqAddr: '0x103000', depth: 2 }],
      memory: [{ addr: '0x700000', size: 4096, grant: 'write' }],
      commands: [
        { qid: 0, opcode: 6, prp1: '0x700000', cdw: [1], expect: { status: '0/00h' } },
        ...[0, 1, 2].map(() => ({ qid: 5, opcode: 0, nsid: 1, expect: { status: '0/00h' } })),
      ],
    });
    expect(r.ok).toBe(true);
    expect(r.commands).toHaveLength(6);
  });

  it('reports queue setup the controller refuses (Create I/O SQ with an offset, P-14)', () => {
    const r = replay({ ...prpListCase(), ioQueues: [{ qid: 1, sqAddr: '0x102080', cqAddr: '0x103000', depth: 4 }] });
    expect(r.ok).toBe(false);
    expect(r.commands[1]!.failures).toEqual(['status 0/13h PRP Offset Invalid (DNR), expected 0/00h']);
    // The case's own commands never ran: their SQ does not exist.
    expect(r.commands).toHaveLength(2);
    expect(r.failures[0]).toMatch(/^stopped: step 3: no SQ 1 to submit to/);
  });

  it.each([
    [{ profile: 'rk9999' }, "case.profile: unknown profile 'rk9999'"],
    [{ profile: { extends: 'dwc', name: 'x', atu: { kind: 'dwc', slots: 0 } } }, 'case.profile.atu.slots'],
    [{ controller: { mdtsBytes: 1000 } }, 'case.controller.mdtsBytes: must be 0 or a power of two'],
    [
      {
        memory: [
          { addr: '0x200000', size: 8192 },
          { addr: '0x201000', size: 16 },
        ],
      },
      'case.memory[1]: 0x201000+0x10 overlaps',
    ],
    [{ adminQueue: { sqAddr: '0x100000', cqAddr: '0x101000', depth: 5000 } }, 'case.adminQueue.depth: at most 4096'],
  ])('refuses a case it cannot set up with one line naming the field (%#)', (override, message) => {
    const data = { ...prpListCase(), ...override };
    expect(() => replay(data)).toThrow(ShapeError);
    expect(() => replay(data)).toThrow(message);
  });

  it('refuses a data check outside the case memory', () => {
    const c = prpListCase();
    const commands = c.commands as Record<string, unknown>[];
    const data = { ...c, commands: [{ ...commands[0], expect: { data: { addr: '0x900000', bytes: '00' } } }] };
    expect(() => replay(data)).toThrow(
      "case.steps[3].commands[0].expect.data[0]: 0x900000+0x1 is not in the case's memory",
    );
  });
});

describe('case file extensions', () => {
  it('round-trip grants, several data checks and expected faults', () => {
    const c = parseCaseFile({
      ...prpListCase(),
      commands: [
        {
          qid: 1,
          opcode: 2,
          nsid: 1,
          grants: [{ addr: '0x400000', size: 4096, direction: 'write' }],
          expect: {
            status: ['0/04h'],
            data: [
              { addr: '0x400000', bytes: '01' },
              { addr: '0x400010', bytes: '02' },
            ],
            faults: [{ addr: '0xfffffffffffff000', size: 4096 }],
          },
        },
      ],
    });
    const submit = c.steps[3]!;
    const cmd = submit.do === 'submit' ? submit.commands[0] : undefined;
    expect(cmd?.grants).toEqual([{ addr: 0x400000n, size: 4096, direction: 'write' }]);
    expect(cmd?.expect?.data).toHaveLength(2);
    expect(parseCaseFile(JSON.parse(JSON.stringify(serializeCaseFile(c))))).toEqual(c);
  });

  it.each([
    [
      { grants: [{ addr: '0x0', size: 1, direction: 'both' }] },
      'case.commands[0].grants[0].direction: must be one of "read", "write"',
    ],
    [
      { expect: { faults: [{ addr: '0xffffffffffffffff', size: 2 }] } },
      'case.commands[0].expect.faults[0]: the range wraps',
    ],
    [
      { expect: { data: [{ addr: '0x0', bytes: 'zz' }] } },
      'case.commands[0].expect.data[0].bytes: must be a string like',
    ],
  ])('name the bad field (%#)', (fields, message) => {
    expect(() => parseCaseFile({ ...prpListCase(), commands: [{ qid: 1, opcode: 2, ...fields }] })).toThrow(message);
  });
});
