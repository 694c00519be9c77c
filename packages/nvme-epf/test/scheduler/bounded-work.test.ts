/**
 * A host can make the controller slow, never stall it (issue 15): an SGL's descriptors are
 * bounded per command, one poll's work is bounded (POLL_WORK_BUDGET) and the round resumes at the
 * next SQ, and a command larger than the bounce buffer (MDTS unlimited), a Verify, a Write Zeroes
 * or a Dataset Management deallocation that costs more runs in pieces over polls, completing once.
 * Work is measured in EPC bytes per poll, never in time.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminOpcode,
  DATASET_MANAGEMENT,
  DSM_MAX_RANGES,
  encodeDsmRanges,
  encodeSgl,
  NvmOpcode,
  Psdt,
  packFields,
  SGL_DESCRIPTOR_SIZE,
  SglType,
  Status,
  sglDescriptor,
} from '@epfsim/nvme-spec-types';
import { afterEach, describe, expect, it } from 'vitest';
import { SGL_MAX_DESCRIPTORS } from '../../src/data-pointer/index.js';
import { POLL_WORK_BUDGET } from '../../src/scheduler/work-budget.js';
import { BOUNCE_LIMIT } from '../../src/transfer/bounce-buffers.js';
import { PAGE, pattern, ScriptedHost } from '../helpers/scripted-host.js';

const MiB = 1024 * 1024;
const HUGE_SEGMENT = 0xffff_fff0;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function epcBytes(h: ScriptedHost): number {
  return h.epc.counters.bytesFromHost + h.epc.counters.bytesToHost;
}

/** Polls until `done()`; returns the most EPC bytes one poll moved and how many polls it took. */
function pollMeasured(h: ScriptedHost, done: () => boolean, max = 20_000): { polls: number; mostBytes: number } {
  let polls = 0;
  let mostBytes = 0;
  let finished = done();
  while (!finished && polls < max) {
    const before = epcBytes(h);
    h.fn.poll();
    polls++;
    mostBytes = Math.max(mostBytes, epcBytes(h) - before);
    finished = done();
  }
  expect(finished, `done within ${max} polls`).toBe(true);
  return { polls, mostBytes };
}

/** DPTR of SGL1 = a Last Segment at `addr` of `length` bytes. */
function lastSegment(addr: bigint, length: number): { prp1: bigint; prp2: bigint } {
  const v = new DataView(encodeSgl(sglDescriptor({ address: addr, length, type: SglType.LAST_SEGMENT })).buffer);
  return { prp1: v.getBigUint64(0, true), prp2: v.getBigUint64(SGL_DESCRIPTOR_SIZE / 2, true) };
}

