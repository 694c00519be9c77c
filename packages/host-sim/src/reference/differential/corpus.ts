/**
 * The fixed differential corpus: valid and invalid data pointer layouts (PRP rules P-1..P-9, SGL
 * rules S-1..S-8, PSDT P-11), LBA and NSID checks (C-2, C-3, §4), opcodes, and queue management
 * (Q-2, Q-7..Q-9, C-A3), as in docs/nvme-rules.md and its QEMU 7.2 observations (§8). Every
 * case writes its structures into its own pages and its data into its own namespace window, so
 * it does not depend on the cases before it.
 */
import {
  AdminOpcode,
  Cns,
  FeatureId,
  NVME_NSID_ALL,
  NvmOpcode,
  Psdt,
  SglSubtype,
  SglType,
} from '@epfsim/nvme-spec-types';
import { patternSlice } from '../../runs/case-file/data-pattern.js';
import type { CaseCommand, CaseQueue, CaseSpace, DifferentialCase } from './case.js';
import {
  ABOVE_RAM,
  DSM_AD,
  dsmRange,
  pageRun,
  QID_ABOVE,
  QID_NONE,
  QSIZE_ABOVE_MQES,
  readCase,
  SPARE_QID,
  sglRead,
  single,
  UNASSIGNED,
  VECTOR_NONE,
  writeCase,
} from './corpus-builders.js';
import {
  createCqSqe,
  createSqSqe,
  dataBlock,
  deleteCqSqe,
  deleteSqSqe,
  getFeaturesSqe,
  IO_QID,
  lastSegment,
  lbaFields,
  NSID,
  numberOfQueuesSqe,
  PAGE,
  page,
  pages,
  readSqe,
  segment,
  segmentDescriptor,
  sgl,
  sqeBytes,
  stageWrite,
  u64s,
} from './sqe-builder.js';

const PRP1_CASES: readonly DifferentialCase[] = [
  readCase('prp1-page-aligned', 'P-2', 'Read 8 LBAs, PRP1 page aligned, PRP2 = 0', 8, (s) => ({
    label: 'Read 8 LBAs, PRP1 at +0x000',
    dptr: { prp1: page(s, 0) },
    returns: [pages(s, 0)],
  })),
  readCase(
    'prp1-offset-0x200-prp2-direct',
    'P-3',
    'Read 8 LBAs, PRP1 at +0x200 spilling into a direct PRP2',
    8,
    (s) => ({
      label: 'Read 8 LBAs, PRP1 at +0x200, PRP2 = page 2',
      dptr: { prp1: page(s, 0, 0x200), prp2: page(s, 2) },
      returns: [pages(s, 0, 3)],
    }),
  ),
  readCase('prp1-offset-0x204', 'P-1', 'Read 1 LBA, PRP1 at +0x204 (dword aligned)', 1, (s) => ({
    label: 'Read 1 LBA, PRP1 at +0x204',
    dptr: { prp1: page(s, 0, 0x204) },
    returns: [pages(s, 0)],
  })),
  readCase('prp1-offset-0x202', 'P-1', 'Read 1 LBA, PRP1 at +0x202 (bits 1:0 = 10b)', 1, (s) => ({
    label: 'Read 1 LBA, PRP1 at +0x202',
    dptr: { prp1: page(s, 0, 0x202) },
    returns: [pages(s, 0)],
  })),
  readCase('prp1-offset-0x201', 'P-1', 'Read 1 LBA, PRP1 at +0x201 (bits 1:0 = 01b)', 1, (s) => ({
    label: 'Read 1 LBA, PRP1 at +0x201',
    dptr: { prp1: page(s, 0, 0x201) },
    returns: [pages(s, 0)],
  })),
  readCase('prp1-offset-0xffe-spill', 'P-1', 'Read 1 LBA, PRP1 at +0xFFE: 2 bytes, then 510 in PRP2', 1, (s) => ({
    label: 'Read 1 LBA, PRP1 at +0xFFE, PRP2 = page 2',
    dptr: { prp1: page(s, 0, 0xffe), prp2: page(s, 2) },
    returns: [pages(s, 0, 3)],
  })),
  writeCase('write-prp1-offset-0x202', 'P-1', 'Write 1 LBA from PRP1 at +0x202', 1, (s) => ({
    label: 'Write 1 LBA, PRP1 at +0x202',
    dptr: { prp1: page(s, 0, 0x202) },
    data: [{ addr: page(s, 0, 0x202), size: 512 }],
  })),
  writeCase(
    'write-prp1-offset-0x200-prp2-direct',
    'P-3',
    'Write 8 LBAs from PRP1 at +0x200 and a direct PRP2',
    8,
    (s) => ({
      label: 'Write 8 LBAs, PRP1 at +0x200, PRP2 = page 2',
      dptr: { prp1: page(s, 0, 0x200), prp2: page(s, 2) },
      data: [
        { addr: page(s, 0, 0x200), size: 0xe00 },
        { addr: page(s, 2), size: 0x200 },
      ],
    }),
  ),
  single('identify-prp1-offset-0x200', 'P-1', 'Identify Controller into PRP1 at +0x200 and a direct PRP2', (s) => ({
    qid: 0,
    sqe: sqeBytes(
      { opcode: AdminOpcode.IDENTIFY, cdw10: Cns.CONTROLLER },
      { prp1: page(s, 0, 0x200), prp2: page(s, 2) },
    ),
  })),
  single('identify-prp1-offset-0x202', 'P-1', 'Identify Controller into PRP1 at +0x202 (bits 1:0 = 10b)', (s) => ({
    qid: 0,
    sqe: sqeBytes(
      { opcode: AdminOpcode.IDENTIFY, cdw10: Cns.CONTROLLER },
      { prp1: page(s, 0, 0x202), prp2: page(s, 2) },
    ),
  })),
  readCase('prp2-direct', 'P-3', 'Read 16 LBAs, PRP1 and a direct PRP2, both page aligned', 16, (s) => ({
    label: 'Read 16 LBAs, PRP1 = page 0, PRP2 = page 3',
    dptr: { prp1: page(s, 0), prp2: page(s, 3) },
    returns: [pages(s, 0, 4)],
  })),
  readCase('prp2-direct-offset-0x100', 'P-3', 'Read 16 LBAs, direct PRP2 at +0x100', 16, (s) => ({
    label: 'Read 16 LBAs, PRP1 = page 0, PRP2 = page 3 + 0x100',
    dptr: { prp1: page(s, 0), prp2: page(s, 3, 0x100) },
    returns: [pages(s, 0, 4)],
  })),
  readCase('prp2-garbage-unused', 'P-2', 'Read 8 LBAs in PRP1 alone, PRP2 = 0xDEADBEEF', 8, (s) => ({
    label: 'Read 8 LBAs, PRP1 = page 0, PRP2 = 0xDEADBEEF',
    dptr: { prp1: page(s, 0), prp2: 0xdead_beefn },
    returns: [pages(s, 0)],
  })),
  readCase(
    'prp2-garbage-unused-at-page-end',
    'P-2',
    'Read 4 LBAs from PRP1 at +0x800 to the page end, PRP2 = ~0',
    4,
    (s) => ({
      label: 'Read 4 LBAs, PRP1 at +0x800, PRP2 = 0xFFFFFFFFFFFFFFFF',
      dptr: { prp1: page(s, 0, 0x800), prp2: 0xffff_ffff_ffff_ffffn },
      returns: [pages(s, 0)],
    }),
  ),
];

