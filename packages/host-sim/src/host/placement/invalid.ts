/**
 * The `invalid` placement policy: deliberate rule violations, each paired with the status the
 * host then expects (docs/nvme-rules.md §1, §2, §4 and the vectors of §6). The data pointer
 * is correct except for the one violation, so that exactly one error applies; where the
 * specification lets a controller skip a check (P-1) or QEMU answers differently (S-7), the
 * alternative outcomes are listed as accepted.
 */
import {
  type NvmeStatus,
  PRP_ENTRY_SIZE,
  Psdt,
  type SglDescriptor,
  SglSubtype,
  SglType,
  Status,
  sglDescriptor,
} from '@epfsim/nvme-spec-types';
import { PlacementError } from '../errors.js';
import type { GrantSpec } from '../memory/grant-table.js';
import type { HostMemory } from '../memory/host-memory.js';
import type { HostRange } from '../memory/host-range.js';
import { createRandom, type Random } from '../random.js';
import {
  type CommandLayout,
  type CommandPatch,
  type DataChunk,
  type DataRequest,
  dataGrants,
  type Expectation,
  InvalidKind,
  layoutOf,
  type PlacedQueue,
  type PlacementPolicy,
  prpDptr,
  type QueueRequest,
} from './layout.js';
import { PageAllocator } from './page-allocator.js';
import { prpEntries, writePrpList } from './prp-builder.js';
import { dataBlock, lastSegmentPointer, segmentPointer, sglDptr, writeSegment } from './sgl-builder.js';

const DWORD = 4;
/**
 * S-2: segment lengths that are zero or not a multiple of 16 (V-31), from the whole boundary set:
 * 0, every length shorter than one descriptor, and lengths between whole descriptors.
 */
const BAD_SEGMENT_LENGTHS = [0, ...Array.from({ length: 15 }, (_, i) => i + 1), 17, 24, 31, 33, 40, 47];
/** P-3/P-7: the offset put into an entry that must be page aligned (V-22, V-27). */
const BAD_ENTRY_OFFSET = 0x10;
/** Pages of the arena: the 4 KiB controller page. */
const ARENA_PAGE = 4096;
/** Blocks one command can name: NLB is 16 bits, 0's based. */
const NLB_MAX = 0x1_0000;
const DEFAULT_ARENA_BASE = 0x8_0000_0000n;
const DEFAULT_ARENA_BYTES = 256 * 1024 * 1024;
/** Where holes are looked for: far from every arena, never placed. */
const DEFAULT_HOLE_BASE = 0x7000_0000_0000n;
const HOLE_ATTEMPTS = 64;
/** Pages of the hole region addresses are drawn from (4 GiB). */
const HOLE_PAGES = 1 << 20;

/** Every kind, with the rule it breaks, the spec status and the accepted alternatives. */
export const INVALID_KINDS: Readonly<
  Record<InvalidKind, { readonly rule: string; readonly accept: readonly number[] }>
> = {
  [InvalidKind.PRP1_NOT_DWORD]: { rule: 'P-1', accept: [Status.PRP_INVALID_OFFSET, Status.SUCCESS] },
  [InvalidKind.PRP2_DIRECT_OFFSET]: { rule: 'P-3', accept: [Status.PRP_INVALID_OFFSET] },
  [InvalidKind.PRP_LIST_ENTRY_OFFSET]: { rule: 'P-7', accept: [Status.PRP_INVALID_OFFSET] },
  [InvalidKind.SGL_DATA_BLOCK_SHORT]: { rule: 'S-5', accept: [Status.SGL_INVALID_DATA] },
  [InvalidKind.SGL_LAST_SEGMENT_LENGTH]: { rule: 'S-2', accept: [Status.SGL_INVALID_LAST] },
  [InvalidKind.SGL_SEGMENT_IN_MIDDLE]: { rule: 'S-3', accept: [Status.SGL_INVALID_COUNT] },
  // QEMU 7.2 answers 0/0Dh for a Keyed Data Block in SGL1 (docs/nvme-rules.md §8, case T6).
  [InvalidKind.SGL_KEYED]: { rule: 'S-7', accept: [Status.SGL_INVALID_TYPE, Status.SGL_INVALID_LAST] },
  [InvalidKind.SGL_ON_ADMIN]: { rule: 'P-11', accept: [Status.INVALID_FIELD] },
  [InvalidKind.PSDT_RESERVED]: { rule: 'P-11', accept: [Status.INVALID_FIELD] },
  [InvalidKind.DATA_IN_HOLE]: { rule: 'P-9', accept: [Status.DATA_XFER_ERROR] },
  [InvalidKind.LBA_OUT_OF_RANGE]: { rule: 'C-2', accept: [Status.LBA_RANGE] },
  [InvalidKind.NSID_ZERO]: { rule: 'C-2', accept: [Status.INVALID_NS] },
  [InvalidKind.OVER_MDTS]: { rule: 'C-3', accept: [Status.INVALID_FIELD] },
};

