import { findProfile } from '@epfsim/epc-core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { rangeEnd } from '../../../src/host/memory/host-range.js';
import type { PlacementName } from '../../../src/host/placement/placement-factory.js';
import { type CaseBytes, type CaseFile, caseCommands } from '../../../src/runs/case-file/case-file.js';
import { parseCaseFile } from '../../../src/runs/case-file/parse-case-file.js';
import { firstFailure } from '../../../src/runs/case-file/replay-report.js';
import { serializeCaseFile } from '../../../src/runs/case-file/serialize-case-file.js';
import { buildFuzzCase, type FuzzTarget, fuzzCaseArbitrary, runFuzzCase } from '../../../src/runs/fuzz/fuzz-case.js';

function target(profile: string, placement: PlacementName): FuzzTarget {
  return { profile: findProfile(profile)!, placement, strategy: 'mem-map', blockSize: 512, blocks: 1 << 21 };
}

const stress = target('stress', 'adversarial');

/** Cases drawn from fixed seeds, to look at what the generator produces. */
function sample(t: FuzzTarget, n: number, seed: number): CaseFile[] {
  return fc.sample(fuzzCaseArbitrary(t), { seed, numRuns: n }).map((p) => buildFuzzCase(t, p));
}

describe('fuzz cases', () => {
  test.prop([fuzzCaseArbitrary(stress)], { numRuns: 40 })(
    'are concrete v2 case files that survive the file format, the same from the same parameters',
    (params) => {
      const c = buildFuzzCase(stress, params, 9);
      // Compared as text: deep equality of large Uint8Arrays is slow.
      const text = JSON.stringify(serializeCaseFile(c));
      expect(JSON.stringify(serializeCaseFile(parseCaseFile(JSON.parse(text))))).toBe(text);
      expect(c.profile).toBe('stress');
      expect(c.steps[0]?.do).toBe('enable');
      // Nothing is granted for the whole case; every data command carries its own grants.
      for (const m of c.memory) expect(m.grant).toBe('none');
      for (const { command } of caseCommands(c))
        if (command.prp1 !== 0n) expect(command.grants?.length).toBeGreaterThan(0);
      // Every byte the host writes lies in the case's memory.
      for (const s of c.steps) {
        if (s.do !== 'write-memory') continue;
        const size = s.content.kind === 'bytes' ? s.content.bytes.length : s.content.size;
        expect(c.memory.some((m) => m.addr <= s.addr && rangeEnd(m) >= s.addr + BigInt(size))).toBe(true);
      }
      expect(JSON.stringify(serializeCaseFile(buildFuzzCase(stress, params, 9)))).toBe(text);
    },
  );

  test.prop([fuzzCaseArbitrary(stress)], { numRuns: 40 })('pass on a correct controller', (params) => {
    const { report } = runFuzzCase(stress, params);
    expect(firstFailure(report)).toBeUndefined();
  });

  it('use the whole host-protocol vocabulary, each step with what the specification says', () => {
    const cases = [...sample(target('rk3588', 'linux'), 60, 1), ...sample(target('rk3399', 'adversarial'), 60, 2)];
    const kinds = new Set(cases.flatMap((c) => c.steps.map((s) => s.do)));
    for (const k of [
      'enable',
      'disable',
      'shutdown',
      'doorbell',
      'create-cq',
      'create-sq',
      'delete-sq',
      'delete-cq',
      'submit',
      'cq-head',
      'wait',
      'write-memory',
    ]) {
      expect(kinds, k).toContain(k);
    }
    const statuses = new Set(
      cases.flatMap((c) =>
        c.steps.flatMap((s) => {
          if (s.do === 'submit') return s.commands.flatMap((cmd) => cmd.expect?.status ?? []);
          if (s.do === 'create-cq' || s.do === 'create-sq' || s.do === 'delete-sq' || s.do === 'delete-cq')
            return s.expect?.status ?? [];
          return [];
        }),
      ),
    );
    // Queue management errors, early failures, Number of Queues and the AER limit.
    for (const s of ['1/00h', '1/01h', '1/02h', '1/08h', '1/0Ch', '0/13h', '0/02h', '0/01h', '0/0Bh']) {
      expect(statuses, s).toContain(s);
    }
    // Invalid CC fields at enable expect CFS; events are expected on the AERs of invalid doorbells.
    const cfs = cases.some((c) => c.steps.some((s) => s.do === 'enable' && s.expect?.csts?.CFS === 1));
    expect(cfs).toBe(true);
    const events = cases.flatMap((c) => caseCommands(c).flatMap(({ command }) => command.expect?.event ?? []));
    expect(events.map((e) => e.info)).toEqual(expect.arrayContaining([0x00, 0x01]));
    // A CQ with interrupts off, and a CQ shared by two SQs.
    expect(cases.some((c) => c.steps.some((s) => s.do === 'create-cq' && s.ien === false))).toBe(true);
    expect(
      cases.some((c) => {
        const sqs = c.steps.filter((s) => s.do === 'create-sq');
        return new Set(sqs.map((s) => (s.do === 'create-sq' ? s.cqid : 0))).size < sqs.length;
      }),
    ).toBe(true);
  });

  it('check reads against the model: reads after writes expect slices of the written pattern', () => {
    const reads = sample(target('rk3399', 'linux'), 30, 4).flatMap((c) =>
      caseCommands(c).filter(({ command }) => command.opcode === 2),
    );
    expect(reads.some(({ command }) => command.expect?.data?.some((d) => d.expected.kind === 'pattern'))).toBe(true);
  });

  it('leave unchecked what commands in flight together make of the same blocks, or keep them apart', () => {
    const linux = target('rk3588', 'linux');
    const [base] = fc.sample(fuzzCaseArbitrary(linux), { seed: 5, numRuns: 1 });
    const params = {
      ...base!,
      actions: [
        {
          kind: 'io' as const,
          queue: 0,
          commands: [
            { kind: 'write' as const, slba: 0, nlb: 8 },
            { kind: 'read' as const, slba: 4, nlb: 8 },
            { kind: 'write' as const, slba: 6, nlb: 1 },
          ],
          readBack: true,
        },
      ],
    };
    const batches = (t: FuzzTarget) =>
      buildFuzzCase(t, params)
        .steps.filter((s) => s.do === 'submit' && s.qid !== 0)
        .map((s) => (s.do === 'submit' ? s.commands : []));
    const checked = (cmd: { opcode: number; expect?: { data?: readonly { expected: CaseBytes }[] } }) =>
      (cmd.expect?.data ?? []).reduce(
        (n, d) => n + (d.expected.kind === 'bytes' ? d.expected.bytes.length : d.expected.size),
        0,
      );
    // Any order: the read checks only blocks 8-11, which no write of its batch touches; block 6
    // (two writes in flight) is unknown from then on; the read-backs run once the writes completed.
    const anyOrder = batches(linux);
    expect(anyOrder.map((b) => b.map((c) => c.opcode))).toEqual([
      [1, 2, 1],
      [2, 2],
    ]);
    expect(
      anyOrder
        .flat()
        .filter((c) => c.opcode === 2)
        .map((c) => checked(c) / 512),
    ).toEqual([4, 7, 0]);
    // Ordered (a differential run): a command that shares blocks with its batch starts the next one,
    // and every read is checked whole.
    const ordered = batches({ ...linux, ordered: true });
    expect(ordered.map((b) => b.map((c) => c.opcode))).toEqual([[1], [2], [1], [2, 2]]);
    expect(
      ordered
        .flat()
        .filter((c) => c.opcode === 2)
        .map((c) => checked(c) / 512),
    ).toEqual([8, 8, 1]);
    for (const t of [linux, { ...linux, ordered: true }])
      expect(firstFailure(runFuzzCase(t, params).report)).toBeUndefined();
  });

  it('expect the invalid placement statuses, and faults where data is put in a hole', () => {
    const invalid = target('rk3588', 'invalid');
    const cases = sample(invalid, 60, 8);
    const commands = cases.map((c) => caseCommands(c).map(({ command }) => command));
    const statuses = new Set(commands.flat().flatMap((cmd) => cmd.expect?.status ?? []));
    for (const s of ['0/13h', '0/02h', '0/04h', '0/0Dh']) expect(statuses).toContain(s);
    expect(commands.some((c) => c.some((cmd) => (cmd.expect?.faults?.length ?? 0) > 0))).toBe(true);
    for (const cmd of commands.flat()) if (cmd.opcode === 2) expect(cmd.expect?.data).toBeUndefined();
    const p = fc.sample(fuzzCaseArbitrary(invalid), { seed: 8, numRuns: 10 });
    for (const params of p) expect(firstFailure(runFuzzCase(invalid, params).report)).toBeUndefined();
  });
});
