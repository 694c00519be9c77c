/**
 * The controller configuration: what the NVMe function offers the host (queue limits, MDTS,
 * namespaces, interrupts) and how it resolves the points where the NVMe specification, Linux and
 * QEMU disagree. Defaults follow the specification; every alternative is a named option.
 */
import { STRATEGY_NAMES, type StrategyName, strategyFor } from '@epfsim/epc-core';
import { NvmeConfigError } from './config-error.js';
import { FAULT_CATALOGUE, FUNCTION_FAULT_NAMES, type FunctionFaultName } from './faults/catalogue.js';

/** Where a namespace keeps its data. */
export type NamespaceBackendConfig = { kind: 'ram' } | { kind: 'file'; path: string } | { kind: 'null' };

/** One namespace: its logical block size, its size in blocks and its backend. */
export interface NamespaceConfig {
  blockSize: 512 | 4096;
  blocks: number;
  backend: NamespaceBackendConfig;
}

/** The choices where the specification, the Linux function and QEMU differ (docs/nvme-rules.md). */
export interface NvmeFunctionOptions {
  /** P-7: a chained PRP list pointer with a page offset: 'strict' 0/13h (spec, QEMU) or 'lenient'. */
  prpChainPointerOffset: 'strict' | 'lenient';
  /** P-4: a PRP list pointer not qword aligned gives 0/13h (true) or is accepted (false). */
  checkPrpListQword: boolean;
  /** P-1: check PRP1 bits 1:0 (0/13h); the spec lets a controller skip it, QEMU does. */
  checkPrp1Dword: boolean;
  /** S-4: a segment reached through a Segment descriptor must end in a segment descriptor ('strict') or may end in data ('lenient', QEMU). */
  sglSegmentChainEnd: 'strict' | 'lenient';
  /** S-8: a Bit Bucket on a write: 'reject' 0/11h or 'ignore' (old QEMU). */
  bitBucketOnWrite: 'reject' | 'ignore';
  /** Delete I/O CQ of a queue id that is 0 or does not exist: 'spec' 1/01h, 'qemu' 1/00h. */
  deleteCqInvalidQid: 'spec' | 'qemu';
  /** Identify SGLS bits 1:0: 'none', 'byte' (01b, the default) or 'dword' (10b). */
  sglSupport: 'none' | 'byte' | 'dword';
  /** Identify SGLS bit 16: Bit Bucket descriptors. */
  sglBitBucket: boolean;
  /** Identify SGLS bit 18: an SGL may describe more data than the command transfers. */
  sglExcessLength: boolean;
}

/** The whole configuration of one NVMe function. */
export interface NvmeFunctionConfig {
  /**
   * epc-core transfer strategy for data, SQEs, lists and (when not kept mapped) CQEs: a built-in
   * {@link StrategyName}, or the key a user strategy was registered under (`registerStrategy`).
   */
  strategy: StrategyName | (string & {});
  /** I/O queue pairs offered (Number of Queues); doorbells are laid out for this many plus the admin pair. */
  maxIoQueues: number;
  /** CAP.MQES, 0's based: the largest I/O queue has mqes + 1 entries. */
  mqes: number;
  /** Maximum data transfer size in bytes (a power of two ≥ 4096), 0 for no limit. */
  mdtsBytes: number;
  /** CAP.DSTRD: doorbells are 4 << dstrd bytes apart. */
  dstrd: number;
  namespaces: NamespaceConfig[];
  /** Preferred interrupt mode; the function falls back to what the EPC profile offers and the host enables. */
  irq: 'msix' | 'msi' | 'intx';
  /** MSI-X vectors offered (admin + I/O). */
  msixVectors: number;
  /** SQEs taken from one SQ per arbitration round: a power of two up to 64, or Infinity (AB = 111b). */
  arbitrationBurst: number;
  options: NvmeFunctionOptions;
  /** Clock in microseconds, for interrupt coalescing time and power-on hours. */
  now: () => number;
  /** PCI Vendor ID and Subsystem Vendor ID reported in Identify Controller. */
  vendorId: number;
  subsystemVendorId: number;
  /** Identify Controller SN (≤ 20 ASCII), MN (≤ 40), FR (≤ 8). */
  serial: string;
  model: string;
  firmware: string;
  /** Faults to inject by name (FUNCTION_FAULTS); none by default. Each models a bug upstream fixed. */
  faults: readonly FunctionFaultName[];
}

