/**
 * The NBD server's block device over an NVMe namespace of the simulated controller: every request
 * becomes NVMe commands the host driver submits on one I/O queue, so every byte crosses the EPC's
 * outbound windows as in `epfsim run` (README, "epfsim serve"):
 *
 *   READ / WRITE   Read / Write, split at MDTS and the 16-bit NLB; FUA -> the FUA bit (CDW12 bit 30)
 *   FLUSH          Flush
 *   TRIM           Dataset Management, Attribute Deallocate (nothing, when ONCS lacks DSM: a trim is a hint)
 *   WRITE_ZEROES   Write Zeroes, split at the 16-bit NLB (Writes of zeroes when ONCS lacks it)
 *
 * A range the namespace does not hold is the client's error (EINVAL, or ENOSPC for writes); a
 * command that fails (an error status, a controller reset, a buffer the placement cannot
 * describe) is EIO. Nothing here throws anything else.
 */
import {
  type BitField,
  type DsmRange,
  formatStatus,
  getBits,
  ID_CTRL_ONCS,
  isSuccess,
  NvmOpcode,
  READ_WRITE,
  setBits,
  WRITE_ZEROES,
} from '@epfsim/nvme-spec-types';
import type { CommandSpec } from '../../host/driver/driver-types.js';
import { dsmCommand, flushCommand, lbaCommand, writeZeroesCommand } from '../../host/driver/nvm-commands.js';
import type { NvmeDriver } from '../../host/driver/nvme-driver.js';
import type { PendingCommand } from '../../host/driver/pending-command.js';
import { HostSimConfigError } from '../../host/errors.js';
import type { CommandContext, PlacementPolicy } from '../../host/placement/layout.js';
import { type BlockDevice, BlockDeviceError, type BlockDeviceErrorCode } from '../nbd/block-device.js';
import type { CommandPump } from './command-pump.js';
import { emptyNvmeCommandCounters, type NvmeCommandCounters } from './nvme-command-counters.js';
import { wholeReadPlacement } from './whole-read-placement.js';

/** Largest READ/WRITE advertised: 32 MiB, the NBD recommendation (fio asserts 64 MiB). */
export const DEFAULT_MAX_REQUEST = 32 * 1024 * 1024;
/** NLB is a 16-bit 0's based count (Read, Write, Write Zeroes CDW12 bits 15:0). */
const MAX_NLB = 2 ** READ_WRITE.CDW12.NLB.len;
/** A Dataset Management range's NLB is 32 bits, and one command carries at most 256 ranges. */
const MAX_DSM_RANGE_BLOCKS = 0xffff_ffff;
const MAX_DSM_RANGES = 256;
/** How a command the driver could not submit (placement, dead controller) is counted among the failures. */
const NOT_SUBMITTED = 'not submitted';

export interface NvmeBlockDeviceOptions {
  readonly nsid: number;
  /** The I/O queue every command of this device goes to. */
  readonly qid: number;
  /** Largest READ/WRITE advertised to clients; larger than a command carries is split. Default 32 MiB. */
  readonly maxRequest?: number;
  /** Counters to add to (shared by the devices of several connections). Default: the device's own. */
  readonly counters?: NvmeCommandCounters;
  /** Data placement. Default: the driver's policy, without Bit Buckets on reads. */
  readonly placement?: PlacementPolicy;
}

/** The requests that address blocks. */
type RequestKind = 'read' | 'write' | 'trim' | 'writeZeroes';

/** One command's worth of a request: `nlb` blocks at `slba`, `offset` bytes into the request. */
interface Piece {
  readonly slba: number;
  readonly nlb: number;
  readonly offset: number;
}

/** A BlockDevice whose every request is NVMe commands on the simulated controller. */
export class NvmeBlockDevice implements BlockDevice {
  readonly size: number;
  readonly blockSize: number;
  readonly maxRequest: number;
  readonly counters: NvmeCommandCounters;
  private readonly pump: CommandPump;
  private readonly driver: NvmeDriver;
  private readonly nsid: number;
  private readonly qid: number;
  private readonly nsze: bigint;
  private readonly mdtsBytes: number;
  /** Blocks one Read or Write carries: MDTS and NLB. */
  private readonly maxTransferBlocks: number;
  private readonly placement: PlacementPolicy;
  private readonly hasDsm: boolean;
  private readonly hasWriteZeroes: boolean;
  private zeroes: Uint8Array | undefined;

