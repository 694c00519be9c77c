/**
 * The Error Information log (LID 01h; NVMe Base 1.4 §5.14.1.1): a ring of the most recent error
 * entries, newest first on read, each with a unique, increasing Error Count. ELPE + 1 entries.
 */
import {
  CQE_STATUS,
  ERROR_INFO_SIZE,
  encodeErrorInformation,
  type NvmeStatus,
  type Phase,
  setBits,
} from '@epfsim/nvme-spec-types';

/** Identify ELPE (0's based): 64 entries, one 4 KiB log page. */
export const ERROR_LOG_ENTRIES = 64;

/** One error to record. */
export interface ErrorEntry {
  sqid: number;
  cid: number;
  status: NvmeStatus;
  phase: Phase;
  location: number;
  lba: bigint;
  nsid: number;
}

interface StoredEntry extends ErrorEntry {
  count: bigint;
}

/** CID and SQID of an error not tied to a command (e.g. an invalid doorbell write). */
export const ERROR_NO_COMMAND = 0xffff;

export class ErrorLog {
  readonly #ring: StoredEntry[] = [];
  #next = 0;
  /** Errors recorded since the controller was created (SMART Number of Error Information Log Entries). */
  total = 0n;

  record(entry: ErrorEntry): void {
    this.total++;
    const stored = { ...entry, count: this.total };
    if (this.#ring.length < ERROR_LOG_ENTRIES) this.#ring.push(stored);
    else this.#ring[this.#next] = stored;
    this.#next = (this.#next + 1) % ERROR_LOG_ENTRIES;
  }

  /** The log page: ELPE + 1 entries of 64 bytes, newest first, unused entries zero. */
  encode(): Uint8Array {
    const newestFirst: StoredEntry[] = [];
    for (let i = 1; i <= this.#ring.length; i++) {
      const index = (this.#next - i + ERROR_LOG_ENTRIES) % ERROR_LOG_ENTRIES;
      const e = this.#ring[index];
      if (e !== undefined) newestFirst.push(e);
    }
    const entries = newestFirst.map((e) => ({
      errorCount: e.count,
      sqid: e.sqid,
      cid: e.cid,
      // The Status Field as in the CQE status halfword: phase tag in bit 0.
      status: setBits(setBits(0, CQE_STATUS.SF, e.status), CQE_STATUS.P, e.phase),
      paramErrorLocation: e.location,
      lba: e.lba,
      nsid: e.nsid,
    }));
    const out = new Uint8Array(ERROR_LOG_ENTRIES * ERROR_INFO_SIZE);
    out.set(encodeErrorInformation(entries));
    return out;
  }
}
