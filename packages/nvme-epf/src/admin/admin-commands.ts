/**
 * The admin command set this controller implements (NVMe Base 1.4 §5), one row per opcode: its
 * handler and its Commands Supported and Effects entry. Dispatch and the Commands Supported and
 * Effects log both read this table, as QEMU's `nvme_cse_acs` serves both, so they cannot disagree.
 */
import { AdminOpcode } from '@epfsim/nvme-spec-types';
import type { Command, HandlerResult } from '../command/command.js';
import type { NvmeController } from '../controller.js';
import { abort } from './abort.js';
import { getFeatures, setFeatures } from './features.js';
import { identify } from './identify.js';
import { getLogPage } from './log-pages.js';
import { createIoCq, createIoSq, deleteIoCq, deleteIoSq } from './queue-management.js';

export interface CommandEntry<H> {
  readonly handler: H;
  /** LBCC: the command may change logical block content (the effects log reports it). */
  readonly changesData: boolean;
}

export type AdminHandler = (c: NvmeController, cmd: Command) => HandlerResult;

const admin = (handler: AdminHandler): CommandEntry<AdminHandler> => ({ handler, changesData: false });

export const ADMIN_COMMANDS: ReadonlyMap<number, CommandEntry<AdminHandler>> = new Map([
  [AdminOpcode.DELETE_IO_SQ, admin(deleteIoSq)],
  [AdminOpcode.CREATE_IO_SQ, admin(createIoSq)],
  [AdminOpcode.GET_LOG_PAGE, admin(getLogPage)],
  [AdminOpcode.DELETE_IO_CQ, admin(deleteIoCq)],
  [AdminOpcode.CREATE_IO_CQ, admin(createIoCq)],
  [AdminOpcode.IDENTIFY, admin(identify)],
  [AdminOpcode.ABORT, admin(abort)],
  [AdminOpcode.SET_FEATURES, admin(setFeatures)],
  [AdminOpcode.GET_FEATURES, admin(getFeatures)],
  [AdminOpcode.ASYNC_EVENT_REQUEST, admin((c, cmd) => c.aer.request(cmd.cid))],
]);