  /** Throws {@link HostSimConfigError} when the namespace is not active on the driver. */
  constructor(pump: CommandPump, driver: NvmeDriver, options: NvmeBlockDeviceOptions) {
    const ns = driver.namespaces.get(options.nsid);
    if (ns === undefined || ns.blockSize === 0)
      throw new HostSimConfigError('BAD_OPTION', `namespace ${options.nsid} is not active`);
    this.pump = pump;
    this.driver = driver;
    this.nsid = options.nsid;
    this.qid = options.qid;
    this.blockSize = ns.blockSize;
    this.nsze = ns.nsze;
    this.size = Number(ns.nsze) * ns.blockSize;
    this.mdtsBytes = driver.controller?.mdtsBytes ?? 0;
    const mdtsBlocks = this.mdtsBytes === 0 ? MAX_NLB : Math.floor(this.mdtsBytes / ns.blockSize);
    this.maxTransferBlocks = Math.max(1, Math.min(MAX_NLB, mdtsBlocks));
    this.maxRequest = Math.max(ns.blockSize, options.maxRequest ?? DEFAULT_MAX_REQUEST);
    this.counters = options.counters ?? emptyNvmeCommandCounters();
    this.placement = options.placement ?? wholeReadPlacement(driver.placement);
    const oncs = driver.controller?.oncs ?? 0;
    this.hasDsm = getBits(oncs, ID_CTRL_ONCS.DSM) === 1;
    this.hasWriteZeroes = getBits(oncs, ID_CTRL_ONCS.WRITE_ZEROES) === 1;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const pieces = this.pieces('read', offset, length, this.maxTransferBlocks);
    if (pieces.length === 1) return stable(await this.readPiece(pieces[0] as Piece));
    const out = new Uint8Array(length);
    await Promise.all(pieces.map(async (p) => out.set(await this.readPiece(p), p.offset)));
    return out;
  }

  async write(offset: number, data: Uint8Array, fua: boolean): Promise<void> {
    const pieces = this.pieces('write', offset, data.length, this.maxTransferBlocks);
    await Promise.all(
      pieces.map((p) => this.writePiece(p, data.subarray(p.offset, p.offset + p.nlb * this.blockSize), fua)),
    );
  }

  async flush(): Promise<void> {
    const cmd = await this.submit(flushCommand(this.nsid), 'Flush');
    this.check(cmd, 'Flush');
    this.counters.commands.flush++;
  }

  async trim(offset: number, length: number): Promise<void> {
    const pieces = this.pieces('trim', offset, length, MAX_DSM_RANGE_BLOCKS);
    if (!this.hasDsm) return; // NBD: the server MAY ignore a trim
    const commands: DsmRange[][] = [];
    for (let i = 0; i < pieces.length; i += MAX_DSM_RANGES) {
      commands.push(pieces.slice(i, i + MAX_DSM_RANGES).map((p) => ({ cattr: 0, nlb: p.nlb, slba: BigInt(p.slba) })));
    }
    await Promise.all(
      commands.map(async (ranges) => {
        const what = `Dataset Management (deallocate) of ${ranges.length} ranges`;
        const cmd = await this.submit(dsmCommand(this.nsid, ranges, { ad: true }, this.placement), what);
        this.check(cmd, what);
        this.counters.commands.dsm++;
        for (const r of ranges) this.counters.bytes.trim += r.nlb * this.blockSize;
      }),
    );
  }

  async writeZeroes(offset: number, length: number, fua: boolean): Promise<void> {
    if (!this.hasWriteZeroes) {
      const pieces = this.pieces('writeZeroes', offset, length, this.maxTransferBlocks);
      await Promise.all(pieces.map((p) => this.writePiece(p, this.zeroBlocks(p.nlb), fua)));
      return;
    }
    const pieces = this.pieces('writeZeroes', offset, length, MAX_NLB);
    await Promise.all(
      pieces.map(async (p) => {
        const spec = writeZeroesCommand(this.nsid, BigInt(p.slba), p.nlb);
        const what = `Write Zeroes of LBA ${p.slba}+${p.nlb}`;
        const cmd = await this.submit(fua ? withFua(spec, WRITE_ZEROES.CDW12.FUA) : spec, what);
        this.check(cmd, what);
        this.counters.commands.writeZeroes++;
        this.counters.bytes.zeroes += p.nlb * this.blockSize;
      }),
    );
  }