/** Every kind, in table order. */
export const ALL_INVALID_KINDS: readonly InvalidKind[] = Object.values(InvalidKind);

export interface InvalidPlacementOptions {
  readonly seed?: number;
  /** Only make these kinds (each still only where it applies). Default: all. */
  readonly kinds?: readonly InvalidKind[];
  readonly arenaBase?: bigint;
  readonly arenaBytes?: number;
  /** Where unplaced addresses are taken from for `data-in-hole`. */
  readonly holeBase?: bigint;
}

/** Parts of a layout under construction. */
interface Draft {
  psdt: Psdt;
  dptr: Uint8Array;
  length: number;
  data: DataChunk[];
  grants: GrantSpec[];
  structures: HostRange[];
  patch?: CommandPatch;
  /** Statuses accepted besides the kind's own (a second rule the violation cannot avoid). */
  alsoAccept: NvmeStatus[];
  releases: (() => void)[];
}

/** Deliberately broken commands with their expected statuses. */
export class InvalidPlacement implements PlacementPolicy {
  readonly name = 'invalid';
  private readonly memory: HostMemory;
  private readonly random: Random;
  private readonly pages: PageAllocator;
  private readonly kinds: readonly InvalidKind[];
  private readonly holeBase: bigint;

  constructor(memory: HostMemory, options: InvalidPlacementOptions = {}) {
    this.memory = memory;
    this.random = createRandom(options.seed ?? 1);
    this.pages = new PageAllocator(
      memory,
      options.arenaBase ?? DEFAULT_ARENA_BASE,
      options.arenaBytes ?? DEFAULT_ARENA_BYTES,
      ARENA_PAGE,
      this.random.fork('pages'),
    );
    this.kinds = options.kinds ?? ALL_INVALID_KINDS;
    this.holeBase = options.holeBase ?? DEFAULT_HOLE_BASE;
  }

  /** Queues are placed correctly: only data pointers and command fields are broken. */
  placeQueue(request: QueueRequest): PlacedQueue {
    return this.pages.placeZeroed(request.bytes, []);
  }

  /** The kinds that can break this request without a second error applying. */
  applicableKinds(request: DataRequest): InvalidKind[] {
    const ps = request.pageSize;
    const L = request.length;
    const sglIo = request.qid !== 0 && request.sgl.support !== 'none';
    const cmd = request.command;
    const ok: Record<InvalidKind, boolean> = {
      [InvalidKind.PRP1_NOT_DWORD]: true,
      [InvalidKind.PRP2_DIRECT_OFFSET]: L >= 2 * DWORD && L <= 2 * ps,
      [InvalidKind.PRP_LIST_ENTRY_OFFSET]: L > ps + DWORD,
      [InvalidKind.SGL_DATA_BLOCK_SHORT]: sglIo,
      [InvalidKind.SGL_LAST_SEGMENT_LENGTH]: sglIo,
      [InvalidKind.SGL_SEGMENT_IN_MIDDLE]: sglIo && L >= 2 * DWORD,
      [InvalidKind.SGL_KEYED]: sglIo,
      [InvalidKind.SGL_ON_ADMIN]: request.qid === 0,
      [InvalidKind.PSDT_RESERVED]: true,
      [InvalidKind.DATA_IN_HOLE]: true,
      [InvalidKind.LBA_OUT_OF_RANGE]: cmd !== undefined && cmd.nsze > 0n,
      [InvalidKind.NSID_ZERO]: cmd !== undefined,
      [InvalidKind.OVER_MDTS]: cmd !== undefined && cmd.mdtsBytes > 0 && cmd.mdtsBytes / cmd.blockSize < NLB_MAX,
    };
    return this.kinds.filter((k) => ok[k]);
  }

