/**
 * Valid host layouts QEMU 7.2 is documented to mishandle (docs/qemu-differences.md), so that a
 * host driving QEMU as the reference can keep clear of them: a workload on `--target qemu` runs
 * the same placements and checks as on epfsim without tripping over a known QEMU bug.
 */
import { Psdt, SGL_DESCRIPTOR_SIZE, SglType, sglType } from '@epfsim/nvme-spec-types';
import { PlacementError } from '../errors.js';
import type { CommandLayout, DataRequest, PlacedQueue, PlacementPolicy, QueueRequest } from './layout.js';

/** Layouts drawn before giving up on one QEMU takes. */
export const QUIRK_LAYOUT_ATTEMPTS = 16;

/**
 * True when QEMU 7.2 rejects this valid layout with 0/0Dh (known difference
 * `sgl-segment-chain-slot-reuse`): a Segment chain in which the descriptor QEMU checks, kept as a
 * pointer into the buffer each next segment is read into, has been overwritten by a Last Segment
 * descriptor. Replays QEMU's walk of `nvme_map_sgl()` over the segments' descriptor counts.
 */
export function qemuMisreadsSegmentChain(layout: CommandLayout): boolean {
  if (layout.psdt === Psdt.PRP) return false;
  const sgl1 = sglType(new DataView(layout.dptr.buffer, layout.dptr.byteOffset, layout.dptr.length), 0);
  if (sgl1 !== SglType.SEGMENT) return false;
  // The policies write SGL segments in chain order; each holds size / 16 descriptors.
  const counts = layout.structures.map((s) => s.size / SGL_DESCRIPTOR_SIZE);
  const buffer: number[] = [];
  /** Slot of the descriptor QEMU looks at; -1: SGL1 in the SQE. */
  let current = -1;
  for (let k = 0; k + 1 < counts.length; k++) {
    const count = counts[k] as number;
    for (let i = 0; i < count; i++) buffer[i] = SglType.DATA_BLOCK;
    buffer[count - 1] = k + 2 === counts.length ? SglType.LAST_SEGMENT : SglType.SEGMENT;
    const type = current < 0 ? sgl1 : buffer[current];
    if (type === SglType.LAST_SEGMENT) return true;
    current = count - 1;
  }
  return false;
}

/** `policy`, drawing again whenever a layout is one QEMU 7.2 mishandles. */
export function avoidingQemuQuirks(policy: PlacementPolicy): PlacementPolicy {
  return {
    name: policy.name,
    placeQueue: (request: QueueRequest): PlacedQueue => policy.placeQueue(request),
    layout: (request: DataRequest): CommandLayout => {
      for (let attempt = 0; attempt < QUIRK_LAYOUT_ATTEMPTS; attempt++) {
        const layout = policy.layout(request);
        if (!qemuMisreadsSegmentChain(layout)) return layout;
        layout.release();
      }
      throw new PlacementError('NO_SPACE', `no layout QEMU takes in ${QUIRK_LAYOUT_ATTEMPTS} draws`);
    },
  };
}