  private async readPiece(p: Piece): Promise<Uint8Array> {
    const what = `Read of LBA ${p.slba}+${p.nlb}`;
    const cmd = await this.submit(
      lbaCommand(NvmOpcode.READ, this.context(p), undefined, { placement: this.placement }),
      what,
    );
    this.check(cmd, what);
    const data = cmd.data;
    if (data === undefined || data.length !== p.nlb * this.blockSize)
      throw this.failure('EIO', `${what}: the driver returned ${data?.length ?? 'no'} bytes`);
    this.counters.commands.read++;
    this.counters.bytes.read += data.length;
    return data;
  }

  private async writePiece(p: Piece, payload: Uint8Array, fua: boolean): Promise<void> {
    const what = `Write of LBA ${p.slba}+${p.nlb}`;
    const spec = lbaCommand(NvmOpcode.WRITE, this.context(p), payload, { placement: this.placement });
    const cmd = await this.submit(fua ? withFua(spec, READ_WRITE.CDW12.FUA) : spec, what);
    this.check(cmd, what);
    this.counters.commands.write++;
    this.counters.bytes.write += payload.length;
  }

  /** The request in blocks, cut into commands of at most `maxBlocks`; a range the namespace lacks is the client's error. */
  private pieces(op: RequestKind, offset: number, length: number, maxBlocks: number): Piece[] {
    const bs = this.blockSize;
    const aligned = Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset % bs === 0;
    if (!aligned || offset < 0 || length <= 0 || length % bs !== 0)
      throw this.failure('EINVAL', `${op} ${offset}+${length}: not whole ${bs}-byte blocks`);
    if (offset + length > this.size) {
      const code = op === 'write' || op === 'writeZeroes' ? 'ENOSPC' : 'EINVAL';
      throw this.failure(code, `${op} ${offset}+${length} is beyond the ${this.size}-byte namespace`);
    }
    const first = offset / bs;
    const blocks = length / bs;
    const pieces: Piece[] = [];
    for (let done = 0; done < blocks; done += maxBlocks) {
      pieces.push({ slba: first + done, nlb: Math.min(maxBlocks, blocks - done), offset: done * bs });
    }
    if (pieces.length > 1) this.counters.splitRequests++;
    return pieces;
  }

  private context(p: Piece): CommandContext {
    return {
      nsid: this.nsid,
      slba: BigInt(p.slba),
      nlb: p.nlb,
      blockSize: this.blockSize,
      nsze: this.nsze,
      mdtsBytes: this.mdtsBytes,
    };
  }

  /** Submits through the pump; a command that cannot even be submitted is an I/O error. */
  private async submit(spec: CommandSpec, what: string): Promise<PendingCommand> {
    try {
      return await this.pump.run(this.qid, () => this.driver.submit(this.qid, spec));
    } catch (error) {
      this.count(NOT_SUBMITTED);
      throw this.failure('EIO', `${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Counts the completion; a failed one is EIO. */
  private check(cmd: PendingCommand, what: string): void {
    const c = cmd.completion;
    if (c !== undefined && c.source === 'controller' && isSuccess(c.status)) {
      this.counters.succeeded++;
      return;
    }
    const status = c === undefined ? 'no completion' : formatStatus(c.status);
    this.count(status);
    const how = c?.source === 'host-reset' ? ' (ended by a controller reset)' : '';
    throw this.failure('EIO', `${what} failed: ${status}${how}`);
  }

  private count(failure: string): void {
    this.counters.failed++;
    this.counters.errorStatuses[failure] = (this.counters.errorStatuses[failure] ?? 0) + 1;
  }

  private failure(code: BlockDeviceErrorCode, message: string): BlockDeviceError {
    return new BlockDeviceError(code, `NVMe namespace ${this.nsid}: ${message}`);
  }

  /** `nlb` blocks of zeroes, for Write Zeroes without the command (the buffer is only ever read). */
  private zeroBlocks(nlb: number): Uint8Array {
    const bytes = nlb * this.blockSize;
    if (this.zeroes === undefined || this.zeroes.length < bytes) this.zeroes = new Uint8Array(bytes);
    return this.zeroes.subarray(0, bytes);
  }
}

function withFua(spec: CommandSpec, field: BitField): CommandSpec {
  return { ...spec, cdw12: setBits(spec.cdw12 ?? 0, field, 1) };
}

/**
 * Bytes the NBD server may send later: small driver results are views into a shared slab that
 * later commands overwrite, so those are copied; a result with a buffer of its own is kept.
 */
function stable(data: Uint8Array): Uint8Array {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
}