// ---- PRP lists (P-4..P-8, P-12) ----

/** Read 96 LBAs (12 pages): PRP1 = page 0, a list of pages 1..11 at page 20 + `offset`. */
function listAt(id: string, rule: string, offset: number, title: string): DifferentialCase {
  return readCase(id, rule, title, 96, (s) => ({
    label: `Read 96 LBAs, PRP list at +0x${offset.toString(16)}`,
    dptr: { prp1: page(s, 0), prp2: page(s, 20, offset) },
    memory: [{ addr: page(s, 20, offset), bytes: u64s(pageRun(s, 1, 11)) }],
    returns: [pages(s, 0, 12)],
  }));
}

const PRP_LIST_CASES: readonly DifferentialCase[] = [
  listAt('prp-list-page-aligned', 'P-5', 0, 'Read 96 LBAs through a page-aligned PRP list'),
  listAt('prp-list-offset-0x800', 'P-4', 0x800, 'Read 96 LBAs through a PRP list at +0x800'),
  listAt('prp-list-offset-0x48', 'P-5', 0x48, 'Read 96 LBAs through a PRP list at +0x48 (SPDK tracker)'),
  listAt('prp-list-offset-0x804', 'P-4', 0x804, 'Read 96 LBAs through a PRP list at +0x804 (not qword aligned)'),
  listAt('prp-list-offset-0x802', 'P-4', 0x802, 'Read 96 LBAs through a PRP list at +0x802 (bits 1:0 = 10b)'),
  readCase(
    'prp-list-last-slot-chain',
    'P-6',
    'Read 32 LBAs, list pointer in the last slot of a page: a chain pointer',
    32,
    (s) => ({
      label: 'Read 32 LBAs, PRP2 = page 20 + 0xFF8 → page 21 [3 entries]',
      dptr: { prp1: page(s, 0), prp2: page(s, 20, 0xff8) },
      memory: [
        { addr: page(s, 20, 0xff8), bytes: u64s([page(s, 21)]) },
        { addr: page(s, 21), bytes: u64s(pageRun(s, 1, 3)) },
      ],
      returns: [pages(s, 0, 4)],
    }),
  ),
  readCase('prp-list-0xff0-exact', 'P-6', 'Read 24 LBAs, list at +0xFF0 with exactly its 2 slots of data', 24, (s) => ({
    label: 'Read 24 LBAs, PRP2 = page 20 + 0xFF0 [2 data entries]',
    dptr: { prp1: page(s, 0), prp2: page(s, 20, 0xff0) },
    memory: [{ addr: page(s, 20, 0xff0), bytes: u64s(pageRun(s, 1, 2)) }],
    returns: [pages(s, 0, 3)],
  })),
  readCase('prp-list-0xff0-chain', 'P-6', 'Read 32 LBAs, list at +0xFF0: one entry, then a chain pointer', 32, (s) => ({
    label: 'Read 32 LBAs, PRP2 = page 20 + 0xFF0 [page 1, → page 21 [pages 2, 3]]',
    dptr: { prp1: page(s, 0), prp2: page(s, 20, 0xff0) },
    memory: [
      { addr: page(s, 20, 0xff0), bytes: u64s([page(s, 1), page(s, 21)]) },
      { addr: page(s, 21), bytes: u64s(pageRun(s, 2, 2)) },
    ],
    returns: [pages(s, 0, 4)],
  })),
  readCase(
    'prp-list-0xf00-chain',
    'P-6',
    'Read 34 pages, list at +0xF00: 31 entries and a chain to 2 more',
    34 * 8,
    (s) => ({
      label: 'Read 272 LBAs, PRP2 = page 60 + 0xF00 [31 data, → page 61 [2 data]]',
      dptr: { prp1: page(s, 0), prp2: page(s, 60, 0xf00) },
      memory: [
        { addr: page(s, 60, 0xf00), bytes: u64s([...pageRun(s, 1, 31), page(s, 61)]) },
        { addr: page(s, 61), bytes: u64s(pageRun(s, 32, 2)) },
      ],
      returns: [pages(s, 0, 34)],
    }),
  ),
  readCase(
    'prp-list-contiguous-across-page',
    'P-6',
    'Read 32 LBAs, list entries laid out across the page end (no chain pointer)',
    32,
    (s) => ({
      label: 'Read 32 LBAs, PRP2 = page 20 + 0xFF8, entries contiguous into page 21',
      dptr: { prp1: page(s, 0), prp2: page(s, 20, 0xff8) },
      memory: [{ addr: page(s, 20, 0xff8), bytes: u64s(pageRun(s, 1, 3)) }],
      returns: [pages(s, 0, 4)],
    }),
  ),
  readCase('prp-chain-pointer-offset', 'P-7', 'Read 32 LBAs, chained list pointer with offset 0x10', 32, (s) => ({
    label: 'Read 32 LBAs, PRP2 = page 20 + 0xFF0 [page 1, → page 21 + 0x10]',
    dptr: { prp1: page(s, 0), prp2: page(s, 20, 0xff0) },
    memory: [
      { addr: page(s, 20, 0xff0), bytes: u64s([page(s, 1), page(s, 21, 0x10)]) },
      { addr: page(s, 21, 0x10), bytes: u64s(pageRun(s, 2, 2)) },
    ],
    returns: [pages(s, 0, 4)],
  })),
  readCase('prp-list-first-entry-offset', 'P-7', 'Read 24 LBAs, first list entry at +0x100', 24, (s) => ({
    label: 'Read 24 LBAs, list [page 1 + 0x100, page 2]',
    dptr: { prp1: page(s, 0), prp2: page(s, 20) },
    memory: [{ addr: page(s, 20), bytes: u64s([page(s, 1, 0x100), page(s, 2)]) }],
    returns: [pages(s, 0, 3)],
  })),
  readCase('prp-list-second-entry-offset', 'P-7', 'Read 24 LBAs, second list entry at +0x100', 24, (s) => ({
    label: 'Read 24 LBAs, list [page 1, page 2 + 0x100]',
    dptr: { prp1: page(s, 0), prp2: page(s, 20) },
    memory: [{ addr: page(s, 20), bytes: u64s([page(s, 1), page(s, 2, 0x100)]) }],
    returns: [pages(s, 0, 3)],
  })),
  readCase(
    'prp-list-mdts-chained',
    'P-12',
    'Read 512 KiB (MDTS): list at +0xE08, 62 entries and a chain to 65 more',
    1024,
    (s) => ({
      label: 'Read 1024 LBAs, PRP2 = page 200 + 0xE08 [62 data, → page 201 [65 data]]',
      dptr: { prp1: page(s, 0), prp2: page(s, 200, 0xe08) },
      memory: [
        { addr: page(s, 200, 0xe08), bytes: u64s([...pageRun(s, 1, 62), page(s, 201)]) },
        { addr: page(s, 201), bytes: u64s(pageRun(s, 63, 65)) },
      ],
      returns: [pages(s, 0, 128)],
    }),
  ),
  readCase('mdts-exceeded', 'C-3', 'Read 129 pages: one page above MDTS (512 KiB)', 129 * 8, (s) => ({
    label: 'Read 1032 LBAs (516 KiB)',
    dptr: { prp1: page(s, 0), prp2: page(s, 200) },
    memory: [{ addr: page(s, 200), bytes: u64s(pageRun(s, 1, 128)) }],
  })),
  writeCase('write-prp-list-offset-0x800', 'P-4', 'Write 96 LBAs through a PRP list at +0x800', 96, (s) => ({
    label: 'Write 96 LBAs, PRP list at +0x800',
    dptr: { prp1: page(s, 0), prp2: page(s, 20, 0x800) },
    memory: [{ addr: page(s, 20, 0x800), bytes: u64s(pageRun(s, 1, 11)) }],
    data: [pages(s, 0, 12)],
  })),
  writeCase(
    'write-prp-list-last-slot-chain',
    'P-6',
    'Write 32 LBAs, list pointer in the last slot: a chain pointer',
    32,
    (s) => ({
      label: 'Write 32 LBAs, PRP2 = page 20 + 0xFF8 → page 21 [pages 1, 5, 3]',
      dptr: { prp1: page(s, 0), prp2: page(s, 20, 0xff8) },
      memory: [
        { addr: page(s, 20, 0xff8), bytes: u64s([page(s, 21)]) },
        { addr: page(s, 21), bytes: u64s([page(s, 1), page(s, 5), page(s, 3)]) },
      ],
      data: [pages(s, 0, 2), pages(s, 5), pages(s, 3)],
    }),
  ),
];

