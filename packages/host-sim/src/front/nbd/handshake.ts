/**
 * The fixed newstyle handshake of one connection, after the greeting (proto.md "Newstyle
 * negotiation", "Fixed newstyle negotiation"): the client flags, then options until one moves the
 * connection to transmission or ends it. Input is accumulated (small and rare: not worth a
 * streaming parser); {@link negotiateOption} decides each option, this file bounds them.
 *
 * Bounds: option data is at most 64 KiB (more is skipped and refused), options stop being read
 * while 64 KiB of their replies wait unsent, and a connection may send `maxOptions` options.
 */
import type { ExportInfo } from './export-info.js';
import { negotiateOption } from './negotiate-option.js';
import {
  CLIENT_FLAGS,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_OPTS_MAGIC,
  NBD_REP_ERR_TOO_BIG,
  OPTION_HEADER,
  optionReply,
} from './protocol.js';
import type { NbdStats } from './stats.js';

/** Option data larger than this is skipped and refused with NBD_REP_ERR_TOO_BIG. */
const MAX_OPTION_DATA = 64 * 1024;
/** Stop reading options while this much of their replies waits in the socket (a client not reading). */
const HANDSHAKE_OUTPUT_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** Where the replies go: the connection's socket. */
export interface HandshakeOutput {
  write(b: Buffer): unknown;
  readonly writableLength: number;
}

/** What the connection does next. */
export type HandshakeStep =
  /** Needs more input. */
  | { readonly kind: 'more' }
  /** Replies wait unsent: stop reading until the socket drains, then run again. */
  | { readonly kind: 'paused' }
  /** Unknown client flag or bad option magic: the stream cannot be trusted. */
  | { readonly kind: 'protocol-error' }
  /** More than `maxOptions` options. */
  | { readonly kind: 'too-many-options' }
  /** NBD_OPT_ABORT or a refused NBD_OPT_EXPORT_NAME: end the connection after the replies. */
  | { readonly kind: 'close' }
  /** Transmission begins; `rest` is what the client pipelined after the last option. */
  | { readonly kind: 'transmission'; readonly rest: Buffer };

const MORE: HandshakeStep = { kind: 'more' };
const PAUSED: HandshakeStep = { kind: 'paused' };
const PROTOCOL_ERROR: HandshakeStep = { kind: 'protocol-error' };

export class Handshake {
  private readonly stats: NbdStats;
  private readonly maxOptions: number;
  private input: Buffer = EMPTY;
  private clientFlagsRead = false;
  private fixedNewstyle = false;
  private noZeroes = false;
  private discardOption = 0;
  private discardRemaining = 0;
  private optionsSeen = 0;

  constructor(stats: NbdStats, maxOptions: number) {
    this.stats = stats;
    this.maxOptions = maxOptions;
  }

  feed(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
  }

  /** Drops what is buffered (the connection closed). */
  clear(): void {
    this.input = EMPTY;
  }

  /** Handles every option the buffered input holds, writing their replies to `out`. */
  run(info: ExportInfo, out: HandshakeOutput): HandshakeStep {
    for (;;) {
      // A client that sends options and never reads the replies: stop reading until it does.
      if (out.writableLength > HANDSHAKE_OUTPUT_LIMIT) return PAUSED;
      if (this.discardRemaining > 0) {
        const n = Math.min(this.discardRemaining, this.input.length);
        this.take(n);
        this.discardRemaining -= n;
        if (this.discardRemaining > 0) return MORE;
        out.write(optionReply(this.discardOption, NBD_REP_ERR_TOO_BIG, Buffer.from('option data too large')));
        continue;
      }
      if (!this.clientFlagsRead) {
        if (this.input.length < CLIENT_FLAGS.size) return MORE;
        const flags = this.take(CLIENT_FLAGS.size).readUInt32BE(CLIENT_FLAGS.FLAGS);
        // "the server MUST drop the TCP connection if the client sets an unknown flag".
        if ((flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) !== 0) return PROTOCOL_ERROR;
        this.clientFlagsRead = true;
        this.fixedNewstyle = (flags & NBD_FLAG_C_FIXED_NEWSTYLE) !== 0;
        this.noZeroes = (flags & NBD_FLAG_C_NO_ZEROES) !== 0;
        continue;
      }
      const h = this.input;
      if (h.length < OPTION_HEADER.size) return MORE;
      // A bad option magic means the stream cannot be trusted any more.
      if (h.readBigUInt64BE(OPTION_HEADER.MAGIC) !== NBD_OPTS_MAGIC) return PROTOCOL_ERROR;
      const option = h.readUInt32BE(OPTION_HEADER.OPTION);
      const length = h.readUInt32BE(OPTION_HEADER.LENGTH);
      // Counted once the option is whole (or skipped): real clients send a handful, and
      // negotiating forever only costs the server.
      const whole = length > MAX_OPTION_DATA || h.length >= OPTION_HEADER.size + length;
      if (whole && ++this.optionsSeen > this.maxOptions) return { kind: 'too-many-options' };
      if (length > MAX_OPTION_DATA) {
        this.stats.protocolErrors++;
        this.take(OPTION_HEADER.size);
        this.discardOption = option;
        this.discardRemaining = length;
        continue;
      }
      if (!whole) return MORE;
      this.take(OPTION_HEADER.size);
      const data = this.take(length);
      const outcome = negotiateOption(option, data, {
        info,
        fixedNewstyle: this.fixedNewstyle,
        noZeroes: this.noZeroes,
      });
      if (outcome.malformed) this.stats.protocolErrors++;
      for (const b of outcome.out) out.write(b);
      if (outcome.next === 'close') return { kind: 'close' };
      if (outcome.next === 'transmission') {
        const rest = this.input;
        this.input = EMPTY;
        return { kind: 'transmission', rest };
      }
    }
  }

  private take(n: number): Buffer {
    const b = this.input.subarray(0, n);
    this.input = this.input.subarray(n);
    return b;
  }
}
