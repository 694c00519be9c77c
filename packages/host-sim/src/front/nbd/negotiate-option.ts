/**
 * Option haggling of the fixed newstyle handshake (proto.md "Fixed newstyle negotiation",
 * "Option types", "Option reply types"), as a pure function: one option in, the bytes to send and
 * the next phase out. The connection does the I/O.
 *
 * Structured replies, meta contexts, TLS and extended headers are refused with
 * NBD_REP_ERR_UNSUP; libnbd, fio and QEMU then fall back to simple replies (reference §4).
 */
import type { ExportInfo } from './export-info.js';
import {
  EXPORT_NAME_REPLY,
  INFO_BLOCK_SIZE,
  INFO_EXPORT,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_EXPORT,
  NBD_INFO_NAME,
  NBD_MAX_STRING,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
  NBD_REP_SERVER,
  optionReply,
  writeU64FromNumber,
} from './protocol.js';

export interface NegotiationContext {
  readonly info: ExportInfo;
  /** The client set NBD_FLAG_C_FIXED_NEWSTYLE; otherwise only NBD_OPT_EXPORT_NAME is valid. */
  readonly fixedNewstyle: boolean;
  /** The client set NBD_FLAG_C_NO_ZEROES. */
  readonly noZeroes: boolean;
}

export interface OptionOutcome {
  /** Bytes to send, in order. */
  readonly out: readonly Buffer[];
  /** After sending: keep negotiating, enter transmission, or end the connection. */
  readonly next: 'options' | 'transmission' | 'close';
  /** The option was malformed or could not be satisfied (counted as a protocol error). */
  readonly malformed: boolean;
}

function reply(out: Buffer[], malformed = false): OptionOutcome {
  return { out, next: 'options', malformed };
}

function errorReply(option: number, type: number, message: string): OptionOutcome {
  // Error replies MAY carry a message for the user (proto.md "Option reply types").
  return reply([optionReply(option, type, Buffer.from(message))], type !== NBD_REP_ERR_UNSUP);
}

/** NBD_REP_INFO with NBD_INFO_EXPORT: mandatory before the ACK of every successful INFO/GO. */
function infoExport(option: number, info: ExportInfo): Buffer {
  const d = Buffer.allocUnsafe(INFO_EXPORT.size);
  d.writeUInt16BE(NBD_INFO_EXPORT, INFO_EXPORT.TYPE);
  writeU64FromNumber(d, INFO_EXPORT.EXPORT_SIZE, info.size);
  d.writeUInt16BE(info.transmissionFlags, INFO_EXPORT.FLAGS);
  return optionReply(option, NBD_REP_INFO, d);
}

function infoBlockSize(option: number, info: ExportInfo): Buffer {
  const d = Buffer.allocUnsafe(INFO_BLOCK_SIZE.size);
  d.writeUInt16BE(NBD_INFO_BLOCK_SIZE, INFO_BLOCK_SIZE.TYPE);
  d.writeUInt32BE(info.minBlock, INFO_BLOCK_SIZE.MIN);
  d.writeUInt32BE(info.preferredBlock, INFO_BLOCK_SIZE.PREFERRED);
  d.writeUInt32BE(info.maxBlock, INFO_BLOCK_SIZE.MAX);
  return optionReply(option, NBD_REP_INFO, d);
}

function infoName(option: number, info: ExportInfo): Buffer {
  const name = Buffer.from(info.name);
  const d = Buffer.allocUnsafe(2 + name.length);
  d.writeUInt16BE(NBD_INFO_NAME, 0);
  name.copy(d, 2);
  return optionReply(option, NBD_REP_INFO, d);
}

