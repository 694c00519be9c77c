/**
 * The default target: the in-process nvme-epf function on a simulated endpoint controller. This
 * file is the one small place that wires host memory, the link and the function together
 * ({@link createTestbed}); the host driver sees only the {@link NvmeTarget} interface.
 */
import {
  createEpc,
  type EndpointLink,
  type Epc,
  type EpcProfile,
  findProfile,
  PROFILE_NAMES,
  strategyFor,
} from '@epfsim/epc-core';
import {
  createNvmeFunction,
  FAULT_CATALOGUE,
  type NvmeFunction,
  type NvmeFunctionConfigInput,
  splitFaults,
} from '@epfsim/nvme-epf';
import { HostSimConfigError } from '../errors.js';
import { SimulatedHostMemory } from '../memory/host-memory.js';
import { MsiDoorbell } from '../memory/msi-doorbell.js';
import { type NvmeFunctionFactory, userFunction } from '../plugins/user-modules.js';
import { SimClock } from './sim-clock.js';
import type { NvmeTarget } from './target.js';

/** The NVMe registers are BAR0 (NVMe Base 1.4 §3.1, "register definition"). */
export const NVME_BAR = 0;

/** MSI-X table entry (PCI Local Bus 3.0 §6.8.2): address low/high, data, vector control; 16 bytes. */
const MSIX_ENTRY = { size: 16, addrLo: 0, addrHi: 4, data: 8, control: 12 } as const;
/** Vector Control bit 0: the vector is masked. */
const MSIX_CONTROL_MASKED = 1;
const U32_SHIFT = 32n;
const U32_MASK = 0xffff_ffffn;
/** Default simulated time per step: 10 µs, about one iteration of a busy polling loop. */
const DEFAULT_US_PER_STEP = 10;

/** The part of the function the target drives. */
export interface SteppableDevice {
  poll(): number;
  close(): void;
}

/** How an {@link EpfsimTarget} reaches the function and the host. */
export interface EpfsimTargetParts {
  readonly name: string;
  readonly link: EndpointLink;
  readonly memory: SimulatedHostMemory;
  readonly doorbell: MsiDoorbell;
  readonly device: SteppableDevice;
  /** Whether the controller has an INTx pin. */
  readonly intxCapable: boolean;
  /** Simulated time, advanced by each step. */
  readonly clock: SimClock;
  /** Sends MSI-X messages held pending by a mask once unmasked (the controller's job on real hardware). */
  readonly deliverPendingMsix?: () => void;
}

/** A {@link NvmeTarget} over an {@link EndpointLink} in the same process. */
export class EpfsimTarget implements NvmeTarget {
  readonly name: string;
  readonly memory: SimulatedHostMemory;
  readonly interrupts: MsiDoorbell;
  private readonly link: EndpointLink;
  private readonly device: SteppableDevice;
  private readonly parts: EpfsimTargetParts;
  private intxHooked = false;

  constructor(parts: EpfsimTargetParts) {
    this.parts = parts;
    this.name = parts.name;
    this.link = parts.link;
    this.memory = parts.memory;
    this.interrupts = parts.doorbell;
    this.device = parts.device;
  }

  mmioRead32(offset: number): number {
    return this.link.mmioRead32(NVME_BAR, offset);
  }

  mmioWrite32(offset: number, value: number): void {
    this.link.mmioWrite32(NVME_BAR, offset, value);
  }

  mmioRead64(offset: number): bigint {
    return this.link.mmioRead64(NVME_BAR, offset);
  }

  mmioWrite64(offset: number, value: bigint): void {
    this.link.mmioWrite64(NVME_BAR, offset, value);
  }

  enableMsix(vectors: number): number {
    const config = this.link.config;
    const n = Math.min(vectors, config.msixCapable);
    if (n <= 0) return 0;
    const address = this.interrupts.base;
    for (let v = 0; v < n; v++) {
      const entry = config.msixTableOffset + v * MSIX_ENTRY.size;
      this.link.mmioWrite32(config.msixBar, entry + MSIX_ENTRY.addrLo, Number(address & U32_MASK));
      this.link.mmioWrite32(config.msixBar, entry + MSIX_ENTRY.addrHi, Number((address >> U32_SHIFT) & U32_MASK));
      this.link.mmioWrite32(config.msixBar, entry + MSIX_ENTRY.data, v);
      this.link.mmioWrite32(config.msixBar, entry + MSIX_ENTRY.control, 0);
    }
    config.msiEnabled = false;
    config.msixFunctionMask = false;
    config.msixEnabled = true;
    return n;
  }

  maskMsixVector(vector: number, masked: boolean): void {
    const config = this.link.config;
    if (vector < 0 || vector >= config.msixCapable) throw new RangeError(`MSI-X vector ${vector}`);
    const entry = config.msixTableOffset + vector * MSIX_ENTRY.size;
    this.link.mmioWrite32(config.msixBar, entry + MSIX_ENTRY.control, masked ? MSIX_CONTROL_MASKED : 0);
    if (!masked) this.parts.deliverPendingMsix?.();
  }

  enableMsi(vectors: number): number {
    const config = this.link.config;
    const limit = Math.min(vectors, config.msiCapable);
    if (limit <= 0) return 0;
    // Multiple Message Enable is a power of two.
    const n = 2 ** Math.floor(Math.log2(limit));
    config.msixEnabled = false;
    config.msiAddress = this.interrupts.base;
    config.msiData = 0;
    config.msiVectors = n;
    config.msiEnabled = true;
    return n;
  }

