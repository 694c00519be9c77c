/** Counters of one NBD server, over all its connections. Live: read them at any time. */
export interface NbdStats {
  /** Connections accepted since the server started. */
  connections: number;
  /** Connections open now (handshake or transmission). */
  activeConnections: number;
  /** Connections closed at once because `maxConnections` were open. */
  connectionsRefused: number;
  /**
   * Connections the server closed for exceeding a bound: too many options, a handshake longer than
   * the handshake timeout, or a stall while holding request data others waited for.
   */
  limitClosures: number;
  /** Requests received, by command (including the ones answered with an error). */
  readonly requests: {
    read: number;
    write: number;
    flush: number;
    trim: number;
    writeZeroes: number;
    disc: number;
    /** Unknown or unsupported command types (answered EINVAL). */
    other: number;
  };
  /** Payload bytes of successful READ replies. */
  bytesRead: number;
  /** Payload bytes of successful WRITEs. */
  bytesWritten: number;
  /** Replies that carried a non-zero error, for any reason. */
  errorReplies: number;
  /** Of those, failures reported by the device (a thrown BlockDeviceError or anything else). */
  deviceErrors: number;
  /**
   * Client misbehaviour: a malformed option or request (bad magic, unknown command or flag, bad
   * range, misalignment, oversize), whether answered with an error or by closing the connection.
   */
  protocolErrors: number;
}

export function emptyNbdStats(): NbdStats {
  return {
    connections: 0,
    activeConnections: 0,
    connectionsRefused: 0,
    limitClosures: 0,
    requests: { read: 0, write: 0, flush: 0, trim: 0, writeZeroes: 0, disc: 0, other: 0 },
    bytesRead: 0,
    bytesWritten: 0,
    errorReplies: 0,
    deviceErrors: 0,
    protocolErrors: 0,
  };
}
