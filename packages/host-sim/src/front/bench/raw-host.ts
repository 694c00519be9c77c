/**
 * A bare NVMe host for hostile scenarios: it places queues itself, writes any SQE bytes, rings
 * doorbells and reaps CQEs by phase tag, and times every poll() of the function. The host driver
 * refuses to build what a hostile host sends (huge SGL segments, pointers into nothing), so the
 * bench of the longest poll and the soak test drive the controller through this instead.
 */
import {
  AdminOpcode,
  AQA,
  CQE_SIZE,
  type Cqe,
  CREATE_IO_CQ,
  CREATE_IO_SQ,
  CSTS,
  cqHeadDoorbell,
  decodeCqe,
  encodeCc,
  encodeSqe,
  getBits,
  NVME_REG_ACQ,
  NVME_REG_AQA,
  NVME_REG_ASQ,
  NVME_REG_CC,
  NVME_REG_CSTS,
  packFields,
  SQE_SIZE,
  type Sqe,
  sqe,
  sqTailDoorbell,
} from '@epfsim/nvme-spec-types';
import { createTestbed, type Testbed, type TestbedOptions } from '../../host/target/epfsim-target.js';

const PAGE = 4096;
/** Where the raw host places its RAM: above 4 GiB, away from the MSI doorbell. */
const RAM_BASE = 0x10_0000_0000n;
/** CC.IOSQES = 6 (64 B) and CC.IOCQES = 4 (16 B). */
const IOSQES = 6;
const IOCQES = 4;
/** Polls to wait for RDY, or for an admin command, before giving up. */
const WAIT_POLLS = 10_000;

interface RawQueue {
  readonly qid: number;
  readonly sqBase: bigint;
  readonly cqBase: bigint;
  readonly entries: number;
  tail: number;
  head: number;
  phase: number;
}

export class RawHost {
  readonly bed: Testbed;
  /** The longest single poll() seen so far, in milliseconds (wall clock). */
  longestPollMs = 0;
  polls = 0;
  readonly #queues = new Map<number, RawQueue>();
  #next = RAM_BASE;
  #cid = 0;
  readonly #cqeBytes = new Uint8Array(CQE_SIZE);

  constructor(options: TestbedOptions) {
    this.bed = createTestbed(options);
  }

