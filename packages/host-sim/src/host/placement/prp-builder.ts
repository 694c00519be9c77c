/**
 * Building PRPs (NVMe Base 1.4 §4.3; rules P-1..P-7 of docs/nvme-rules.md §1): split a buffer
 * into page entries, and write PRP lists into host memory with chaining in the last slot.
 */
import { PRP_ENTRY_SIZE } from '@epfsim/nvme-spec-types';
import type { HostMemory } from '../memory/host-memory.js';
import { formatRange, type HostRange, offsetIn } from '../memory/host-range.js';

/**
 * The PRP entries of a buffer given as physically contiguous segments in data order: entry 0 is
 * PRP1 (any offset), every later entry is a page base. The buffer must have the PRP shape (the
 * Linux "virt boundary"): every segment but the first starts on a page boundary and every segment
 * but the last ends on one. Throws RangeError otherwise (a policy bug).
 */
export function prpEntries(segments: readonly HostRange[], pageSize: number): bigint[] {
  const entries: bigint[] = [];
  let endsOnPage = true;
  for (const seg of segments) {
    if (seg.size <= 0) continue;
    if (entries.length > 0 && (!endsOnPage || offsetIn(seg.addr, pageSize) !== 0)) {
      throw new RangeError(`segment ${formatRange(seg)} breaks the PRP shape`);
    }
    let pos = seg.addr;
    let left = seg.size;
    while (left > 0) {
      const take = Math.min(left, pageSize - offsetIn(pos, pageSize));
      entries.push(pos);
      pos += BigInt(take);
      left -= take;
    }
    endsOnPage = offsetIn(pos, pageSize) === 0;
  }
  return entries;
}

/** Slots from `addr` to the end of its page (P-5). */
export function slotsToPageEnd(addr: bigint, pageSize: number): number {
  return Math.floor((pageSize - offsetIn(addr, pageSize)) / PRP_ENTRY_SIZE);
}

/**
 * Writes `entries` (the entries after PRP1) as a PRP list starting at `first` (qword aligned, any
 * offset). Each list page holds the slots up to its end; when more entries remain than slots, the
 * last slot holds the address of the next list page, which `nextPage()` supplies (page aligned,
 * already placed), and when they fit exactly the last slot is data (P-6). Returns the ranges
 * written, one per list page, in chain order.
 */
export function writePrpList(
  memory: HostMemory,
  entries: readonly bigint[],
  first: bigint,
  nextPage: () => bigint,
  pageSize: number,
): HostRange[] {
  const written: HostRange[] = [];
  let list = first;
  let index = 0;
  while (index < entries.length) {
    const slots = slotsToPageEnd(list, pageSize);
    const left = entries.length - index;
    if (slots === 0 || (slots === 1 && left > 1 && written.length > 0)) {
      throw new RangeError(`PRP list page at ${list.toString(16)} has no room for progress`);
    }
    const fits = left <= slots;
    const data = fits ? left : slots - 1;
    const used = fits ? left : slots;
    const bytes = new Uint8Array(used * PRP_ENTRY_SIZE);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < data; i++) view.setBigUint64(i * PRP_ENTRY_SIZE, entries[index + i] as bigint, true);
    const next = fits ? 0n : nextPage();
    if (!fits) view.setBigUint64(data * PRP_ENTRY_SIZE, next, true);
    memory.write(list, bytes);
    written.push({ addr: list, size: bytes.length });
    index += data;
    list = next;
  }
  return written;
}
