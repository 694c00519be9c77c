/**
 * The hostile commands of issue 15 (item 3), each against a fresh controller, with the longest
 * single poll() they caused: SGLs of zero-length descriptors on every queue, with MDTS and
 * without, 256 MiB transfers with and without a bad pointer when MDTS is unlimited, and Dataset
 * Management of 256 whole-namespace ranges and a 256 MiB Write Zeroes on the file backend.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NamespaceConfig, type NvmeFunctionConfigInput, statusKey } from '@epfsim/nvme-epf';
import {
  DATASET_MANAGEMENT,
  DSM_MAX_RANGES,
  encodeDsmRanges,
  encodeSgl,
  NvmOpcode,
  PRP_ENTRY_SIZE,
  Psdt,
  packFields,
  SGL_DESCRIPTOR_SIZE,
  SglType,
  sglDescriptor,
} from '@epfsim/nvme-spec-types';
import { collectGarbage, median } from './measure.js';
import { RawHost } from './raw-host.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;
/** The largest SGL segment a descriptor can give: 2^32 − 16 bytes of descriptors. */
const HUGE_SEGMENT = 0xffff_fff0;
/** NLB is 16 bits, 0's based: at most 65536 blocks per command. */
const MAX_BLOCKS = 65536;
/** Polls a scenario may take before it counts as stalled. */
const MAX_POLLS = 200_000;

export interface HostileScenarioResult {
  readonly name: string;
  /** Longest single poll() in milliseconds, wall clock: the median over the repetitions. */
  readonly longestPollMs: number;
  /** The longest of all repetitions (a GC pause or another process on the machine shows here). */
  readonly worstPollMs: number;
  readonly polls: number;
  readonly commands: number;
  /** Completions by status, e.g. `0/0E x512`. */
  readonly statuses: string;
}

interface Scenario {
  readonly name: string;
  readonly config: (dir: string) => NvmeFunctionConfigInput;
  readonly queues: number;
  /** Submits the hostile commands (not rung); returns how many. */
  readonly submit: (h: RawHost) => number;
}

/** SGL1 of a command as its PRP1/PRP2 qwords (DPTR). */
function dptrOf(descriptor: Parameters<typeof sglDescriptor>[0]): { prp1: bigint; prp2: bigint } {
  const bytes = encodeSgl(sglDescriptor(descriptor));
  const v = new DataView(bytes.buffer);
  return { prp1: v.getBigUint64(0, true), prp2: v.getBigUint64(SGL_DESCRIPTOR_SIZE / 2, true) };
}

/** A Last Segment of 2^32 − 16 bytes of zeroes: zero-length Data Block descriptors, 268 million of them. */
function zeroLengthSgl(h: RawHost): { prp1: bigint; prp2: bigint } {
  const segment = h.alloc(HUGE_SEGMENT + SGL_DESCRIPTOR_SIZE);
  return dptrOf({ address: segment, length: HUGE_SEGMENT, type: SglType.LAST_SEGMENT });
}

/**
 * PRP1 and a PRP list (chained, as Linux builds it) for `bytes` at `buffer`, page i at `buffer +
 * i × stride`; with `bad`, a list of zeroes.
 */
function prpList(
  h: RawHost,
  buffer: bigint,
  bytes: number,
  bad: boolean,
  stride = PAGE,
): { prp1: bigint; prp2: bigint } {
  const entries = bytes / PAGE - 1;
  const perPage = PAGE / PRP_ENTRY_SIZE;
  const pages = Math.ceil(entries / (perPage - 1));
  const list = h.alloc(pages * PAGE);
  if (!bad) {
    const data = new Uint8Array(pages * PAGE);
    const v = new DataView(data.buffer);
    let slot = 0;
    for (let i = 0; i < entries; i++) {
      // The last slot of a full list page points to the next page (P-6), unless it is the last entry.
      if (slot % perPage === perPage - 1 && i < entries - 1) {
        v.setBigUint64(slot * PRP_ENTRY_SIZE, list + BigInt((slot + 1) * PRP_ENTRY_SIZE), true);
        slot++;
      }
      v.setBigUint64(slot * PRP_ENTRY_SIZE, buffer + BigInt((i + 1) * stride), true);
      slot++;
    }
    h.write(list, data);
  }
  return { prp1: buffer, prp2: list };
}

function ramNamespace(blockSize: 512 | 4096, bytes: number): NamespaceConfig[] {
  return [{ blockSize, blocks: bytes / blockSize, backend: { kind: 'ram' } }];
}

function fileNamespace(dir: string, blockSize: 512 | 4096, bytes: number): NamespaceConfig[] {
  return [{ blockSize, blocks: bytes / blockSize, backend: { kind: 'file', path: join(dir, 'namespace.img') } }];
}

