/**
 * @epfsim/nvme-epf: an NVMe controller running as a PCI endpoint function on epc-core. The host
 * sees it behind BAR0; it reaches host memory only through the EPC's outbound mappings (or its
 * DMA channel), with the transfer strategy the configuration names.
 */
import type { Epc, EpcMap } from '@epfsim/epc-core';
import { type NvmeFunctionConfigInput, resolveConfig } from './config.js';
import { NvmeController } from './controller.js';
import type { Bar0Layout } from './registers/bar0-layout.js';
import type { FunctionStats } from './stats.js';
import type { TraceEvent } from './trace.js';

export {
  DEFAULT_CONFIG,
  DEFAULT_OPTIONS,
  type NamespaceBackendConfig,
  type NamespaceConfig,
  type NvmeFunctionConfig,
  type NvmeFunctionConfigInput,
  type NvmeFunctionOptions,
  resolveConfig,
} from './config.js';
export { isNvmeConfigError, NvmeConfigError } from './config-error.js';
export {
  FAULT_CATALOGUE,
  type FaultLayer,
  type FaultName,
  FUNCTION_FAULT_NAMES,
  FUNCTION_FAULTS,
  type FunctionFaultFlags,
  type FunctionFaultName,
  type LayeredFault,
  type SplitFaults,
  splitFaults,
} from './faults/catalogue.js';
export { type Bar0Layout, computeBar0Layout, MSIX_ENTRY_SIZE } from './registers/bar0-layout.js';
export { MPSMAX, MPSMIN, NVME_BAR } from './registers/capabilities.js';
export { type FunctionStats, statusKey } from './stats.js';
export { TRACE_CAPACITY, type TraceEvent, type TraceKind } from './trace.js';

/** The NVMe function as its users (a scheduler, the host simulator, tests) drive it. */
export interface NvmeFunction {
  /**
   * One step: CC edges, CQ head doorbells (posting completions that waited for room), SQ tail
   * doorbells in one round-robin round with the arbitration burst, coalescing timers and pending
   * MSI-X messages. Returns the work done; 0 means idle.
   */
  poll(): number;
  /** Host-misbehaviour events, oldest first (the last {@link TRACE_CAPACITY}). */
  readonly trace: readonly TraceEvent[];
  /** Events recorded since creation, including those the trace ring has dropped. */
  readonly eventsRecorded: number;
  /** Counters: commands fetched, completed (by status), dropped by resets, interrupts, events. */
  readonly stats: Readonly<FunctionStats>;
  /** The controller's state: disabled, ready (CSTS.RDY), fatal (CSTS.CFS) or shutdown (SHST = 10b). */
  readonly state: 'disabled' | 'ready' | 'fatal' | 'shutdown';
  /** Fetched commands without a completion yet: waiting AERs and completions waiting for CQ room. */
  readonly pendingCompletions: number;
  /** Where registers, doorbells and the MSI-X table sit in BAR0. */
  readonly layout: Bar0Layout;
  /** CQ maps held on purpose while their queues live, so a leak check can allow them. */
  persistentMaps(): ReadonlySet<EpcMap>;
  /** Releases backend files and every mapping; the function is inert afterwards. */
  close(): void;
}

/**
 * Creates the function on `epc`: sets BAR0 and the interrupt capabilities. Throws
 * {@link NvmeConfigError} for an invalid configuration (or an unopenable backend file).
 */
export function createNvmeFunction(epc: Epc, config?: NvmeFunctionConfigInput): NvmeFunction {
  const controller = new NvmeController(epc, resolveConfig(config));
  return {
    poll: () => controller.poll(),
    get trace() {
      return controller.trace.events;
    },
    get eventsRecorded() {
      return controller.trace.total;
    },
    get stats() {
      return controller.stats;
    },
    get state() {
      return controller.state;
    },
    get pendingCompletions() {
      return controller.pendingCompletions;
    },
    layout: controller.layout,
    persistentMaps: () => controller.persistentMaps(),
    close: () => controller.close(),
  };
}
