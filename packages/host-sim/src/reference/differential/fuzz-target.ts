/**
 * Fuzz targets for QEMU: cases generated for the host a QEMU guest offers (placements inside its
 * guest RAM, the SGL support and limits its controller advertises) and expecting what QEMU 7.2 is
 * documented to do. The epfsim function is configured the same way (MDTS, queue limits, MSI-X
 * vectors) so that one case file means the same on both targets.
 */
import type { FuzzTarget } from '../../runs/fuzz/fuzz-case.js';
import type { CaseBehaviour } from '../../runs/fuzz/qemu-expectations.js';
import type { QemuOptions } from '../qemu/qemu-process.js';
import { QEMU_DEFAULTS, QEMU_HOST_RAM } from '../qemu/qemu-target.js';
import { QEMU_COMPAT_OPTIONS } from './known-differences.js';
import { epfsimFunctionConfig } from './target-pair.js';

/** The QEMU configuration that carries `target`'s namespace. */
export function qemuOptionsFor(target: Pick<FuzzTarget, 'blockSize' | 'blocks'>): QemuOptions {
  return { ...QEMU_DEFAULTS, diskBytes: target.blocks * target.blockSize, blockSize: target.blockSize };
}

/**
 * `target` made for QEMU: bounded to its guest RAM, with a controller configured like QEMU's
 * (QEMU_COMPAT_OPTIONS, so that the generator sees QEMU's SGL support). `behaviour` 'qemu-7.2'
 * (for `fuzz --target qemu`) expects QEMU's documented behaviour and keeps clear of the valid
 * layouts it mishandles; 'spec' (for `fuzz --differential`, whose verdict is the comparison) keeps
 * every layout, so that known differences keep being exercised, and never puts commands on the
 * same blocks in one batch (the comparison reads every byte, which such a batch leaves undefined).
 */
export function qemuFuzzTarget(target: FuzzTarget, behaviour: CaseBehaviour = 'qemu-7.2'): FuzzTarget {
  const { namespaces: _, ...controller } = epfsimFunctionConfig(qemuOptionsFor(target), QEMU_COMPAT_OPTIONS, '');
  return { ...target, controller, ram: QEMU_HOST_RAM, behaviour, ordered: behaviour === 'spec' };
}