const BIG_TRANSFER = MAX_BLOCKS * PAGE;

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'zero-length SGL descriptors, 64 queues x 8 Reads of 512 KiB (MDTS)',
    config: () => ({ namespaces: ramNamespace(512, 64 * MiB) }),
    queues: 64,
    submit: (h) => {
      const dptr = zeroLengthSgl(h);
      for (let qid = 1; qid <= 64; qid++)
        for (let i = 0; i < 8; i++)
          h.submit(qid, { opcode: NvmOpcode.READ, nsid: 1, psdt: Psdt.SGL_MPTR_CONTIG, ...dptr, cdw12: 1023 });
      return 64 * 8;
    },
  },
  {
    name: 'zero-length SGL descriptors, a 32 MiB Read, MDTS unlimited',
    config: () => ({ mdtsBytes: 0, namespaces: ramNamespace(512, 64 * MiB) }),
    queues: 1,
    submit: (h) => {
      h.submit(1, { opcode: NvmOpcode.READ, nsid: 1, psdt: Psdt.SGL_MPTR_CONTIG, ...zeroLengthSgl(h), cdw12: 65535 });
      return 1;
    },
  },
  {
    name: '256 MiB Write with a bad PRP list, MDTS unlimited',
    config: () => ({ mdtsBytes: 0, namespaces: ramNamespace(4096, 1024 * MiB) }),
    queues: 1,
    submit: (h) => {
      const dptr = prpList(h, h.alloc(PAGE), BIG_TRANSFER, true);
      h.submit(1, { opcode: NvmOpcode.WRITE, nsid: 1, ...dptr, cdw12: MAX_BLOCKS - 1 });
      return 1;
    },
  },
  {
    name: '256 MiB Write then Read, MDTS unlimited',
    config: () => ({ mdtsBytes: 0, namespaces: ramNamespace(4096, 1024 * MiB) }),
    queues: 1,
    submit: (h) => {
      const dptr = prpList(h, h.alloc(BIG_TRANSFER), BIG_TRANSFER, false);
      h.submit(1, { opcode: NvmOpcode.WRITE, nsid: 1, ...dptr, cdw12: MAX_BLOCKS - 1 });
      h.submit(1, { opcode: NvmOpcode.READ, nsid: 1, ...dptr, cdw12: MAX_BLOCKS - 1 });
      return 2;
    },
  },
  {
    name: '256 MiB Read into 65536 pages that are all apart, MDTS unlimited',
    config: () => ({ mdtsBytes: 0, namespaces: ramNamespace(4096, 1024 * MiB) }),
    queues: 1,
    submit: (h) => {
      const dptr = prpList(h, h.alloc(2 * BIG_TRANSFER), BIG_TRANSFER, false, 2 * PAGE);
      h.submit(1, { opcode: NvmOpcode.READ, nsid: 1, ...dptr, cdw12: MAX_BLOCKS - 1 });
      return 1;
    },
  },
  {
    name: 'Dataset Management, 256 whole-namespace ranges, file backend (16 MiB)',
    config: (dir) => ({ namespaces: fileNamespace(dir, 512, 16 * MiB) }),
    queues: 1,
    submit: (h) => {
      const blocks = (16 * MiB) / 512;
      const ranges = encodeDsmRanges(Array.from({ length: DSM_MAX_RANGES }, () => ({ nlb: blocks, slba: 0n })));
      const list = h.alloc(ranges.length);
      h.write(list, ranges);
      h.submit(1, {
        opcode: NvmOpcode.DATASET_MANAGEMENT,
        nsid: 1,
        prp1: list,
        cdw10: DSM_MAX_RANGES - 1,
        cdw11: packFields(DATASET_MANAGEMENT.CDW11, { AD: 1 }),
      });
      return 1;
    },
  },
  {
    name: '256 MiB Write Zeroes, file backend',
    config: (dir) => ({ namespaces: fileNamespace(dir, 4096, 256 * MiB) }),
    queues: 1,
    submit: (h) => {
      h.submit(1, { opcode: NvmOpcode.WRITE_ZEROES, nsid: 1, cdw12: MAX_BLOCKS - 1 });
      return 1;
    },
  },
];

/**
 * Runs every scenario once to warm up (as the other figures do: the JIT has not compiled the
 * paths a hostile command takes yet, and a cold first run is several times slower), then
 * `repetitions` times, each on a fresh generic controller after a full GC; throws if one stalls
 * (a command never completes).
 */
export function measureHostilePolls(
  repetitions: number,
  progress: (line: string) => void = () => {},
): HostileScenarioResult[] {
  return SCENARIOS.map((s) => {
    progress(s.name);
    runScenario(s);
    const runs: HostileScenarioResult[] = [];
    for (let i = 0; i < repetitions; i++) {
      collectGarbage();
      runs.push(runScenario(s));
    }
    const longest = runs.map((r) => r.longestPollMs);
    return { ...runs[0]!, longestPollMs: median(longest), worstPollMs: Math.max(...longest) };
  });
}

function runScenario(s: Scenario): HostileScenarioResult {
  const dir = mkdtempSync(join(tmpdir(), 'epfsim-hostile-'));
  const h = new RawHost({ profile: 'generic', function: s.config(dir) });
  try {
    h.bringUp(s.queues, 16);
    h.longestPollMs = 0;
    h.polls = 0;
    const commands = s.submit(h);
    for (let qid = 1; qid <= s.queues; qid++) h.ring(qid);
    const qids = Array.from({ length: s.queues }, (_, i) => i + 1);
    const done = h.collect(qids, commands, MAX_POLLS);
    if (done.length < commands)
      throw new Error(`${s.name}: ${done.length} of ${commands} commands completed in ${MAX_POLLS} polls`);
    const byStatus = new Map<string, number>();
    for (const c of done) byStatus.set(statusKey(c.status), (byStatus.get(statusKey(c.status)) ?? 0) + 1);
    return {
      name: s.name,
      longestPollMs: h.longestPollMs,
      worstPollMs: h.longestPollMs,
      polls: h.polls,
      commands,
      statuses: [...byStatus].map(([k, n]) => `${k} x${n}`).join(', '),
    };
  } finally {
    h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