  layout(request: DataRequest): CommandLayout {
    const kinds = this.applicableKinds(request);
    if (kinds.length === 0) throw new PlacementError('NOT_APPLICABLE', 'no invalid kind applies to this request');
    return this.layoutOfKind(request, this.random.pick(kinds));
  }

  /** A layout breaking exactly `kind`; throws PlacementError when it does not apply. */
  layoutOfKind(request: DataRequest, kind: InvalidKind): CommandLayout {
    if (!this.applicableKinds(request).includes(kind)) {
      throw new PlacementError('NOT_APPLICABLE', `${kind} does not apply to this request`);
    }
    const draft = this.build(request, kind);
    const { rule, accept } = INVALID_KINDS[kind];
    const expect: Expectation = { kind, rule, status: accept[0] as number, accept: [...accept, ...draft.alsoAccept] };
    const releases = draft.releases;
    return layoutOf({
      policy: this.name,
      psdt: draft.psdt,
      dptr: draft.dptr,
      length: draft.length,
      data: draft.data,
      grants: draft.grants,
      structures: draft.structures,
      tags: [kind],
      expect,
      ...(draft.patch === undefined ? {} : { patch: draft.patch }),
      release: () => {
        for (const r of releases) r();
      },
    });
  }

  private build(request: DataRequest, kind: InvalidKind): Draft {
    const ps = request.pageSize;
    const L = request.length;
    switch (kind) {
      case InvalidKind.PRP1_NOT_DWORD: {
        // Bits 1:0 of PRP1 set; the rest is a correct PRP description of the bytes from there.
        const offset = this.random.below(ps / DWORD) * DWORD + this.random.between(1, DWORD - 1);
        return this.prpDraft(request, offset);
      }
      case InvalidKind.PRP2_DIRECT_OFFSET: {
        // PRP1 leaves 0 < R ≤ PS bytes, so PRP2 is a direct page pointer; give it an offset (V-22).
        const lo = Math.max(0, Math.ceil((ps - L + 1) / DWORD) * DWORD);
        const hi = Math.min(ps - DWORD, 2 * ps - L);
        const offset = this.random.between(lo / DWORD, Math.floor(hi / DWORD)) * DWORD;
        const draft = this.prpDraft(request, offset, 1);
        const prp2 = dptrWord(draft.dptr, 1) + BigInt(BAD_ENTRY_OFFSET);
        setDptrWord(draft.dptr, 1, prp2);
        const first = draft.data[0] as DataChunk;
        const second = { addr: prp2, size: L - first.size, kind: 'ram' as const };
        draft.data = [first, second];
        draft.grants = dataGrants(draft.data, request.toDevice);
        return draft;
      }
      case InvalidKind.PRP_LIST_ENTRY_OFFSET: {
        // A list is needed (R > PS); one of its entries gets an offset (V-27).
        const offset = L > 2 * ps ? 0 : ps - DWORD;
        return this.prpDraft(request, offset, 0, true);
      }
      case InvalidKind.SGL_DATA_BLOCK_SHORT: {
        const draft = this.bufferDraft(request, 0);
        const grain = request.sgl.support === 'dword' ? DWORD : 1;
        const addr = (draft.data[0] as DataChunk).addr;
        return this.contiguousSgl(draft, dataBlock(addr, L - grain));
      }
      case InvalidKind.SGL_LAST_SEGMENT_LENGTH: {
        // Two valid Data Blocks in the segment, but SGL1 gives a length that is 0 or not a multiple of 16 (V-31).
        const draft = this.bufferDraft(request, 0);
        const addr = (draft.data[0] as DataChunk).addr;
        const half = roundDown(L / 2, request.sgl.support === 'dword' ? DWORD : 1) || L;
        const list = this.writeList(draft, [dataBlock(addr, half), dataBlock(addr + BigInt(half), L - half)]);
        const length = this.random.pick(BAD_SEGMENT_LENGTHS);
        const sgl1 = sglDescriptor({ address: list, length, type: SglType.LAST_SEGMENT });
        return this.contiguousSgl(draft, sgl1);
      }
      case InvalidKind.SGL_SEGMENT_IN_MIDDLE: {
        // Last Segment → [Data Block, Segment, Data Block] (V-32).
        const draft = this.bufferDraft(request, 0);
        const addr = (draft.data[0] as DataChunk).addr;
        const half = roundDown(L / 2, DWORD);
        const inner = this.writeList(draft, [dataBlock(addr + BigInt(half), L - half)]);
        const list = this.writeList(draft, [
          dataBlock(addr, half),
          segmentPointer(inner, 1),
          dataBlock(addr + BigInt(half), L - half),
        ]);
        return this.contiguousSgl(draft, lastSegmentPointer(list, 3));
      }
      case InvalidKind.SGL_KEYED: {
        const draft = this.bufferDraft(request, 0);
        const addr = (draft.data[0] as DataChunk).addr;
        const keyed = sglDescriptor({
          address: addr,
          length: L,
          type: SglType.KEYED_DATA_BLOCK,
          subtype: SglSubtype.ADDRESS,
        });
        return this.contiguousSgl(draft, keyed);
      }
      case InvalidKind.SGL_ON_ADMIN: {
        const draft = this.bufferDraft(request, 0);
        return this.contiguousSgl(draft, dataBlock((draft.data[0] as DataChunk).addr, L));
      }
      case InvalidKind.PSDT_RESERVED: {
        const draft = this.prpDraft(request, 0);
        draft.psdt = Psdt.RESERVED;
        return draft;
      }
      case InvalidKind.DATA_IN_HOLE:
        return this.holeDraft(request);
      case InvalidKind.LBA_OUT_OF_RANGE: {
        const cmd = request.command!;
        const nlb = BigInt(cmd.nlb);
        const draft = this.prpDraft(request, 0);
        // The last block is one past the end of the namespace.
        draft.patch = { slba: cmd.nsze >= nlb ? cmd.nsze - nlb + 1n : 0n };
        return draft;
      }
      case InvalidKind.NSID_ZERO: {
        const draft = this.prpDraft(request, 0);
        draft.patch = { nsid: 0 };
        return draft;
      }
      case InvalidKind.OVER_MDTS: {
        const cmd = request.command!;
        const nlb = cmd.mdtsBytes / cmd.blockSize + 1;
        const draft = this.prpDraft({ ...request, length: nlb * cmd.blockSize }, 0);
        const slba = cmd.slba + BigInt(nlb) <= cmd.nsze ? cmd.slba : 0n;
        draft.patch = { nlb, slba };
        // A namespace smaller than MDTS + 1 blocks cannot avoid LBA Out of Range too (no precedence, C-2).
        if (slba + BigInt(nlb) > cmd.nsze) draft.alsoAccept.push(Status.LBA_RANGE);
        return draft;
      }
    }
  }

