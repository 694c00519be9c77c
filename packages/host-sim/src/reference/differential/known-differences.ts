/**
 * The known differences between epfsim (default options: the NVMe specification's behaviour) and
 * QEMU 7.2's NVMe controller, with the rule (docs/nvme-rules.md) and the epfsim controller
 * options that reproduce QEMU's behaviour. docs/qemu-differences.md is generated from this list
 * ({@link renderQemuDifferences}) and a test keeps the two in sync.
 */
import type { NvmeFunctionOptions } from '@epfsim/nvme-epf';
import {
  AdminOpcode,
  FeatureId,
  isSuccess,
  NVME_NSID_ALL,
  NvmOpcode,
  Psdt,
  Sct,
  SglSubtype,
  SglType,
  SQE,
  sglSubtype,
  sglType,
  sqeCdw,
  sqeNsid,
  sqeOpcode,
  sqePrp1,
  sqePrp2,
  sqePsdt,
  statusDnr,
  statusSc,
  statusSct,
} from '@epfsim/nvme-spec-types';
import type { CommandOutcome, Observation } from './outcome.js';

/** A documented, deliberate difference. */
export interface KnownDifference {
  /** Stable kebab-case id. */
  readonly id: string;
  /** docs/nvme-rules.md rule id(s). */
  readonly rule: string;
  readonly title: string;
  /** What epfsim does with its default options (the specification). */
  readonly epfsim: string;
  /** What QEMU 7.2 does. */
  readonly qemu: string;
  /** epfsim options that reproduce QEMU's behaviour; null: none does (QEMU deviates from the spec, or the choice is not an option). */
  readonly option: Readonly<Partial<NvmeFunctionOptions>> | null;
  /** Why there is no option, or what the option does beyond QEMU's behaviour. */
  readonly note: string;
  /** Corpus cases that show it. */
  readonly cases: readonly string[];
  /** True when an observed difference is this one. */
  readonly matches: (o: Observation) => boolean;
}

// ---- matcher helpers ----

function view(o: Observation): DataView {
  return new DataView(o.sqe.buffer, o.sqe.byteOffset, o.sqe.byteLength);
}

function isStatus(outcome: CommandOutcome, sct: number, sc: number): boolean {
  return outcome.source === 'controller' && statusSct(outcome.status) === sct && statusSc(outcome.status) === sc;
}

function isOk(outcome: CommandOutcome): boolean {
  return outcome.source === 'controller' && isSuccess(outcome.status);
}

/** The status field differs as `epfsim` vs `qemu` (each `[sct, sc]`, or 'ok'). */
function statusPair(
  o: Observation,
  epfsim: readonly [number, number] | 'ok',
  qemu: readonly [number, number] | 'ok',
): boolean {
  const e = epfsim === 'ok' ? isOk(o.epfsim) : isStatus(o.epfsim, epfsim[0], epfsim[1]);
  const q = qemu === 'ok' ? isOk(o.qemu) : isStatus(o.qemu, qemu[0], qemu[1]);
  return o.field === 'status' && e && q;
}

const G = Sct.GENERIC;
const CS = Sct.COMMAND_SPECIFIC;
const SC_INVALID_FIELD = 0x02;
const SC_DATA_XFER_ERROR = 0x04;
const SC_INVALID_NS = 0x0b;
const SC_SGL_INVALID_LAST = 0x0d;
const SC_SGL_INVALID_DATA = 0x0f;
const SC_SGL_INVALID_TYPE = 0x11;
const SC_PRP_INVALID_OFFSET = 0x13;
const SC_CMD_SEQ_ERROR = 0x0c;
const SC_LBA_RANGE = 0x80;
const SC_INVALID_LOG_PAGE = 0x09;
const SC_CQ_INVALID = 0x00;
const SC_QID_INVALID = 0x01;
const PRP_DWORD_MASK = 3n;
const PRP_QWORD_MASK = 7n;
/** CDW10 bits 7:0: the Feature Identifier. */
const FID_MASK = 0xff;
/** Dataset Management CDW11 bit 2: Attribute – Deallocate. */
const DSM_AD = 1 << 2;

