/** The known-differences list, its document and the corpus, checked without QEMU. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '@epfsim/nvme-epf';
import { SQE_SIZE } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { CaseSpace } from '../../../src/reference/differential/case.js';
import { DIFFERENTIAL_CORPUS } from '../../../src/reference/differential/corpus.js';
import { KNOWN_DIFFERENCES, QEMU_COMPAT_OPTIONS } from '../../../src/reference/differential/known-differences.js';
import {
  QEMU_DIFFERENCES_DOC,
  QEMU_DIFFERENCES_REGENERATE,
  renderQemuDifferences,
} from '../../../src/reference/differential/qemu-differences-doc.js';
import { DIFFERENTIAL_LAYOUT } from '../../../src/reference/differential/target-pair.js';

const docPath = fileURLToPath(new URL(`../../../../../${QEMU_DIFFERENCES_DOC}`, import.meta.url));

/** A space like the runner's first slot, with the four queue pairs QEMU's defaults give. */
const SPACE: CaseSpace = {
  host: DIFFERENTIAL_LAYOUT.cases,
  hostBytes: DIFFERENTIAL_LAYOUT.slotBytes,
  staging: DIFFERENTIAL_LAYOUT.staging,
  stagingBytes: DIFFERENTIAL_LAYOUT.stagingBytes,
  slba: 0n,
  blocks: DIFFERENTIAL_LAYOUT.windowBytes / 512,
  blockSize: 512,
  nsze: 131072n,
  mdtsBytes: 512 * 1024,
  queues: [1, 2, 3, 4].map((qid) => ({
    qid,
    depth: 32,
    sqBase: 0x0200_0000n + BigInt(qid * 0x2000),
    cqBase: 0x0200_1000n + BigInt(qid * 0x2000),
    vector: qid,
  })),
  seed: 1,
};

describe('docs/qemu-differences.md', () => {
  it('is generated from known-differences.ts', () => {
    const rendered = renderQemuDifferences();
    if (process.env.UPDATE_QEMU_DIFFERENCES === '1') writeFileSync(docPath, rendered);
    const onDisk = readFileSync(docPath, 'utf8');
    expect(onDisk, `${QEMU_DIFFERENCES_DOC} is out of date; run: ${QEMU_DIFFERENCES_REGENERATE}`).toBe(rendered);
  });

  it('names every known difference, its rule and its option', () => {
    const doc = readFileSync(docPath, 'utf8');
    for (const k of KNOWN_DIFFERENCES) {
      expect(doc).toContain(`### \`${k.id}\`: ${k.title}`);
      expect(doc).toContain(`- Rule: ${k.rule}`);
      for (const key of Object.keys(k.option ?? {})) expect(doc).toContain(key);
    }
  });
});

describe('the known differences', () => {
  it('have unique ids, a rule, both behaviours and corpus cases that exist', () => {
    const ids = KNOWN_DIFFERENCES.map((k) => k.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cases = new Set(DIFFERENTIAL_CORPUS.map((c) => c.id));
    for (const k of KNOWN_DIFFERENCES) {
      expect(k.rule, k.id).not.toBe('');
      expect(k.epfsim, k.id).not.toBe('');
      expect(k.qemu, k.id).not.toBe('');
      expect(k.cases.length, k.id).toBeGreaterThan(0);
      for (const c of k.cases) expect(cases.has(c), `${k.id} names case ${c}`).toBe(true);
      if (k.option === null) expect(k.note, `${k.id} says why there is no option`).not.toBe('');
    }
  });

  it('QEMU_COMPAT_OPTIONS is the union of their options and a valid controller configuration', () => {
    const union = Object.assign({}, ...KNOWN_DIFFERENCES.map((k) => k.option ?? {}));
    expect(QEMU_COMPAT_OPTIONS).toEqual(union);
    expect(QEMU_COMPAT_OPTIONS).toEqual({
      checkPrp1Dword: false,
      checkPrpListQword: false,
      sglSegmentChainEnd: 'lenient',
      sglBitBucket: false,
      deleteCqInvalidQid: 'qemu',
    });
    expect(resolveConfig({ options: QEMU_COMPAT_OPTIONS }).options).toMatchObject(QEMU_COMPAT_OPTIONS);
  });
});

describe('the corpus', () => {
  it('has unique kebab-case ids and a rule per case', () => {
    const ids = DIFFERENTIAL_CORPUS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of DIFFERENTIAL_CORPUS) {
      expect(c.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(c.rule).not.toBe('');
    }
  });

  it('builds 64-byte SQEs whose host writes stay inside the case pages or the staging area', () => {
    const inside = (addr: bigint, size: number, base: bigint, bytes: number) =>
      addr >= base && addr + BigInt(size) <= base + BigInt(bytes);
    for (const c of DIFFERENTIAL_CORPUS) {
      const commands = c.build(SPACE);
      expect(commands.length, c.id).toBeGreaterThan(0);
      for (const cmd of commands) {
        expect(cmd.sqe.length, `${c.id}: ${cmd.label}`).toBe(SQE_SIZE);
        for (const w of [
          ...(cmd.memory ?? []),
          ...(cmd.returns ?? []).map((r) => ({ addr: r.addr, bytes: { length: r.size } })),
        ]) {
          const ok =
            inside(w.addr, w.bytes.length, SPACE.host, SPACE.hostBytes) ||
            inside(w.addr, w.bytes.length, SPACE.staging, SPACE.stagingBytes);
          expect(ok, `${c.id}: ${cmd.label} writes 0x${w.addr.toString(16)}+${w.bytes.length}`).toBe(true);
        }
      }
    }
  });

  it('covers the layouts of the issue', () => {
    const ids = new Set(DIFFERENTIAL_CORPUS.map((c) => c.id));
    for (const id of [
      'prp1-page-aligned',
      'prp1-offset-0x202',
      'prp1-offset-0x201',
      'prp2-direct-offset-0x100',
      'prp2-garbage-unused',
      'prp-list-offset-0x800',
      'prp-list-offset-0x48',
      'prp-list-last-slot-chain',
      'prp-list-mdts-chained',
      'prp-list-first-entry-offset',
      'sgl-data-block',
      'sgl-last-segment-byte-aligned',
      'sgl-segment-chain',
      'sgl-bit-bucket-in-segment',
      'sgl-keyed-sgl1',
      'sgl-vendor-sgl1',
      'sgl-reserved-type-sgl1',
      'sgl-data-block-short',
      'sgl-data-block-long',
      'sgl-zero-length-data-block',
      'psdt-reserved',
      'sgl-on-admin',
      'create-cq-qid-0',
      'create-cq-size-0',
      'create-cq-size-above-mqes',
      'create-sq-cq-missing',
      'delete-cq-with-sq',
      'delete-cq-nonexistent',
      'mdts-exceeded',
      'lba-out-of-range',
      'nsid-0-read',
      'nsid-2-read',
      'nsid-broadcast-read',
      'invalid-io-opcode',
      'invalid-admin-opcode',
    ]) {
      expect(ids.has(id), id).toBe(true);
    }
  });
});
