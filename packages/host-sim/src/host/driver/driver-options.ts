/**
 * How the host driver is set up: queue counts and depths, interrupt mode, timeouts. Defaults follow
 * Linux drivers/nvme/host/pci.c where that makes sense for a simulation (queue depths), and are
 * shorter where Linux's would stall a fuzz run (timeouts; Linux's values are exported).
 */
import { MAX_TAGS } from '@epfsim/nvme-host';
import type { PlacementPolicy } from '../placement/layout.js';

/** `NVME_AQ_DEPTH`: Linux's admin queue depth (AQA = 0x001F001F). */
export const ADMIN_QUEUE_DEPTH = 32;
/** Linux `io_queue_depth` default, the cap on I/O queue depth. */
export const LINUX_IO_QUEUE_DEPTH = 1024;
/** Linux's admin and I/O command timeouts (`admin_timeout` 60 s, `io_timeout` 30 s). */
export const LINUX_ADMIN_TIMEOUT_MS = 60_000;
export const LINUX_IO_TIMEOUT_MS = 30_000;
/** Linux's shutdown timeout default (`shutdown_timeout` 5 s). */
export const LINUX_SHUTDOWN_TIMEOUT_MS = 5_000;
/** Defaults here: short enough that a fuzz run does not stall on a dead command. */
const DEFAULT_ADMIN_TIMEOUT_MS = 1_000;
const DEFAULT_IO_TIMEOUT_MS = 1_000;
const DEFAULT_IO_QUEUES = 4;
const DEFAULT_IO_QUEUE_DEPTH = 64;
/** In interrupt mode, also look at every CQ this often (steps): catches a missing interrupt. */
const DEFAULT_POLL_EVERY = 256;

/** How interrupts are taken: an interrupt kind (falling back MSI-X → MSI → INTx), or pure polling. */
export type DriverInterruptMode = 'msix' | 'msi' | 'intx' | 'poll';

export interface NvmeDriverOptions {
  /** Placement for queues and the default placement of data. Default: a `linux` policy on the target's memory. */
  readonly placement?: PlacementPolicy;
  /** Seed of the default placement. */
  readonly seed?: number;
  /** I/O queue pairs to ask for (Number of Queues); fewer if the controller allocates fewer. Default 4. */
  readonly ioQueues?: number;
  /** Entries per I/O queue, capped by CAP.MQES + 1. Default 64. */
  readonly ioQueueDepth?: number;
  readonly adminQueueDepth?: number;
  readonly interrupts?: DriverInterruptMode;
  readonly adminTimeoutMs?: number;
  readonly ioTimeoutMs?: number;
  readonly shutdownTimeoutMs?: number;
  /** With interrupts, also reap every CQ each this many steps. */
  readonly pollEvery?: number;
}

/** Options with every default filled in (the placement aside). */
export type ResolvedDriverOptions = Required<Omit<NvmeDriverOptions, 'placement' | 'seed'>>;

/** Fills in the defaults. */
export function resolveDriverOptions(options: NvmeDriverOptions): ResolvedDriverOptions {
  return {
    ioQueues: options.ioQueues ?? DEFAULT_IO_QUEUES,
    ioQueueDepth: options.ioQueueDepth ?? DEFAULT_IO_QUEUE_DEPTH,
    adminQueueDepth: options.adminQueueDepth ?? ADMIN_QUEUE_DEPTH,
    interrupts: options.interrupts ?? 'msix',
    adminTimeoutMs: options.adminTimeoutMs ?? DEFAULT_ADMIN_TIMEOUT_MS,
    ioTimeoutMs: options.ioTimeoutMs ?? DEFAULT_IO_TIMEOUT_MS,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? LINUX_SHUTDOWN_TIMEOUT_MS,
    pollEvery: options.pollEvery ?? DEFAULT_POLL_EVERY,
  };
}

/** Controller page: the driver always programs CC.MPS = 0 (4 KiB), as Linux does. */
export const CTRL_MPS = 0;
/** Block size assumed for a command on an NSID the host does not know (before Identify). */
export const FALLBACK_BLOCK_SIZE = 512;
/** Admin vector: the admin CQ always uses vector 0. */
export const ADMIN_VECTOR = 0;
/** Deepest I/O queue the driver creates: one CID tag per slot, as Linux's blk-mq tags. */
export const MAX_QUEUE_DEPTH = MAX_TAGS;
