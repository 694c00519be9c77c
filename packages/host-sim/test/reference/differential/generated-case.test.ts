/**
 * Differential runs of generated fuzz cases (`epfsim fuzz --differential`): cases from every
 * placement, on epfsim and on one QEMU, with every difference classified. Also the comparison
 * itself on hand-made reports (no QEMU). The QEMU part is skipped, with one line, without QEMU.
 */
import { findProfile } from '@epfsim/epc-core';
import { makeStatus, Sct } from '@epfsim/nvme-spec-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLACEMENT_NAMES } from '../../../src/host/placement/placement-factory.js';
import { qemuFuzzTarget, qemuOptionsFor } from '../../../src/reference/differential/fuzz-target.js';
import { compareCaseReports, GeneratedCaseDifferential } from '../../../src/reference/differential/generated-case.js';
import { qemuAvailable } from '../../../src/reference/qemu/qemu-process.js';
import { QEMU_HOST_RAM } from '../../../src/reference/qemu/qemu-target.js';
import type { CaseCommand, CaseFile } from '../../../src/runs/case-file/case-file.js';
import type { CaseReport } from '../../../src/runs/case-file/replay-report.js';
import { runCampaignCase } from '../../../src/runs/fuzz/campaign.js';
import type { CampaignPlan } from '../../../src/runs/fuzz/campaign-plan.js';
import type { FuzzTarget } from '../../../src/runs/fuzz/fuzz-case.js';

const hasQemu = qemuAvailable();
if (!hasQemu) console.log('QEMU (qemu-system-x86_64) is not installed: the generated differential suite is skipped.');

const BLOCKS = (8 << 20) / 512;
const CASES_PER_PLACEMENT = 12;

function target(placement: (typeof PLACEMENT_NAMES)[number]): FuzzTarget {
  const profile = findProfile('generic');
  if (profile === undefined) throw new Error('no generic profile');
  return qemuFuzzTarget({ profile, placement, strategy: 'mem-map', blockSize: 512, blocks: BLOCKS }, 'spec');
}

/** A one-command case file: a Read on I/O queue 1. */
const READ: CaseCommand = {
  opcode: 2,
  nsid: 1,
  psdt: 0,
  fuse: 0,
  prp1: 0x1000_0202n,
  prp2: 0n,
  mptr: 0n,
  cdw2: 0,
  cdw3: 0,
  cdw: [0, 0, 0, 0, 0, 0],
};
const READ_CASE: CaseFile = {
  version: 2,
  description: '',
  profile: 'generic',
  controller: {},
  inject: [],
  interrupts: 'auto',
  memory: [],
  steps: [
    { do: 'enable', admin: { sqAddr: 0x100_0000n, cqAddr: 0x100_1000n, sqSize: 2, cqSize: 2 } },
    { do: 'create-cq', qid: 1, addr: 0x100_3000n, size: 2, pc: true },
    { do: 'create-sq', qid: 1, addr: 0x100_2000n, size: 2, cqid: 1, qprio: 0, pc: true },
    { do: 'submit', qid: 1, commands: [READ], doorbell: true },
  ],
};

function report(status: number | undefined, written?: Uint8Array, command: CaseCommand = READ): CaseReport {
  return {
    ok: true,
    steps: [],
    commands: [
      {
        index: 0,
        step: 3,
        label: 'read',
        qid: 1,
        opcode: 2,
        command,
        cid: 0,
        status,
        failures: [],
        ...(written ? { written } : {}),
      },
    ],
    failures: [],
    counts: { isolationViolations: 0, busFaults: 0, leaks: 0, protocolViolations: 0 },
  };
}

/** 0/13h PRP Offset Invalid, with DNR. */
const PRP_OFFSET_DNR = makeStatus(Sct.GENERIC, 0x13);

