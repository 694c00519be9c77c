/**
 * The hand-written case files in test/cases replay as written, version 1 and version 2 alike, and
 * each version 2 example is one a controller with the matching bug fails (docs/faults.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCaseFile } from '../packages/host-sim/src/runs/case-file/parse-case-file.js';
import { replayCase } from '../packages/host-sim/src/runs/case-file/replay-case.js';
import { firstFailure } from '../packages/host-sim/src/runs/case-file/replay-report.js';

const dir = new URL('./cases/', import.meta.url);
const load = (name: string) => parseCaseFile(JSON.parse(readFileSync(new URL(name, dir), 'utf8')), name);
/** Cases that fail on purpose: a wrong expectation, and failures whose root cause the replay names. */
const FAILING = [
  'rk3399-prp-list-entry-offset-wrong-expectation.case.json',
  'small-window-admin-sq-enomem.case.json',
  'stress-epf-align-write-enomem.case.json',
];
const examples = readdirSync(dir).filter(
  (n) => n.endsWith('.case.json') && !n.startsWith('malformed') && !FAILING.includes(n),
);

/** Version 2 examples and a fault each catches (the shared-CQ and IEN = 0 examples pin correct behaviour only). */
const CATCHES: Record<string, string> = {
  'v2-queue-delete-recreate.case.json': 'cq-irq-state-survives-delete',
  'v2-small-cq-delayed-head.case.json': 'cq-full-check-misses-wrap',
  'v2-invalid-cc-cfs.case.json': 'unchecked-entry-sizes',
  'v2-doorbell-async-event.case.json': 'doorbell-values-unchecked',
};

describe('example case files', () => {
  it.each(examples)('%s passes on the correct controller', (name) => {
    expect(firstFailure(replayCase(load(name)))).toBeUndefined();
  });

  it.each(FAILING)('%s fails, as it is meant to', (name) => {
    expect(replayCase(load(name)).ok).toBe(false);
  });

  it.each(Object.entries(CATCHES))('%s fails with %s injected', (name, fault) => {
    const c = load(name);
    expect(c.version).toBe(2);
    expect(replayCase({ ...c, inject: [fault] }).ok).toBe(false);
  });
});