describe('bounded work per command and per poll', () => {
  it('a Last Segment of 2^32 - 16 bytes of zero-length descriptors: 0/0Eh after SGL_MAX_DESCRIPTORS', () => {
    const h = new ScriptedHost();
    h.enable();
    h.createPair(1, 16);
    // Zeroed host RAM is a segment of zero-length Data Blocks.
    const segment = h.alloc(HUGE_SEGMENT);
    const before = h.epc.counters.bytesFromHost;
    const c = h.run(1, {
      opcode: NvmOpcode.READ,
      nsid: 1,
      psdt: Psdt.SGL_MPTR_CONTIG,
      ...lastSegment(segment, HUGE_SEGMENT),
      cdw12: 1023,
    });
    expect(c.status).toBe(Status.SGL_INVALID_COUNT);
    const read = h.epc.counters.bytesFromHost - before;
    expect(read).toBeGreaterThanOrEqual(SGL_MAX_DESCRIPTORS * SGL_DESCRIPTOR_SIZE);
    // The descriptors, one SQE and at most one page read ahead.
    expect(read).toBeLessThanOrEqual(SGL_MAX_DESCRIPTORS * SGL_DESCRIPTOR_SIZE + PAGE + 64);
  });

  it('16 queues x 8 such Reads: every command completes once, spread over polls, each poll bounded', () => {
    const h = new ScriptedHost();
    h.enable();
    const queues = 16;
    for (let qid = 1; qid <= queues; qid++) h.createPair(qid, 16);
    const dptr = lastSegment(h.alloc(HUGE_SEGMENT), HUGE_SEGMENT);
    for (let qid = 1; qid <= queues; qid++) {
      for (let i = 0; i < 8; i++)
        h.submit(qid, { opcode: NvmOpcode.READ, nsid: 1, psdt: Psdt.SGL_MPTR_CONTIG, ...dptr, cdw12: 1023 });
      h.ring(qid);
    }
    const seen: number[] = [];
    const { polls, mostBytes } = pollMeasured(h, () => {
      for (let qid = 1; qid <= queues; qid++) for (const c of h.reap(qid)) seen.push(c.status);
      return seen.length === queues * 8;
    });
    expect(seen.every((s) => s === Status.SGL_INVALID_COUNT)).toBe(true);
    // One poll moves at most its budget plus one command's descriptors.
    expect(mostBytes).toBeLessThanOrEqual(POLL_WORK_BUDGET + SGL_MAX_DESCRIPTORS * SGL_DESCRIPTOR_SIZE + PAGE);
    expect(polls).toBeGreaterThan(8);
    expect(h.fn.pendingCompletions).toBe(0);
    expect(h.fn.stats.commandsCompleted).toBe(h.fn.stats.commandsFetched);
  });

  it('a queue behind queues whose commands spend every poll budget still gets its command through', () => {
    const h = new ScriptedHost();
    h.enable();
    const hostile = [1, 2, 3];
    for (const qid of [...hostile, 4]) h.createPair(qid, 32);
    const buf = h.alloc(PAGE);
    const dptr = lastSegment(h.alloc(HUGE_SEGMENT), HUGE_SEGMENT);
    /** Keeps 15 hostile Reads outstanding on each hostile queue (a 32-entry ring never fills). */
    const outstanding = new Map(hostile.map((qid) => [qid, 0]));
    const refill = () => {
      for (const qid of hostile) {
        let n = outstanding.get(qid)! - h.reap(qid).length;
        for (; n < 15; n++)
          h.submit(qid, { opcode: NvmOpcode.READ, nsid: 1, psdt: Psdt.SGL_MPTR_CONTIG, ...dptr, cdw12: 1023 });
        outstanding.set(qid, n);
        h.ring(qid);
      }
    };
    refill();
    const good = h.submit(4, { opcode: NvmOpcode.READ, nsid: 1, prp1: buf, cdw12: 7 });
    h.ring(4);
    let polls = 0;
    let answered = false;
    while (!answered && polls < 10) {
      h.fn.poll();
      polls++;
      answered = h.reap(4).some((c) => c.cid === good && c.status === 0);
      refill();
    }
    expect(answered).toBe(true);
    expect(h.fn.stats.completionsByStatus['0/0e']).toBeGreaterThan(8);
  });

  it('MDTS unlimited: a 32 MiB Write and Read move in pieces over polls; data intact; the SQ keeps order', () => {
    const h = new ScriptedHost({
      config: { mdtsBytes: 0, namespaces: [{ blockSize: 4096, blocks: 16384, backend: { kind: 'ram' } }] },
    });
    h.enable();
    h.createPair(1, 16);
    const bytes = 32 * MiB;
    const data = pattern(bytes, 15);
    const wbuf = h.alloc(bytes);
    h.write(wbuf, data);
    const w = h.submit(1, {
      opcode: NvmOpcode.WRITE,
      nsid: 1,
      ...h.prps(wbuf, bytes),
      cdw10: 8,
      cdw12: bytes / 4096 - 1,
    });
    // A Flush behind the Write on the same SQ completes after it.
    const f = h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    h.ring(1);
    h.fn.poll();
    expect(h.fn.pendingCompletions).toBe(1);
    const order: number[] = [];
    const write = pollMeasured(h, () => {
      for (const c of h.reap(1)) {
        order.push(c.cid);
        expect(c.status).toBe(0);
      }
      return order.length === 2;
    });
    expect(order).toEqual([w, f]);
    expect(write.polls).toBeGreaterThanOrEqual(bytes / POLL_WORK_BUDGET - 1);
    expect(write.mostBytes).toBeLessThanOrEqual(POLL_WORK_BUDGET + BOUNCE_LIMIT + 64 * 1024);
    const rbuf = h.alloc(bytes);
    const r = h.submit(1, {
      opcode: NvmOpcode.READ,
      nsid: 1,
      ...h.prps(rbuf, bytes),
      cdw10: 8,
      cdw12: bytes / 4096 - 1,
    });
    h.ring(1);
    const read = pollMeasured(h, () => h.reap(1).some((c) => c.cid === r && c.status === 0));
    expect(read.mostBytes).toBeLessThanOrEqual(POLL_WORK_BUDGET + BOUNCE_LIMIT + 64 * 1024);
    expect(Buffer.from(h.read(rbuf, bytes)).equals(data)).toBe(true);
    // Compare and Verify of the same 32 MiB: equal, then one byte changed.
    const cmp = (cdw10: number) => ({
      opcode: NvmOpcode.COMPARE,
      nsid: 1,
      ...h.prps(wbuf, bytes),
      cdw10,
      cdw12: bytes / 4096 - 1,
    });
    expect(h.run(1, cmp(8)).status).toBe(0);
    h.write(wbuf + BigInt(bytes - 1), new Uint8Array([data[bytes - 1]! ^ 1]));
    expect(h.run(1, cmp(8)).status).toBe(Status.COMPARE_FAILED);
    expect(h.run(1, { opcode: NvmOpcode.VERIFY, nsid: 1, cdw10: 8, cdw12: bytes / 4096 - 1 }).status).toBe(0);
    expect(h.fn.stats.commandsCompleted).toBe(h.fn.stats.commandsFetched);
  });

  it('a 256 MiB Write with a bad pointer fails with 0/04h without moving 256 MiB', () => {
    const h = new ScriptedHost({
      config: { mdtsBytes: 0, namespaces: [{ blockSize: 4096, blocks: 65536, backend: { kind: 'ram' } }] },
    });
    h.enable();
    h.createPair(1, 16);
    // PRP1 is fine; the PRP list is zeroes: page 0 is a hole of host memory.
    const c = h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: h.alloc(PAGE), prp2: h.alloc(PAGE), cdw12: 65535 });
    expect(c.status).toBe(Status.DATA_XFER_ERROR);
    expect(h.epc.counters.bytesFromHost).toBeLessThan(2 * MiB);
  });

  it('Abort, Delete SQ and reset of a command running over polls: exactly one completion, or dropped', () => {
    const bytes = 64 * MiB;
    const setup = () => {
      const h = new ScriptedHost({
        config: { mdtsBytes: 0, namespaces: [{ blockSize: 4096, blocks: 65536, backend: { kind: 'ram' } }] },
      });
      h.enable();
      h.createPair(1, 16);
      const buf = h.alloc(bytes);
      const cid = h.submit(1, { opcode: NvmOpcode.WRITE, nsid: 1, ...h.prps(buf, bytes), cdw12: bytes / 4096 - 1 });
      h.ring(1);
      h.fn.poll();
      expect(h.fn.pendingCompletions).toBe(1);
      return { h, cid };
    };
    // Abort: the write completes 0/07h, the Abort says "aborted" (DW0 bit 0 = 0).
    {
      const { h, cid } = setup();
      const a = h.admin({ opcode: AdminOpcode.ABORT, cdw10: (cid << 16) | 1 });
      expect(a.status).toBe(0);
      expect(a.dw0 & 1).toBe(0);
      expect(h.wait(1, cid)?.status).toBe(Status.ABORT_REQ);
      expect(h.fn.pendingCompletions).toBe(0);
    }
    // Delete SQ: the write completes 0/08h before the Delete does.
    {
      const { h, cid } = setup();
      expect(h.deleteSq(1).status).toBe(0);
      expect(h.completions.get(`1:${cid}`)?.status ?? h.reap(1).find((c) => c.cid === cid)?.status).toBe(
        Status.ABORT_QUEUE,
      );
      expect(h.fn.pendingCompletions).toBe(0);
      expect(h.fn.stats.commandsCompleted).toBe(h.fn.stats.commandsFetched);
    }
    // Reset: dropped like every outstanding command; fetched = completed + dropped.
    {
      const { h } = setup();
      h.disable();
      const s = h.fn.stats;
      expect(h.fn.pendingCompletions).toBe(0);
      expect(s.commandsDropped).toBe(1);
      expect(s.commandsCompleted + s.commandsDropped).toBe(s.commandsFetched);
      expect(h.epc.liveMaps).toHaveLength(0);
    }
  });

  it('more large transfers than transfer slots: they wait their turn and all complete', () => {
    const h = new ScriptedHost({
      config: { mdtsBytes: 0, namespaces: [{ blockSize: 4096, blocks: 65536, backend: { kind: 'ram' } }] },
    });
    h.enable();
    const bytes = 8 * MiB;
    const queues = 8;
    const data = pattern(bytes, 3);
    const buf = h.alloc(bytes);
    h.write(buf, data);
    for (let qid = 1; qid <= queues; qid++) {
      h.createPair(qid, 4);
      h.submit(qid, {
        opcode: NvmOpcode.WRITE,
        nsid: 1,
        ...h.prps(buf, bytes),
        cdw10: qid * 4096,
        cdw12: bytes / 4096 - 1,
      });
    }
    for (let qid = 1; qid <= queues; qid++) h.ring(qid);
    let done = 0;
    pollMeasured(h, () => {
      for (let qid = 1; qid <= queues; qid++) done += h.reap(qid).filter((c) => c.status === 0).length;
      return done === queues;
    });
    const rbuf = h.alloc(bytes);
    expect(
      h.run(1, { opcode: NvmOpcode.READ, nsid: 1, ...h.prps(rbuf, bytes), cdw10: 8 * 4096, cdw12: bytes / 4096 - 1 })
        .status,
    ).toBe(0);
    expect(Buffer.from(h.read(rbuf, bytes)).equals(data)).toBe(true);
  });

  it('file backend: 256 whole-namespace DSM ranges deallocate it once, over polls; a large Write Zeroes too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvme-epf-bounded-'));
    dirs.push(dir);
    const path = join(dir, 'ns.img');
    const nsBytes = 16 * MiB;
    const h = new ScriptedHost({
      config: { namespaces: [{ blockSize: 512, blocks: nsBytes / 512, backend: { kind: 'file', path } }] },
    });
    h.enable();
    h.createPair(1, 16);
    const data = pattern(4096, 9);
    const buf = h.alloc(4096);
    h.write(buf, data);
    const fill = (lba: number) =>
      expect(h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: buf, cdw10: lba, cdw12: 7 }).status).toBe(0);
    fill(0);
    fill(nsBytes / 512 - 8);
    const ranges = encodeDsmRanges(Array.from({ length: DSM_MAX_RANGES }, () => ({ nlb: nsBytes / 512, slba: 0n })));
    const list = h.alloc(ranges.length);
    h.write(list, ranges);
    const cid = h.submit(1, {
      opcode: NvmOpcode.DATASET_MANAGEMENT,
      nsid: 1,
      prp1: list,
      cdw10: DSM_MAX_RANGES - 1,
      cdw11: packFields(DATASET_MANAGEMENT.CDW11, { AD: 1 }),
    });
    h.ring(1);
    let polls = 0;
    pollMeasured(h, () => {
      polls++;
      return h.reap(1).some((c) => c.cid === cid && c.status === 0);
    });
    // Zeroing 16 MiB once takes a few polls; 256 times would take hundreds.
    expect(polls).toBeGreaterThan(1);
    expect(polls).toBeLessThanOrEqual(2 * (nsBytes / POLL_WORK_BUDGET) + 2);
    expect(readFileSync(path).every((b) => b === 0)).toBe(true);
    fill(100);
    const wz = h.submit(1, { opcode: NvmOpcode.WRITE_ZEROES, nsid: 1, cdw10: 0, cdw12: nsBytes / 512 - 1 });
    h.ring(1);
    polls = 0;
    pollMeasured(h, () => {
      polls++;
      return h.reap(1).some((c) => c.cid === wz && c.status === 0);
    });
    expect(polls).toBeGreaterThan(1);
    expect(readFileSync(path).every((b) => b === 0)).toBe(true);
    h.fn.close();
  });
});