/** Default options: the specification's behaviour (docs/nvme-rules.md, oracle defaults). */
export const DEFAULT_OPTIONS: Readonly<NvmeFunctionOptions> = Object.freeze({
  prpChainPointerOffset: 'strict',
  checkPrpListQword: true,
  checkPrp1Dword: true,
  sglSegmentChainEnd: 'strict',
  bitBucketOnWrite: 'reject',
  deleteCqInvalidQid: 'spec',
  sglSupport: 'byte',
  sglBitBucket: true,
  sglExcessLength: false,
});

const KIB = 1024;
const GIB = KIB * KIB * KIB;
/** Microseconds per millisecond, for the default clock. */
const US_PER_MS = 1000;

/** The defaults of the issue: 64 I/O queue pairs of up to 1024 entries, 512 KiB MDTS, one 1 GiB RAM namespace. */
export const DEFAULT_CONFIG: Readonly<Omit<NvmeFunctionConfig, 'namespaces' | 'options'>> & {
  readonly namespaces: readonly NamespaceConfig[];
  readonly options: Readonly<NvmeFunctionOptions>;
} = Object.freeze({
  strategy: 'mem-map',
  maxIoQueues: 64,
  mqes: 1023,
  mdtsBytes: 512 * KIB,
  dstrd: 0,
  namespaces: Object.freeze([{ blockSize: 512, blocks: GIB / 512, backend: { kind: 'ram' } }] as NamespaceConfig[]),
  irq: 'msix',
  msixVectors: 65,
  arbitrationBurst: 8,
  options: DEFAULT_OPTIONS,
  now: () => performance.now() * US_PER_MS,
  vendorId: 0x1b96,
  subsystemVendorId: 0x1b96,
  serial: 'EPFSIM-0001',
  model: 'epfsim NVMe endpoint function',
  firmware: '1.0',
  faults: Object.freeze([]),
});

/** A configuration as the caller may give it: any subset, options merged field by field. */
export type NvmeFunctionConfigInput = Partial<Omit<NvmeFunctionConfig, 'options'>> & {
  options?: Partial<NvmeFunctionOptions>;
};

/** Limits the configuration is checked against. */
const LIMITS = {
  /** Queue identifiers are 16 bits; Number of Queues answers 0's based in 16 bits. */
  maxQueuePairs: 0xffff,
  /** CAP.MQES is 16 bits and at least 1 (two entries). */
  mqesMin: 1,
  mqesMax: 0xffff,
  /** CAP.DSTRD is 4 bits. */
  dstrdMax: 15,
  /** MSI-X allows 2048 vectors. */
  msixVectorsMax: 2048,
  /** Identify NN; the Active Namespace ID list holds 1024 entries. */
  namespacesMax: 1024,
  /** Smallest MDTS unit: the minimum memory page (CAP.MPSMIN = 0). */
  mdtsUnit: 4096,
  /** Byte offsets inside a namespace are JS numbers: stay below 2^53. */
  namespaceBytesMax: Number.MAX_SAFE_INTEGER,
  /** Arbitration Burst is 2^AB with AB ≤ 6; AB = 7 means no limit. */
  burstMax: 64,
  serialMax: 20,
  modelMax: 40,
  firmwareMax: 8,
} as const;

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function checkInt(field: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new NvmeConfigError(field, `must be an integer in [${min}, ${max}], got ${value}`);
  }
}

function checkAscii(field: string, value: string, max: number): void {
  if (value.length > max || !/^[\x20-\x7e]*$/.test(value)) {
    throw new NvmeConfigError(field, `must be printable ASCII of at most ${max} characters`);
  }
}

function checkNamespace(ns: NamespaceConfig, i: number): void {
  const field = `namespaces[${i}]`;
  if (ns.blockSize !== 512 && ns.blockSize !== 4096) {
    throw new NvmeConfigError(`${field}.blockSize`, `must be 512 or 4096, got ${ns.blockSize}`);
  }
  if (!Number.isSafeInteger(ns.blocks) || ns.blocks < 1 || ns.blocks * ns.blockSize > LIMITS.namespaceBytesMax) {
    throw new NvmeConfigError(`${field}.blocks`, `must be a positive integer with blocks × blockSize < 2^53`);
  }
  const kind = ns.backend?.kind;
  if (kind !== 'ram' && kind !== 'null' && kind !== 'file') {
    throw new NvmeConfigError(`${field}.backend`, `unknown backend ${String(kind)}`);
  }
  if (ns.backend.kind === 'file' && (typeof ns.backend.path !== 'string' || ns.backend.path === '')) {
    throw new NvmeConfigError(`${field}.backend.path`, 'a file backend needs a path');
  }
}