// ---- DMA outside RAM (P-9) ----

const DMA_CASES: readonly DifferentialCase[] = [
  readCase('dma-unassigned', 'P-9', 'Read 1 LBA to PRP1 = 0xF0000000 (unassigned)', 1, () => ({
    label: 'Read 1 LBA, PRP1 = 0xF0000000',
    dptr: { prp1: UNASSIGNED },
  })),
  readCase('dma-above-ram', 'P-9', 'Read 1 LBA to PRP1 = 0x20000000 (above RAM)', 1, () => ({
    label: 'Read 1 LBA, PRP1 = 0x20000000',
    dptr: { prp1: ABOVE_RAM },
  })),
  readCase('prp-list-unassigned', 'P-9', 'Read 24 LBAs, PRP list pointer = 0xF0000000 (unassigned)', 24, (s) => ({
    label: 'Read 24 LBAs, PRP2 (list) = 0xF0000000',
    dptr: { prp1: page(s, 0), prp2: UNASSIGNED },
    returns: [pages(s, 0)],
  })),
];

// ---- LBA range, NSID, opcodes, other NVM commands (C-1..C-6, §4) ----

function ioCommand(opcode: number, nsid: number, extra: Record<string, number> = {}): Uint8Array {
  return sqeBytes({ opcode, nsid, ...extra });
}

