/**
 * The host-protocol actions of a fuzz case, each with what the controller model says: Identify,
 * early failures, queue management with each field wrong, raw doorbells, a held CQ head, AERs and
 * the error log, coalescing, Abort, resets, shutdowns and invalid enables.
 */
import {
  abortFields,
  asyncEventRequestFields,
  Cns,
  FEATURE_DW11,
  FeatureId,
  getFeaturesFields,
  getLogPageFields,
  identifyFields,
  Lid,
  packFields,
  type SqeFields,
  setFeaturesFields,
} from '@epfsim/nvme-spec-types';
import { flushCommand, writeZeroesCommand } from '../../host/driver/nvm-commands.js';
import type { NvmCommandPick } from '../arbitraries/nvm-command.js';
import { type CaseBuilder, dataAt, type MutableExpect } from './case-builder.js';
import { type PendingExpect, St } from './controller-model.js';
import {
  AER_CID_BASE,
  CQES_NVM,
  ERROR_LOG_BYTES,
  ID_CTRL,
  ID_NS,
  INVALID_NSIDS,
  MAX_BATCH,
  MAX_QID_PROBE,
  NSID,
  PAGE,
  RING_RESERVE,
  SQES_NVM,
  UNSUPPORTED_ADMIN,
  UNSUPPORTED_NVM,
} from './fuzz-constants.js';
import { type FuzzAction, INVALID_CC, type PowerEvent } from './fuzz-params.js';
import { protocolActions } from './fuzz-target.js';
import { io } from './io-actions.js';