/** Every name must be a function fault; an endpoint-controller fault is named as such. */
function checkFaults(faults: readonly string[]): void {
  if (!Array.isArray(faults)) throw new NvmeConfigError('faults', 'must be an array of fault names');
  for (const name of faults) {
    if ((FUNCTION_FAULT_NAMES as readonly string[]).includes(name)) continue;
    const epc = FAULT_CATALOGUE.some((f) => f.name === name && f.layer === 'epc-core');
    const why = epc ? `'${name}' is an epc-core fault (give it to createEpc)` : `unknown fault '${String(name)}'`;
    throw new NvmeConfigError('faults', `${why}; known: ${FUNCTION_FAULT_NAMES.join(', ')}`);
  }
}

/** Merges `input` over the defaults and checks every field; throws {@link NvmeConfigError}. */
export function resolveConfig(input: NvmeFunctionConfigInput = {}): NvmeFunctionConfig {
  const { options, ...rest } = input;
  const config: NvmeFunctionConfig = {
    ...DEFAULT_CONFIG,
    namespaces: DEFAULT_CONFIG.namespaces.map((ns) => ({ ...ns })),
    ...rest,
    options: { ...DEFAULT_OPTIONS, ...options },
  };
  if (strategyFor(config.strategy) === undefined) {
    throw new NvmeConfigError(
      'strategy',
      `unknown strategy ${config.strategy} (one of ${STRATEGY_NAMES.join(', ')}, or a registered strategy module)`,
    );
  }
  checkInt('maxIoQueues', config.maxIoQueues, 1, LIMITS.maxQueuePairs - 1);
  checkInt('mqes', config.mqes, LIMITS.mqesMin, LIMITS.mqesMax);
  if (config.mdtsBytes !== 0 && !(isPowerOfTwo(config.mdtsBytes) && config.mdtsBytes >= LIMITS.mdtsUnit)) {
    throw new NvmeConfigError('mdtsBytes', `must be 0 or a power of two ≥ ${LIMITS.mdtsUnit}, got ${config.mdtsBytes}`);
  }
  checkInt('dstrd', config.dstrd, 0, LIMITS.dstrdMax);
  if (!Array.isArray(config.namespaces) || config.namespaces.length < 1) {
    throw new NvmeConfigError('namespaces', 'at least one namespace is required');
  }
  if (config.namespaces.length > LIMITS.namespacesMax) {
    throw new NvmeConfigError('namespaces', `at most ${LIMITS.namespacesMax} namespaces`);
  }
  config.namespaces.forEach(checkNamespace);
  if (config.irq !== 'msix' && config.irq !== 'msi' && config.irq !== 'intx') {
    throw new NvmeConfigError('irq', `must be msix, msi or intx, got ${String(config.irq)}`);
  }
  checkInt('msixVectors', config.msixVectors, 1, LIMITS.msixVectorsMax);
  const burst = config.arbitrationBurst;
  if (burst !== Number.POSITIVE_INFINITY && !(isPowerOfTwo(burst) && burst <= LIMITS.burstMax)) {
    throw new NvmeConfigError('arbitrationBurst', `must be a power of two ≤ ${LIMITS.burstMax} or Infinity`);
  }
  if (typeof config.now !== 'function') throw new NvmeConfigError('now', 'must be a function');
  checkInt('vendorId', config.vendorId, 0, 0xffff);
  checkInt('subsystemVendorId', config.subsystemVendorId, 0, 0xffff);
  checkAscii('serial', config.serial, LIMITS.serialMax);
  checkAscii('model', config.model, LIMITS.modelMax);
  checkAscii('firmware', config.firmware, LIMITS.firmwareMax);
  checkFaults(config.faults);
  const o = config.options;
  const choices: [keyof NvmeFunctionOptions, readonly unknown[]][] = [
    ['prpChainPointerOffset', ['strict', 'lenient']],
    ['sglSegmentChainEnd', ['strict', 'lenient']],
    ['bitBucketOnWrite', ['reject', 'ignore']],
    ['deleteCqInvalidQid', ['spec', 'qemu']],
    ['sglSupport', ['none', 'byte', 'dword']],
    ['checkPrp1Dword', [true, false]],
    ['checkPrpListQword', [true, false]],
    ['sglBitBucket', [true, false]],
    ['sglExcessLength', [true, false]],
  ];
  for (const [key, allowed] of choices) {
    if (!allowed.includes(o[key])) throw new NvmeConfigError(`options.${key}`, `must be one of ${allowed.join(', ')}`);
  }
  return config;
}
