/**
 * Completion posting (NVMe Base 1.4 §4.6; rules Q-5, Q-6): a completion is posted at the CQ tail
 * at once, or kept in order until the host's head doorbell makes room (Q-2). Each failed command
 * gets an Error Information log entry and a trace event. As in nvmet_pci_epf_cq_work(), a CQE
 * that cannot be written makes the controller fatal: the host could never learn of it otherwise.
 */
import { type EpcError, faultError } from '@epfsim/epc-core';
import {
  CQE,
  CQE_SIZE,
  CQE_STATUS,
  cqeSetCid,
  cqeSetDw0,
  cqeSetDw1,
  cqeSetSqhd,
  cqeSetSqid,
  type NvmeStatus,
  Status,
} from '@epfsim/nvme-spec-types';
import { EarlyFailure } from '../command/command.js';
import type { CommandOrigin } from '../command/resumable-command.js';
import { succeeded } from '../command/succeeded.js';
import type { FunctionFaultFlags } from '../faults/catalogue.js';
import { ERROR_NO_COMMAND, type ErrorLog } from '../health/error-log.js';
import type { Interrupts } from '../interrupts.js';
import type { CompletionQueue } from '../queues/completion-queue.js';
import type { SubmissionQueue } from '../queues/submission-queue.js';
import type { RegisterFile } from '../registers/register-file.js';
import { type FunctionStats, statusKey } from '../stats.js';
import type { TraceRing } from '../trace.js';
import type { BounceBuffers } from '../transfer/bounce-buffers.js';
import type { HostPort } from '../transfer/host-port.js';
import type { RunState } from './run-state.js';

/** Statuses, cached by value, for the stats keys (no string per completion). */
const statusKeys = new Map<number, string>();
/** Width mask of the CQE Status Field (15 bits above the phase tag). */
const CQE_SF_MASK = 2 ** CQE_STATUS.SF.len - 1;

/** What a handler may complete by hand: a command other than its own (Abort completes the AER it aborts). */
export interface Completer {
  /** Queues a completion for `cid` of `sq`: posted now, or kept in order until the CQ has room. */
  complete(sq: SubmissionQueue, cid: number, status: NvmeStatus, dw0: number, cmd?: CommandOrigin): void;
}

/** The parts of the function that completion posting writes to or reads. */
export interface CompletionDeps {
  readonly port: HostPort;
  readonly regs: RegisterFile;
  readonly interrupts: Interrupts;
  readonly errorLog: ErrorLog;
  readonly stats: FunctionStats;
  readonly trace: TraceRing;
  readonly faults: FunctionFaultFlags;
  readonly buffers: BounceBuffers;
  readonly run: RunState;
}

export class Completions implements Completer {
  readonly #d: CompletionDeps;
  /** One CQE, filled and written for each post. */
  readonly #cqe = new Uint8Array(CQE_SIZE);
  readonly #cqeView = new DataView(this.#cqe.buffer);

  constructor(deps: CompletionDeps) {
    this.#d = deps;
  }

  complete(sq: SubmissionQueue, cid: number, status: NvmeStatus, dw0: number, cmd?: CommandOrigin): void {
    const d = this.#d;
    if (!succeeded(status)) this.#recordError(sq, cid, status, cmd);
    let key = statusKeys.get(status);
    if (key === undefined) {
      key = statusKey(status);
      statusKeys.set(status, key);
    }
    const byStatus = d.stats.completionsByStatus;
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    // Fault cqe-fields-uninitialized: before Linux ffe0398c7d6a ("Always fully initialize completion
    // entries") a command the function failed before execution was posted with the SQ head, SQ id and
    // CID its completion entry last held. Here that is the previous CQE this function posted.
    const staleIds = d.faults.cqeFieldsUninitialized && cmd !== undefined && cmd.earlyFailure !== EarlyFailure.NONE;
    const cq = sq.cq;
    if (cq.deferred.length > 0 || this.cqFull(cq)) {
      cq.deferred.push(staleIds ? { sq, cid, status, dw0, staleIds } : { sq, cid, status, dw0 });
      d.stats.deferredCompletions++;
      return;
    }
    this.#post(cq, sq, cid, status, dw0, staleIds);
  }