const COMMAND_CASES: readonly DifferentialCase[] = [
  readCase('lba-out-of-range', 'C-2', 'Read 1 LBA at SLBA = NSZE', 1, (s) => ({
    label: 'Read 1 LBA at NSZE',
    dptr: { prp1: page(s, 0) },
    slba: s.nsze,
  })),
  readCase('lba-range-straddles-end', 'C-2', 'Read 2 LBAs at SLBA = NSZE − 1', 2, (s) => ({
    label: 'Read 2 LBAs at NSZE − 1',
    dptr: { prp1: page(s, 0) },
    slba: s.nsze - 1n,
  })),
  readCase('lba-last-block', 'C-2', 'Read the last LBA', 1, (s) => ({
    label: 'Read 1 LBA at NSZE − 1',
    dptr: { prp1: page(s, 0) },
    slba: s.nsze - 1n,
    returns: [pages(s, 0)],
  })),
  readCase('lba-slba-wraps', 'C-2', 'Read 2 LBAs at SLBA = 2^64 − 1 (SLBA + NLB overflows)', 2, (s) => ({
    label: 'Read 2 LBAs at 0xFFFFFFFFFFFFFFFF',
    dptr: { prp1: page(s, 0) },
    slba: 0xffff_ffff_ffff_ffffn,
  })),
  writeCase('write-lba-out-of-range', 'C-2', 'Write 8 LBAs at SLBA = NSZE − 4 (straddles the end)', 8, (s) => ({
    label: 'Write 8 LBAs at NSZE − 4',
    dptr: { prp1: page(s, 0) },
    data: [pages(s, 0)],
    slba: s.nsze - 4n,
  })),
  readCase('nsid-0-read', '§4 NSID', 'Read with NSID 0', 1, (s) => ({
    label: 'Read 1 LBA, NSID 0',
    dptr: { prp1: page(s, 0) },
    nsid: 0,
  })),
  readCase('nsid-2-read', '§4 NSID', 'Read with NSID 2 (no such namespace)', 1, (s) => ({
    label: 'Read 1 LBA, NSID 2',
    dptr: { prp1: page(s, 0) },
    nsid: 2,
  })),
  readCase('nsid-broadcast-read', '§4 NSID', 'Read with NSID FFFFFFFFh', 1, (s) => ({
    label: 'Read 1 LBA, NSID 0xFFFFFFFF',
    dptr: { prp1: page(s, 0) },
    nsid: NVME_NSID_ALL,
  })),
  single('flush', 'C-1', 'Flush NSID 1', () => ({ qid: IO_QID, sqe: ioCommand(NvmOpcode.FLUSH, NSID) })),
  single('flush-broadcast', 'C-1', 'Flush NSID FFFFFFFFh (broadcast, VWC bits 2:1 = 11b)', () => ({
    qid: IO_QID,
    sqe: ioCommand(NvmOpcode.FLUSH, NVME_NSID_ALL),
  })),
  single('invalid-io-opcode', '§4 opcodes', 'I/O opcode 7Fh', () => ({ qid: IO_QID, sqe: ioCommand(0x7f, NSID) })),
  single('invalid-admin-opcode', '§4 opcodes', 'Admin opcode C5h', () => ({ qid: 0, sqe: ioCommand(0xc5, 0) })),
  single('io-fused-first', 'Q-12', 'Read with FUSE = 01b (fused first command)', (s) => {
    const sqe = readSqe(s.slba, 1, { prp1: page(s, 0) });
    sqe[1] = ((sqe[1] ?? 0) & ~0x3) | 0x1;
    return { qid: IO_QID, sqe };
  }),
  {
    id: 'write-zeroes',
    rule: 'C-6',
    title: 'Write 16 LBAs, then Write Zeroes on 4 of them',
    build: (s) => [
      stageWrite(s, s.slba, patternSlice(s.seed, 16 * s.blockSize)),
      {
        label: 'Write Zeroes 4 LBAs at window + 6',
        qid: IO_QID,
        sqe: sqeBytes(lbaFields(NvmOpcode.WRITE_ZEROES, s.slba + 6n, 4)),
      },
    ],
  },
  {
    id: 'compare-match',
    rule: 'C-5',
    title: 'Write 8 LBAs, then Compare the same data',
    build: (s) => {
      const data = patternSlice(s.seed, 8 * s.blockSize);
      return [
        stageWrite(s, s.slba, data),
        {
          label: 'Compare 8 LBAs (equal)',
          qid: IO_QID,
          sqe: sqeBytes(lbaFields(NvmOpcode.COMPARE, s.slba, 8), { prp1: page(s, 0) }),
          memory: [{ addr: page(s, 0), bytes: data }],
        },
      ];
    },
  },
  {
    id: 'compare-miscompare',
    rule: 'C-5',
    title: 'Write 8 LBAs, then Compare different data',
    build: (s) => [
      stageWrite(s, s.slba, patternSlice(s.seed, 8 * s.blockSize)),
      {
        label: 'Compare 8 LBAs (different)',
        qid: IO_QID,
        sqe: sqeBytes(lbaFields(NvmOpcode.COMPARE, s.slba, 8), { prp1: page(s, 0) }),
        memory: [{ addr: page(s, 0), bytes: patternSlice(s.seed + 99, 8 * s.blockSize) }],
      },
    ],
  },
  single('write-uncorrectable', 'C-4', 'Write Uncorrectable 1 LBA (ONCS bit 1)', (s) => ({
    qid: IO_QID,
    sqe: sqeBytes(lbaFields(NvmOpcode.WRITE_UNCORRECTABLE, s.slba, 1)),
  })),
  single('verify', 'C-2', 'Verify 8 LBAs (ONCS bit 7)', (s) => ({
    qid: IO_QID,
    sqe: sqeBytes(lbaFields(NvmOpcode.VERIFY, s.slba, 8)),
  })),
  {
    id: 'dsm-deallocate',
    rule: 'C-7',
    title: 'Write 16 LBAs, then Dataset Management deallocates 8 of them',
    build: (s) => [
      stageWrite(s, s.slba, patternSlice(s.seed, 16 * s.blockSize)),
      {
        label: 'Dataset Management AD, 1 range: 8 LBAs at window + 4',
        qid: IO_QID,
        sqe: sqeBytes(
          { opcode: NvmOpcode.DATASET_MANAGEMENT, nsid: NSID, cdw10: 0, cdw11: DSM_AD },
          { prp1: page(s, 0) },
        ),
        memory: [{ addr: page(s, 0), bytes: dsmRange(s.slba + 4n, 8) }],
      },
    ],
  },
  {
    id: 'dsm-range-out-of-bounds',
    rule: 'C-7',
    title: 'Dataset Management deallocating a range that ends past NSZE',
    build: (s) => [
      {
        label: 'Dataset Management AD, 1 range: 16 LBAs at NSZE − 8',
        qid: IO_QID,
        sqe: sqeBytes(
          { opcode: NvmOpcode.DATASET_MANAGEMENT, nsid: NSID, cdw10: 0, cdw11: DSM_AD },
          { prp1: page(s, 0) },
        ),
        memory: [{ addr: page(s, 0), bytes: dsmRange(s.nsze - 8n, 16) }],
      },
    ],
  },
];