  /** Places `size` bytes of RAM aligned to `align`, granted to the function both ways. */
  alloc(size: number, align = PAGE): bigint {
    const a = BigInt(align);
    const addr = ((this.#next + a - 1n) / a) * a;
    this.#next = addr + BigInt(Math.max(size, 1));
    const m = this.bed.memory;
    m.place(addr, size);
    m.grant({ addr, size, direction: 'read' });
    m.grant({ addr, size, direction: 'write' });
    return addr;
  }

  write(addr: bigint, bytes: Uint8Array): void {
    this.bed.memory.write(addr, bytes);
  }

  read(addr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.bed.memory.read(addr, out);
    return out;
  }

  /** One poll of the function, timed. */
  poll(): number {
    const start = performance.now();
    const work = this.bed.target.step();
    const ms = performance.now() - start;
    this.polls++;
    if (ms > this.longestPollMs) this.longestPollMs = ms;
    return work;
  }

  /** AQA/ASQ/ACQ, CC.EN, and RDY; then `ioQueues` I/O queue pairs of `entries` entries. */
  bringUp(ioQueues: number, entries: number, adminEntries = 32): void {
    const t = this.bed.target;
    const admin = this.#queue(0, adminEntries);
    t.mmioWrite32(NVME_REG_AQA, packFields(AQA, { ASQS: adminEntries - 1, ACQS: adminEntries - 1 }));
    t.mmioWrite64(NVME_REG_ASQ, admin.sqBase);
    t.mmioWrite64(NVME_REG_ACQ, admin.cqBase);
    t.mmioWrite32(NVME_REG_CC, encodeCc({ EN: 1, IOSQES, IOCQES }));
    for (let i = 0; i < WAIT_POLLS && getBits(t.mmioRead32(NVME_REG_CSTS), CSTS.RDY) === 0; i++) this.poll();
    if (getBits(t.mmioRead32(NVME_REG_CSTS), CSTS.RDY) === 0) throw new Error('the controller did not become ready');
    for (let qid = 1; qid <= ioQueues; qid++) {
      const q = this.#queue(qid, entries);
      this.#admin({
        opcode: AdminOpcode.CREATE_IO_CQ,
        prp1: q.cqBase,
        cdw10: packFields(CREATE_IO_CQ.CDW10, { QID: qid, QSIZE: entries - 1 }),
        cdw11: packFields(CREATE_IO_CQ.CDW11, { PC: 1, IEN: 0 }),
      });
      this.#admin({
        opcode: AdminOpcode.CREATE_IO_SQ,
        prp1: q.sqBase,
        cdw10: packFields(CREATE_IO_SQ.CDW10, { QID: qid, QSIZE: entries - 1 }),
        cdw11: packFields(CREATE_IO_SQ.CDW11, { PC: 1, CQID: qid }),
      });
    }
  }

  /** Writes an SQE at the tail of SQ `qid` (not rung); returns its CID. */
  submit(qid: number, fields: Partial<Sqe>): number {
    const q = this.#get(qid);
    this.#cid = (this.#cid + 1) & 0xffff;
    const cid = this.#cid;
    this.write(q.sqBase + BigInt(q.tail * SQE_SIZE), encodeSqe(sqe({ ...fields, cid })));
    q.tail = (q.tail + 1) % q.entries;
    return cid;
  }

  ring(qid: number): void {
    const q = this.#get(qid);
    this.bed.target.mmioWrite32(sqTailDoorbell(qid, 0), q.tail);
  }

  /** New CQEs of queue pair `qid`; the CQ head doorbell is rung for them. */
  reap(qid: number): Cqe[] {
    const q = this.#get(qid);
    const out: Cqe[] = [];
    for (;;) {
      this.bed.memory.read(q.cqBase + BigInt(q.head * CQE_SIZE), this.#cqeBytes);
      const cqe = decodeCqe(this.#cqeBytes);
      if (cqe.phase !== q.phase) break;
      out.push(cqe);
      q.head++;
      if (q.head === q.entries) {
        q.head = 0;
        q.phase ^= 1;
      }
    }
    if (out.length > 0) this.bed.target.mmioWrite32(cqHeadDoorbell(qid, 0), q.head);
    return out;
  }

  /** Polls until `count` completions arrived on the queue pairs in `qids` (or `maxPolls`); returns them. */
  collect(qids: readonly number[], count: number, maxPolls: number): Cqe[] {
    const got: Cqe[] = [];
    for (let i = 0; i < maxPolls && got.length < count; i++) {
      this.poll();
      for (const qid of qids) got.push(...this.reap(qid));
    }
    return got;
  }

  close(): void {
    this.bed.close();
  }

  #admin(fields: Partial<Sqe>): Cqe {
    this.submit(0, fields);
    this.ring(0);
    const [cqe] = this.collect([0], 1, WAIT_POLLS);
    if (cqe === undefined || cqe.status !== 0)
      throw new Error(`admin opcode ${fields.opcode}: ${cqe === undefined ? 'no completion' : `status ${cqe.status}`}`);
    return cqe;
  }

  #queue(qid: number, entries: number): RawQueue {
    const q: RawQueue = {
      qid,
      sqBase: this.alloc(entries * SQE_SIZE),
      cqBase: this.alloc(entries * CQE_SIZE),
      entries,
      tail: 0,
      head: 0,
      phase: 1,
    };
    this.#queues.set(qid, q);
    return q;
  }

  #get(qid: number): RawQueue {
    const q = this.#queues.get(qid);
    if (q === undefined) throw new Error(`no queue pair ${qid}`);
    return q;
  }
}