function isIo(o: Observation): boolean {
  return o.qid !== 0;
}

function psdt(o: Observation): number {
  return sqePsdt(view(o), 0);
}

function isSgl(o: Observation): boolean {
  const p = psdt(o);
  return p === Psdt.SGL_MPTR_CONTIG || p === Psdt.SGL_MPTR_SGL;
}

function sgl1Type(o: Observation): number {
  return sglType(view(o), SQE.SGL1.off);
}

function opcode(o: Observation): number {
  return sqeOpcode(view(o), 0);
}

/** The list of known differences (QEMU 7.2.22, docs/nvme-rules.md §8, and the differential corpus). */
export const KNOWN_DIFFERENCES: readonly KnownDifference[] = Object.freeze([
  {
    id: 'prp1-not-dword-aligned',
    rule: 'P-1',
    title: 'PRP1 with bits 1:0 set',
    epfsim: 'Checks PRP1 bits 1:0 (reserved in every PRP entry): 0/13h PRP Offset Invalid.',
    qemu: 'Does not check them: transfers to or from the exact byte address (+0x201, +0x202).',
    option: { checkPrp1Dword: false },
    note: 'The specification lets a controller skip this check; the oracle accepts both outcomes. The option makes the statuses agree; where the data then goes differs (`prp1-reserved-bits-as-address`).',
    cases: [
      'prp1-offset-0x202',
      'prp1-offset-0x201',
      'prp1-offset-0xffe-spill',
      'write-prp1-offset-0x202',
      'identify-prp1-offset-0x202',
    ],
    matches: (o) =>
      psdt(o) === Psdt.PRP &&
      (sqePrp1(view(o), 0) & PRP_DWORD_MASK) !== 0n &&
      statusPair(o, [G, SC_PRP_INVALID_OFFSET], 'ok'),
  },
  {
    id: 'prp1-reserved-bits-as-address',
    rule: 'P-1',
    title: 'Data through a PRP1 with bits 1:0 set, when the check is off',
    epfsim:
      'With `checkPrp1Dword: false`, moves the data as if bits 1:0 were clear, as the specification has a controller that does not check them do; where the host granted the device only the bytes from the exact address, that access is refused (0/04h Data Transfer Error).',
    qemu: 'Moves the data to or from the exact byte address (+0x201, +0x202).',
    option: null,
    note: 'No option: QEMU uses reserved bits as address bits, which the specification does not allow. Seen only with `checkPrp1Dword: false` (with the check, the statuses already differ).',
    cases: ['prp1-offset-0x202', 'prp1-offset-0x201', 'prp1-offset-0xffe-spill', 'write-prp1-offset-0x202'],
    matches: (o) =>
      psdt(o) === Psdt.PRP &&
      (sqePrp1(view(o), 0) & PRP_DWORD_MASK) !== 0n &&
      (((o.field === 'data' || o.field === 'namespace') && isOk(o.epfsim) && isOk(o.qemu)) ||
        statusPair(o, [G, SC_DATA_XFER_ERROR], 'ok')),
  },
  {
    id: 'prp-list-not-qword-aligned',
    rule: 'P-4',
    title: 'PRP list pointer (PRP2) not qword aligned, bits 1:0 clear',
    epfsim: 'Requires a qword-aligned list pointer: 0/13h PRP Offset Invalid.',
    qemu: 'Reads the list entries from the unaligned address as given.',
    option: { checkPrpListQword: false },
    note: 'The specification says the first list entry "shall be qword aligned"; whether a controller checks it is implementation specific.',
    cases: ['prp-list-offset-0x804'],
    matches: (o) => {
      const p2 = sqePrp2(view(o), 0);
      return (
        psdt(o) === Psdt.PRP &&
        (p2 & PRP_QWORD_MASK) !== 0n &&
        (p2 & PRP_DWORD_MASK) === 0n &&
        statusPair(o, [G, SC_PRP_INVALID_OFFSET], 'ok')
      );
    },
  },
  {
    id: 'prp-list-pointer-reserved-bits',
    rule: 'P-4 (P-1)',
    title: 'PRP list pointer (PRP2) with bits 1:0 set',
    epfsim: 'Bits 1:0 of every PRP entry are reserved: 0/13h PRP Offset Invalid, with any option.',
    qemu: 'Reads the list entries from the unaligned address as given.',
    option: null,
    note: 'No option: `checkPrpListQword: false` relaxes only bit 2. QEMU deviates from the spec (reserved bits ignored).',
    cases: ['prp-list-offset-0x802'],
    matches: (o) =>
      psdt(o) === Psdt.PRP &&
      (sqePrp2(view(o), 0) & PRP_DWORD_MASK) !== 0n &&
      statusPair(o, [G, SC_PRP_INVALID_OFFSET], 'ok'),
  },
  {
    id: 'dma-outside-ram',
    rule: 'P-9 (case J)',
    title: 'Data pointer to an address that is not RAM',
    epfsim: 'The bus access faults: 0/04h Data Transfer Error.',
    qemu:
      'Data DMA to unassigned guest-physical addresses (0xF0000000, above RAM) is silently dropped: the command ' +
      'succeeds. (A PRP list read from such an address does give 0/04h, as in epfsim: case prp-list-unassigned.)',
    option: null,
    note: 'No option: QEMU deviates from the spec (P-9 requires 0/04h).',
    cases: ['dma-unassigned', 'dma-above-ram'],
    matches: (o) => statusPair(o, [G, SC_DATA_XFER_ERROR], 'ok'),
  },
  {
    id: 'sgl-segment-chain-ends-in-data',
    rule: 'S-4',
    title: 'A segment reached through a Segment descriptor ends with a Data Block',
    epfsim: 'Such a segment must end with a Segment or Last Segment descriptor: 0/0Dh Invalid SGL Segment Descriptor.',
    qemu: 'Accepts the chain: the data descriptors of that segment complete the transfer.',
    option: { sglSegmentChainEnd: 'lenient' },
    note: '',
    cases: ['sgl-segment-chain-ends-in-data'],
    matches: (o) => isSgl(o) && sgl1Type(o) === SglType.SEGMENT && statusPair(o, [G, SC_SGL_INVALID_LAST], 'ok'),
  },
  {
    id: 'sgl-segment-chain-slot-reuse',
    rule: 'S-4',
    title: 'Segment → Segment → Last Segment, the two pointers in the same slot of their segments',
    epfsim:
      'A segment reached through a Segment descriptor may end with a Last Segment descriptor: the chain is walked and the command succeeds.',
    qemu:
      '0/0Dh Invalid SGL Segment Descriptor. nvme_map_sgl() keeps its pointer to the current Segment descriptor inside ' +
      'the buffer it reads the next segment into; when that segment ends with a Last Segment descriptor in the same ' +
      'slot, QEMU takes it for the current descriptor and rejects the chain as a Last Segment followed by a segment.',
    option: null,
    note:
      'No option: a QEMU 7.2 bug (hw/nvme/ctrl.c), not a reading of the spec. Found by `epfsim fuzz --differential` on ' +
      'adversarial SGL chains; a three-segment chain with the pointers in different slots agrees (case sgl-three-segment-chain).',
    cases: ['sgl-three-segment-chain-same-slot'],
    // Before sgl-bit-bucket, whose matcher also takes "epfsim ok, QEMU 0/0Dh" (its cases start with a Last Segment).
    matches: (o) => isSgl(o) && sgl1Type(o) === SglType.SEGMENT && statusPair(o, 'ok', [G, SC_SGL_INVALID_LAST]),
  },
  {
    id: 'sgl-bit-bucket',
    rule: 'S-8 (S-7)',
    title: 'SGL Bit Bucket descriptor on a Read',
    epfsim: 'Advertises Bit Buckets (SGLS bit 16) and discards those bytes of a read.',
    qemu: 'SGLS = 0x1, no Bit Bucket support: the command fails with 0/11h SGL Descriptor Type Invalid (0/0Dh when the Bit Bucket is the last descriptor of a Last Segment).',
    option: { sglBitBucket: false },
    note:
      'With the option epfsim reports SGLS bit 16 clear (SGLS = 0x1, as QEMU) and fails the command with 0/11h; where QEMU ' +
      'answers 0/0Dh instead, the difference left is sgl-unsupported-type-status.',
    cases: ['sgl-bit-bucket-first-in-segment', 'sgl-bit-bucket-in-segment'],
    matches: (o) =>
      isSgl(o) && (statusPair(o, 'ok', [G, SC_SGL_INVALID_TYPE]) || statusPair(o, 'ok', [G, SC_SGL_INVALID_LAST])),
  },
  {
    id: 'sgl-excess-length',
    rule: 'S-5 (case S5)',
    title: 'A Data Block longer than the transfer',
    epfsim: 'SGLS bit 18 (excess length) is clear: 0/0Fh Data SGL Length Invalid.',
    qemu: 'Truncates the last Data Block to the transfer length and succeeds, although SGLS bit 18 is clear.',
    option: null,
    note:
      'No option reproduces it exactly: `sglExcessLength: true` accepts the long Data Block but also advertises SGLS bit 18 ' +
      'and ignores further descriptors after the data is complete, which QEMU rejects with 0/0Fh (case sgl-extra-descriptor). ' +
      'QEMU deviates from the spec.',
    cases: ['sgl-data-block-long'],
    matches: (o) => isSgl(o) && statusPair(o, [G, SC_SGL_INVALID_DATA], 'ok'),
  },
  {
    id: 'sgl-unsupported-type-status',
    rule: 'S-7 (case T6)',
    title: 'Unsupported SGL descriptor type (Keyed, vendor specific, reserved, unsupported Bit Bucket)',
    epfsim: '0/11h SGL Descriptor Type Invalid.',
    qemu: '0/0Dh Invalid SGL Segment Descriptor when the descriptor is SGL1 or the last one of a Last Segment (0/11h elsewhere).',
    option: null,
    note: 'No option: QEMU deviates from the spec (S-7 gives 0/11h).',
    cases: [
      'sgl-keyed-sgl1',
      'sgl-vendor-sgl1',
      'sgl-reserved-type-sgl1',
      'sgl-keyed-in-last-segment',
      'sgl-bit-bucket-sgl1',
      'sgl-bit-bucket-write',
    ],
    matches: (o) => isSgl(o) && statusPair(o, [G, SC_SGL_INVALID_TYPE], [G, SC_SGL_INVALID_LAST]),
  },
  {
    id: 'sgl-subtype-ignored',
    rule: 'S-7 (case T7)',
    title: 'Data Block with a subtype other than 0h (Address)',
    epfsim: 'Only subtype 0h is meaningful on PCIe: 0/11h SGL Descriptor Type Invalid.',
    qemu: 'Ignores the subtype and uses the address.',
    option: null,
    note: 'No option: QEMU deviates from the spec.',
    cases: ['sgl-data-block-subtype-offset'],
    matches: (o) =>
      isSgl(o) &&
      sgl1Type(o) === SglType.DATA_BLOCK &&
      sglSubtype(view(o), SQE.SGL1.off) !== SglSubtype.ADDRESS &&
      statusPair(o, [G, SC_SGL_INVALID_TYPE], 'ok'),
  },
  {
    id: 'nsid-broadcast-on-io',
    rule: '§4 NSID (C-2)',
    title: 'Read with NSID FFFFFFFFh',
    epfsim: '0/0Bh Invalid Namespace or Format (broadcast is not allowed for Read).',
    qemu: '0/02h Invalid Field in Command.',
    option: null,
    note: 'No option: QEMU deviates from the spec.',
    cases: ['nsid-broadcast-read'],
    matches: (o) =>
      isIo(o) && sqeNsid(view(o), 0) === NVME_NSID_ALL && statusPair(o, [G, SC_INVALID_NS], [G, SC_INVALID_FIELD]),
  },
  {
    id: 'nsid-beyond-namespace-count',
    rule: '§4 NSID',
    title: 'Read with an NSID above the namespace count (NSID 2)',
    epfsim: 'Identify NN is the number of namespaces (1): NSID 2 > NN gives 0/0Bh Invalid Namespace or Format.',
    qemu: 'NN = 256: NSID 2 is a valid but inactive NSID, 0/02h Invalid Field in Command.',
    option: null,
    note: 'Both follow the spec for their own NN; epfsim has no option to report more namespaces than it has.',
    cases: ['nsid-2-read'],
    matches: (o) => {
      const nsid = sqeNsid(view(o), 0);
      return isIo(o) && nsid > 1 && nsid !== NVME_NSID_ALL && statusPair(o, [G, SC_INVALID_NS], [G, SC_INVALID_FIELD]);
    },
  },
  {
    id: 'dnr-not-set',
    rule: '§4 DNR',
    title: 'Do Not Retry on deterministic errors',
    epfsim: 'Sets DNR on every error that a retry would repeat.',
    qemu: 'Leaves DNR clear on some: FUSE ≠ 0 (0/02h), Compare Failure (2/85h), Invalid Queue Deletion (1/0Ch).',
    option: null,
    note: 'No option: QEMU deviates from the rule that deterministic errors set DNR (a retry fails the same way).',
    cases: ['io-fused-first', 'compare-miscompare', 'delete-cq-with-sq'],
    matches: (o) =>
      o.field === 'status' &&
      o.epfsim.source === 'controller' &&
      o.qemu.source === 'controller' &&
      statusSct(o.epfsim.status) === statusSct(o.qemu.status) &&
      statusSc(o.epfsim.status) === statusSc(o.qemu.status) &&
      statusDnr(o.epfsim.status) &&
      !statusDnr(o.qemu.status),
  },
  {
    id: 'delete-cq-invalid-qid',
    rule: 'Q-9',
    title: 'Delete I/O CQ of a queue id that is 0 or does not exist',
    epfsim: '1/01h Invalid Queue Identifier.',
    qemu: '1/00h Completion Queue Invalid.',
    option: { deleteCqInvalidQid: 'qemu' },
    note: '',
    cases: ['delete-cq-nonexistent', 'delete-cq-qid-0'],
    matches: (o) =>
      o.qid === 0 && opcode(o) === AdminOpcode.DELETE_IO_CQ && statusPair(o, [CS, SC_QID_INVALID], [CS, SC_CQ_INVALID]),
  },
  {
    id: 'number-of-queues-check-order',
    rule: 'C-A3',
    title: 'Set Features Number of Queues with FFFFh after I/O queues exist',
    epfsim: 'Checks the field first: NSQR or NCQR = FFFFh gives 0/02h Invalid Field in Command.',
    qemu: 'Checks the sequence first: 0/0Ch Command Sequence Error once any I/O queue was created.',
    option: null,
    note: 'No option: both statuses apply and the specification fixes no precedence.',
    cases: ['number-of-queues-ffff'],
    matches: (o) =>
      o.qid === 0 &&
      opcode(o) === AdminOpcode.SET_FEATURES &&
      (sqeCdw(view(o), 0, 10) & FID_MASK) === FeatureId.NUMBER_OF_QUEUES &&
      statusPair(o, [G, SC_INVALID_FIELD], [G, SC_CMD_SEQ_ERROR]),
  },
  {
    id: 'get-log-page-unknown-lid',
    rule: 'C-A2',
    title: 'Get Log Page of an unsupported log identifier',
    epfsim: '1/09h Invalid Log Page.',
    qemu: '0/02h Invalid Field in Command.',
    option: null,
    note: 'No option: QEMU deviates from the spec.',
    cases: ['get-log-page-unknown-lid'],
    matches: (o) =>
      o.qid === 0 &&
      opcode(o) === AdminOpcode.GET_LOG_PAGE &&
      statusPair(o, [CS, SC_INVALID_LOG_PAGE], [G, SC_INVALID_FIELD]),
  },
  {
    id: 'abort-nonexistent-sq',
    rule: 'Q-10',
    title: 'Abort naming an SQ that does not exist',
    epfsim: 'Abort is best effort: success with DW0 bit 0 = 1 (not aborted).',
    qemu: '0/02h Invalid Field in Command.',
    option: null,
    note: 'No option: both are defensible readings of the spec.',
    cases: ['abort-nonexistent-sq'],
    matches: (o) => o.qid === 0 && opcode(o) === AdminOpcode.ABORT && statusPair(o, 'ok', [G, SC_INVALID_FIELD]),
  },
  {
    id: 'dsm-range-out-of-bounds',
    rule: 'C-7',
    title: 'Dataset Management with a range past the end of the namespace',
    epfsim: '0/80h LBA Out of Range; no range is deallocated.',
    qemu: 'Skips the range silently: success.',
    option: null,
    note: 'No option: QEMU deviates from the spec.',
    cases: ['dsm-range-out-of-bounds'],
    matches: (o) => isIo(o) && opcode(o) === NvmOpcode.DATASET_MANAGEMENT && statusPair(o, [G, SC_LBA_RANGE], 'ok'),
  },
  {
    id: 'dsm-deallocate-keeps-data',
    rule: 'C-7',
    title: 'Blocks deallocated by Dataset Management',
    epfsim: 'Read back as zeroes, as Identify Namespace DLFEAT (001b) says.',
    qemu:
      'With the default drive option `discard=ignore` the deallocation does nothing: the old data stays readable, ' +
      'although DLFEAT also says 001b (zeroes).',
    option: null,
    note:
      'No epfsim option; QEMU itself zeroes only with `-drive …,discard=unmap` on a file system that punches holes. ' +
      'QEMU deviates from what it reports.',
    cases: ['dsm-deallocate'],
    matches: (o) =>
      o.field === 'namespace' &&
      isIo(o) &&
      opcode(o) === NvmOpcode.DATASET_MANAGEMENT &&
      (sqeCdw(view(o), 0, 11) & DSM_AD) !== 0 &&
      isOk(o.epfsim) &&
      isOk(o.qemu),
  },
  {
    id: 'number-of-queues-allocation',
    rule: 'C-A3 (Q-7)',
    title: 'Number of Queues: how many I/O queues are allocated',
    epfsim:
      'Allocates what the host asks for, up to its maximum (Set Features DW0 = the request, capped); queue ids above it give 1/01h.',
    qemu: 'Always allocates and reports its maximum (`max_ioqpairs`), whatever the request.',
    option: null,
    note: 'No option: both are allowed by the spec (the controller may allocate a different number than requested).',
    cases: ['number-of-queues-allocation'],
    matches: (o) => {
      const op = opcode(o);
      if (o.qid !== 0) return false;
      const fid = sqeCdw(view(o), 0, 10) & FID_MASK;
      const featureDw0 =
        o.field === 'dw0' &&
        (op === AdminOpcode.GET_FEATURES || op === AdminOpcode.SET_FEATURES) &&
        fid === FeatureId.NUMBER_OF_QUEUES;
      const create =
        (op === AdminOpcode.CREATE_IO_CQ || op === AdminOpcode.CREATE_IO_SQ) &&
        statusPair(o, [CS, SC_QID_INVALID], 'ok');
      return featureDw0 || create;
    },
  },
] satisfies KnownDifference[]);

/** The known difference with this id. */
export function knownDifference(id: string): KnownDifference | undefined {
  return KNOWN_DIFFERENCES.find((k) => k.id === id);
}

/**
 * epfsim options that make it behave like QEMU 7.2 wherever an option can: the union of the
 * options of {@link KNOWN_DIFFERENCES}.
 */
export const QEMU_COMPAT_OPTIONS: Readonly<Partial<NvmeFunctionOptions>> = Object.freeze(
  Object.assign({}, ...KNOWN_DIFFERENCES.map((k) => k.option ?? {})) as Partial<NvmeFunctionOptions>,
);
