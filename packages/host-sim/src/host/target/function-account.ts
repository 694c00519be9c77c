/**
 * The function's own account of a failure. The host driver sees only a timeout or a status; the
 * in-process function knows why: the event that set CSTS.CFS, the EPC error behind a Data
 * Transfer Error (its errno, the memMap request and the profile limit it hit). Every command that
 * drives the in-process testbed (`run`, `replay`, `fuzz`, `serve`) shows this account when
 * something failed, and `--verbose` adds the function's whole event trace.
 */
import type { EpcError } from '@epfsim/epc-core';
import type { TraceEvent, TraceKind } from '@epfsim/nvme-epf';
import { adminOpcodeName, CSTS, formatStatus, getBits, NVME_REG_CSTS, nvmOpcodeName } from '@epfsim/nvme-spec-types';
import type { Testbed } from './epfsim-target.js';

/** An EPC error as data: what was asked, what the EPC answered, and the limit it ran into. */
export interface EpcErrorReport {
  readonly errno: string;
  readonly message: string;
  /** The refused call and its host range (`memMap`, `mapAddr`, …), addresses in hex. */
  readonly request?: { readonly op: string; readonly pciAddr: string; readonly size: number };
  /** The profile limit, e.g. "largest window 0x8000". */
  readonly limit?: string;
  /** All of it on one line, as the function's trace prints it. */
  readonly text: string;
}

/** One event of the function's trace, as data. */
export interface FunctionEvent {
  readonly kind: TraceKind;
  readonly message: string;
  readonly qid?: number;
  readonly cid?: number;
  readonly opcode?: number;
  /** e.g. `0/04h Data Transfer Error (DNR)`. */
  readonly status?: string;
  readonly epc?: EpcErrorReport;
}

/** What the function says about its run. */
export interface FunctionAccount {
  /** The controller's state now. */
  readonly state: 'disabled' | 'ready' | 'fatal' | 'shutdown';
  /** CSTS as the host reads it now. */
  readonly csts: { readonly rdy: number; readonly cfs: number; readonly shst: number };
  /** The event that last set CSTS.CFS (kept after a reset has cleared the bit). */
  readonly fatal?: FunctionEvent;
  /** The function's last command errors, newest last (at most {@link LAST_COMMAND_ERRORS}). */
  readonly commandErrors: readonly FunctionEvent[];
  /** Completions with an error status the function posted in all. */
  readonly failedCompletions: number;
  /** The EPC's counters that matter for a failure, and the maps live now (the function keeps CQs mapped). */
  readonly epc: {
    readonly memMapCalls: number;
    readonly memMapFailures: number;
    readonly busFaults: number;
    readonly liveMaps: number;
    readonly queueMaps: number;
  };
  /** The root cause in one line; absent when the function saw nothing wrong. */
  readonly rootCause?: string;
  /** Events the function recorded since it was created (its ring keeps the last 1000). */
  readonly eventsRecorded: number;
  /** The kept events, oldest first: only when asked for (--verbose). */
  readonly events?: readonly FunctionEvent[];
}

/** Command errors an account keeps. */
export const LAST_COMMAND_ERRORS = 8;
/** The event kinds that set CSTS.CFS. */
const FATAL_KINDS: ReadonlySet<TraceKind> = new Set(['controller-fatal', 'enable-failed']);
const SUCCESS_KEY = '0/00';

/** The EPC error as data. */
export function epcErrorReport(e: EpcError): EpcErrorReport {
  return {
    errno: e.errno,
    message: e.message,
    ...(e.request === undefined
      ? {}
      : { request: { op: e.request.op, pciAddr: `0x${e.request.pciAddr.toString(16)}`, size: e.request.size } }),
    ...(e.limit === undefined ? {} : { limit: e.limit }),
    text: e.toString(),
  };
}

/** An opcode with its name, from the admin (SQ 0) or NVM command set: `IDENTIFY 06h`. */
export function commandName(qid: number, opcode: number): string {
  const name = qid === 0 ? adminOpcodeName(opcode) : nvmOpcodeName(opcode);
  const code = `${opcode.toString(16).padStart(2, '0')}h`;
  return name === undefined ? `opcode ${code}` : `${name} ${code}`;
}

function eventOf(e: TraceEvent): FunctionEvent {
  return {
    kind: e.kind,
    message: e.message,
    ...(e.qid === undefined ? {} : { qid: e.qid }),
    ...(e.cid === undefined ? {} : { cid: e.cid }),
    ...(e.opcode === undefined ? {} : { opcode: e.opcode }),
    ...(e.status === undefined ? {} : { status: formatStatus(e.status) }),
    ...(e.epc === undefined ? {} : { epc: epcErrorReport(e.epc) }),
  };
}

/**
 * The function's command errors: one per failed completion, merged with the data transfer event
 * of the same command (which carries the EPC error) when there is one.
 */
export function functionCommandErrors(trace: readonly TraceEvent[]): FunctionEvent[] {
  const errors: FunctionEvent[] = [];
  let transfer: TraceEvent | undefined;
  for (const e of trace) {
    if (e.kind !== 'command-error') continue;
    // nvme-epf records a failed data phase first, then the completion it posts with its status.
    if (e.message.startsWith('data transfer failed')) {
      transfer = e;
      continue;
    }
    const same = transfer !== undefined && transfer.qid === e.qid && transfer.cid === e.cid ? transfer : undefined;
    const epc = e.epc ?? same?.epc;
    errors.push(eventOf({ ...e, message: same?.message ?? e.message, ...(epc === undefined ? {} : { epc }) }));
    transfer = undefined;
  }
  return errors;
}