// ---- Other admin commands (C-A1, C-A2, C-A3, Q-10) ----

const ADMIN_CASES: readonly DifferentialCase[] = [
  single('identify-unknown-cns', 'C-A1', 'Identify with CNS 55h (reserved)', (s) => ({
    qid: 0,
    sqe: sqeBytes({ opcode: AdminOpcode.IDENTIFY, cdw10: 0x55 }, { prp1: page(s, 0) }),
  })),
  single('get-log-page-unknown-lid', 'C-A2', 'Get Log Page of LID 70h (reserved), 4 KiB', (s) => ({
    qid: 0,
    sqe: sqeBytes(
      { opcode: AdminOpcode.GET_LOG_PAGE, nsid: NVME_NSID_ALL, cdw10: ((1023 << 16) | 0x70) >>> 0 },
      { prp1: page(s, 0) },
    ),
  })),
  single('get-features-unsupported-fid', 'C-A3', 'Get Features of FID 7Fh (not supported)', () => ({
    qid: 0,
    sqe: getFeaturesSqe(0x7f),
  })),
  single('number-of-queues-ffff', 'C-A3', 'Set Features Number of Queues with NSQR = FFFFh', () => ({
    qid: 0,
    sqe: sqeBytes({ opcode: AdminOpcode.SET_FEATURES, cdw10: FeatureId.NUMBER_OF_QUEUES, cdw11: 0x0000_ffff }),
  })),
  single('abort-nonexistent-sq', 'Q-10', 'Abort CID 0 on SQ 7 (does not exist)', () => ({
    qid: 0,
    sqe: sqeBytes({ opcode: AdminOpcode.ABORT, cdw10: QID_NONE }),
  })),
];

// ---- SGLs (S-1..S-8, P-11) ----

