/**
 * What the controller counted. Every figure is a count of events that happened; nothing is modelled.
 * The bookkeeping identity the property tests check: every fetched command is completed exactly
 * once, or dropped by a reset, or still outstanding (an Asynchronous Event Request, or a completion
 * waiting for room in a full CQ).
 */
import { type NvmeStatus, statusSc, statusSct } from '@epfsim/nvme-spec-types';

export interface FunctionStats {
  /** SQEs fetched from host memory. */
  commandsFetched: number;
  /** Completions posted to a CQ (one per command, never more). */
  commandsCompleted: number;
  /** Commands that ended without a completion because a reset or shutdown dropped them. */
  commandsDropped: number;
  /** Completions by status, keyed `SCT/SC` in hex, e.g. `0/00`, `1/01`. */
  completionsByStatus: Record<string, number>;
  /** Completions that had to wait for room in a full CQ. */
  deferredCompletions: number;
  /** Interrupt messages raised (MSI/MSI-X) or INTx assertions. */
  interruptsRaised: number;
  /** Asynchronous events posted to the host. */
  asyncEventsPosted: number;
  /** Doorbell writes ignored as invalid or aimed at a queue that does not exist. */
  invalidDoorbellWrites: number;
  /** Times CSTS.CFS was set. */
  fatalErrors: number;
  /** CQEs written through a kept-open CQ map, and through a per-post transfer (queue not mappable in one piece). */
  cqePostsMapped: number;
  cqePostsTransferred: number;
  /** Bytes moved for command data (not queue entries). */
  dataBytesFromHost: number;
  dataBytesToHost: number;
  /** Controller enables, resets (EN 1→0) and shutdowns seen. */
  enables: number;
  resets: number;
  shutdowns: number;
}

export function newStats(): FunctionStats {
  return {
    commandsFetched: 0,
    commandsCompleted: 0,
    commandsDropped: 0,
    completionsByStatus: {},
    deferredCompletions: 0,
    interruptsRaised: 0,
    asyncEventsPosted: 0,
    invalidDoorbellWrites: 0,
    fatalErrors: 0,
    cqePostsMapped: 0,
    cqePostsTransferred: 0,
    dataBytesFromHost: 0,
    dataBytesToHost: 0,
    enables: 0,
    resets: 0,
    shutdowns: 0,
  };
}

const HEX = 16;
const SC_DIGITS = 2;

/** The `SCT/SC` key of a status, e.g. `0/13` for PRP Offset Invalid. */
export function statusKey(status: NvmeStatus): string {
  return `${statusSct(status)}/${statusSc(status).toString(HEX).padStart(SC_DIGITS, '0')}`;
}
