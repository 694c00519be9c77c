/**
 * What command handlers may use: narrow services, never the controller. An NVM I/O handler sees
 * namespaces, data transfer, the work budget and SMART; an admin handler sees, besides, the queue
 * service, features, interrupts, log pages and asynchronous events. Nothing here is a mutable
 * field of the scheduler: state changes go through a service's methods.
 */
import type { AsyncEvents } from '../admin/async-events.js';
import type { FeatureState } from '../admin/features.js';
import type { NvmeFunctionConfig } from '../config.js';
import type { FunctionFaultFlags } from '../faults/catalogue.js';
import type { ErrorLog } from '../health/error-log.js';
import type { SmartCounters } from '../health/smart.js';
import type { Interrupts } from '../interrupts.js';
import type { Namespace } from '../namespace/namespace.js';
import type { QueueService } from '../queues/queue-manager.js';
import type { Completer } from '../scheduler/completions.js';
import type { ResumableStarter } from '../scheduler/resumable-runner.js';
import type { WorkAccount } from '../scheduler/work-budget.js';
import type { DataTransfer } from '../transfer/command-data.js';

/** The namespaces of the function. */
export interface Namespaces {
  readonly namespaces: readonly Namespace[];
  /** The namespace of an NSID, or undefined when the NSID is not an active namespace. */
  namespace(nsid: number): Namespace | undefined;
}

/** What an NVM I/O handler uses. */
export interface IoContext extends Namespaces {
  readonly config: NvmeFunctionConfig;
  readonly data: DataTransfer;
  readonly work: WorkAccount;
  readonly resumables: ResumableStarter;
  /** Read for the Volatile Write Cache (WCE decides whether a write is durable before completion). */
  readonly features: Readonly<FeatureState>;
  readonly smart: SmartCounters;
}

/** Identify data, built once (nothing in it changes while the function lives). */
export interface IdentifyData {
  readonly controller: Uint8Array;
  namespace(ns: Namespace): Uint8Array;
}

/** What an admin handler uses. */
export interface AdminContext extends Namespaces {
  readonly config: NvmeFunctionConfig;
  readonly faults: FunctionFaultFlags;
  readonly data: DataTransfer;
  readonly queues: QueueService;
  readonly completer: Completer;
  readonly features: FeatureState;
  /** The Temperature Threshold feature changed: report a crossing (SMART / Health event). */
  temperatureChanged(): void;
  readonly interrupts: Interrupts;
  readonly aer: AsyncEvents;
  readonly errorLog: ErrorLog;
  readonly smart: SmartCounters;
  readonly identify: IdentifyData;
  /** Commands Supported and Effects (built once from the opcode tables). */
  readonly commandEffectsLog: Uint8Array;
}