  enableIntx(): boolean {
    if (!this.parts.intxCapable) return false;
    this.link.config.intxDisabled = false;
    if (!this.intxHooked) {
      this.intxHooked = true;
      this.link.onIntx((asserted) => {
        if (asserted) this.interrupts.record(0);
      });
    }
    return true;
  }

  now(): number {
    return this.parts.clock.nowMs;
  }

  step(): number {
    this.parts.clock.tick();
    return this.device.poll();
  }

  close(): void {
    this.device.close();
  }
}

/** What {@link createTestbed} builds. */
export interface TestbedOptions {
  /** A built-in profile name (`generic`, `rk3588`, `rk3399`, `stress`, …) or a profile. Default `generic`. */
  readonly profile?: string | EpcProfile;
  /** Throw on EPC contract violations (leaks at check time, double unmaps). Default true. */
  readonly strict?: boolean;
  /**
   * Function configuration (strategy, namespaces, queues, MDTS, interrupt kind, options); defaults
   * are the function's, except its clock, which is the testbed's simulated one.
   */
  readonly function?: NvmeFunctionConfigInput;
  /** Simulated microseconds per device step. Default 10 (a polling loop iteration). */
  readonly usPerStep?: number;
  /**
   * Faults to inject by name, of the function or of the endpoint controller (FAULT_CATALOGUE,
   * docs/faults.md); each goes to its layer. None by default.
   */
  readonly faults?: readonly string[];
  /**
   * A user's NVMe function instead of nvme-epf's: the key of a function module loaded with
   * `loadPlugin('function', path)`, whose factory gets the EPC and the function configuration.
   */
  readonly implementation?: string;
}

/** Host memory, the EPC, the function and the target over them. */
export interface Testbed {
  readonly profile: EpcProfile;
  readonly memory: SimulatedHostMemory;
  readonly doorbell: MsiDoorbell;
  readonly epc: Epc;
  readonly fn: NvmeFunction;
  readonly target: EpfsimTarget;
  readonly clock: SimClock;
  /** Maps still live beyond the function's persistent ones (0 when it cleaned up after itself). */
  leaks(): number;
  close(): void;
}

function resolveProfile(profile: string | EpcProfile | undefined): EpcProfile {
  if (profile === undefined) return resolveProfile('generic');
  if (typeof profile !== 'string') return profile;
  const found = findProfile(profile);
  if (found === undefined) {
    throw new HostSimConfigError('UNKNOWN_PROFILE', `no profile "${profile}" (known: ${PROFILE_NAMES.join(', ')})`);
  }
  return found;
}

/** nvme-epf's factory, or a loaded user module's. */
function functionFactory(key: string | undefined): NvmeFunctionFactory {
  if (key === undefined) return createNvmeFunction;
  const factory = userFunction(key);
  if (factory === undefined) throw new HostSimConfigError('BAD_MODULE', `no NVMe function module loaded from ${key}`);
  return (epc, config) => {
    let fn: NvmeFunction;
    try {
      fn = factory(epc, config);
    } catch (e) {
      // The user's code failed to build its function: their error, in one line.
      throw new HostSimConfigError(
        'BAD_MODULE',
        `${key}: createFunction threw: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    if (typeof fn?.poll !== 'function' || typeof fn.close !== 'function')
      throw new HostSimConfigError('BAD_MODULE', `${key}: createFunction returned no NVMe function (poll, close, ...)`);
    return fn;
  };
}

/** Wires a host (memory with grants, MSI doorbell), an EPC of the chosen profile and the NVMe function. */
export function createTestbed(options: TestbedOptions = {}): Testbed {
  const profile = resolveProfile(options.profile);
  const faults = splitFaults(options.faults ?? []);
  if (faults.unknown.length > 0) {
    const known = FAULT_CATALOGUE.map((f) => f.name).join(', ');
    throw new HostSimConfigError('BAD_OPTION', `unknown fault "${faults.unknown[0]}" (known: ${known})`);
  }
  const memory = new SimulatedHostMemory();
  const doorbell = new MsiDoorbell();
  doorbell.install(memory);
  const epc = createEpc(profile, memory.space, { strict: options.strict ?? true, faults: faults.epc });
  const clock = new SimClock(options.usPerStep ?? DEFAULT_US_PER_STEP);
  const fn = functionFactory(options.implementation)(epc, {
    now: () => clock.nowUs,
    ...options.function,
    faults: [...(options.function?.faults ?? []), ...faults.function],
  });
  const strategyKey = options.function?.strategy;
  // A user strategy is named by its module's path; the target's name shows the strategy's own name.
  const strategy = strategyKey === undefined ? undefined : (strategyFor(strategyKey)?.name ?? strategyKey);
  const target = new EpfsimTarget({
    name: `epfsim:${profile.name}${strategy === undefined ? '' : `/${strategy}`}`,
    link: epc,
    memory,
    doorbell,
    device: fn,
    intxCapable: profile.irq.intx,
    clock,
    deliverPendingMsix: () => epc.deliverPendingMsix(),
  });
  return {
    profile,
    memory,
    doorbell,
    epc,
    fn,
    target,
    clock,
    leaks: () => epc.checkLeaks(fn.persistentMaps()),
    close: () => {
      target.close();
      // The next testbed (a campaign's next case) reuses these pages.
      memory.space.memory.release();
    },
  };
}