describe('compareCaseReports', () => {
  it('finds equal outcomes identical and classifies a known status difference', () => {
    expect(compareCaseReports(READ_CASE, report(0), report(0), undefined).verdict).toBe('identical');
    const r = compareCaseReports(READ_CASE, report(PRP_OFFSET_DNR), report(0), undefined);
    expect(r.verdict).toBe('explained');
    expect(r.differences.map((d) => d.known)).toEqual(['prp1-not-dword-aligned']);
  });

  it('reports differing data of successful commands, undocumented without a known cause', () => {
    const aligned = { ...READ, prp1: 0x1000_0200n };
    const r = compareCaseReports(
      READ_CASE,
      report(0, Uint8Array.of(1, 2, 3), aligned),
      report(0, Uint8Array.of(1, 9, 3), aligned),
      undefined,
    );
    expect(r.verdict).toBe('undocumented');
    expect(r.differences[0]?.field).toBe('data');
    expect(r.differences[0]?.epfsim).toContain('at +0x1');
  });

  it('explains differing data through a PRP1 with bits 1:0 set: QEMU uses them as address bits (P-1)', () => {
    const r = compareCaseReports(
      READ_CASE,
      report(0, Uint8Array.of(1, 2, 3)),
      report(0, Uint8Array.of(9, 1, 2)),
      undefined,
    );
    expect(r.verdict).toBe('explained');
    expect(r.differences.map((d) => [d.field, d.known])).toEqual([['data', 'prp1-reserved-bits-as-address']]);
  });

  it('reports a command one target never completed', () => {
    const r = compareCaseReports(READ_CASE, report(0), report(undefined), undefined, []);
    expect(r.differences[0]?.field).toBe('completion');
    expect(r.verdict).toBe('undocumented');
  });
});

describe('QEMU fuzz targets', () => {
  it('bound the generator to the guest RAM and configure epfsim like QEMU', () => {
    const t = target('adversarial');
    expect(t.ram).toEqual(QEMU_HOST_RAM);
    expect(t.controller?.mdtsBytes).toBe(512 * 1024);
    expect(t.controller?.options?.sglBitBucket).toBe(false);
    expect(qemuOptionsFor(t).diskBytes).toBe(8 << 20);
  });
});

describe.runIf(hasQemu)('generated cases on epfsim and QEMU 7.2', () => {
  let diff: GeneratedCaseDifferential;
  beforeAll(async () => {
    diff = await GeneratedCaseDifferential.start({ qemu: qemuOptionsFor(target('linux')) });
  });
  afterAll(() => diff?.close());

  it('shows no undocumented difference on any placement', () => {
    const verdicts: string[] = [];
    for (const placement of PLACEMENT_NAMES) {
      const plan: CampaignPlan = {
        targets: [target(placement)],
        seed: 3,
        cases: undefined,
        shard: { index: 0, count: 1 },
      };
      for (let id = 0; id < CASES_PER_PLACEMENT; id++) {
        const outcome = runCampaignCase(plan, id, diff.runCase);
        const last = diff.last;
        diff.last = undefined;
        if (outcome.skipped || last === undefined) continue;
        expect(outcome.ok, `${placement} case ${id}: ${outcome.failure ?? ''}`).toBe(true);
        verdicts.push(last.verdict);
      }
    }
    expect(verdicts.length).toBeGreaterThan(PLACEMENT_NAMES.length * CASES_PER_PLACEMENT * 0.9);
    expect(verdicts).toContain('identical');
    // Invalid layouts hit rules QEMU is lax about (PRP1 bits 1:0, DMA outside RAM): explained, not identical.
    expect(verdicts).toContain('explained');
  }, 60_000);

  it('fails a case whose differences no known difference explains', () => {
    const strict = (async () =>
      GeneratedCaseDifferential.start({ qemu: qemuOptionsFor(target('invalid')), knownDifferences: [] }))();
    return strict.then((d) => {
      try {
        const plan: CampaignPlan = {
          targets: [target('invalid')],
          seed: 3,
          cases: undefined,
          shard: { index: 0, count: 1 },
        };
        const failed = Array.from({ length: CASES_PER_PLACEMENT }, (_, id) =>
          runCampaignCase(plan, id, d.runCase),
        ).filter((o) => !o.ok && !o.skipped);
        expect(failed.length).toBeGreaterThan(0);
        expect(failed[0]?.failure).toContain('undocumented difference');
      } finally {
        d.close();
      }
    });
  }, 60_000);
});
