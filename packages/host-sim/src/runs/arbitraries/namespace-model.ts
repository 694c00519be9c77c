/**
 * A reference model of one namespace for model-based tests (`fc.commands`): a Map from LBA to the
 * block's content, updated by writes, Write Zeroes and deallocation, and the commands that drive a
 * real controller through the host driver with random placements and check every read against the
 * model.
 */
import {
  DeallocateReadBehavior,
  formatStatus,
  getBits,
  ID_NS_DLFEAT,
  isSuccess,
  type NvmeStatus,
} from '@epfsim/nvme-spec-types';
import fc from 'fast-check';
import type { NvmeDriver } from '../../host/driver/nvme-driver.js';
import { expectedReadBytes, type PlacementPolicy } from '../../host/placement/layout.js';
import { patternSlice } from '../case-file/data-pattern.js';
import { type NvmCommandOptions, type NvmCommandPick, nvmCommand } from './nvm-command.js';

/** What the blocks of a namespace should hold: unwritten blocks read as zero. */
export class NamespaceModel {
  readonly blockSize: number;
  readonly blocks: number;
  private readonly content = new Map<number, Uint8Array>();
  /** Blocks whose content the model cannot know (deallocated where DLFEAT does not promise zeroes). */
  private readonly unknown = new Set<number>();

  constructor(blockSize: number, blocks: number) {
    this.blockSize = blockSize;
    this.blocks = blocks;
  }

  write(slba: number, data: Uint8Array): void {
    for (let i = 0; i * this.blockSize < data.length; i++) {
      this.content.set(slba + i, data.slice(i * this.blockSize, (i + 1) * this.blockSize));
      this.unknown.delete(slba + i);
    }
  }

  /** Write Zeroes, or deallocation where deallocated blocks read as zero. */
  zero(slba: number, nlb: number): void {
    for (let i = 0; i < nlb; i++) {
      this.content.delete(slba + i);
      this.unknown.delete(slba + i);
    }
  }

  /** Deallocation where the controller does not say what deallocated blocks read as. */
  forget(slba: number, nlb: number): void {
    for (let i = 0; i < nlb; i++) {
      this.content.delete(slba + i);
      this.unknown.add(slba + i);
    }
  }

  /** The expected content of `nlb` blocks from `slba`. */
  read(slba: number, nlb: number): Uint8Array {
    const out = new Uint8Array(nlb * this.blockSize);
    for (let i = 0; i < nlb; i++) {
      const block = this.content.get(slba + i);
      if (block !== undefined) out.set(block, i * this.blockSize);
    }
    return out;
  }

  /** True when the model knows what block `lba` holds. */
  known(lba: number): boolean {
    return !this.unknown.has(lba);
  }
}

/** The real side: a driver brought up on a controller, the namespace, and the placements to draw from. */
export interface NamespaceSystem {
  readonly driver: NvmeDriver;
  readonly nsid: number;
  readonly placements: readonly PlacementPolicy[];
}

/** One NVM command against the model and the system; throws with a description when they disagree. */
export class NamespaceCommand implements fc.Command<NamespaceModel, NamespaceSystem> {
  readonly pick: NvmCommandPick;
  readonly placement: number;
  readonly seed: number;

  constructor(pick: NvmCommandPick, placement: number, seed: number) {
    this.pick = pick;
    this.placement = placement;
    this.seed = seed;
  }

  check(model: Readonly<NamespaceModel>): boolean {
    return this.pick.slba + this.pick.nlb <= model.blocks;
  }

  run(model: NamespaceModel, real: NamespaceSystem): void {
    const { kind, slba, nlb } = this.pick;
    const { driver, nsid } = real;
    const placement = real.placements[this.placement % real.placements.length];
    const io = placement === undefined ? {} : { placement };
    const lba = BigInt(slba);
    switch (kind) {
      case 'write': {
        const data = patternSlice(this.seed, nlb * model.blockSize);
        this.expectSuccess(driver.write(nsid, lba, data, io).completion.status);
        model.write(slba, data);
        return;
      }
      case 'read': {
        const r = driver.read(nsid, lba, nlb, io);
        this.expectSuccess(r.completion.status);
        if (r.data === undefined || r.layout === undefined) throw new Error(`${this}: no data came back`);
        const expected = expectedReadBytes(r.layout, model.read(slba, nlb));
        for (let i = 0; i < expected.length; i++) {
          if (r.data[i] !== expected[i] && model.known(slba + Math.floor(i / model.blockSize))) {
            throw new Error(`${this}: byte ${i} is ${r.data[i]}, the model says ${expected[i]} [${r.layout.tags}]`);
          }
        }
        return;
      }
      case 'write-zeroes':
        this.expectSuccess(driver.writeZeroes(nsid, lba, nlb, io).status);
        model.zero(slba, nlb);
        return;
      case 'trim': {
        this.expectSuccess(driver.dsm(nsid, [{ cattr: 0, nlb, slba: lba }], { ad: true }, io).completion.status);
        const dlfeat = driver.namespaces.get(nsid)?.identify.dlfeat ?? 0;
        if (getBits(dlfeat, ID_NS_DLFEAT.READ_BEHAVIOR) === DeallocateReadBehavior.ZEROES) model.zero(slba, nlb);
        else model.forget(slba, nlb);
        return;
      }
      case 'flush':
        this.expectSuccess(driver.flush(nsid, io).status);
        return;
    }
  }

  toString(): string {
    const { kind, slba, nlb } = this.pick;
    return kind === 'flush' ? 'flush' : `${kind}(slba=${slba}, nlb=${nlb}, placement=${this.placement})`;
  }

  private expectSuccess(status: NvmeStatus): void {
    if (!isSuccess(status)) throw new Error(`${this}: ${formatStatus(status)}`);
  }
}

export interface NamespaceCommandsOptions extends NvmCommandOptions {
  /** How many placements the system offers (commands pick one by index). Default 1. */
  readonly placements?: number;
  /** Longest sequence. Default 20. */
  readonly maxCommands?: number;
}

/** Sequences of NVM commands for `fc.modelRun` against a {@link NamespaceModel} and a {@link NamespaceSystem}. */
export function namespaceCommands(
  options: NamespaceCommandsOptions,
): fc.Arbitrary<Iterable<fc.Command<NamespaceModel, NamespaceSystem>>> {
  const command = fc
    .record({
      pick: nvmCommand(options),
      placement: fc.nat({ max: Math.max(0, (options.placements ?? 1) - 1) }),
      seed: fc.nat(),
    })
    .map(({ pick, placement, seed }) => new NamespaceCommand(pick, placement, seed));
  return fc.commands([command], { maxCommands: options.maxCommands ?? 20 });
}
