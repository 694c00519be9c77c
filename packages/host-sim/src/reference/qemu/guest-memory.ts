import { hex } from '@epfsim/epc-core';
import type { GrantId, GrantSpec } from '../../host/memory/grant-table.js';
import type { HostMemory, IsolationViolation } from '../../host/memory/host-memory.js';
import { formatRange, type HostRange, mergeRanges, rangeEnd, rangesOverlap } from '../../host/memory/host-range.js';
import type { QtestClient } from './qtest-client.js';

/** Guest RAM below this is firmware territory on q35 (the 0xA0000–0xFFFFF BIOS/PAM region and friends). */
export const GUEST_ARENA_BASE = 16n * 1024n * 1024n;

/**
 * Host memory for the QEMU target: the guest's RAM, reached over qtest. Placements must
 * sit inside guest RAM above the firmware area. q35 here has no vIOMMU, so grants are
 * advisory: they are kept for the driver's bookkeeping, and an access outside them cannot
 * be seen (the isolation check is an epfsim-target feature; README "QEMU reference").
 */
export class QemuGuestMemory implements HostMemory {
  readonly isolationViolations: readonly IsolationViolation[] = [];
  readonly isolationViolationCount = 0;
  private readonly qtest: QtestClient;
  private readonly ramEnd: bigint;
  private readonly placed: HostRange[] = [];
  private nextGrant: GrantId = 1;

  constructor(qtest: QtestClient, ramBytes: number) {
    this.qtest = qtest;
    this.ramEnd = BigInt(ramBytes);
  }

  /** The guest RAM placements may use: above the firmware area, up to the end of RAM. */
  get usable(): HostRange {
    return { addr: GUEST_ARENA_BASE, size: Number(this.ramEnd - GUEST_ARENA_BASE) };
  }

  /** True when placements cover every byte of [addr, addr + size). */
  isRam(addr: bigint, size: number): boolean {
    const want = { addr, size };
    return mergeRanges(this.placed).some((r) => r.addr <= addr && rangeEnd(r) >= rangeEnd(want));
  }

  /** Forgets every placement (the bytes stay in guest RAM): the next case starts with all RAM free. */
  releaseAll(): void {
    this.placed.length = 0;
  }

  place(addr: bigint, size: number): HostRange {
    if (!this.isFree(addr, size))
      throw new RangeError(
        `guest RAM ${formatRange({ addr, size })} is taken or outside ${hex(GUEST_ARENA_BASE)}..${hex(this.ramEnd)}`,
      );
    const range = { addr, size };
    this.placed.push(range);
    return range;
  }

  free(range: HostRange): void {
    const i = this.placed.findIndex((r) => r.addr === range.addr && r.size === range.size);
    if (i < 0) throw new RangeError(`free of ${formatRange(range)}: not a placement`);
    this.placed.splice(i, 1);
  }

  isFree(addr: bigint, size: number): boolean {
    const range = { addr, size };
    return (
      addr >= GUEST_ARENA_BASE && rangeEnd(range) <= this.ramEnd && !this.placed.some((r) => rangesOverlap(r, range))
    );
  }

  read(addr: bigint, dst: Uint8Array): void {
    this.qtest.memRead(addr, dst);
  }

  write(addr: bigint, src: Uint8Array): void {
    this.qtest.memWrite(addr, src);
  }

  zero(addr: bigint, size: number): void {
    if (size > 0) this.qtest.memSet(addr, size, 0);
  }

  grant(_spec: GrantSpec): GrantId {
    return this.nextGrant++;
  }

  revoke(_id: GrantId): void {}
}
