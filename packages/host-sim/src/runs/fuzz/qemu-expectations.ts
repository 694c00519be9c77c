/**
 * What a case expects when it is written for QEMU 7.2 rather than for the specification: the
 * statuses QEMU gives where it is documented to differ (docs/qemu-differences.md), each tied to the
 * known difference that records it, and its handling of deallocated blocks. A fuzz campaign on
 * `--target qemu` expects these, so only QEMU behaviour that nobody documented fails a case.
 */
import { type CommandLayout, type InvalidKind, InvalidKind as Kind } from '../../host/placement/layout.js';
import { qemuMisreadsSegmentChain } from '../../host/placement/qemu-quirks.js';

/** Whose behaviour a fuzz case's expectations follow. */
export type CaseBehaviour = 'spec' | 'qemu-7.2';

/** A status QEMU answers for an invalid kind, and the known difference (id) that documents it. */
export interface QemuAccepted {
  readonly status: string;
  readonly known: string;
}

/** Invalid kinds where QEMU 7.2 answers other than the specification. */
export const QEMU_INVALID_ACCEPTS: Readonly<Partial<Record<InvalidKind, readonly QemuAccepted[]>>> = Object.freeze({
  // Data DMA outside RAM is silently dropped: the command succeeds (docs/nvme-rules.md §8, case J).
  [Kind.DATA_IN_HOLE]: [{ status: '0/00h', known: 'dma-outside-ram' }],
});

/** Extra statuses a case for `behaviour` accepts for `kind` (none for the specification). */
export function behaviourAccepts(behaviour: CaseBehaviour, kind: InvalidKind): readonly string[] {
  if (behaviour === 'spec') return [];
  return (QEMU_INVALID_ACCEPTS[kind] ?? []).map((a) => a.status);
}

/**
 * Whether a Dataset Management deallocate makes the blocks read as zero. QEMU with its default
 * `discard=ignore` keeps the data although DLFEAT says zeroes (known difference
 * `dsm-deallocate-keeps-data`).
 */
export function deallocateZeroes(behaviour: CaseBehaviour): boolean {
  return behaviour === 'spec';
}

/** Layouts a case for `behaviour` must not use: QEMU's documented mishandling of valid ones. */
export function behaviourAvoids(behaviour: CaseBehaviour, layout: CommandLayout): boolean {
  return behaviour === 'qemu-7.2' && qemuMisreadsSegmentChain(layout);
}
