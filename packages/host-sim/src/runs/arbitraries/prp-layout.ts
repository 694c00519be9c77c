/**
 * PRP layouts as fast-check values (NVMe Base 1.4 §4.3; rules P-1..P-8 of
 * docs/nvme-rules.md): PRP1 at any dword offset, data pages in physically contiguous runs at
 * edge-biased addresses, PRP lists at any qword offset (page aligned, mid-page, in the last slot,
 * sized to fit exactly or one over) chained through further list pages, and garbage in PRP2 when it
 * is reserved. A spec is plain data (it shrinks and prints); {@link writePrpLayout} places it in
 * host memory as a {@link CommandLayout} the driver can submit. Every layout is legal: a correct
 * controller moves exactly the described bytes.
 */
import { type EpcProfile, PCI_ADDR_LIMIT } from '@epfsim/epc-core';
import { PRP_ENTRY_SIZE, Psdt } from '@epfsim/nvme-spec-types';
import fc from 'fast-check';
import type { HostMemory } from '../../host/memory/host-memory.js';
import type { HostRange } from '../../host/memory/host-range.js';
import { type CommandLayout, type DataChunk, dataGrants, layoutOf, prpDptr } from '../../host/placement/layout.js';
import { prpEntries, slotsToPageEnd, writePrpList } from '../../host/placement/prp-builder.js';
import { hostAddress } from './host-address.js';
import { disjoint, placeAll } from './ranges.js';

const DWORD = 4;
const DEFAULT_PAGE = 4096;
const DEFAULT_MAX_LENGTH = 512 * 1024;
const DEFAULT_GRANULE = 512;

/** A run of physically contiguous data pages. */
export interface PrpRunSpec {
  /** Page-aligned address of the run's first page. */
  readonly base: bigint;
  readonly pages: number;
}

/** A PRP description of a buffer, as plain data. */
export interface PrpLayoutSpec {
  readonly pageSize: number;
  /** Bytes transferred. */
  readonly length: number;
  /** PRP1's offset in its page: a multiple of 4 (P-1). */
  readonly offset: number;
  /** The data pages in data order, in runs; their pages add up to ⌈(offset + length) / pageSize⌉. */
  readonly runs: readonly PrpRunSpec[];
  /** Offset of the first PRP list entry in its page (a multiple of 8), when a list is needed (P-4, P-5). */
  readonly listOffset: number;
  /** Page-aligned list pages in chain order; the first holds the list from `listOffset` (P-6). */
  readonly listPages: readonly bigint[];
  /** PRP2 when it is reserved because the data fits PRP1's page: garbage to ignore (P-2). */
  readonly prp2Garbage: bigint;
}

export interface PrpLayoutOptions {
  /** Memory page size, 2^(12 + CC.MPS). Default 4096. */
  readonly pageSize?: number;
  /** Largest transfer in bytes. Default 512 KiB. */
  readonly maxLength?: number;
  /** Lengths are multiples of this (a logical block). Default 512. */
  readonly granule?: number;
  /** Aim at this profile's edges too. */
  readonly profile?: EpcProfile;
}

/** Data pages a buffer of `length` bytes starting `offset` into its first page spans. */
function pagesSpanned(offset: number, length: number, pageSize: number): number {
  return Math.ceil((offset + length) / pageSize);
}

/** Slots used in each list page for `entries` list entries starting `listOffset` into the first page (P-5, P-6). */
export function prpListPageUse(entries: number, listOffset: number, pageSize: number): number[] {
  const used: number[] = [];
  let left = entries;
  let slots = slotsToPageEnd(BigInt(listOffset), pageSize);
  for (;;) {
    if (left <= slots) {
      used.push(left);
      return used;
    }
    used.push(slots);
    // The last slot of a full page points to the next one.
    left -= slots - 1;
    slots = pageSize / PRP_ENTRY_SIZE;
  }
}