  /**
   * Q-2: no room for one more entry. Fault cq-full-check-misses-wrap tests head == tail + 1, as
   * the Linux function's nvmet_pci_epf_cq_work() does, which misses tail = size - 1 with head = 0.
   */
  cqFull(cq: CompletionQueue): boolean {
    if (this.#d.faults.cqFullCheckMissesWrap) return cq.head === cq.tail + 1;
    return cq.full;
  }

  /** Posts completions that waited for room, in order, while there is room; returns how many. */
  flushDeferred(cq: CompletionQueue): number {
    let posted = 0;
    while (cq.deferred.length > 0 && !this.cqFull(cq) && this.#d.run.ready) {
      const c = cq.deferred.shift()!;
      if (!this.#post(cq, c.sq, c.cid, c.status, c.dw0, c.staleIds === true)) {
        this.dropDeferred(cq);
        break;
      }
      posted++;
    }
    return posted;
  }

  /** Drops the completions waiting for room in `cq` (a reset, a deleted CQ, a failed post). */
  dropDeferred(cq: CompletionQueue): void {
    this.#d.stats.commandsDropped += cq.deferred.length;
    cq.deferred.length = 0;
  }

  /** Writes one CQE at the tail. `staleIds`: SQHD, SQID and CID stay as the last CQE left them. */
  #post(
    cq: CompletionQueue,
    sq: SubmissionQueue,
    cid: number,
    status: NvmeStatus,
    dw0: number,
    staleIds: boolean,
  ): boolean {
    const d = this.#d;
    const v = this.#cqeView;
    cqeSetDw0(v, 0, dw0);
    cqeSetDw1(v, 0, 0);
    if (!staleIds) {
      cqeSetSqhd(v, 0, sq.head);
      cqeSetSqid(v, 0, sq.qid);
      cqeSetCid(v, 0, cid);
    }
    // cqeSetStatus(v, 0, status, cq.phase), with the field masks computed once.
    v.setUint16(
      CQE.STATUS.off,
      ((status & CQE_SF_MASK) << CQE_STATUS.SF.bit) | ((cq.phase & 1) << CQE_STATUS.P.bit),
      true,
    );
    let entry: Uint8Array = this.#cqe;
    let offset = cq.tail * CQE_SIZE;
    if (d.faults.uncheckedEntrySizes && cq.entrySize !== CQE_SIZE) {
      entry = this.#sizedCqe(cq.entrySize);
      offset = cq.tail * cq.entrySize;
    }
    let failure: EpcError | null = null;
    if (cq.map !== null) {
      const fault = cq.map.write(offset, entry);
      if (fault !== null) failure = faultError(fault);
      d.stats.cqePostsMapped++;
    } else {
      if (!d.port.write(cq.base + BigInt(offset), entry)) failure = d.port.lastError;
      d.stats.cqePostsTransferred++;
    }
    if (failure !== null) {
      d.stats.commandsDropped++;
      d.run.fatal(`CQ ${cq.qid}: writing entry ${cq.tail} failed (${failure.toString()})`, cq.qid, failure);
      return false;
    }
    cq.advanceTail();
    d.stats.commandsCompleted++;
    d.interrupts.onPosted(cq, d.regs.intMask);
    return true;
  }

  /**
   * Fault unchecked-entry-sizes: a CQE of `size` = 2^IOCQES bytes, as memcpy_toio() of the queue's
   * entry size wrote it before the Linux fix: shorter, it is cut (status and phase may not reach the
   * host); longer, the CQE is followed by the controller memory after it, here the start of the data
   * bounce buffer (the data of earlier commands): a deterministic leak.
   */
  #sizedCqe(size: number): Uint8Array {
    if (size < CQE_SIZE) return this.#cqe.subarray(0, size);
    const entry = new Uint8Array(size);
    entry.set(this.#cqe);
    entry.set(this.#d.buffers.stale(size - CQE_SIZE), CQE_SIZE);
    return entry;
  }

  #recordError(sq: SubmissionQueue, cid: number, status: NvmeStatus, cmd: CommandOrigin | undefined): void {
    const d = this.#d;
    d.errorLog.record({
      sqid: sq.qid,
      cid,
      status,
      phase: sq.cq.phase,
      location: cmd?.errorLocation ?? ERROR_NO_COMMAND,
      lba: cmd?.errorLba ?? 0n,
      nsid: cmd?.nsid ?? 0,
    });
    // A data phase that failed in the EPC: the refused request and the limit it hit go with it.
    const epc = status === Status.DATA_XFER_ERROR ? d.port.lastError : null;
    d.trace.record({
      kind: 'command-error',
      message: `SQ ${sq.qid} CID ${cid}${cmd ? ` opcode 0x${cmd.opcode.toString(16)}` : ''}: status ${statusKey(status)}`,
      qid: sq.qid,
      cid,
      ...(cmd ? { opcode: cmd.opcode } : {}),
      status,
      ...(epc === null ? {} : { epc }),
    });
  }
}
