/** The builders and constants the differential corpus's case tables are written with: pages, PRP and SGL commands, queue ids past the controller's limits. */
import type { SglDescriptor } from '@epfsim/nvme-spec-types';
import type { HostRange } from '../../host/memory/host-range.js';
import { patternSlice } from '../../runs/case-file/data-pattern.js';
import type { CaseCommand, CaseSpace, DifferentialCase, MemoryWrite } from './case.js';
import { type DataPointer, IO_QID, NSID, page, pages, readSqe, stageWrite, writeSqe } from './sqe-builder.js';

/** Blocks per 4 KiB page with the corpus namespace (512-byte blocks, QEMU's default). */
export const BLOCKS_PER_PAGE = 8;
/** The queue pair the queue-management cases delete and re-create (the host never submits on it). */
export const SPARE_QID = 4;
/** A queue id above QEMU's `max_ioqpairs` = 4 and the host's allocation. */
export const QID_ABOVE = 5;
/** A queue id that never exists. */
export const QID_NONE = 7;
/** CAP.MQES of QEMU 7.2 (2047) plus one: one entry too many (0's based QSIZE). */
export const QSIZE_ABOVE_MQES = 2048;
/** QEMU's MSI-X table has 65 entries (`msix_qsize`): vector 65 does not exist. */
export const VECTOR_NONE = 65;
/** Guest addresses that are not RAM in QEMU's q35 machine (docs/nvme-rules.md §8, case J) nor in epfsim's host. */
export const UNASSIGNED = 0xf000_0000n;
export const ABOVE_RAM = 0x2000_0000n;

/** Dataset Management CDW11 bit 2: Attribute – Deallocate. */
export const DSM_AD = 1 << 2;

/** One Dataset Management range: context attributes 0, length in LBAs, SLBA (16 bytes). */
export function dsmRange(slba: bigint, blocks: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(4, blocks, true);
  view.setBigUint64(8, slba, true);
  return bytes;
}

// ---- shapes of cases ----

interface ReadLayout {
  readonly label: string;
  readonly dptr: DataPointer;
  readonly memory?: readonly MemoryWrite[];
  readonly returns?: readonly HostRange[];
  readonly nsid?: number;
  readonly slba?: bigint;
}

/**
 * Stages a pattern in the case's window, then reads `blocks` LBAs through the layout; the bytes
 * in `returns` are compared when both targets succeed.
 */
export function readCase(
  id: string,
  rule: string,
  title: string,
  blocks: number,
  layout: (s: CaseSpace) => ReadLayout,
): DifferentialCase {
  return {
    id,
    rule,
    title,
    build: (s) => {
      const l = layout(s);
      const staged = Math.min(blocks, s.blocks);
      return [
        stageWrite(s, s.slba, patternSlice(s.seed, staged * s.blockSize)),
        {
          label: l.label,
          qid: IO_QID,
          sqe: readSqe(l.slba ?? s.slba, blocks, l.dptr, l.nsid ?? NSID),
          ...(l.memory === undefined ? {} : { memory: l.memory }),
          returns: l.returns ?? [],
        },
      ];
    },
  };
}

interface WriteLayout {
  readonly label: string;
  readonly dptr: DataPointer;
  /** The payload goes to these host ranges, in data order. */
  readonly data: readonly HostRange[];
  readonly memory?: readonly MemoryWrite[];
  readonly slba?: bigint;
}

/** Writes a pattern scattered over the layout's data ranges; the namespace window is compared afterwards. */
export function writeCase(
  id: string,
  rule: string,
  title: string,
  blocks: number,
  layout: (s: CaseSpace) => WriteLayout,
): DifferentialCase {
  return {
    id,
    rule,
    title,
    build: (s) => {
      const l = layout(s);
      const payload = patternSlice(s.seed + 1, blocks * s.blockSize);
      const memory: MemoryWrite[] = [...(l.memory ?? [])];
      let off = 0;
      for (const r of l.data) {
        memory.push({ addr: r.addr, bytes: payload.subarray(off, off + r.size) });
        off += r.size;
      }
      return [{ label: l.label, qid: IO_QID, sqe: writeSqe(l.slba ?? s.slba, blocks, l.dptr), memory }];
    },
  };
}

/** One command without data set-up. */
export function single(
  id: string,
  rule: string,
  title: string,
  command: (s: CaseSpace) => Omit<CaseCommand, 'label'> & { label?: string },
): DifferentialCase {
  return { id, rule, title, build: (s) => [{ label: title, ...command(s) }] };
}

/** A chain of page addresses `pages(first .. first + count)` of the case. */
export function pageRun(s: CaseSpace, first: number, count: number): bigint[] {
  return Array.from({ length: count }, (_, i) => page(s, first + i));
}

/** A Read through SGL1 (PSDT 01b) of 8 LBAs (4 KiB) with segments written at pages 20 and 21. */
export function sglRead(
  id: string,
  rule: string,
  title: string,
  build: (s: CaseSpace) => { sgl1: SglDescriptor; segments?: readonly MemoryWrite[]; returns?: readonly HostRange[] },
  blocks = BLOCKS_PER_PAGE,
): DifferentialCase {
  return readCase(id, rule, title, blocks, (s) => {
    const b = build(s);
    return {
      label: title,
      dptr: { sgl1: b.sgl1 },
      memory: b.segments ?? [],
      returns: b.returns ?? [pages(s, 0, 3)],
    };
  });
}

// ---- PRP1 and PRP2 (P-1, P-2, P-3) ----
