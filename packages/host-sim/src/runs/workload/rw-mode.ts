/**
 * fio's `rw` modes (fio HOWTO, "I/O type"): sequential or random, and which operations they mix.
 * `rw` is fio's sequential mix (its `readwrite`); `randrw` the random one. `trim` and `randtrim`
 * deallocate (Dataset Management with AD here, as Linux issues a discard).
 */

export const RW_MODES = ['read', 'write', 'rw', 'randread', 'randwrite', 'randrw', 'trim', 'randtrim'] as const;
export type RwMode = (typeof RW_MODES)[number];

/** What a mode issues: one kind of operation, or reads and writes mixed by `rwmixread`. */
export type RwMix = 'read' | 'write' | 'trim' | 'read-write';

export interface RwModeInfo {
  /** Offsets drawn at random (else sequential, wrapping at the end of the region). */
  readonly random: boolean;
  readonly mix: RwMix;
}

export const RW_MODE_INFO: Readonly<Record<RwMode, RwModeInfo>> = Object.freeze({
  read: { random: false, mix: 'read' },
  write: { random: false, mix: 'write' },
  rw: { random: false, mix: 'read-write' },
  randread: { random: true, mix: 'read' },
  randwrite: { random: true, mix: 'write' },
  randrw: { random: true, mix: 'read-write' },
  trim: { random: false, mix: 'trim' },
  randtrim: { random: true, mix: 'trim' },
});

export function isRwMode(text: string): text is RwMode {
  return (RW_MODES as readonly string[]).includes(text);
}
