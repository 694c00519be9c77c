/**
 * Command data between host memory and the function's buffers: the data pointer (PRPs or an SGL)
 * is parsed into the request's segments, then data moves host ⇄ bounce buffer by the transfer
 * strategy, as nvmet_pci_epf_iod_parse_dptr() and nvmet_pci_epf_transfer() do. A failed host
 * access in the data phase is host misbehaviour: 0/04h and a trace event (P-9).
 */
import { type NvmeStatus, STATUS_SUCCESS, Status } from '@epfsim/nvme-spec-types';
import { EarlyFailure } from '../command/command.js';
import type { Request } from '../command/request.js';
import { type DataPointerOptions, parsePrps, parseSgl } from '../data-pointer/index.js';
import type { FunctionStats } from '../stats.js';
import type { TraceRing } from '../trace.js';
import type { HostPort, SegmentCursor } from './host-port.js';

/** MDTS, as the checks of a command's length see it. */
export interface MdtsLimit {
  /** True when `bytes` exceeds MDTS (C-3: 2^MDTS × the minimum page; 0 = no limit). */
  exceedsMdts(bytes: number): boolean;
}

/** What handlers use to move their command's data. */
export interface DataTransfer extends MdtsLimit {
  /** Parses the request's data pointer for `length` bytes into its segments. */
  mapData(req: Request, length: number, toHost: boolean): NvmeStatus;
  /** Sends `data` through the data pointer, parsed for `length` bytes (at least `data.length`). */
  sendToHost(req: Request, data: Uint8Array, length?: number): NvmeStatus;
  /** Fills `data` from the host through the data pointer. */
  receiveFromHost(req: Request, data: Uint8Array): NvmeStatus;
  /** Sends `data` through segments {@link mapData} already parsed. */
  sendMapped(req: Request, data: Uint8Array): NvmeStatus;
  /** Moves the next `buf.length` bytes at `cursor` in the request's segments (a transfer in pieces). */
  transferPart(req: Request, cursor: SegmentCursor, buf: Uint8Array, toHost: boolean): NvmeStatus;
}

export class CommandData implements DataTransfer {
  readonly #port: HostPort;
  readonly #options: DataPointerOptions;
  readonly #mdtsBytes: number;
  readonly #stats: FunctionStats;
  readonly #trace: TraceRing;

  constructor(port: HostPort, options: DataPointerOptions, mdtsBytes: number, stats: FunctionStats, trace: TraceRing) {
    this.#port = port;
    this.#options = options;
    this.#mdtsBytes = mdtsBytes;
    this.#stats = stats;
    this.#trace = trace;
  }

  /** CC.MPS at enable sets the page size the PRP parser uses. */
  set pageSize(bytes: number) {
    this.#options.pageSize = bytes;
  }

  exceedsMdts(bytes: number): boolean {
    return this.#mdtsBytes !== 0 && bytes > this.#mdtsBytes;
  }

  mapData(req: Request, length: number, toHost: boolean): NvmeStatus {
    const port = this.#port;
    const status =
      req.psdt === 0
        ? parsePrps(req.prp1, req.prp2, length, this.#options, port.reader, req.segments)
        : parseSgl(req.copySgl1(req.sgl1), length, toHost, this.#options, port.reader, req.segments);
    // The Linux function parses the data pointer while setting up the data buffer, before execution.
    if (status !== STATUS_SUCCESS) req.earlyFailure = EarlyFailure.DATA_BUFFER;
    return status;
  }

  sendToHost(req: Request, data: Uint8Array, length = data.length): NvmeStatus {
    const status = this.mapData(req, length, true);
    if (status !== STATUS_SUCCESS) return status;
    return this.sendMapped(req, data);
  }

  sendMapped(req: Request, data: Uint8Array): NvmeStatus {
    if (!this.#port.transferSegments(req.segments, data, 'toHost')) return this.#transferError(req);
    this.#stats.dataBytesToHost += data.length;
    return STATUS_SUCCESS;
  }

  receiveFromHost(req: Request, data: Uint8Array): NvmeStatus {
    const status = this.mapData(req, data.length, false);
    if (status !== STATUS_SUCCESS) return status;
    if (!this.#port.transferSegments(req.segments, data, 'fromHost')) return this.#transferError(req);
    this.#stats.dataBytesFromHost += data.length;
    return STATUS_SUCCESS;
  }

  transferPart(req: Request, cursor: SegmentCursor, buf: Uint8Array, toHost: boolean): NvmeStatus {
    if (!this.#port.transferPart(req.segments, cursor, buf, toHost ? 'toHost' : 'fromHost'))
      return this.#transferError(req);
    if (toHost) this.#stats.dataBytesToHost += buf.length;
    else this.#stats.dataBytesFromHost += buf.length;
    return STATUS_SUCCESS;
  }

  /** P-9: a failed host access during the data phase is Data Transfer Error (0/04h). */
  #transferError(req: Request): NvmeStatus {
    const epc = this.#port.lastError;
    this.#trace.record({
      kind: 'command-error',
      message: `data transfer failed: ${epc?.toString() ?? 'unknown'}`,
      qid: req.qid,
      cid: req.cid,
      opcode: req.opcode,
      status: Status.DATA_XFER_ERROR,
      ...(epc === null ? {} : { epc }),
    });
    return Status.DATA_XFER_ERROR;
  }
}