  /**
   * A contiguous buffer starting `offset` bytes into its first page (with `extraPages` spare pages
   * after it), described by PRP1 and, when it needs no list, PRP2.
   */
  private bufferDraft(request: DataRequest, offset: number, extraPages = 0): Draft {
    const ps = request.pageSize;
    const count = Math.ceil((offset + request.length) / ps) + extraPages;
    const base = this.pages.alloc(count);
    const data: DataChunk[] = [{ addr: base + BigInt(offset), size: request.length, kind: 'ram' }];
    const entries = prpEntries(data, ps);
    return {
      psdt: Psdt.PRP,
      dptr: prpDptr(entries[0] as bigint, entries.length === 2 ? (entries[1] as bigint) : 0n),
      length: request.length,
      data,
      grants: dataGrants(data, request.toDevice),
      structures: [],
      alsoAccept: [],
      releases: [() => this.pages.free(base, count)],
    };
  }

  /**
   * A correct PRP description of a contiguous buffer (see {@link bufferDraft}) with its PRP list;
   * `corruptList` puts an offset into one list entry.
   */
  private prpDraft(request: DataRequest, offset: number, extraPages = 0, corruptList = false): Draft {
    const draft = this.bufferDraft(request, offset, extraPages);
    const entries = prpEntries(draft.data, request.pageSize);
    if (entries.length > 2) {
      const list = entries.slice(1);
      if (corruptList) {
        const i = this.random.below(list.length);
        list[i] = (list[i] as bigint) + BigInt(BAD_ENTRY_OFFSET);
      }
      setDptrWord(draft.dptr, 1, this.writePrpList(draft, list, request.pageSize));
    }
    return draft;
  }

