/**
 * Making byte ranges of a namespace read as zero, for Write Zeroes and Dataset Management
 * deallocation, when the work exceeds one bounce buffer: in pieces over polls, each piece sized
 * to what the poll has left by the backend's {@link NamespaceBackend.zeroingCost} (a file writes
 * every byte; RAM only drops chunks, so a whole range is one cheap piece there).
 */
import { type NvmeStatus, NvmOpcode, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import { DEFERRED, type HandlerResult } from '../command/command.js';
import type { IoContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import type { ResumableCommand } from '../command/resumable-command.js';
import type { NamespaceBackend } from '../namespace/backend.js';
import type { Namespace } from '../namespace/namespace.js';

/** Bytes of a namespace. */
export interface ByteRange {
  offset: number;
  length: number;
}

export type ZeroingMode = 'deallocate' | 'write-zeroes';

/** The smallest piece a step zeroes, even when the poll has (almost) nothing left: every step progresses. */
const MIN_PIECE = 64 * 1024;

/** Sorts `ranges` and merges the ones that overlap or touch: the same bytes are never zeroed twice. */
export function mergeRanges(ranges: ByteRange[]): ByteRange[] {
  ranges.sort((a, b) => a.offset - b.offset);
  const merged: ByteRange[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r.offset <= last.offset + last.length) {
      last.length = Math.max(last.length, r.offset + r.length - last.offset);
    } else {
      merged.push({ offset: r.offset, length: r.length });
    }
  }
  return merged;
}

/** Work of zeroing every range. */
export function zeroingCost(backend: NamespaceBackend, ranges: readonly ByteRange[]): number {
  let cost = 0;
  for (const r of ranges) cost += backend.zeroingCost(r.length);
  return cost;
}

class RangeZeroing implements ResumableCommand {
  readonly origin: Request;
  readonly #ctx: IoContext;
  readonly #ns: Namespace;
  readonly #ranges: readonly ByteRange[];
  readonly #mode: ZeroingMode;
  readonly #durable: boolean;
  #index = 0;
  /** Bytes of the current range already zeroed. */
  #done = 0;

  constructor(
    ctx: IoContext,
    held: Request,
    ns: Namespace,
    ranges: readonly ByteRange[],
    mode: ZeroingMode,
    durable: boolean,
  ) {
    this.origin = held;
    this.#ctx = ctx;
    this.#ns = ns;
    this.#ranges = ranges;
    this.#mode = mode;
    this.#durable = durable;
  }

  step(): HandlerResult {
    const work = this.#ctx.work;
    const backend = this.#ns.backend;
    do {
      const r = this.#ranges[this.#index] as ByteRange;
      const remaining = r.length - this.#done;
      const allowed = Math.max(work.workLeft, MIN_PIECE);
      const n = backend.zeroingCost(remaining) <= allowed ? remaining : Math.min(remaining, allowed);
      const offset = r.offset + this.#done;
      work.chargeWork(backend.zeroingCost(n));
      const ok = this.#mode === 'deallocate' ? backend.deallocate(offset, n) : backend.writeZeroes(offset, n, false);
      if (!ok) return this.#writeFault(offset);
      this.#done += n;
      if (this.#done === r.length) {
        this.#index++;
        this.#done = 0;
      }
    } while (this.#index < this.#ranges.length && work.workLeft > 0);
    if (this.#index < this.#ranges.length) return DEFERRED;
    if (this.#durable && !backend.flush()) return this.#writeFault(this.#ranges[0]?.offset ?? 0);
    // SMART counts Write Zeroes as a host write command; Dataset Management is not one.
    if (this.origin.opcode === NvmOpcode.WRITE_ZEROES) this.#ctx.smart.hostWriteCommands++;
    return STATUS_SUCCESS;
  }

  release(): void {}

  #writeFault(offset: number): NvmeStatus {
    this.#ctx.smart.mediaErrors++;
    this.origin.errorLba = BigInt(Math.floor(offset / this.#ns.blockSize));
    return Status.WRITE_FAULT;
  }
}

/**
 * Zeroes (`write-zeroes`) or deallocates `ranges` (sorted, not overlapping) of `ns` over polls;
 * the scheduler posts the completion. `durable`: flushed after the last piece (FUA, WCE = 0).
 */
export function startZeroing(
  ctx: IoContext,
  req: Request,
  ns: Namespace,
  ranges: readonly ByteRange[],
  mode: ZeroingMode,
  durable: boolean,
): HandlerResult {
  return ctx.resumables.startResumable(req, (held) => new RangeZeroing(ctx, held, ns, ranges, mode, durable));
}
