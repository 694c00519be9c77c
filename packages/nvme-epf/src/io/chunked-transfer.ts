/**
 * Read, Write, Compare and Verify of more than one bounce buffer (possible when MDTS is larger
 * than the bounce limit or unlimited: up to 256 MiB per command), in pieces of one bounce buffer
 * over polls. The data pointer is parsed once, when the command gets one of the controller's
 * resumable-transfer slots; each piece then moves host ⇄ bounce by the transfer strategy and
 * bounce ⇄ backend, one copy per hop, as the one-piece path does. Writes are made durable once,
 * after the last piece, when FUA is set or the write cache is off.
 */
import { type NvmeStatus, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import { DEFERRED, type HandlerResult } from '../command/command.js';
import type { IoContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import type { ResumableCommand } from '../command/resumable-command.js';
import { succeeded } from '../command/succeeded.js';
import type { Namespace } from '../namespace/namespace.js';
import type { SegmentCursor } from '../transfer/host-port.js';
import type { LbaRange } from './lba-range.js';

export type ChunkedKind = 'read' | 'write' | 'compare' | 'verify';

/**
 * Work charged per segment the data-pointer parse produced (an object, its checks and its merge
 * test; about as long as copying this many bytes): a 256 MiB transfer over 65536 scattered pages
 * spends one poll on its parse alone, and moves data from the next.
 */
const SEGMENT_PARSE_WORK = 512;

/** Byte-wise equality without a JS loop per byte. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

class ChunkedTransfer implements ResumableCommand {
  /** The command, on a copy of its SQE: the fetch buffer is reused by the commands that follow. */
  readonly origin: Request;
  readonly #ctx: IoContext;
  readonly #ns: Namespace;
  readonly #kind: ChunkedKind;
  readonly #slba: bigint;
  readonly #offset: number;
  readonly #bytes: number;
  readonly #durable: boolean;
  #done = 0;
  #started = false;
  #holdsSlot = false;
  readonly #cursor: SegmentCursor = { index: 0, offset: 0 };

  constructor(ctx: IoContext, held: Request, ns: Namespace, kind: ChunkedKind, r: LbaRange, durable: boolean) {
    this.origin = held;
    this.#ctx = ctx;
    this.#ns = ns;
    this.#kind = kind;
    this.#slba = r.slba;
    this.#offset = r.offset;
    this.#bytes = r.bytes;
    this.#durable = durable;
  }

  step(): HandlerResult {
    const ctx = this.#ctx;
    const work = ctx.work;
    if (!this.#started) {
      if (this.#kind !== 'verify') {
        // Each transfer in progress holds its segment list: a few at a time bound that memory.
        if (!ctx.resumables.takeTransferSlot()) return DEFERRED;
        this.#holdsSlot = true;
        const mapped = ctx.data.mapData(this.origin, this.#bytes, this.#kind === 'read');
        if (!succeeded(mapped)) return mapped;
        work.chargeWork(this.origin.segments.length * SEGMENT_PARSE_WORK);
      }
      this.#started = true;
      if (work.workLeft <= 0) return DEFERRED;
    }
    do {
      const n = Math.min(this.#bytes - this.#done, this.origin.bounceLimit);
      const status = this.#piece(this.#offset + this.#done, n);
      if (status !== STATUS_SUCCESS) return status;
      this.#done += n;
    } while (this.#done < this.#bytes && work.workLeft > 0);
    return this.#done < this.#bytes ? DEFERRED : this.#finish();
  }

  release(): void {
    if (this.#holdsSlot) this.#ctx.resumables.giveTransferSlot();
    this.#holdsSlot = false;
  }

  #piece(offset: number, n: number): NvmeStatus {
    const ctx = this.#ctx;
    const req = this.origin;
    const backend = this.#ns.backend;
    const buf = req.bounce(n);
    switch (this.#kind) {
      case 'read':
        if (!backend.read(offset, buf)) return this.#mediaError(Status.READ_ERROR);
        return ctx.data.transferPart(req, this.#cursor, buf, true);
      case 'write': {
        const moved = ctx.data.transferPart(req, this.#cursor, buf, false);
        if (moved !== STATUS_SUCCESS) return moved;
        if (!backend.write(offset, buf, false)) return this.#mediaError(Status.WRITE_FAULT);
        return STATUS_SUCCESS;
      }
      case 'compare': {
        const moved = ctx.data.transferPart(req, this.#cursor, buf, false);
        if (moved !== STATUS_SUCCESS) return moved;
        const media = req.bounce2(n);
        if (!backend.read(offset, media)) return this.#mediaError(Status.READ_ERROR);
        if (sameBytes(buf, media)) return STATUS_SUCCESS;
        this.origin.errorLba = this.#slba;
        return Status.COMPARE_FAILED;
      }
      case 'verify':
        ctx.work.chargeWork(n);
        return backend.read(offset, buf) ? STATUS_SUCCESS : this.#mediaError(Status.READ_ERROR);
    }
  }

  #finish(): NvmeStatus {
    const smart = this.#ctx.smart;
    switch (this.#kind) {
      case 'read':
        smart.bytesRead += this.#bytes;
        smart.hostReadCommands++;
        break;
      case 'write':
        if (this.#durable && !this.#ns.backend.flush()) return this.#mediaError(Status.WRITE_FAULT);
        smart.bytesWritten += this.#bytes;
        smart.hostWriteCommands++;
        break;
      case 'compare':
        smart.bytesRead += this.#bytes;
        smart.hostReadCommands++;
        break;
      default:
        // Verify: its blocks are data units read, but it is not a host read command (SMART, C-A2).
        smart.bytesRead += this.#bytes;
    }
    return STATUS_SUCCESS;
  }

  /** A media failure of the backend: counted in SMART Media Errors. */
  #mediaError(status: NvmeStatus): NvmeStatus {
    this.#ctx.smart.mediaErrors++;
    this.origin.errorLba = this.#slba;
    return status;
  }
}

/**
 * Runs `kind` of `req.range` (checked by the caller: MDTS and LBA range) in pieces over polls; the
 * scheduler posts the completion. `durable`: a write is flushed after its last piece.
 */
export function startChunkedTransfer(
  ctx: IoContext,
  req: Request,
  ns: Namespace,
  kind: ChunkedKind,
  durable = false,
): HandlerResult {
  return ctx.resumables.startResumable(req, (held) => new ChunkedTransfer(ctx, held, ns, kind, req.range, durable));
}
