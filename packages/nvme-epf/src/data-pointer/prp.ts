/**
 * PRP1/PRP2 to data segments (NVMe Base 1.4 §4.3 "Physical Region Page Entry and List";
 * rules P-1..P-9 of docs/nvme-rules.md §1).
 */
import {
  type NvmeStatus,
  PRP_ENTRY_SIZE,
  PRP_LIST_ALIGN_MASK,
  PRP_RESERVED_MASK,
  STATUS_SUCCESS,
  Status,
} from '@epfsim/nvme-spec-types';
import { acquireScratch, DATA_POINTER_READ_CHUNK, type ReadScratch, releaseScratch } from './scratch.js';
import { appendSegment, assertTransferLength, toU64 } from './segments.js';
import type { DataPointerOptions, DataSegment, HostReader } from './types.js';

/** PRP entries that fit one scratch read. */
const ENTRIES_PER_READ = DATA_POINTER_READ_CHUNK / PRP_ENTRY_SIZE;
const MIN_PAGE_SIZE = 4096;
/** Below 2^53 a PRP is exact as a number: its offset and reserved bits need no bigint arithmetic. */
const SAFE_LIMIT_N = 1n << 53n;
const PAGE_MASKS = new Map<number, bigint>();

/** Offset of a PRP entry within its memory page (`prpOffset`, in numbers when it can). */
function prpOffset(prp: bigint, pageSize: number): number {
  if (prp >= 0n && prp < SAFE_LIMIT_N) return Number(prp) % pageSize;
  let mask = PAGE_MASKS.get(pageSize);
  if (mask === undefined) {
    mask = BigInt(pageSize - 1);
    PAGE_MASKS.set(pageSize, mask);
  }
  return Number(prp & mask);
}

/** True when the reserved bits 1:0 of a PRP entry are not zero (`prpHasReservedBits`). */
function prpHasReservedBits(prp: bigint): boolean {
  if (prp >= 0n && prp < SAFE_LIMIT_N) return Number(prp) % 4 !== 0;
  return (prp & PRP_RESERVED_MASK) !== 0n;
}

function assertPageSize(ps: number): void {
  if (!Number.isSafeInteger(ps) || ps < MIN_PAGE_SIZE || (ps & (ps - 1)) !== 0) {
    throw new RangeError(`data pointer: page size ${ps} is not a power of two >= ${MIN_PAGE_SIZE}`);
  }
}

/**
 * Parses PRP1/PRP2 for a transfer of `length` bytes into `out` (cleared first), merging adjacent
 * pages. Returns STATUS_SUCCESS or the NVMe status; host input never throws. Only the list
 * entries the transfer needs are read (P-8), each list page in reads that stay inside it.
 * A transfer of 0 bytes succeeds with no segments and looks at neither PRP (P-10).
 * Every data segment lies inside one memory page, so none can wrap past 2^64 (P-9).
 */
export function parsePrps(
  prp1: bigint,
  prp2: bigint,
  length: number,
  opts: DataPointerOptions,
  read: HostReader,
  out: DataSegment[],
): NvmeStatus {
  out.length = 0;
  assertTransferLength(length);
  const ps = opts.pageSize;
  assertPageSize(ps);
  if (length === 0) return STATUS_SUCCESS;
  let p1 = toU64(prp1);
  // P-1: bits 1:0 of PRP1 are reserved. Checking them is optional; a controller that does not
  // check still operates as if they were cleared (NVMe 1.4 §4.3), so the data starts at the dword.
  if (prpHasReservedBits(p1)) {
    if (opts.checkPrp1Dword) return Status.PRP_INVALID_OFFSET;
    p1 &= ~PRP_RESERVED_MASK;
  }
  // P-2: PRP1 supplies up to the end of its page; PRP2 is then reserved and never looked at.
  const first = Math.min(length, ps - prpOffset(p1, ps));
  appendSegment(out, p1, first, false);
  const remaining = length - first;
  if (remaining === 0) return STATUS_SUCCESS;
  const p2 = toU64(prp2);
  if (remaining <= ps) {
    // P-3: PRP2 is the second data page.
    if (prpOffset(p2, ps) !== 0) return Status.PRP_INVALID_OFFSET;
    appendSegment(out, p2, remaining, false);
    return STATUS_SUCCESS;
  }
  const scratch = acquireScratch();
  try {
    return walkPrpList(p2, remaining, opts, read, scratch, out);
  } finally {
    releaseScratch(scratch);
  }
}

/** P-4 and P-7: checks a list pointer; `chained` when it came from the last slot of a list page. */
function checkListPointer(list: bigint, chained: boolean, opts: DataPointerOptions): NvmeStatus {
  if (chained && opts.chainPointerOffset === 'strict' && prpOffset(list, opts.pageSize) !== 0) {
    return Status.PRP_INVALID_OFFSET;
  }
  // Bits 1:0 are reserved in every PRP entry; the qword rule (bits 2:0) is the optional P-4 check.
  if (prpHasReservedBits(list)) return Status.PRP_INVALID_OFFSET;
  if (opts.checkListQword && (list & PRP_LIST_ALIGN_MASK) !== 0n) return Status.PRP_INVALID_OFFSET;
  return STATUS_SUCCESS;
}

/**
 * Walks the PRP list at `list` for `remaining` (> one page) bytes. Each list page holds the
 * slots from the pointer to the page end (P-5); when more entries are needed than it holds, its
 * last slot points to the next list page, otherwise every slot read is data (P-6). Every page
 * after the first contributes at least one entry, so the walk ends even on a cyclic list.
 */
function walkPrpList(
  firstList: bigint,
  remainingBytes: number,
  opts: DataPointerOptions,
  read: HostReader,
  scratch: ReadScratch,
  out: DataSegment[],
): NvmeStatus {
  const ps = opts.pageSize;
  let remaining = remainingBytes;
  let entries = Math.ceil(remaining / ps);
  let list = firstList;
  let chained = false;
  for (;;) {
    const bad = checkListPointer(list, chained, opts);
    if (bad !== STATUS_SUCCESS) return bad;
    // A list never crosses a page: entries whose 8 bytes do not fit before the page end do not exist.
    const slots = Math.floor((ps - prpOffset(list, ps)) / PRP_ENTRY_SIZE);
    const fits = entries <= slots;
    // A chained page that can hold only its own chain pointer makes no progress (lenient P-7 only).
    if (slots === 0 || (!fits && chained && slots === 1)) return Status.PRP_INVALID_OFFSET;
    const dataSlots = fits ? entries : slots - 1;
    const toRead = fits ? entries : slots;
    let next = 0n;
    let addr = list;
    for (let done = 0; done < toRead; ) {
      const n = Math.min(toRead - done, ENTRIES_PER_READ);
      if (!scratch.read(read, addr, n * PRP_ENTRY_SIZE)) return Status.DATA_XFER_ERROR;
      for (let i = 0; i < n; i++) {
        const entry = scratch.view.getBigUint64(i * PRP_ENTRY_SIZE, true);
        if (done + i === dataSlots) {
          next = entry;
          continue;
        }
        // P-7: every data entry after PRP1 is page aligned.
        if (prpOffset(entry, ps) !== 0) return Status.PRP_INVALID_OFFSET;
        const len = Math.min(ps, remaining);
        appendSegment(out, entry, len, false);
        remaining -= len;
      }
      done += n;
      addr += BigInt(n * PRP_ENTRY_SIZE);
    }
    if (fits) return STATUS_SUCCESS;
    entries -= dataSlots;
    list = next;
    chained = true;
  }
}