/** Identify (C-A1) with the fields the host relies on checked against the configuration. */
export function identify(b: CaseBuilder, cns: 0 | 1 | 2): void {
  const l = b.layout(0, PAGE, false);
  b.writeStructures(l);
  const expect: MutableExpect = { status: b.statuses(l), sqid: 0 };
  // Identify data describes the controller itself: checked on epfsim, whose configuration the case records.
  if (b.checkData && l.expect === undefined && protocolActions(b.target)) {
    const bytes = new Map<number, Uint8Array>();
    if (cns === Cns.CONTROLLER) {
      const mdts = b.mdtsBytes === 0 ? 0 : Math.log2(b.mdtsBytes / PAGE);
      bytes.set(ID_CTRL.MDTS, Uint8Array.of(mdts));
      bytes.set(ID_CTRL.SQES, Uint8Array.of(SQES_NVM));
      bytes.set(ID_CTRL.CQES, Uint8Array.of(CQES_NVM));
      bytes.set(ID_CTRL.NN, Uint8Array.of(1, 0, 0, 0));
    } else if (cns === Cns.NAMESPACE) {
      const nsze = new Uint8Array(8);
      new DataView(nsze.buffer).setBigUint64(0, BigInt(b.target.blocks), true);
      bytes.set(ID_NS.NSZE, nsze);
      bytes.set(ID_NS.LBAF0_LBADS, Uint8Array.of(Math.log2(b.target.blockSize)));
    } else {
      // The active namespace list: NSID 1, then zeroes.
      bytes.set(0, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    }
    const data = [...bytes].flatMap(([offset, b]) => dataAt(l, offset, b));
    if (data.length > 0) expect.data = data;
  }
  b.admin([identifyFields(cns, { nsid: cns === Cns.NAMESPACE ? NSID : 0 })], expect, l);
}

/** A command the controller must fail before it executes, with exactly one CQE. */
export function earlyFailure(b: CaseBuilder, a: Extract<FuzzAction, { kind: 'early-failure' }>): void {
  const p = a.admin ? undefined : b.pair(a.queue);
  const qid = p?.sqid ?? 0;
  if (b.model.stalled(qid)) return;
  let f: SqeFields;
  let status: string;
  switch (a.how) {
    case 'opcode': {
      const list = qid === 0 ? UNSUPPORTED_ADMIN : UNSUPPORTED_NVM;
      f = { opcode: list[a.pick % list.length] as number, nsid: NSID };
      status = '0/01h';
      break;
    }
    case 'nsid':
      if (qid === 0) {
        // An admin command names no namespace: Get Features of a controller feature with NSID 2.
        f = { ...getFeaturesFields(FeatureId.ARBITRATION), nsid: 2 };
        status = '1/0Fh';
      } else {
        f = { ...writeZeroesCommand(NSID, 0n, 1), nsid: INVALID_NSIDS[a.pick % INVALID_NSIDS.length] as number };
        status = '0/0Bh';
      }
      break;
    case 'fuse':
      f = { ...(qid === 0 ? getFeaturesFields(FeatureId.ARBITRATION) : flushCommand(NSID)), fuse: 1 + (a.pick % 3) };
      status = St.INVALID_FIELD;
      break;
    case 'psdt':
      f = {
        ...(qid === 0 ? getFeaturesFields(FeatureId.ARBITRATION) : flushCommand(NSID)),
        psdt: qid === 0 ? 1 + (a.pick % 3) : 3,
      };
      status = St.INVALID_FIELD;
      break;
  }
  const expect: MutableExpect = { status: [status], sqid: qid };
  const cmd = b.command(f, expect);
  b.steps.push({ do: 'submit', qid, commands: [cmd], doorbell: true });
  b.model.posted(b.cqOf(qid));
}

/** A Create I/O CQ or SQ with one thing wrong; with `retry`, a correct one of the same id after it. */
export function createInvalid(b: CaseBuilder, a: Extract<FuzzAction, { kind: 'create-invalid' }>): void {
  const m = b.model;
  const cq = a.cq;
  let qid = b.freeQid(cq);
  let size = 2 + (a.pick % 15);
  let addr = b.ring(BigInt(a.pick) * BigInt(PAGE) * 4099n, RING_RESERVE);
  let iv = Math.min(b.linuxVector(qid), b.vectors - 1);
  let pc = true;
  let cqid = b.pairs[a.pick % Math.max(1, b.pairs.length)]?.cqid ?? 1;
  const allocated = (cq ? m.ncqa : m.nsqa) + 1;
  switch (a.flaw) {
    case 'qid-zero':
      qid = 0;
      break;
    case 'qid-in-use':
      qid = b.pairs[a.pick % Math.max(1, b.pairs.length)]?.[cq ? 'cqid' : 'sqid'] ?? 1;
      break;
    case 'qid-above-allocated':
      qid = allocated + 1 + (a.pick % 2);
      break;
    case 'size-one':
      size = 1;
      break;
    case 'size-above-mqes':
      size = b.mqes + 2;
      break;
    case 'base-offset':
      addr += BigInt(m.pageSize === PAGE ? 0x100 * (1 + (a.pick % 15)) : PAGE);
      break;
    case 'vector':
      if (!cq) return;
      iv = b.vectors + (a.pick % 4);
      break;
    case 'not-contiguous':
      pc = false;
      break;
    case 'cq-missing':
      if (cq) return;
      cqid = b.freeQid(true);
      break;
    case 'cq-zero':
      if (cq) return;
      cqid = 0;
      break;
  }
  if (qid > MAX_QID_PROBE) return;
  if (cq) b.createCq(qid, addr, size, true, iv, pc);
  else b.createSq(qid, addr, size, cqid, pc);
  if (!a.retry || qid === 0) return;
  // The same id again, correct this time: a failed create must leave no trace (Linux "put CQ ref on create_cq mapping failure").
  const retryAddr = b.ring(addr + BigInt(RING_RESERVE * 4), RING_RESERVE);
  const status = cq
    ? b.createCq(qid, retryAddr, 2 + (a.pick % 7), true, Math.min(b.linuxVector(qid), b.vectors - 1))
    : b.createSq(qid, retryAddr, 2 + (a.pick % 7), b.pairs[0]?.cqid ?? 1);
  if (status[0] === St.SUCCESS) {
    // Not part of the host's pairs: take it away again so the pairs stay what they were.
    if (cq) b.deleteQueue(true, qid);
    else b.deleteQueue(false, qid);
  }
}

/** A Delete I/O SQ or CQ that must fail: a queue that does not exist, the admin queue, or a CQ with SQs. */
export function deleteInvalid(b: CaseBuilder, a: Extract<FuzzAction, { kind: 'delete-invalid' }>): void {
  const qid = a.busy && a.cq ? (b.pair(a.pick)?.cqid ?? 0) : a.pick % 3 === 0 ? 0 : b.freeQid(a.cq);
  b.deleteQueue(a.cq, qid);
}

/** Deletes a pair's SQs and CQ, then creates them again (IEN and depths as drawn). */
export function recreate(b: CaseBuilder, a: Extract<FuzzAction, { kind: 'recreate' }>): void {
  const p = b.pair(a.queue);
  if (p === undefined) return;
  const sharing = b.pairs.filter((q) => q.cqid === p.cqid);
  for (const q of sharing) b.deleteQueue(false, q.sqid);
  b.deleteQueue(true, p.cqid);
  const cqAddr = b.ring(p.cqAddr + BigInt(RING_RESERVE * 8), RING_RESERVE);
  const owner = b.pairs.find((q) => q.sqid === p.cqid) ?? p;
  owner.cqAddr = cqAddr;
  owner.cqDepth = a.cqDepth;
  for (const q of sharing) {
    q.ien = a.ien;
    q.cqDepth = a.cqDepth;
  }
  b.createCq(p.cqid, cqAddr, a.cqDepth, a.ien, b.linuxVector(p.cqid));
  for (const q of sharing) {
    q.sqAddr = b.ring(q.sqAddr + BigInt(RING_RESERVE * 8), RING_RESERVE);
    q.sqDepth = a.sqDepth;
    b.createSq(q.sqid, q.sqAddr, a.sqDepth, q.cqid);
  }
}

/** A raw doorbell write the controller must refuse: past a live ring, or to a queue that does not exist. */
export function doorbell(b: CaseBuilder, a: Extract<FuzzAction, { kind: 'doorbell' }>): void {
  const m = b.model;
  let qid: number;
  let value: number;
  if (a.missing) {
    qid = b.freeQid(a.cq);
    // A value the register does not hold yet, distinct for every write of the case.
    value = b.nextRaw++;
  } else {
    const p = b.pair(a.pick);
    if (p === undefined) return;
    qid = a.cq ? p.cqid : p.sqid;
    const size = a.cq ? (m.cqs.get(qid)?.size ?? 2) : (m.sqs.get(qid)?.size ?? 2);
    value = Math.min(0xffff_ffff, size + a.value + b.nextRaw++);
  }
  if (qid > MAX_QID_PROBE) return;
  if (a.cq) m.cqDoorbell(qid, value);
  else m.sqDoorbell(qid, value);
  b.steps.push({ do: 'doorbell', queue: a.cq ? 'cq' : 'sq', qid, value });
}

/** Holds a CQ's head doorbell, fills it past what it holds from one of its SQs, then releases it. */
export function hold(b: CaseBuilder, queue: number, extra: number): void {
  const p = b.pair(queue);
  if (p === undefined || b.model.stalled(p.sqid)) return;
  const cqDepth = b.model.cqs.get(p.cqid)?.size;
  if (cqDepth === undefined) return;
  const count = Math.min(cqDepth - 1 + extra, p.sqDepth - 1, MAX_BATCH * 2);
  b.steps.push({ do: 'cq-head', qid: p.cqid, hold: true });
  const picks: NvmCommandPick[] = Array.from({ length: count }, (_, i) => ({
    kind: i % 3 === 2 ? 'read' : 'write',
    slba: (i * 8) % Math.max(1, b.target.blocks - 8),
    nlb: 1,
  }));
  io(b, b.pairs.indexOf(p), picks, false);
  b.steps.push({ do: 'cq-head', qid: p.cqid, hold: false });
}

/** An Asynchronous Event Request under a CID of the case's choosing (while the admin SQ keeps a slot free). */
export function asyncEventRequest(b: CaseBuilder): void {
  // A waiting AER holds its slot until the host learns the head moved: keep one free for other admin commands.
  if (b.model.aersWaiting + 2 >= b.params.bringUp.admin.depth) return;
  const expect: MutableExpect = { sqid: 0 };
  b.model.asyncEventRequest(expect);
  const cmd = b.command(asyncEventRequestFields(), expect, undefined, AER_CID_BASE + b.nextAer++);
  b.steps.push({ do: 'submit', qid: 0, commands: [cmd], doorbell: true });
}

/** Get Log Page Error Information with RAE = 0: unmasks error events. */
export function errorLog(b: CaseBuilder): void {
  // A log read whose outcome is uncertain would leave the event mask uncertain: invalid layouts do not read it.
  if (!b.checkData) return;
  const l = b.layout(0, ERROR_LOG_BYTES, false);
  b.writeStructures(l);
  const status = b.statuses(l);
  b.admin(
    [getLogPageFields({ lid: Lid.ERROR_INFORMATION, length: ERROR_LOG_BYTES }, 0xffff_ffff)],
    { status, sqid: 0 },
    l,
  );
  if (status.length === 1 && status[0] === St.SUCCESS) b.model.logRead(Lid.ERROR_INFORMATION, false);
}

/** Interrupt Coalescing, or Interrupt Vector Configuration for one vector (§5.21.1.8–9). */
export function coalescing(b: CaseBuilder, a: Extract<FuzzAction, { kind: 'coalescing' }>): void {
  if (a.vector % 2 === 0) {
    const value = packFields(FEATURE_DW11.INTERRUPT_COALESCING, { THR: a.threshold, TIME: a.time });
    b.admin([setFeaturesFields(FeatureId.INTERRUPT_COALESCING, value)], { status: [St.SUCCESS], sqid: 0 });
    return;
  }
  const iv = a.vector === 1 ? b.allVectors : a.vector;
  const value = packFields(FEATURE_DW11.INTERRUPT_VECTOR_CONFIGURATION, { IV: iv, CD: a.disable ? 1 : 0 });
  const status = iv < b.allVectors ? St.SUCCESS : St.INVALID_FIELD;
  b.admin([setFeaturesFields(FeatureId.INTERRUPT_VECTOR_CONFIGURATION, value)], { status: [status], sqid: 0 });
}

/** Abort of a CID that is not outstanding: best effort, so success with "not aborted". */
export function abort(b: CaseBuilder, a: Extract<FuzzAction, { kind: 'abort' }>): void {
  const p = a.queue === 0 ? undefined : b.pair(a.queue - 1);
  const sqid = p?.sqid ?? 0;
  if (b.model.stalled(sqid) || (sqid === 0 && (a.cid & 0xf000) === AER_CID_BASE)) return;
  // The host's own CIDs carry a generation in bits 15:12; 0xF000 upwards are never handed out by the replay.
  const cid = 0xf000 | (a.cid & 0xfff);
  b.admin([abortFields(sqid, cid)], { status: [St.SUCCESS], dw0: 1, sqid: 0 });
}

/** A reset, a shutdown, or an invalid enable; then the controller is brought up again with the same queues. */
export function power(b: CaseBuilder, event: PowerEvent, pick: number): void {
  const dropped: PendingExpect[] = [];
  if (event === 'shutdown-normal' || event === 'shutdown-abrupt') {
    dropped.push(...b.model.shutdown());
    b.steps.push({
      do: 'shutdown',
      type: event === 'shutdown-normal' ? 'normal' : 'abrupt',
      expect: { csts: { RDY: 0, SHST: 2 } },
    });
  } else {
    dropped.push(...b.model.disable());
    b.steps.push({ do: 'disable', expect: { csts: { RDY: 0, CFS: 0 } } });
  }
  for (const e of dropped) e.completes = 'any';
  b.stuck.clear();
  if (event === 'invalid-enable') {
    const bad = INVALID_CC[pick % INVALID_CC.length] as (typeof INVALID_CC)[number];
    const value = bad.values[Math.floor(pick / INVALID_CC.length) % bad.values.length] as number;
    const cc = { mps: b.params.bringUp.mps, css: 0, ams: 0, iosqes: 6, iocqes: 4 };
    const key = ({ IOSQES: 'iosqes', IOCQES: 'iocqes', MPS: 'mps', CSS: 'css', AMS: 'ams' } as const)[
      bad.field as 'IOSQES' | 'IOCQES' | 'MPS' | 'CSS' | 'AMS'
    ];
    b.enable({ ...cc, [key]: value });
    dropped.push(...b.model.disable());
    b.steps.push({ do: 'disable', expect: { csts: { RDY: 0 } } });
  }
  b.bringUp(false);
}