/** One line for a command error: `SQ 0 CID 4096 IDENTIFY 06h: 0/04h Data Transfer Error (DNR): EFAULT: …`. */
export function describeCommandError(e: FunctionEvent): string {
  const command = e.opcode === undefined ? '' : ` ${commandName(e.qid ?? 0, e.opcode)}`;
  const why = e.epc?.text ?? (e.message.startsWith('data transfer failed') ? e.message : undefined);
  return `SQ ${e.qid} CID ${e.cid}${command}: ${e.status ?? 'failed'}${why === undefined ? '' : `: ${why}`}`;
}

/** The function's account of `testbed`, read from its trace ring, its registers and the EPC's counters. */
export function functionAccount(testbed: Testbed, options: { readonly events?: boolean } = {}): FunctionAccount {
  const fn = testbed.fn;
  const trace = fn.trace;
  const csts = testbed.target.mmioRead32(NVME_REG_CSTS);
  const fatalEvent = [...trace].reverse().find((e) => FATAL_KINDS.has(e.kind));
  const errors = functionCommandErrors(trace);
  const last = errors.slice(-LAST_COMMAND_ERRORS);
  const failedCompletions = Object.entries(fn.stats.completionsByStatus)
    .filter(([key]) => key !== SUCCESS_KEY)
    .reduce((n, [, count]) => n + count, 0);
  const c = testbed.epc.counters;
  const fatal = fatalEvent === undefined ? undefined : eventOf(fatalEvent);
  const lastError = last.at(-1);
  const irq = [...trace].reverse().find((e) => e.kind === 'interrupt-failed');
  const rootCause =
    fatal !== undefined
      ? `CSTS.CFS set: ${fatal.message}`
      : lastError !== undefined
        ? `last failed command: ${describeCommandError(lastError)}`
        : irq !== undefined
          ? `interrupt not delivered: ${irq.message}`
          : undefined;
  return {
    state: fn.state,
    csts: { rdy: getBits(csts, CSTS.RDY), cfs: getBits(csts, CSTS.CFS), shst: getBits(csts, CSTS.SHST) },
    ...(fatal === undefined ? {} : { fatal }),
    commandErrors: last,
    failedCompletions,
    epc: {
      memMapCalls: c.memMapCalls,
      memMapFailures: c.memMapFailures,
      busFaults: c.busFaults,
      liveMaps: testbed.epc.liveMaps.length,
      queueMaps: fn.persistentMaps().size,
    },
    ...(rootCause === undefined ? {} : { rootCause }),
    eventsRecorded: fn.eventsRecorded,
    ...(options.events === true ? { events: trace.map(eventOf) } : {}),
  };
}

/** One line per event, as `--verbose` prints the trace. */
export function formatFunctionEvent(e: FunctionEvent): string {
  // nvme-epf's messages about a queue start with it ("SQ 1 CID 5 …", "CQ 2: …").
  const named = /^[SC]Q \d/.test(e.message);
  const where = named
    ? ''
    : [e.qid === undefined ? '' : ` SQ ${e.qid}`, e.cid === undefined ? '' : ` CID ${e.cid}`].join('');
  const epc = e.epc === undefined || e.message.includes(e.epc.text) ? '' : ` [${e.epc.text}]`;
  return `${e.kind}${where}: ${e.message}${epc}`;
}

/**
 * The account as indented text lines: the root cause first, then CSTS, the EPC's failures and the
 * last failed commands; with `events`, the whole trace.
 */
export function formatFunctionAccount(a: FunctionAccount, indent = '  '): string[] {
  const lines = [`${indent}the function's account (nvme-epf):`];
  const more = `${indent}  `;
  if (a.rootCause !== undefined) lines.push(`${more}root cause: ${a.rootCause}`);
  lines.push(
    `${more}CSTS: RDY ${a.csts.rdy}, CFS ${a.csts.cfs}, SHST ${a.csts.shst}; state ${a.state}`,
    `${more}EPC: ${a.epc.memMapCalls} map calls, ${a.epc.memMapFailures} refused, ${a.epc.busFaults} bus faults; ` +
      `${plural(a.epc.liveMaps, 'map')} live now, ${a.epc.queueMaps} of them completion queues the function keeps mapped`,
  );
  const onlyRootCause =
    a.commandErrors.length === 1 && a.rootCause?.endsWith(describeCommandError(a.commandErrors[0]!));
  if (a.commandErrors.length > 0 && !onlyRootCause) {
    lines.push(`${more}failed commands: ${a.failedCompletions} in all; the last ${a.commandErrors.length}:`);
    for (const e of a.commandErrors) lines.push(`${more}  ${describeCommandError(e)}`);
  }
  if (a.events !== undefined) {
    const dropped = a.eventsRecorded - a.events.length;
    lines.push(`${more}events (${a.events.length}${dropped > 0 ? ` kept of ${a.eventsRecorded}` : ''}, oldest first):`);
    for (const e of a.events) lines.push(`${more}  ${formatFunctionEvent(e)}`);
  } else if (a.eventsRecorded > 0) {
    lines.push(`${more}(${plural(a.eventsRecorded, 'event')} in the function's trace: --verbose prints them)`);
  }
  return lines;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
