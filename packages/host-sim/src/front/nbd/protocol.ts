/**
 * NBD wire protocol: numbers, layouts and accessors.
 *
 * Source: NetworkBlockDevice/nbd `doc/proto.md` ("fixed newstyle" handshake, transmission
 * phase, "Values"), whose numbers libnbd (`lib/nbd-protocol.h`) and nbdkit share.
 * Everything on the wire is big-endian. Only what this server speaks is here: simple replies,
 * no structured replies, no extended headers, no TLS.
 */

// ---------------------------------------------------------------------------------------------
// Magics (proto.md "Newstyle negotiation", "Request message", "Simple reply message")

/** ASCII "NBDMAGIC": first 8 bytes the server sends (proto.md "Newstyle negotiation"). */
export const NBD_INIT_MAGIC = 0x4e42444d41474943n;
/** ASCII "IHAVEOPT": second greeting word and the prefix of every client option. */
export const NBD_OPTS_MAGIC = 0x49484156454f5054n;
/** Prefix of every option reply (proto.md "Fixed newstyle negotiation"). */
export const NBD_REP_MAGIC = 0x0003e889045565a9n;
/** Request magic (proto.md "Request message"). */
export const NBD_REQUEST_MAGIC = 0x25609513;
/** Simple reply magic; named `NBD_REPLY_MAGIC` by older documents (proto.md "Simple reply message"). */
export const NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
export const NBD_REPLY_MAGIC = NBD_SIMPLE_REPLY_MAGIC;

// ---------------------------------------------------------------------------------------------
// Handshake flags (proto.md "Handshake flags", "Client flags")

/** Server supports fixed newstyle. */
export const NBD_FLAG_FIXED_NEWSTYLE = 1 << 0;
/** Server can omit the 124 zero bytes after NBD_OPT_EXPORT_NAME. */
export const NBD_FLAG_NO_ZEROES = 1 << 1;
/** Client speaks fixed newstyle. */
export const NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0;
/** Client asks to omit the 124 zero bytes. */
export const NBD_FLAG_C_NO_ZEROES = 1 << 1;

// ---------------------------------------------------------------------------------------------
// Transmission flags, u16 (proto.md "Transmission flags")

/** MUST always be set. */
export const NBD_FLAG_HAS_FLAGS = 1 << 0;
export const NBD_FLAG_READ_ONLY = 1 << 1;
export const NBD_FLAG_SEND_FLUSH = 1 << 2;
export const NBD_FLAG_SEND_FUA = 1 << 3;
export const NBD_FLAG_ROTATIONAL = 1 << 4;
export const NBD_FLAG_SEND_TRIM = 1 << 5;
export const NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6;
/** Only with structured replies; never set here. */
export const NBD_FLAG_SEND_DF = 1 << 7;
/** FLUSH and FUA on one connection are visible on every connection. */
export const NBD_FLAG_CAN_MULTI_CONN = 1 << 8;
export const NBD_FLAG_SEND_CACHE = 1 << 10;
export const NBD_FLAG_SEND_FAST_ZERO = 1 << 11;

// ---------------------------------------------------------------------------------------------
// Options (proto.md "Option types"; current numbering, as libnbd 1.14 sends them)

export const NBD_OPT_EXPORT_NAME = 1;
export const NBD_OPT_ABORT = 2;
export const NBD_OPT_LIST = 3;
export const NBD_OPT_STARTTLS = 5;
export const NBD_OPT_INFO = 6;
export const NBD_OPT_GO = 7;
export const NBD_OPT_STRUCTURED_REPLY = 8;
export const NBD_OPT_LIST_META_CONTEXT = 9;
export const NBD_OPT_SET_META_CONTEXT = 10;
export const NBD_OPT_EXTENDED_HEADERS = 11;

// Option reply types (proto.md "Option reply types"); errors have bit 31 set.
export const NBD_REP_ACK = 1;
export const NBD_REP_SERVER = 2;
export const NBD_REP_INFO = 3;
export const NBD_REP_FLAG_ERROR = 0x8000_0000;
export const NBD_REP_ERR_UNSUP = NBD_REP_FLAG_ERROR + 1;
export const NBD_REP_ERR_POLICY = NBD_REP_FLAG_ERROR + 2;
export const NBD_REP_ERR_INVALID = NBD_REP_FLAG_ERROR + 3;
export const NBD_REP_ERR_PLATFORM = NBD_REP_FLAG_ERROR + 4;
export const NBD_REP_ERR_TLS_REQD = NBD_REP_FLAG_ERROR + 5;
export const NBD_REP_ERR_UNKNOWN = NBD_REP_FLAG_ERROR + 6;
export const NBD_REP_ERR_SHUTDOWN = NBD_REP_FLAG_ERROR + 7;
export const NBD_REP_ERR_BLOCK_SIZE_REQD = NBD_REP_FLAG_ERROR + 8;
export const NBD_REP_ERR_TOO_BIG = NBD_REP_FLAG_ERROR + 9;

// Info types inside NBD_REP_INFO (INFO extension, now in proto.md "NBD_OPT_INFO and NBD_OPT_GO").
export const NBD_INFO_EXPORT = 0;
export const NBD_INFO_NAME = 1;
export const NBD_INFO_DESCRIPTION = 2;
export const NBD_INFO_BLOCK_SIZE = 3;

// ---------------------------------------------------------------------------------------------
// Commands and command flags (proto.md "Request types", "Command flags")