const SGL_CASES: readonly DifferentialCase[] = [
  sglRead('sgl-data-block', 'S-1', 'Read 8 LBAs, SGL1 = Data Block at +0x10', (s) => ({
    sgl1: dataBlock(page(s, 0, 0x10), PAGE),
    returns: [pages(s, 0, 2)],
  })),
  sglRead(
    'sgl-last-segment-byte-aligned',
    'S-13',
    'Read 8 LBAs, Last Segment → 2 Data Blocks at +3 and +7, split at 1000',
    (s) => ({
      sgl1: lastSegment(page(s, 20), 2),
      segments: [
        { addr: page(s, 20), bytes: segment([dataBlock(page(s, 0, 3), 1000), dataBlock(page(s, 2, 7), 3096)]) },
      ],
    }),
  ),
  sglRead('sgl-segment-chain', 'S-4', 'Read 8 LBAs, Segment [DB, → Last Segment] → [DB]', (s) => ({
    sgl1: segmentDescriptor(page(s, 20), 2),
    segments: [
      { addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), 2048), lastSegment(page(s, 21), 1)]) },
      { addr: page(s, 21), bytes: segment([dataBlock(page(s, 2), 2048)]) },
    ],
  })),
  sglRead(
    'sgl-three-segment-chain',
    'S-4',
    'Read 8 LBAs, Segment [DB, → Segment] → [DB, DB, → Last Segment] → [DB]',
    (s) => ({
      sgl1: segmentDescriptor(page(s, 20), 2),
      segments: [
        { addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), 1024), segmentDescriptor(page(s, 21), 3)]) },
        {
          addr: page(s, 21),
          bytes: segment([dataBlock(page(s, 1), 1024), dataBlock(page(s, 2), 1024), lastSegment(page(s, 22), 1)]),
        },
        { addr: page(s, 22), bytes: segment([dataBlock(page(s, 3), 1024)]) },
      ],
    }),
  ),
  sglRead(
    'sgl-three-segment-chain-same-slot',
    'S-4',
    'Read 8 LBAs, Segment [DB, → Segment] → [DB, → Last Segment] → [DB]: both pointers in slot 1',
    (s) => ({
      sgl1: segmentDescriptor(page(s, 20), 2),
      segments: [
        { addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), 1024), segmentDescriptor(page(s, 21), 2)]) },
        { addr: page(s, 21), bytes: segment([dataBlock(page(s, 1), 2048), lastSegment(page(s, 22), 1)]) },
        { addr: page(s, 22), bytes: segment([dataBlock(page(s, 3), 1024)]) },
      ],
    }),
  ),
  sglRead(
    'sgl-segment-chain-ends-in-data',
    'S-4',
    'Read 8 LBAs, Segment → [DB, DB]: a Segment chain ending in data',
    (s) => ({
      sgl1: segmentDescriptor(page(s, 20), 2),
      segments: [{ addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), 2048), dataBlock(page(s, 2), 2048)]) }],
    }),
  ),
  sglRead('sgl-bit-bucket-sgl1', 'S-7', 'Read 8 LBAs, SGL1 = Bit Bucket', () => ({
    sgl1: sgl(SglType.BIT_BUCKET, 0n, PAGE),
  })),
  sglRead('sgl-bit-bucket-in-segment', 'S-8', 'Read 8 LBAs, Last Segment → [DB 2 KiB, Bit Bucket 2 KiB]', (s) => ({
    sgl1: lastSegment(page(s, 20), 2),
    segments: [{ addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), 2048), sgl(SglType.BIT_BUCKET, 0n, 2048)]) }],
  })),
  sglRead(
    'sgl-bit-bucket-first-in-segment',
    'S-8',
    'Read 8 LBAs, Last Segment → [Bit Bucket 2 KiB, DB 2 KiB]',
    (s) => ({
      sgl1: lastSegment(page(s, 20), 2),
      segments: [
        { addr: page(s, 20), bytes: segment([sgl(SglType.BIT_BUCKET, 0n, 2048), dataBlock(page(s, 2), 2048)]) },
      ],
    }),
  ),
  writeCase('sgl-bit-bucket-write', 'S-8', 'Write 8 LBAs, Last Segment → [DB 2 KiB, Bit Bucket 2 KiB]', 8, (s) => ({
    label: 'Write 8 LBAs, Last Segment → [DB, Bit Bucket]',
    dptr: { sgl1: lastSegment(page(s, 20), 2) },
    memory: [{ addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), 2048), sgl(SglType.BIT_BUCKET, 0n, 2048)]) }],
    data: [
      { addr: page(s, 0), size: 2048 },
      { addr: page(s, 2), size: 2048 },
    ],
  })),
  sglRead('sgl-keyed-sgl1', 'S-7', 'Read 8 LBAs, SGL1 = Keyed Data Block (type 4h)', (s) => ({
    sgl1: sgl(SglType.KEYED_DATA_BLOCK, page(s, 0), PAGE),
  })),
  sglRead('sgl-vendor-sgl1', 'S-7', 'Read 8 LBAs, SGL1 type Fh (vendor specific)', (s) => ({
    sgl1: sgl(SglType.VENDOR, page(s, 0), PAGE),
  })),
  sglRead('sgl-reserved-type-sgl1', 'S-7', 'Read 8 LBAs, SGL1 type 6h (reserved)', (s) => ({
    sgl1: sgl(0x6, page(s, 0), PAGE),
  })),
  sglRead('sgl-keyed-in-last-segment', 'S-7', 'Read 8 LBAs, Last Segment → [Keyed Data Block]', (s) => ({
    sgl1: lastSegment(page(s, 20), 1),
    segments: [{ addr: page(s, 20), bytes: segment([sgl(SglType.KEYED_DATA_BLOCK, page(s, 0), PAGE)]) }],
  })),
  sglRead('sgl-reserved-type-in-segment', 'S-7', 'Read 8 LBAs, Last Segment → [type 6h, DB]', (s) => ({
    sgl1: lastSegment(page(s, 20), 2),
    segments: [{ addr: page(s, 20), bytes: segment([sgl(0x6, page(s, 0), 2048), dataBlock(page(s, 2), 2048)]) }],
  })),
  sglRead('sgl-data-block-short', 'S-5', 'Read 8 LBAs, SGL1 Data Block of 4095 bytes', (s) => ({
    sgl1: dataBlock(page(s, 0), PAGE - 1),
  })),
  sglRead('sgl-data-block-long', 'S-5', 'Read 8 LBAs, SGL1 Data Block of 8 KiB (excess length)', (s) => ({
    sgl1: dataBlock(page(s, 0), 2 * PAGE),
  })),
  sglRead(
    'sgl-extra-descriptor',
    'S-5',
    'Read 8 LBAs, Last Segment → [DB 4 KiB, DB 4 KiB]: one descriptor too many',
    (s) => ({
      sgl1: lastSegment(page(s, 20), 2),
      segments: [{ addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), PAGE), dataBlock(page(s, 2), PAGE)]) }],
    }),
  ),
  sglRead('sgl-zero-length-data-block', 'S-5', 'Read 8 LBAs, SGL1 Data Block of length 0', (s) => ({
    sgl1: dataBlock(page(s, 0), 0),
  })),
  sglRead('sgl-zero-length-in-segment', 'S-5', 'Read 8 LBAs, Last Segment → [DB length 0, DB 4 KiB]', (s) => ({
    sgl1: lastSegment(page(s, 20), 2),
    segments: [{ addr: page(s, 20), bytes: segment([dataBlock(page(s, 1), 0), dataBlock(page(s, 2), PAGE)]) }],
  })),
  sglRead('sgl-last-segment-length-24', 'S-2', 'Read 8 LBAs, Last Segment of 24 bytes (not a multiple of 16)', (s) => ({
    sgl1: { ...lastSegment(page(s, 20), 1), length: 24 },
    segments: [{ addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), PAGE), dataBlock(page(s, 2), 0)]) }],
  })),
  sglRead('sgl-last-segment-length-0', 'S-2', 'Read 8 LBAs, Last Segment of length 0', (s) => ({
    sgl1: { ...lastSegment(page(s, 20), 1), length: 0 },
    segments: [{ addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), PAGE)]) }],
  })),
  sglRead('sgl-last-segment-contains-segment', 'S-4', 'Read 8 LBAs, Last Segment → [DB, Last Segment]', (s) => ({
    sgl1: lastSegment(page(s, 20), 2),
    segments: [
      { addr: page(s, 20), bytes: segment([dataBlock(page(s, 0), 2048), lastSegment(page(s, 21), 1)]) },
      { addr: page(s, 21), bytes: segment([dataBlock(page(s, 2), 2048)]) },
    ],
  })),
  sglRead('sgl-segment-descriptor-in-middle', 'S-3', 'Read 8 LBAs, Last Segment → [DB, Segment, DB]', (s) => ({
    sgl1: lastSegment(page(s, 20), 3),
    segments: [
      {
        addr: page(s, 20),
        bytes: segment([dataBlock(page(s, 0), 2048), segmentDescriptor(page(s, 21), 1), dataBlock(page(s, 2), 2048)]),
      },
    ],
  })),
  sglRead('sgl-data-block-subtype-offset', 'S-7', 'Read 8 LBAs, SGL1 Data Block with subtype 1h (Offset)', (s) => ({
    sgl1: sgl(SglType.DATA_BLOCK, page(s, 0), PAGE, SglSubtype.OFFSET),
  })),
  readCase('psdt-reserved', 'P-11', 'Read 8 LBAs with PSDT = 11b (reserved)', 8, (s) => ({
    label: 'Read 8 LBAs, PSDT 11b',
    dptr: { sgl1: dataBlock(page(s, 0), PAGE), psdt: Psdt.RESERVED },
  })),
  readCase('psdt-mptr-sgl', 'P-11', 'Read 8 LBAs with PSDT = 10b (MPTR is an SGL), no metadata', 8, (s) => ({
    label: 'Read 8 LBAs, PSDT 10b, SGL1 = Data Block',
    dptr: { sgl1: dataBlock(page(s, 0), PAGE), psdt: Psdt.SGL_MPTR_SGL },
    returns: [pages(s, 0)],
  })),
  single('sgl-on-admin', 'P-11', 'Identify Controller with PSDT = 01b', (s) => ({
    qid: 0,
    sqe: sqeBytes({ opcode: AdminOpcode.IDENTIFY, cdw10: Cns.CONTROLLER }, { sgl1: dataBlock(page(s, 0), PAGE) }),
  })),
  writeCase(
    'sgl-write-byte-aligned',
    'S-13',
    'Write 8 LBAs, Last Segment → 2 Data Blocks at +5 and +0x333',
    8,
    (s) => ({
      label: 'Write 8 LBAs, Last Segment → [DB +5 700 B, DB +0x333 3396 B]',
      dptr: { sgl1: lastSegment(page(s, 20), 2) },
      memory: [
        { addr: page(s, 20), bytes: segment([dataBlock(page(s, 0, 5), 700), dataBlock(page(s, 2, 0x333), 3396)]) },
      ],
      data: [
        { addr: page(s, 0, 5), size: 700 },
        { addr: page(s, 2, 0x333), size: 3396 },
      ],
    }),
  ),
];