/** NBD_OPT_EXPORT_NAME: the reply has no option-reply header and cannot carry an error. */
function exportName(data: Buffer, ctx: NegotiationContext): OptionOutcome {
  if (data.toString('utf8') !== ctx.info.name) {
    // "If the chosen export does not exist ... the server MUST terminate the session."
    return { out: [], next: 'close', malformed: true };
  }
  const b = Buffer.alloc(EXPORT_NAME_REPLY.size + (ctx.noZeroes ? 0 : EXPORT_NAME_REPLY.ZEROES));
  writeU64FromNumber(b, EXPORT_NAME_REPLY.EXPORT_SIZE, ctx.info.size);
  b.writeUInt16BE(ctx.info.transmissionFlags, EXPORT_NAME_REPLY.FLAGS);
  return { out: [b], next: 'transmission', malformed: false };
}

/**
 * NBD_OPT_INFO / NBD_OPT_GO data: u32 namelen | name | u16 n | n × u16 info request.
 * NBD_INFO_EXPORT is always sent, and NBD_INFO_BLOCK_SIZE too (a server MAY send information
 * it was not asked for, and it tells every client the alignment this server enforces).
 */
function infoOrGo(option: number, data: Buffer, ctx: NegotiationContext): OptionOutcome {
  if (data.length < 6) return errorReply(option, NBD_REP_ERR_INVALID, 'option data too short');
  const nameLength = data.readUInt32BE(0);
  if (nameLength > NBD_MAX_STRING || 4 + nameLength + 2 > data.length)
    return errorReply(option, NBD_REP_ERR_INVALID, 'bad export name length');
  const name = data.toString('utf8', 4, 4 + nameLength);
  const count = data.readUInt16BE(4 + nameLength);
  if (4 + nameLength + 2 + 2 * count !== data.length)
    return errorReply(option, NBD_REP_ERR_INVALID, 'information request count does not match the option length');
  if (name !== ctx.info.name) return errorReply(option, NBD_REP_ERR_UNKNOWN, `no export named '${name}'`);
  let wantsName = false;
  for (let i = 0; i < count; i++) if (data.readUInt16BE(4 + nameLength + 2 + 2 * i) === NBD_INFO_NAME) wantsName = true;
  const out = [infoExport(option, ctx.info), infoBlockSize(option, ctx.info)];
  if (wantsName) out.push(infoName(option, ctx.info));
  out.push(optionReply(option, NBD_REP_ACK));
  return { out, next: option === NBD_OPT_GO ? 'transmission' : 'options', malformed: false };
}

function list(data: Buffer, ctx: NegotiationContext): OptionOutcome {
  // "the client sent an NBD_OPT_LIST with nonzero data length" is the spec's own ERR_INVALID example.
  if (data.length !== 0) return errorReply(NBD_OPT_LIST, NBD_REP_ERR_INVALID, 'NBD_OPT_LIST takes no data');
  const name = Buffer.from(ctx.info.name);
  const d = Buffer.allocUnsafe(4 + name.length);
  d.writeUInt32BE(name.length, 0);
  name.copy(d, 4);
  return reply([optionReply(NBD_OPT_LIST, NBD_REP_SERVER, d), optionReply(NBD_OPT_LIST, NBD_REP_ACK)]);
}

export function negotiateOption(option: number, data: Buffer, ctx: NegotiationContext): OptionOutcome {
  if (option === NBD_OPT_EXPORT_NAME) return exportName(data, ctx);
  // Non-fixed newstyle has no option replies: anything else can only end the session.
  if (!ctx.fixedNewstyle) return { out: [], next: 'close', malformed: true };
  switch (option) {
    case NBD_OPT_ABORT:
      // "The server MUST reply with NBD_REP_ACK"; the client may already be gone (EPIPE is normal).
      return { out: [optionReply(option, NBD_REP_ACK)], next: 'close', malformed: false };
    case NBD_OPT_LIST:
      return list(data, ctx);
    case NBD_OPT_INFO:
    case NBD_OPT_GO:
      return infoOrGo(option, data, ctx);
    default:
      // STRUCTURED_REPLY, LIST/SET_META_CONTEXT, STARTTLS, EXTENDED_HEADERS and unknown options.
      return reply([optionReply(option, NBD_REP_ERR_UNSUP)]);
  }
}
