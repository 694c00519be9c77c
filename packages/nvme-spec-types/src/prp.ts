/**
 * Physical Region Page entries and lists (NVMe Base 1.4 §4.3, "Physical Region Page Entry and List").
 * A PRP entry is a 64-bit page base plus offset; bits 1:0 are reserved, so entries are dword aligned.
 * Page size is the memory page size of CC.MPS, see `mpsToPageSize`.
 */

/** Size of one PRP entry (and of one PRP list slot). */
export const PRP_ENTRY_SIZE = 8;

/** Reserved low bits of every PRP entry: bits 1:0 must be 0 (else PRP Offset Invalid, 0/13h). */
export const PRP_RESERVED_MASK = 3n;

/** Low bits that must be 0 in a PRP List pointer: the first list entry is qword aligned (NVMe Base 2.0 §4.1.1). */
export const PRP_LIST_ALIGN_MASK = BigInt(PRP_ENTRY_SIZE - 1);

/** Offset of a PRP entry within its memory page. */
export function prpOffset(prp: bigint, pageSize: number): number {
  return Number(prp & BigInt(pageSize - 1));
}

/** Base address of the memory page a PRP entry points into. */
export function prpPageBase(prp: bigint, pageSize: number): bigint {
  return prp & ~BigInt(pageSize - 1);
}

/** True when the reserved bits 1:0 of a PRP entry are not zero. */
export function prpHasReservedBits(prp: bigint): boolean {
  return (prp & PRP_RESERVED_MASK) !== 0n;
}

/** PRP entries in a full memory page (512 for 4 KiB). */
export function entriesPerPage(pageSize: number): number {
  return pageSize / PRP_ENTRY_SIZE;
}

/** Slots left in the list page from a list pointer to the page end: (PS − (addr mod PS)) / 8. */
export function listSlotsFromOffset(listAddr: bigint, pageSize: number): number {
  return (pageSize - prpOffset(listAddr, pageSize)) / PRP_ENTRY_SIZE;
}
