/**
 * A minimal scripted NVMe host for this package's tests (the full host driver is host-sim's).
 * It owns host memory (a HostAddressSpace), writes BAR0 through the EPC's EndpointLink side,
 * places queues, PRP lists, SGL segments and data where a test says, polls the function until
 * completions appear, checks phase tags, rings CQ head doorbells, and counts interrupts: MSI and
 * MSI-X messages land in an MMIO region, INTx level changes come through onIntx.
 */
import {
  createEpc,
  type Epc,
  type EpcFaultName,
  type EpcProfile,
  findProfile,
  HostAddressSpace,
} from '@epfsim/epc-core';
import { type HostCq, type HostSq, QueueEngine } from '@epfsim/nvme-host';
import {
  AQA,
  type CC,
  CQE_SIZE,
  type Cqe,
  CSTS,
  cqHeadDoorbell,
  createIoCqFields,
  createIoSqFields,
  decodeCqe,
  deleteIoCqFields,
  deleteIoSqFields,
  encodeCc,
  encodeSgl,
  encodeSqe,
  getBits,
  NVME_REG_ACQ,
  NVME_REG_AQA,
  NVME_REG_ASQ,
  NVME_REG_CC,
  NVME_REG_CSTS,
  packFields,
  SGL_DESCRIPTOR_SIZE,
  SglType,
  SQE,
  SQE_SIZE,
  type Sqe,
  sglDescriptor,
  sqe,
} from '@epfsim/nvme-spec-types';
import { createNvmeFunction, type NvmeFunction, type NvmeFunctionConfigInput } from '../../src/index.js';

export const PAGE = 4096;
/** Host RAM the helper allocates from. */
export const RAM_BASE = 0x10_0000_0000n;
export const RAM_SIZE = 1n << 32n;
/** Where MSI and MSI-X messages go: vector n writes RAM-free MMIO at MSI_BASE + 4n. */
export const MSI_BASE = 0xfee0_0000n;
/** CIDs above the engine's generation-and-tag space, for commands past an SQ's depth. */
const SPARE_CID_BASE = 0x1_0000;
const MSI_REGION = 0x10000;
const MSIX_ENTRY = 16;

/** What the engine tracks of a command: its CID. */
interface ScriptedCommand {
  readonly cid: number;
}

export interface ScriptedHostOptions {
  /** A built-in profile by name (default generic), or a profile object. */
  profile?: string | EpcProfile;
  config?: NvmeFunctionConfigInput;
  /** How the host sets up interrupts: MSI-X table (default when offered), MSI, or none (INTx). */
  irq?: 'msix' | 'msi' | 'intx';
  /** Endpoint-controller faults to inject (function faults go in `config.faults`). */
  epcFaults?: readonly EpcFaultName[];
}

export class ScriptedHost {
  readonly host = new HostAddressSpace();
  readonly epc: Epc;
  readonly fn: NvmeFunction;
  readonly dstrd: number;
  /** Interrupt messages per vector, and INTx level changes. */
  readonly irqs: number[] = [];
  readonly intx: boolean[] = [];
  /** Completions reaped but not yet claimed, by `${sqid}:${cid}`. */
  readonly completions = new Map<string, Cqe>();
  /** Every CQE reaped, in order (the ones the host engine finds wrong too). */
  readonly reaped: Cqe[] = [];
  /** The one host queue engine: rings, phase, CIDs, doorbells and CQE validation. */
  readonly engine: QueueEngine<ScriptedCommand>;
  /** Entries consumed by the reap in progress. */
  #reaping: Cqe[] = [];
  #polls = 0;
  #next = RAM_BASE;
  /** CIDs handed out when the engine's tags run out (a test that fills an SQ past its depth). */
  #spareCid = SPARE_CID_BASE;
  #cid = 0;