/** Arbitrary PRP layouts: every legal shape, at edge-biased addresses. */
export function prpLayout(options: PrpLayoutOptions = {}): fc.Arbitrary<PrpLayoutSpec> {
  const ps = options.pageSize ?? DEFAULT_PAGE;
  const granule = options.granule ?? DEFAULT_GRANULE;
  const maxUnits = Math.max(1, Math.floor((options.maxLength ?? DEFAULT_MAX_LENGTH) / granule));
  const perPage = ps / PRP_ENTRY_SIZE;
  const address = (span: number) => hostAddress({ align: ps, span, ...profileOf(options) });
  const head = fc.record({
    units: fc.oneof(
      fc.integer({ min: 1, max: Math.min(maxUnits, 2 * (ps / granule) + 1) }),
      fc.integer({ min: 1, max: maxUnits }),
    ),
    // PRP1 at offset 0, one dword in, the last dword of the page, or any dword (P-1).
    offset: fc.oneof(
      fc.constantFrom(0, DWORD, ps - DWORD),
      fc.nat(ps / DWORD - 1).map((d) => d * DWORD),
    ),
  });
  return head.chain(({ units, offset }) => {
    const length = units * granule;
    const pages = pagesSpanned(offset, length, ps);
    const entries = pages - 1;
    const maxListPages = entries > 1 ? Math.ceil(entries / (perPage - 1)) + 1 : 0;
    // First list entry: page aligned, the last slot, exactly enough slots, one too few, or anywhere (P-4..P-6).
    const shapes = [0, ps - PRP_ENTRY_SIZE];
    if (entries > 1 && entries <= perPage) shapes.push(ps - entries * PRP_ENTRY_SIZE);
    if (entries > 1 && entries - 1 <= perPage) shapes.push(ps - (entries - 1) * PRP_ENTRY_SIZE);
    return fc
      .record({
        contiguous: fc.array(fc.boolean(), { minLength: Math.max(0, pages - 1), maxLength: Math.max(0, pages - 1) }),
        bases: fc.array(address(pages * ps), { minLength: pages, maxLength: pages }),
        listOffset: fc.oneof(
          fc.constantFrom(...shapes),
          fc.nat(perPage - 1).map((q) => q * PRP_ENTRY_SIZE),
        ),
        listPages: fc.array(address(ps), { minLength: maxListPages, maxLength: maxListPages }),
        prp2Garbage: entries === 0 ? fc.bigInt({ min: 0n, max: PCI_ADDR_LIMIT - 1n }) : fc.constant(0n),
      })
      .map(({ contiguous, bases, listOffset, listPages, prp2Garbage }): PrpLayoutSpec => {
        const runPages: number[] = [1];
        for (const c of contiguous) {
          if (c) runPages[runPages.length - 1]! += 1;
          else runPages.push(1);
        }
        const usedListPages = entries > 1 ? prpListPageUse(entries, listOffset, ps).length : 0;
        const wanted: HostRange[] = [
          ...runPages.map((n, i) => ({ addr: bases[i] as bigint, size: n * ps })),
          ...listPages.slice(0, usedListPages).map((addr) => ({ addr, size: ps })),
        ];
        const placed = disjoint(wanted, ps);
        return {
          pageSize: ps,
          length,
          offset,
          runs: runPages.map((n, i) => ({ base: (placed[i] as HostRange).addr, pages: n })),
          listOffset: entries > 1 ? listOffset : 0,
          listPages: placed.slice(runPages.length).map((r) => r.addr),
          prp2Garbage,
        };
      });
  });
}

/** The data chunks of a spec, in data order. */
export function prpDataChunks(spec: PrpLayoutSpec): DataChunk[] {
  const chunks: DataChunk[] = [];
  let left = spec.length;
  spec.runs.forEach((run, i) => {
    const skip = i === 0 ? spec.offset : 0;
    const size = Math.min(left, run.pages * spec.pageSize - skip);
    chunks.push({ addr: run.base + BigInt(skip), size, kind: 'ram' });
    left -= size;
  });
  return chunks;
}

/**
 * Places a spec in `memory`: RAM for exactly the data bytes and the list slots used (so any
 * over-read hits a hole, P-8), the list written with its chain pointers. Returns undefined, having
 * placed nothing, when any of it is not free in `memory` (skip the value with `fc.pre`).
 */
export function writePrpLayout(memory: HostMemory, spec: PrpLayoutSpec, toDevice: boolean): CommandLayout | undefined {
  const ps = spec.pageSize;
  const data = prpDataChunks(spec);
  const entries = prpEntries(data, ps);
  const list = entries.slice(1);
  const listUse = list.length > 1 ? prpListPageUse(list.length, spec.listOffset, ps) : [];
  const listRanges = listUse.map((slots, i) => ({
    addr: (spec.listPages[i] as bigint) + BigInt(i === 0 ? spec.listOffset : 0),
    size: slots * PRP_ENTRY_SIZE,
  }));
  const ranges = [...data, ...listRanges];
  const release = placeAll(memory, ranges);
  if (release === undefined) return undefined;
  const tags: string[] = [];
  if (spec.offset !== 0) tags.push(spec.offset === ps - DWORD ? 'prp1-last-dword' : 'prp1-offset');
  if (data.length > 1) tags.push('data-scattered');
  let prp2 = 0n;
  const structures: HostRange[] = [];
  if (entries.length === 1) {
    prp2 = spec.prp2Garbage;
    if (prp2 !== 0n) tags.push('prp2-garbage');
  } else if (entries.length === 2) {
    prp2 = entries[1] as bigint;
    tags.push('prp2-direct');
  } else {
    prp2 = (listRanges[0] as HostRange).addr;
    let next = 1;
    structures.push(...writePrpList(memory, list, prp2, () => spec.listPages[next++] as bigint, ps));
    tags.push(spec.listOffset === 0 ? 'list-page-aligned' : 'list-mid-page');
    if (structures.length > 1) tags.push('list-chained');
  }
  return layoutOf({
    policy: 'prp-layout',
    psdt: Psdt.PRP,
    dptr: prpDptr(entries[0] as bigint, prp2),
    length: spec.length,
    data,
    grants: [...dataGrants(data, toDevice), ...structures.map((s) => ({ ...s, direction: 'read' as const }))],
    structures,
    tags,
    release,
  });
}

function profileOf(options: { profile?: EpcProfile }): { profile?: EpcProfile } {
  return options.profile === undefined ? {} : { profile: options.profile };
}