// ---- Queue management (Q-2, Q-7, Q-8, Q-9) ----

function spare(s: CaseSpace): CaseQueue {
  const q = s.queues.find((x) => x.qid === SPARE_QID);
  if (q === undefined) throw new RangeError(`queue-management cases need I/O queue ${SPARE_QID}`);
  return q;
}

/** Create I/O CQ as the host driver made it at bring-up (PC, IEN and IV when it has a vector). */
function recreateCq(q: CaseQueue): Uint8Array {
  return createCqSqe(q.qid, q.depth - 1, q.cqBase, { ien: q.vector !== undefined, iv: q.vector ?? 0 });
}

/** Deletes the spare pair, runs `steps`, and re-creates it exactly as the host driver made it. */
function withSpareFree(s: CaseSpace, steps: readonly CaseCommand[]): CaseCommand[] {
  const q = spare(s);
  return [
    { label: `set-up: Delete I/O SQ ${SPARE_QID}`, qid: 0, sqe: deleteSqSqe(SPARE_QID) },
    { label: `set-up: Delete I/O CQ ${SPARE_QID}`, qid: 0, sqe: deleteCqSqe(SPARE_QID) },
    ...steps,
    { label: `clean-up: Create I/O CQ ${SPARE_QID}`, qid: 0, sqe: recreateCq(q) },
    {
      label: `clean-up: Create I/O SQ ${SPARE_QID}`,
      qid: 0,
      sqe: createSqSqe(SPARE_QID, q.depth - 1, q.sqBase, SPARE_QID),
    },
  ];
}

function queueCase(
  id: string,
  rule: string,
  title: string,
  sqe: (s: CaseSpace) => Uint8Array,
  free = true,
): DifferentialCase {
  return {
    id,
    rule,
    title,
    build: (s) => {
      const step: CaseCommand = { label: title, qid: 0, sqe: sqe(s) };
      return free ? withSpareFree(s, [step]) : [step];
    },
  };
}

