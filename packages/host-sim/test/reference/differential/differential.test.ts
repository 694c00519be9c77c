/**
 * The differential check against QEMU 7.2: the corpus on epfsim and on QEMU, failing on any
 * undocumented difference; then epfsim with QEMU_COMPAT_OPTIONS, where only the differences no
 * option covers may remain. Skipped (with one line saying so) where QEMU is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POISON } from '../../../src/reference/differential/case.js';
import { corpusCase, DIFFERENTIAL_CORPUS } from '../../../src/reference/differential/corpus.js';
import {
  KNOWN_DIFFERENCES,
  knownDifference,
  QEMU_COMPAT_OPTIONS,
} from '../../../src/reference/differential/known-differences.js';
import { formatDifference } from '../../../src/reference/differential/outcome.js';
import { type DifferentialReport, runDifferential } from '../../../src/reference/differential/runner.js';
import { agreementRate, formatDifferentialReport } from '../../../src/reference/differential/summary.js';
import { qemuAvailable } from '../../../src/reference/qemu/qemu-process.js';

const hasQemu = qemuAvailable();
if (!hasQemu) {
  console.log(
    'QEMU (qemu-system-x86_64) is not installed: the differential check against QEMU is skipped here; CI runs it.',
  );
}

/** `case → known id` pairs of a report. */
function knownPairs(report: DifferentialReport): Set<string> {
  return new Set(report.differences.filter((d) => d.known !== undefined).map((d) => `${d.caseId} → ${d.known}`));
}

describe.runIf(hasQemu)('epfsim against QEMU 7.2 on the differential corpus', () => {
  let spec: DifferentialReport;
  let compat: DifferentialReport;

  beforeAll(async () => {
    spec = await runDifferential(DIFFERENTIAL_CORPUS);
    compat = await runDifferential(DIFFERENTIAL_CORPUS, { epfsimOptions: QEMU_COMPAT_OPTIONS });
    console.log(`default options: ${agreementRate(spec).text} (${spec.durationMs.toFixed(0)} ms)`);
    console.log(`QEMU_COMPAT_OPTIONS: ${agreementRate(compat).text} (${compat.durationMs.toFixed(0)} ms)`);
  }, 60_000);

  afterAll(() => {
    for (const line of formatDifferentialReport(spec).slice(1)) if (line.includes('UNDOCUMENTED')) console.log(line);
  });

  it('runs every case on both targets and completes every command', () => {
    expect(spec.cases.length).toBe(DIFFERENTIAL_CORPUS.length);
    for (const c of spec.cases) {
      for (const s of c.steps) {
        expect(s.epfsim.source, `${c.id}: ${s.label}: ${s.epfsim.error ?? ''}`).toBe('controller');
        expect(s.qemu.source, `${c.id}: ${s.label}: ${s.qemu.error ?? ''}`).toBe('controller');
      }
    }
  });

  it('finds no undocumented difference with the default (specification) options', () => {
    expect(spec.undocumented.map(formatDifference)).toEqual([]);
  });

  it('sees each known difference exactly on the corpus cases its entry lists', () => {
    const listed = new Set(KNOWN_DIFFERENCES.flatMap((k) => k.cases.map((c) => `${c} → ${k.id}`)));
    // An entry that the default options never show (the statuses differ first) shows once
    // QEMU_COMPAT_OPTIONS make them agree: where the data then goes.
    const specPairs = knownPairs(spec);
    const compatPairs = knownPairs(compat);
    const seen = KNOWN_DIFFERENCES.flatMap((k) => {
      const of = (pairs: Set<string>) => [...pairs].filter((p) => p.endsWith(` → ${k.id}`));
      return of(specPairs).length > 0 ? of(specPairs) : of(compatPairs);
    });
    expect(seen.sort()).toEqual([...listed].sort());
  });

  it('with QEMU_COMPAT_OPTIONS, only differences that no option covers remain', () => {
    expect(compat.undocumented.map(formatDifference)).toEqual([]);
    const covered = compat.differences.filter((d) => knownDifference(d.known ?? '')?.option !== null);
    expect(covered.map(formatDifference)).toEqual([]);
    // Every case an option covers now agrees.
    for (const k of KNOWN_DIFFERENCES.filter((x) => x.option !== null)) {
      for (const id of k.cases) {
        const c = compat.cases.find((r) => r.id === id);
        const remaining = c?.differences.filter((d) => d.known === k.id) ?? [];
        expect(remaining.map(formatDifference), `${k.id} on ${id}`).toEqual([]);
      }
    }
    expect(agreementRate(compat).agreeing).toBeGreaterThan(agreementRate(spec).agreeing);
  });

  it('compares real data: poison around the bytes read, the data itself where the layout put it', () => {
    const result = spec.cases.find((c) => c.id === 'prp1-offset-0x200-prp2-direct');
    const read = result?.steps[1];
    expect(read?.epfsim.status).toBe(0);
    const data = read?.qemu.data;
    expect(data?.length).toBe(3 * 4096);
    if (data === undefined) return;
    const poisoned = (from: number, to: number) => data.subarray(from, to).every((b) => b === POISON);
    // Pages 0..2: 0x200 bytes of poison, data to the end of page 0, page 1 untouched, 0x200 bytes of data in page 2.
    expect(poisoned(0, 0x200)).toBe(true);
    expect(poisoned(0x200, 0x1000)).toBe(false);
    expect(poisoned(0x1000, 0x2000)).toBe(true);
    expect(poisoned(0x2000, 0x2200)).toBe(false);
    expect(poisoned(0x2200, 0x3000)).toBe(true);
    expect(Buffer.compare(data, read?.epfsim.data ?? new Uint8Array())).toBe(0);
  });
});

describe.runIf(hasQemu)('the differential runner', () => {
  it('reports a difference no list explains as undocumented', async () => {
    const c = corpusCase('prp1-offset-0x202');
    if (c === undefined) throw new Error('corpus case missing');
    const report = await runDifferential([c], { knownDifferences: [] });
    expect(report.undocumented.map((d) => [d.caseId, d.field])).toEqual([['prp1-offset-0x202', 'status']]);
    expect(agreementRate(report)).toMatchObject({ total: 1, agreeing: 0, explained: 0, undocumented: 1, rate: 0 });
  }, 30_000);
});