  /** Writes a PRP list into fresh arena pages (chained as needed); returns its address. */
  private writePrpList(draft: Draft, list: readonly bigint[], ps: number): bigint {
    const pages: bigint[] = [];
    const nextPage = () => {
      const p = this.pages.alloc(1);
      pages.push(p);
      return p;
    };
    const first = nextPage();
    const written = writePrpList(this.memory, list, first, nextPage, ps);
    draft.releases.push(() => {
      for (const p of pages) this.pages.free(p);
    });
    draft.structures.push(...written);
    for (const w of written) draft.grants.push({ ...w, direction: 'read' });
    return first;
  }

  /** Makes the draft an SGL one: PSDT 01b and `sgl1` over the same buffer. */
  private contiguousSgl(draft: Draft, sgl1: SglDescriptor): Draft {
    draft.psdt = Psdt.SGL_MPTR_CONTIG;
    draft.dptr = sglDptr(sgl1);
    return draft;
  }

  /** Writes descriptors into a fresh page (granted for reading); returns their address. */
  private writeList(draft: Draft, descriptors: readonly SglDescriptor[]): bigint {
    const page = this.pages.alloc(1);
    draft.releases.push(() => this.pages.free(page));
    const written = writeSegment(this.memory, page, descriptors);
    draft.structures.push(written);
    draft.grants.push({ ...written, direction: 'read' });
    return page;
  }

  /** PRPs into a range that is not RAM: the device's first data access fails (P-9). */
  private holeDraft(request: DataRequest): Draft {
    const ps = request.pageSize;
    const span = (Math.ceil(request.length / ps) + 1) * ps;
    for (let attempt = 0; attempt < HOLE_ATTEMPTS; attempt++) {
      const addr = this.holeBase + BigInt(this.random.below(HOLE_PAGES)) * BigInt(ps);
      if (!this.memory.isFree(addr, span)) continue;
      const data: DataChunk[] = [{ addr, size: request.length, kind: 'hole' }];
      const entries = prpEntries(data, ps);
      const draft: Draft = {
        psdt: Psdt.PRP,
        dptr: prpDptr(addr, entries.length === 2 ? (entries[1] as bigint) : 0n),
        length: request.length,
        data,
        grants: [],
        structures: [],
        alsoAccept: [],
        releases: [],
      };
      // The list itself is valid RAM; only the data is missing.
      if (entries.length > 2) setDptrWord(draft.dptr, 1, this.writePrpList(draft, entries.slice(1), ps));
      return draft;
    }
    throw new PlacementError('NO_SPACE', 'no hole found');
  }
}

function roundDown(value: number, grain: number): number {
  return Math.floor(value / grain) * grain;
}

/** Reads qword `i` (0: PRP1, 1: PRP2) of DPTR bytes. */
function dptrWord(dptr: Uint8Array, i: 0 | 1): bigint {
  return new DataView(dptr.buffer, dptr.byteOffset).getBigUint64(i * PRP_ENTRY_SIZE, true);
}

function setDptrWord(dptr: Uint8Array, i: 0 | 1, value: bigint): void {
  new DataView(dptr.buffer, dptr.byteOffset).setBigUint64(i * PRP_ENTRY_SIZE, value, true);
}