export const NBD_CMD_READ = 0;
export const NBD_CMD_WRITE = 1;
export const NBD_CMD_DISC = 2;
export const NBD_CMD_FLUSH = 3;
export const NBD_CMD_TRIM = 4;
export const NBD_CMD_CACHE = 5;
export const NBD_CMD_WRITE_ZEROES = 6;
export const NBD_CMD_BLOCK_STATUS = 7;

/** Valid on every command once SEND_FUA is advertised ("MUST accept ... even by ignoring the bit"). */
export const NBD_CMD_FLAG_FUA = 1 << 0;
/** WRITE_ZEROES only: the zeroes must be allocated, not punched. */
export const NBD_CMD_FLAG_NO_HOLE = 1 << 1;
export const NBD_CMD_FLAG_DF = 1 << 2;
export const NBD_CMD_FLAG_REQ_ONE = 1 << 3;
export const NBD_CMD_FLAG_FAST_ZERO = 1 << 4;

// Error values in replies (proto.md "Error values"): fixed numbers, not the host's errno.
export const NBD_EPERM = 1;
export const NBD_EIO = 5;
export const NBD_ENOMEM = 12;
export const NBD_EINVAL = 22;
export const NBD_ENOSPC = 28;
export const NBD_EOVERFLOW = 75;
export const NBD_ENOTSUP = 95;
export const NBD_ESHUTDOWN = 108;

/** Strings (export names...) MUST be no longer than 4096 bytes (proto.md "Conventions"). */
export const NBD_MAX_STRING = 4096;

// ---------------------------------------------------------------------------------------------
// Layouts: byte offsets inside each fixed-size message.

/** Server greeting, 18 bytes: NBDMAGIC | IHAVEOPT | u16 handshake flags. */
export const GREETING = { size: 18, INIT_MAGIC: 0, OPTS_MAGIC: 8, FLAGS: 16 } as const;
/** Client flags after the greeting: one u32. */
export const CLIENT_FLAGS = { size: 4, FLAGS: 0 } as const;
/** Option header, 16 bytes, followed by `LENGTH` bytes of data. */
export const OPTION_HEADER = { size: 16, MAGIC: 0, OPTION: 8, LENGTH: 12 } as const;
/** Option reply header, 20 bytes, followed by `LENGTH` bytes of data. */
export const OPTION_REPLY = { size: 20, MAGIC: 0, OPTION: 8, TYPE: 12, LENGTH: 16 } as const;
/** Reply to NBD_OPT_EXPORT_NAME (no option-reply header): u64 size | u16 flags | [124 zeroes]. */
export const EXPORT_NAME_REPLY = { size: 10, EXPORT_SIZE: 0, FLAGS: 8, ZEROES: 124 } as const;
/** NBD_INFO_EXPORT payload of an NBD_REP_INFO, 12 bytes. */
export const INFO_EXPORT = { size: 12, TYPE: 0, EXPORT_SIZE: 2, FLAGS: 10 } as const;
/** NBD_INFO_BLOCK_SIZE payload of an NBD_REP_INFO, 14 bytes. */
export const INFO_BLOCK_SIZE = { size: 14, TYPE: 0, MIN: 2, PREFERRED: 6, MAX: 10 } as const;
/** Request header, 28 bytes; WRITE is followed by `LENGTH` bytes of payload. */
export const REQUEST = { size: 28, MAGIC: 0, FLAGS: 4, TYPE: 6, HANDLE: 8, OFFSET: 16, LENGTH: 24 } as const;
/** Simple reply header, 16 bytes; a successful READ is followed by the data. */
export const SIMPLE_REPLY = { size: 16, MAGIC: 0, ERROR: 4, HANDLE: 8 } as const;

// ---------------------------------------------------------------------------------------------
// Accessors (Buffer, big-endian). u64 fields the server does arithmetic on are read as two u32
// halves: exact below 2^53, and anything above is far beyond any export, which is all the
// range checks need to know.

const TWO_32 = 0x1_0000_0000;

export function writeU64FromNumber(b: Buffer, off: number, value: number): void {
  b.writeUInt32BE(Math.floor(value / TWO_32), off);
  b.writeUInt32BE(value % TWO_32, off + 4);
}

/** Request offset without a DataView: the hot path reads a Buffer the socket gave us. */
export function requestOffset(b: Buffer, base: number): number {
  return b.readUInt32BE(base + REQUEST.OFFSET) * TWO_32 + b.readUInt32BE(base + REQUEST.OFFSET + 4);
}

/** Builds an option reply: header plus optional data. */
export function optionReply(option: number, type: number, data?: Uint8Array): Buffer {
  const len = data?.length ?? 0;
  const b = Buffer.allocUnsafe(OPTION_REPLY.size + len);
  b.writeBigUInt64BE(NBD_REP_MAGIC, OPTION_REPLY.MAGIC);
  b.writeUInt32BE(option, OPTION_REPLY.OPTION);
  b.writeUInt32BE(type, OPTION_REPLY.TYPE);
  b.writeUInt32BE(len, OPTION_REPLY.LENGTH);
  if (data !== undefined) b.set(data, OPTION_REPLY.size);
  return b;
}

/** Builds the 18-byte greeting. */
export function greeting(flags: number): Buffer {
  const b = Buffer.allocUnsafe(GREETING.size);
  b.writeBigUInt64BE(NBD_INIT_MAGIC, GREETING.INIT_MAGIC);
  b.writeBigUInt64BE(NBD_OPTS_MAGIC, GREETING.OPTS_MAGIC);
  b.writeUInt16BE(flags, GREETING.FLAGS);
  return b;
}
