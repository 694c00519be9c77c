/**
 * The admin command set this controller implements: one row per opcode, read by dispatch, by the
 * Commands Supported and Effects log and by the tests, as QEMU's nvme_cse_acs[] is (NVMe Base 1.4
 * §5, Figure 139; §5.14.1.5 for the effects).
 */
import { AdminOpcode, CMD_EFFECTS, packFields } from '@epfsim/nvme-spec-types';
import type { HandlerResult } from '../command/command.js';
import type { AdminContext } from '../command/context.js';
import type { Request } from '../command/request.js';
import { abort } from './abort.js';
import { getFeatures, setFeatures } from './features.js';
import { identify } from './identify.js';
import { getLogPage } from './log-pages.js';
import { createIoCq, createIoSq, deleteIoCq, deleteIoSq } from './queue-management.js';

export type AdminHandler = (ctx: AdminContext, req: Request) => HandlerResult;

export interface AdminCommand {
  readonly opcode: number;
  readonly name: string;
  /** The Commands Supported and Effects entry (CSUPP set). */
  readonly effects: number;
  readonly execute: AdminHandler;
}

const SUPPORTED = packFields(CMD_EFFECTS, { CSUPP: 1 });

/** Asynchronous Event Request: it waits for an event (no completion now, usually). */
function asyncEventRequest(ctx: AdminContext, req: Request): HandlerResult {
  return ctx.aer.request(req.cid);
}

// biome-ignore format: one row per opcode
export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  { opcode: AdminOpcode.DELETE_IO_SQ,        name: 'Delete I/O Submission Queue', effects: SUPPORTED, execute: deleteIoSq },
  { opcode: AdminOpcode.CREATE_IO_SQ,        name: 'Create I/O Submission Queue', effects: SUPPORTED, execute: createIoSq },
  { opcode: AdminOpcode.GET_LOG_PAGE,        name: 'Get Log Page',                effects: SUPPORTED, execute: getLogPage },
  { opcode: AdminOpcode.DELETE_IO_CQ,        name: 'Delete I/O Completion Queue', effects: SUPPORTED, execute: deleteIoCq },
  { opcode: AdminOpcode.CREATE_IO_CQ,        name: 'Create I/O Completion Queue', effects: SUPPORTED, execute: createIoCq },
  { opcode: AdminOpcode.IDENTIFY,            name: 'Identify',                    effects: SUPPORTED, execute: identify },
  { opcode: AdminOpcode.ABORT,               name: 'Abort',                       effects: SUPPORTED, execute: abort },
  { opcode: AdminOpcode.SET_FEATURES,        name: 'Set Features',                effects: SUPPORTED, execute: setFeatures },
  { opcode: AdminOpcode.GET_FEATURES,        name: 'Get Features',                effects: SUPPORTED, execute: getFeatures },
  { opcode: AdminOpcode.ASYNC_EVENT_REQUEST, name: 'Asynchronous Event Request',  effects: SUPPORTED, execute: asyncEventRequest },
];