const QUEUE_CASES: readonly DifferentialCase[] = [
  queueCase('create-cq-qid-0', 'Q-7', 'Create I/O CQ 0', (s) => createCqSqe(0, 31, spare(s).cqBase), false),
  queueCase(
    'create-cq-qid-above-allocation',
    'Q-7',
    'Create I/O CQ 5 (above the 4 allocated)',
    (s) => createCqSqe(QID_ABOVE, 31, page(s, 0)),
    false,
  ),
  queueCase('create-cq-qid-in-use', 'Q-7', 'Create I/O CQ 1 (exists)', (s) => createCqSqe(1, 31, page(s, 0)), false),
  queueCase('create-cq-size-0', 'Q-2', 'Create I/O CQ 4 with QSIZE 0', (s) =>
    createCqSqe(SPARE_QID, 0, spare(s).cqBase, { iv: SPARE_QID }),
  ),
  queueCase('create-cq-size-above-mqes', 'Q-2', 'Create I/O CQ 4 with QSIZE = MQES + 1', (s) =>
    createCqSqe(SPARE_QID, QSIZE_ABOVE_MQES, spare(s).cqBase, { iv: SPARE_QID }),
  ),
  queueCase('create-cq-prp1-offset', 'P-14', 'Create I/O CQ 4 at a base with offset 0x100', (s) =>
    createCqSqe(SPARE_QID, 31, spare(s).cqBase + 0x100n, { iv: SPARE_QID }),
  ),
  queueCase('create-cq-not-contiguous', 'P-14', 'Create I/O CQ 4 with PC = 0 (CAP.CQR = 1)', (s) =>
    createCqSqe(SPARE_QID, 31, spare(s).cqBase, { pc: false, iv: SPARE_QID }),
  ),
  queueCase('create-cq-invalid-vector', 'Q-7', 'Create I/O CQ 4 with IV 65 (no such MSI-X vector)', (s) =>
    createCqSqe(SPARE_QID, 31, spare(s).cqBase, { iv: VECTOR_NONE }),
  ),
  queueCase(
    'create-cq-not-contiguous-and-invalid-vector',
    'Q-7',
    'Create I/O CQ 4 with PC = 0 and IV 65: two invalid fields',
    (s) => createCqSqe(SPARE_QID, 31, spare(s).cqBase, { pc: false, iv: VECTOR_NONE }),
  ),
  queueCase('create-sq-cq-missing', 'Q-8', 'Create I/O SQ 4 on CQ 4 (deleted)', (s) =>
    createSqSqe(SPARE_QID, 31, spare(s).sqBase, SPARE_QID),
  ),
  queueCase('create-sq-cqid-0', 'Q-8', 'Create I/O SQ 4 on CQ 0 (the admin CQ)', (s) =>
    createSqSqe(SPARE_QID, 31, spare(s).sqBase, 0),
  ),
  queueCase(
    'create-sq-qid-above-allocation',
    'Q-8',
    'Create I/O SQ 5 on CQ 1',
    (s) => createSqSqe(QID_ABOVE, 31, page(s, 0), 1),
    false,
  ),
  queueCase(
    'create-sq-qid-in-use',
    'Q-8',
    'Create I/O SQ 1 on CQ 1 (SQ 1 exists)',
    (s) => createSqSqe(1, 31, page(s, 0), 1),
    false,
  ),
  queueCase(
    'create-sq-bad-qid-and-cqid',
    'Q-8',
    'Create I/O SQ 5 on CQ 7: both identifiers invalid',
    (s) => createSqSqe(QID_ABOVE, 31, page(s, 0), QID_NONE),
    false,
  ),
  {
    id: 'create-sq-size-0',
    rule: 'Q-2',
    title: 'Create I/O SQ 4 with QSIZE 0',
    build: (s) => {
      const q = spare(s);
      return withSpareFree(s, [
        { label: 'set-up: Create I/O CQ 4', qid: 0, sqe: recreateCq(q) },
        { label: 'Create I/O SQ 4 with QSIZE 0', qid: 0, sqe: createSqSqe(SPARE_QID, 0, q.sqBase, SPARE_QID) },
        { label: 'set-up: Delete I/O CQ 4', qid: 0, sqe: deleteCqSqe(SPARE_QID) },
      ]);
    },
  },
  queueCase('delete-cq-with-sq', 'Q-9', 'Delete I/O CQ 1 while SQ 1 uses it', () => deleteCqSqe(1), false),
  queueCase('delete-cq-nonexistent', 'Q-9', 'Delete I/O CQ 7 (does not exist)', () => deleteCqSqe(QID_NONE), false),
  queueCase('delete-cq-qid-0', 'Q-9', 'Delete I/O CQ 0 (the admin CQ)', () => deleteCqSqe(0), false),
  queueCase('delete-sq-nonexistent', 'Q-9', 'Delete I/O SQ 7 (does not exist)', () => deleteSqSqe(QID_NONE), false),
  queueCase('delete-sq-qid-0', 'Q-9', 'Delete I/O SQ 0 (the admin SQ)', () => deleteSqSqe(0), false),
  {
    id: 'delete-and-recreate-queue-pair',
    rule: 'Q-9',
    title: 'Delete I/O SQ 4 and CQ 4, then create them again',
    build: (s) => withSpareFree(s, []),
  },
];

// ---- Number of Queues (C-A3) ----

const FEATURE_CASES: readonly DifferentialCase[] = [
  single('number-of-queues-after-creation', 'C-A3', 'Set Features Number of Queues after I/O queues exist', () => ({
    qid: 0,
    sqe: numberOfQueuesSqe(2),
  })),
  {
    id: 'number-of-queues-allocation',
    rule: 'C-A3',
    title: 'Host asks for 1 I/O queue pair: what is allocated, and may CQ 2 be created?',
    setup: { ioQueues: 1 },
    build: (s) => [
      { label: 'Get Features Number of Queues (current)', qid: 0, sqe: getFeaturesSqe(FeatureId.NUMBER_OF_QUEUES) },
      {
        label: 'Create I/O CQ 2 (beyond the 1 pair asked for)',
        qid: 0,
        sqe: createCqSqe(2, 31, page(s, 0), { ien: false }),
      },
      { label: 'clean-up: Delete I/O CQ 2', qid: 0, sqe: deleteCqSqe(2), compare: false },
    ],
  },
];

/** The corpus, in run order. */
export const DIFFERENTIAL_CORPUS: readonly DifferentialCase[] = Object.freeze([
  ...PRP1_CASES,
  ...PRP_LIST_CASES,
  ...DMA_CASES,
  ...COMMAND_CASES,
  ...ADMIN_CASES,
  ...SGL_CASES,
  ...QUEUE_CASES,
  ...FEATURE_CASES,
]);

/** The corpus case with this id. */
export function corpusCase(id: string): DifferentialCase | undefined {
  return DIFFERENTIAL_CORPUS.find((c) => c.id === id);
}
