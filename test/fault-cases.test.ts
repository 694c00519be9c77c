/**
 * One shrunk case file per catalogued fault (docs/faults.md), each found by the default campaign
 * with the fault injected: it must fail with the fault and pass on the correct controller. A
 * regression in the fuzzer's reach or in its oracle shows here as a missed fault.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { FAULT_CATALOGUE } from '@epfsim/nvme-epf';
import { describe, expect, it } from 'vitest';
import { parseCaseFile } from '../packages/host-sim/src/runs/case-file/parse-case-file.js';
import { replayCase } from '../packages/host-sim/src/runs/case-file/replay-case.js';
import { firstFailure } from '../packages/host-sim/src/runs/case-file/replay-report.js';

const dir = new URL('./cases/faults/', import.meta.url);
const load = (name: string) => parseCaseFile(JSON.parse(readFileSync(new URL(name, dir), 'utf8')), name);

describe('the fault catalogue, as case files the campaign found', () => {
  it('has a case file for every fault, and none for a fault that does not exist', () => {
    const files = readdirSync(dir).filter((n) => n.endsWith('.case.json'));
    expect(files.map((n) => n.replace('.case.json', '')).sort()).toEqual(FAULT_CATALOGUE.map((f) => f.name).sort());
  });

  it.each(FAULT_CATALOGUE.map((f) => f.name))('%s: fails with the fault, passes without it', (fault) => {
    const c = load(`${fault}.case.json`);
    expect(c.inject).toEqual([fault]);
    const injected = replayCase(c);
    expect(injected.ok, 'the fault must be seen').toBe(false);
    const correct = replayCase({ ...c, inject: [] });
    expect(firstFailure(correct), 'the correct controller must pass').toBeUndefined();
  });
});