  constructor(options: ScriptedHostOptions = {}) {
    const profile = typeof options.profile === 'object' ? options.profile : findProfile(options.profile ?? 'generic');
    if (profile === undefined) throw new Error(`no profile ${String(options.profile)}`);
    this.host.memory.addRegion(RAM_BASE, RAM_SIZE);
    this.host.addMmioRegion({
      start: MSI_BASE,
      size: MSI_REGION,
      onWrite: (addr, data) => {
        const vector = new DataView(data.buffer, data.byteOffset).getUint32(0, true);
        void addr;
        this.irqs[vector] = (this.irqs[vector] ?? 0) + 1;
      },
    });
    this.epc = createEpc(profile, this.host, { faults: options.epcFaults ?? [] });
    this.epc.onIntx((level) => this.intx.push(level));
    this.fn = createNvmeFunction(this.epc, options.config);
    this.dstrd = options.config?.dstrd ?? 0;
    const irqs = this.irqs;
    this.engine = new QueueEngine<ScriptedCommand>(
      {
        memory: {
          read: (addr, into) => this.host.hostRead(addr, into),
          write: (addr, b) => this.host.hostWrite(addr, b),
        },
        interrupts: {
          count: (v) => irqs[v] ?? 0,
          get total() {
            return irqs.reduce((a, b) => a + (b ?? 0), 0);
          },
        },
        mmioWrite32: (off, value) => this.epc.mmioWrite32(0, off, value),
        now: () => this.#polls,
      },
      {
        dstrd: this.dstrd,
        onCompletion: () => {},
        onEntry: (_cq, e, bytes) => {
          const entry = decodeCqe(bytes);
          this.#reaping.push(entry);
          this.reaped.push(entry);
          this.completions.set(`${e.sqid}:${e.cid}`, entry);
        },
        // A test host looks at whatever the controller wrote, an overflowing post included.
        consumePastOverflow: true,
      },
    );
    const irq =
      options.irq ?? (this.epc.config.msixCapable > 0 ? 'msix' : this.epc.config.msiCapable > 0 ? 'msi' : 'intx');
    if (irq === 'msix') this.enableMsix();
    else if (irq === 'msi') this.enableMsi();
  }

  // ---- memory ----

