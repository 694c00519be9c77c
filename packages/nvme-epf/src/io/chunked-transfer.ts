/**
 * Read, Write, Compare and Verify of more than one bounce buffer (possible when MDTS is larger
 * than the bounce limit or unlimited: up to 256 MiB per command), in pieces of one bounce buffer
 * over polls. The data pointer is parsed once, when the command gets one of the controller's
 * resumable-transfer slots; each piece then moves host ⇄ bounce by the transfer strategy and
 * bounce ⇄ backend, one copy per hop, as the one-piece path does. Writes are made durable once,
 * after the last piece, when FUA is set or the write cache is off.
 */
import { type NvmeStatus, SQE_SIZE, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import { Command, DEFERRED, type HandlerResult } from '../command/command.js';
import { RESUMABLE_TRANSFER_SLOTS, type ResumableCommand } from '../command/resumable-command.js';
import { succeeded } from '../command/succeeded.js';
import type { NvmeController } from '../controller.js';
import type { DataSegment } from '../data-pointer/index.js';
import type { SegmentCursor } from '../data-transfer.js';
import type { Namespace } from '../namespace/namespace.js';
import type { LbaRange } from './lba-range.js';

export type ChunkedKind = 'read' | 'write' | 'compare' | 'verify';

/**
 * Work charged per segment the data-pointer parse produced (an object, its checks and its merge
 * test; about as long as copying this many bytes): a 256 MiB transfer over 65536 scattered pages
 * spends one poll on its parse alone, and moves data from the next.
 */
const SEGMENT_PARSE_WORK = 512;

/** Byte-wise equality without a JS loop per byte. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

class ChunkedTransfer implements ResumableCommand {
  /** The command, on a copy of its SQE: the fetch buffer is reused by the commands that follow. */
  readonly origin: Command;
  readonly #c: NvmeController;
  readonly #ns: Namespace;
  readonly #kind: ChunkedKind;
  readonly #slba: bigint;
  readonly #offset: number;
  readonly #bytes: number;
  readonly #durable: boolean;
  #done = 0;
  #started = false;
  #holdsSlot = false;
  #segments: DataSegment[] = [];
  readonly #cursor: SegmentCursor = { index: 0, offset: 0 };

  constructor(c: NvmeController, cmd: Command, ns: Namespace, kind: ChunkedKind, r: LbaRange, durable: boolean) {
    const sqe = new Uint8Array(SQE_SIZE);
    sqe.set(new Uint8Array(cmd.view.buffer, cmd.view.byteOffset + cmd.base, SQE_SIZE));
    this.origin = new Command(new DataView(sqe.buffer));
    this.origin.load(this.origin.view, 0, cmd.sq!);
    this.#c = c;
    this.#ns = ns;
    this.#kind = kind;
    this.#slba = r.slba;
    this.#offset = r.offset;
    this.#bytes = r.bytes;
    this.#durable = durable;
  }

  step(): HandlerResult {
    const c = this.#c;
    if (!this.#started) {
      if (this.#kind !== 'verify') {
        // Each transfer in progress holds its segment list: a few at a time bound that memory.
        if (c.resumableTransfers >= RESUMABLE_TRANSFER_SLOTS) return DEFERRED;
        c.resumableTransfers++;
        this.#holdsSlot = true;
        const mapped = c.mapData(this.origin, this.#bytes, this.#kind === 'read');
        if (!succeeded(mapped)) return mapped;
        this.#segments = c.takeSegments();
        c.chargeWork(this.#segments.length * SEGMENT_PARSE_WORK);
      }
      this.#started = true;
      if (c.workLeft <= 0) return DEFERRED;
    }
    do {
      const n = Math.min(this.#bytes - this.#done, c.bounceLimit);
      const status = this.#piece(this.#offset + this.#done, n);
      if (status !== STATUS_SUCCESS) return status;
      this.#done += n;
    } while (this.#done < this.#bytes && c.workLeft > 0);
    return this.#done < this.#bytes ? DEFERRED : this.#finish();
  }

  release(): void {
    if (this.#holdsSlot) this.#c.resumableTransfers--;
    this.#holdsSlot = false;
    this.#segments = [];
  }

  #piece(offset: number, n: number): NvmeStatus {
    const c = this.#c;
    const backend = this.#ns.backend;
    const port = c.port;
    const buf = c.bounce(n);
    switch (this.#kind) {
      case 'read':
        if (!backend.read(offset, buf)) return this.#mediaError(Status.READ_ERROR);
        if (!port.transferPart(this.#segments, this.#cursor, buf, 'toHost')) return c.dataTransferError(this.origin);
        c.stats.dataBytesToHost += n;
        return STATUS_SUCCESS;
      case 'write':
        if (!port.transferPart(this.#segments, this.#cursor, buf, 'fromHost')) return c.dataTransferError(this.origin);
        c.stats.dataBytesFromHost += n;
        if (!backend.write(offset, buf, false)) return this.#mediaError(Status.WRITE_FAULT);
        return STATUS_SUCCESS;
      case 'compare': {
        if (!port.transferPart(this.#segments, this.#cursor, buf, 'fromHost')) return c.dataTransferError(this.origin);
        c.stats.dataBytesFromHost += n;
        const media = c.bounce2(n);
        if (!backend.read(offset, media)) return this.#mediaError(Status.READ_ERROR);
        if (sameBytes(buf, media)) return STATUS_SUCCESS;
        this.origin.errorLba = this.#slba;
        return Status.COMPARE_FAILED;
      }
      case 'verify':
        c.chargeWork(n);
        return backend.read(offset, buf) ? STATUS_SUCCESS : this.#mediaError(Status.READ_ERROR);
    }
  }

  #finish(): NvmeStatus {
    const smart = this.#c.smart;
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
    this.#c.smart.mediaErrors++;
    this.origin.errorLba = this.#slba;
    return status;
  }
}

/**
 * Runs `kind` of `r` (checked by the caller: MDTS and LBA range) in pieces over polls; the
 * controller posts the completion. `durable`: a write is flushed after its last piece.
 */
export function startChunkedTransfer(
  c: NvmeController,
  cmd: Command,
  ns: Namespace,
  kind: ChunkedKind,
  r: LbaRange,
  durable = false,
): HandlerResult {
  return c.startResumable(cmd, new ChunkedTransfer(c, cmd, ns, kind, r, durable));
}
