/**
 * The function's data bounce buffers: command data is copied host ⇄ bounce ⇄ backend, one copy
 * per hop, as `nvmet_pci_epf_transfer()` does through its per-command data buffer. Execution is
 * synchronous, so one pair serves every request: a request lends them for the length of a step.
 */
import { IDENTIFY_DATA_SIZE } from '@epfsim/nvme-spec-types';

const KIB = 1024;
const MIB = 1024 * KIB;
/**
 * The bounce buffer holds at most MDTS and at most 2 MiB (Linux caps a request at 8 MiB, most
 * drives at 128 KiB to 2 MiB): a command that moves more, possible only when MDTS is larger or
 * unlimited (256 MiB with NLB = FFFFh of 4 KiB blocks), moves it in pieces of this size over polls.
 */
export const BOUNCE_LIMIT = 2 * MIB;
/**
 * The bounce buffer starts at one Identify page and grows, doubling, up to the limit as commands
 * need it: a controller that only ever moves 4 KiB never holds MDTS of memory, and a fuzz campaign
 * that builds a controller per case does not zero a megabyte each time.
 */
const MIN_BOUNCE = IDENTIFY_DATA_SIZE;

export class BounceBuffers {
  /** The most a bounce buffer holds: MDTS, or {@link BOUNCE_LIMIT} when that is smaller or MDTS is unlimited. */
  readonly limit: number;
  #primary: Uint8Array;
  #primaryView: Uint8Array = new Uint8Array(0);
  #secondary: Uint8Array = new Uint8Array(0);

  /** `mdtsBytes` 0 means MDTS is unlimited. */
  constructor(mdtsBytes: number) {
    this.limit = mdtsBytes === 0 ? BOUNCE_LIMIT : Math.min(mdtsBytes, BOUNCE_LIMIT);
    this.#primary = new Uint8Array(Math.min(MIN_BOUNCE, this.limit));
  }

  /** A reusable buffer of `n` bytes for command data, at most {@link limit}. */
  primary(n: number): Uint8Array {
    this.#check(n);
    if (this.#primary.length < n) this.#primary = new Uint8Array(this.#grown(n));
    // Commands of one size follow each other: keep the last view rather than make one per command.
    let view = this.#primaryView;
    if (view.buffer !== this.#primary.buffer || view.length !== n) {
      view = this.#primary.subarray(0, n);
      this.#primaryView = view;
    }
    return view;
  }

  /** A second reusable buffer (Compare reads the media into it), at most {@link limit}. */
  secondary(n: number): Uint8Array {
    this.#check(n);
    if (this.#secondary.length < n) this.#secondary = new Uint8Array(Math.max(n, this.#primary.length));
    return this.#secondary.subarray(0, n);
  }

  /** The first `n` bytes of the primary buffer as the last command left them (fault unchecked-entry-sizes leaks them). */
  stale(n: number): Uint8Array {
    return this.#primary.subarray(0, n);
  }

  /** The size to grow to for `n` bytes: at least double, so a run of growing commands reallocates a few times. */
  #grown(n: number): number {
    return Math.min(this.limit, Math.max(n, 2 * this.#primary.length));
  }

  /** A request larger than the limit is a bug of the caller (handlers split such commands). */
  #check(n: number): void {
    if (n > this.limit) throw new RangeError(`bounce buffer of ${n} bytes: the limit is ${this.limit}`);
  }
}