  /** Allocates `size` bytes of host RAM aligned to `align` (zeroed: fresh RAM reads as zero). */
  alloc(size: number, align = PAGE): bigint {
    const a = BigInt(align);
    const start = ((this.#next + a - 1n) / a) * a;
    this.#next = start + BigInt(Math.max(size, 1));
    return start;
  }

  write(addr: bigint, bytes: Uint8Array): void {
    this.host.hostWrite(addr, bytes);
  }

  read(addr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.host.hostRead(addr, out);
    return out;
  }

  // ---- registers ----

  reg32(off: number): number {
    return this.epc.mmioRead32(0, off);
  }

  setReg32(off: number, value: number): void {
    this.epc.mmioWrite32(0, off, value);
  }

  reg64(off: number): bigint {
    return this.epc.mmioRead64(0, off);
  }

  setReg64(off: number, value: bigint): void {
    this.epc.mmioWrite64(0, off, value);
  }

  get csts(): number {
    return this.reg32(NVME_REG_CSTS);
  }

  get ready(): boolean {
    return getBits(this.csts, CSTS.RDY) === 1;
  }

  get fatal(): boolean {
    return getBits(this.csts, CSTS.CFS) === 1;
  }

  // ---- interrupts ----

  enableMsix(vectors = this.epc.config.msixCapable): void {
    const table = this.epc.config.msixTableOffset;
    for (let v = 0; v < vectors; v++) {
      const entry = table + v * MSIX_ENTRY;
      this.setReg32(entry, Number(MSI_BASE) + v * 4);
      this.setReg32(entry + 4, 0);
      this.setReg32(entry + 8, v);
      this.setReg32(entry + 12, 0);
    }
    this.epc.config.msixEnabled = true;
  }

  maskMsix(vector: number, masked: boolean): void {
    this.setReg32(this.epc.config.msixTableOffset + vector * MSIX_ENTRY + 12, masked ? 1 : 0);
  }

  enableMsi(vectors = this.epc.config.msiCapable): void {
    Object.assign(this.epc.config, { msiEnabled: true, msiAddress: MSI_BASE, msiData: 0, msiVectors: vectors });
  }

  irqCount(vector: number): number {
    return this.irqs[vector] ?? 0;
  }

  // ---- bring-up ----

  /** Polls the function until `done()` or `max` polls; returns whether done. */
  pollUntil(done: () => boolean, max = 10_000): boolean {
    for (let i = 0; i < max; i++) {
      if (done()) return true;
      this.fn.poll();
      this.#polls++;
    }
    return done();
  }

  /** Programs AQA/ASQ/ACQ and sets CC.EN; waits for RDY or CFS. Returns CSTS. */
  enable(
    opts: {
      asqs?: number;
      acqs?: number;
      asq?: bigint;
      acq?: bigint;
      cc?: Partial<Record<keyof typeof CC, number>>;
    } = {},
  ): number {
    const asqs = opts.asqs ?? 32;
    const acqs = opts.acqs ?? 32;
    const asq = opts.asq ?? this.alloc(asqs * SQE_SIZE);
    const acq = opts.acq ?? this.alloc(acqs * CQE_SIZE);
    this.setReg32(NVME_REG_AQA, packFields(AQA, { ASQS: asqs - 1, ACQS: acqs - 1 }));
    this.setReg64(NVME_REG_ASQ, asq);
    this.setReg64(NVME_REG_ACQ, acq);
    this.setReg32(NVME_REG_CC, encodeCc({ EN: 1, IOSQES: 6, IOCQES: 4, ...opts.cc }));
    this.fn.poll();
    this.pollUntil(() => this.ready || this.fatal, 10);
    this.engine.clear();
    this.completions.clear();
    if (this.ready) this.adoptAdminQueue();
    return this.csts;
  }

  /**
   * The host's side of the admin queue pair, where AQA/ASQ/ACQ say (after an enable it did not make
   * through {@link enable}); the admin CQ ring is zeroed, as a driver re-initialising would.
   */
  adoptAdminQueue(): void {
    const aqa = this.reg32(NVME_REG_AQA);
    const asq = this.reg64(NVME_REG_ASQ);
    const acq = this.reg64(NVME_REG_ACQ);
    const acqs = getBits(aqa, AQA.ACQS) + 1;
    this.write(acq, new Uint8Array(acqs * CQE_SIZE));
    this.engine.clear();
    this.engine.addCq(0, acq, acqs, 0);
    this.engine.addSq(0, asq, getBits(aqa, AQA.ASQS) + 1, 0);
  }

  /** CC.EN = 0 and poll until RDY drops. */
  disable(): void {
    const cc = this.reg32(NVME_REG_CC);
    this.setReg32(NVME_REG_CC, cc & ~1);
    this.fn.poll();
    this.pollUntil(() => !this.ready, 10);
    this.engine.clear();
  }

  // ---- submission and completion ----

  /** The host's side of SQ `qid`. */
  sq(qid: number): HostSq<ScriptedCommand> {
    const sq = this.engine.sq(qid);
    if (sq === undefined) throw new Error(`no SQ ${qid}`);
    return sq;
  }

  /** The host's side of CQ `qid`, when it exists. */
  cq(qid: number): HostCq | undefined {
    return this.engine.cq(qid);
  }

  /** A CID of the test's own: sequential, for raw SQEs that need unique ones. */
  nextCid(): number {
    this.#cid = (this.#cid + 1) & 0xffff;
    return this.#cid;
  }

  /** Writes an SQE at the SQ tail (without ringing); returns its CID. */
  submit(qid: number, fields: Partial<Sqe>): number {
    const sq = this.sq(qid);
    const chosen = fields.cid;
    const cid = chosen ?? this.engine.allocateCid(sq) ?? this.#spareCid++;
    this.engine.stage(sq, encodeSqe(sqe({ ...fields, cid })), { cid }, chosen === undefined && cid < SPARE_CID_BASE);
    return cid;
  }

  /** Writes raw SQE bytes at the tail (their CID is tracked as the case chose it). */
  submitRaw(qid: number, bytes: Uint8Array): void {
    const cid = new DataView(bytes.buffer, bytes.byteOffset).getUint16(SQE.CID.off, true);
    const sq = this.sq(qid);
    // A hostile host may repeat a CID in flight or write past a full ring: the engine then does not track it.
    if (sq.commands.available(cid) && !sq.ringFull) this.engine.stage(sq, bytes, { cid }, false);
    else this.write(sq.slotAddress(sq.push()), bytes);
  }

  ring(qid: number): void {
    this.engine.ring(this.sq(qid));
  }

  /** Writes CQ `cqid`'s head doorbell: what the host consumed, or any `head` a test wants. */
  ringCq(cqid: number, head?: number): void {
    const cq = this.engine.cq(cqid);
    if (cq === undefined) throw new Error(`no CQ ${cqid}`);
    if (head === undefined) this.engine.ringHead(cq);
    else this.engine.writeCqDoorbell(cqid, head, this.reg32(cqHeadDoorbell(cqid, this.dstrd)));
  }

  /** Reads new CQEs of `cqid` (phase check), records them, and rings the head doorbell if asked. */
  reap(cqid: number, ringDoorbell = true): Cqe[] {
    const cq = this.engine.cq(cqid);
    if (cq === undefined) return [];
    const hold = cq.holdHead;
    cq.holdHead = !ringDoorbell;
    this.#reaping = [];
    this.engine.reap(cq);
    cq.holdHead = hold;
    return this.#reaping;
  }

  reapAll(): Cqe[] {
    const out: Cqe[] = [];
    for (const cq of this.engine.cqs) out.push(...this.reap(cq.qid));
    return out;
  }

  /** Waits for the completion of `cid` on SQ `qid`; undefined if none arrives. */
  wait(qid: number, cid: number, maxPolls = 1000): Cqe | undefined {
    const key = `${qid}:${cid}`;
    const cqid = this.engine.sq(qid)?.cq.qid ?? 0;
    this.pollUntil(() => {
      this.reap(cqid);
      return this.completions.has(key);
    }, maxPolls);
    const entry = this.completions.get(key);
    this.completions.delete(key);
    return entry;
  }

  /** Submits, rings and waits: the completion of one command. */
  run(qid: number, fields: Partial<Sqe>): Cqe {
    const cid = this.submit(qid, fields);
    this.ring(qid);
    const entry = this.wait(qid, cid);
    if (entry === undefined) throw new Error(`no completion for SQ ${qid} CID ${cid}`);
    return entry;
  }

  admin(fields: Partial<Sqe>): Cqe {
    return this.run(0, fields);
  }

  // ---- queues ----

  createCq(qid: number, size: number, opts: { base?: bigint; iv?: number; ien?: boolean; pc?: number } = {}): Cqe {
    const base = opts.base ?? this.alloc(size * CQE_SIZE);
    const ien = opts.ien ?? true;
    const c = this.admin(createIoCqFields({ qid, size, base, ien, iv: opts.iv ?? 0, pc: (opts.pc ?? 1) === 1 }));
    if (c.status === 0) this.engine.addCq(qid, base, size, ien ? (opts.iv ?? 0) : undefined);
    return c;
  }

  createSq(qid: number, size: number, cqid: number, opts: { base?: bigint; pc?: number } = {}): Cqe {
    const base = opts.base ?? this.alloc(size * SQE_SIZE);
    const c = this.admin(createIoSqFields({ qid, size, base, cqid, pc: (opts.pc ?? 1) === 1 }));
    if (c.status === 0) this.engine.addSq(qid, base, size, cqid);
    return c;
  }

  /** Creates CQ `qid` then SQ `qid` on it (Linux order). */
  createPair(qid: number, size = 64, iv = qid): void {
    const vectors = this.epc.config.msixEnabled
      ? this.epc.config.msixCapable
      : this.epc.config.msiEnabled
        ? this.epc.config.msiVectors
        : 1;
    const cq = this.createCq(qid, size, { iv: iv < vectors ? iv : 0 });
    if (cq.status !== 0) throw new Error(`Create CQ ${qid}: status ${cq.status.toString(16)}`);
    const sq = this.createSq(qid, size, qid);
    if (sq.status !== 0) throw new Error(`Create SQ ${qid}: status ${sq.status.toString(16)}`);
  }

  deleteSq(qid: number): Cqe {
    const c = this.admin(deleteIoSqFields(qid));
    if (c.status === 0) this.engine.removeSq(qid);
    return c;
  }

  deleteCq(qid: number): Cqe {
    const c = this.admin(deleteIoCqFields(qid));
    if (c.status === 0) this.engine.removeCq(qid);
    return c;
  }

  // ---- data pointers ----

  /**
   * PRP1/PRP2 for a buffer at `addr` of `length` bytes (contiguous host memory), building a PRP
   * list (page aligned, chained when longer than a page, as Linux does) when needed.
   */
  prps(addr: bigint, length: number, page = PAGE): { prp1: bigint; prp2: bigint } {
    const p = BigInt(page);
    const first = page - Number(addr % p);
    if (length <= first) return { prp1: addr, prp2: 0n };
    const pages: bigint[] = [];
    for (let a = addr - (addr % p) + p; a < addr + BigInt(length); a += p) pages.push(a);
    if (pages.length === 1) return { prp1: addr, prp2: pages[0]! };
    const perList = page / 8;
    const lists: bigint[][] = [];
    let rest = pages;
    while (rest.length > perList) {
      lists.push(rest.slice(0, perList - 1));
      rest = rest.slice(perList - 1);
    }
    lists.push(rest);
    const listAddrs = lists.map(() => this.alloc(page, page));
    lists.forEach((entries, i) => {
      const bytes = new Uint8Array(page);
      const v = new DataView(bytes.buffer);
      entries.forEach((e, j) => {
        v.setBigUint64(j * 8, e, true);
      });
      const next = listAddrs[i + 1];
      if (next !== undefined) v.setBigUint64((perList - 1) * 8, next, true);
      this.write(listAddrs[i]!, bytes);
    });
    return { prp1: addr, prp2: listAddrs[0]! };
  }

  /** SGL1 for the pieces given: one Data Block, or a Last Segment pointing to a list of Data Blocks (S-13). */
  sgl(pieces: readonly { addr: bigint; length: number; bitBucket?: boolean }[]): { prp1: bigint; prp2: bigint } {
    const sgl1 = new Uint8Array(SGL_DESCRIPTOR_SIZE);
    if (pieces.length === 1 && !pieces[0]!.bitBucket) {
      encodeSgl(sglDescriptor({ address: pieces[0]!.addr, length: pieces[0]!.length }), sgl1);
    } else {
      const list = this.alloc(pieces.length * SGL_DESCRIPTOR_SIZE, 16);
      const bytes = new Uint8Array(pieces.length * SGL_DESCRIPTOR_SIZE);
      pieces.forEach((p, i) => {
        encodeSgl(
          sglDescriptor({
            address: p.bitBucket ? 0n : p.addr,
            length: p.length,
            type: p.bitBucket ? SglType.BIT_BUCKET : SglType.DATA_BLOCK,
          }),
          bytes,
          i * SGL_DESCRIPTOR_SIZE,
        );
      });
      this.write(list, bytes);
      encodeSgl(sglDescriptor({ address: list, length: bytes.length, type: SglType.LAST_SEGMENT }), sgl1);
    }
    const v = new DataView(sgl1.buffer);
    return { prp1: v.getBigUint64(0, true), prp2: v.getBigUint64(8, true) };
  }
}

/** The SQE byte offset of DPTR, for tests that build SGL1 by hand. */
export const DPTR_OFFSET = SQE.DPTR.off;

/** A deterministic pattern of `n` bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
