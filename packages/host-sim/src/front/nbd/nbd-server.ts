/**
 * An NBD server for one export, on a Unix socket or a TCP port, serving a BlockDevice to
 * unmodified clients (fio's nbd engine, nbdinfo, nbdcopy, qemu-img/qemu-io).
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { BlockDevice } from './block-device.js';
import { exportInfoOf } from './export-info.js';
import { MemoryBudget } from './memory-budget.js';
import { NbdConnection } from './nbd-connection.js';
import { NbdServerError } from './nbd-server-error.js';
import { NBD_MAX_STRING } from './protocol.js';
import { emptyNbdStats, type NbdStats } from './stats.js';

export interface NbdConnectionInfo {
  /** 1, 2, ... in accept order. */
  readonly id: number;
}

export interface NbdServerOptions {
  /** One device shared by every connection... */
  readonly device?: BlockDevice;
  /** ...or one per connection, made when the connection is accepted (before the greeting). */
  readonly deviceFactory?: (connection: NbdConnectionInfo) => BlockDevice | Promise<BlockDevice>;
  /** Listen on this Unix socket path (under 108 bytes); a stale socket there is replaced. */
  readonly unixSocket?: string;
  /** Or on TCP; port 0 picks a free port. */
  readonly tcp?: { readonly host: string; readonly port: number };
  /** Export name; default '' (the default export). */
  readonly exportName?: string;
  /**
   * Advertise NBD_FLAG_CAN_MULTI_CONN: only if FLUSH on one connection makes the writes of all
   * connections durable (trivially so with one shared device). Default false.
   */
  readonly multiConn?: boolean;
  /** Requests processed concurrently per connection before reading pauses. Default 128. */
  readonly maxInFlight?: number;
  /**
   * READ/WRITE bytes in flight per connection before reading pauses; a single larger request is
   * still admitted when nothing else is in flight. Default 64 MiB.
   */
  readonly maxInFlightBytes?: number;
  /**
   * READ/WRITE bytes held by all connections together (WRITE payloads as they arrive, READs until
   * their reply has reached the kernel); a request beyond it waits with its connection's reading
   * stopped. Default 128 MiB (serve holds a second copy in the simulated host's memory).
   */
  readonly maxTotalInFlightBytes?: number;
  /**
   * While a request waits for {@link maxTotalInFlightBytes}, a connection holding bytes that made
   * no progress for this long is closed (the offender). Default 5000 ms.
   */
  readonly stallTimeoutMs?: number;
  /** Connections open at once; more are closed as soon as they are accepted. Default 256. */
  readonly maxConnections?: number;
  /** Options one connection may send before it is closed. Default 4096. */
  readonly maxOptions?: number;
  /** Time a connection has to finish the handshake (qemu-nbd's --handshake-limit). Default 10000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Told about connection failures that are not the client's fault (a failing deviceFactory...). */
  readonly onConnectionError?: (error: unknown, connection: NbdConnectionInfo) => void;
}

export interface NbdServer {
  /** The socket path, or host:port. */
  readonly address: string;
  /** `nbd+unix:///name?socket=/path` or `nbd://host:port/name`, as libnbd clients take it. */
  readonly uri: string;
  /** Live counters. */
  readonly stats: Readonly<NbdStats>;
  /** Stops listening, lets accepted requests finish, closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** sizeof(sockaddr_un.sun_path) on Linux, including the terminating NUL. */
const SUN_PATH_MAX = 108;
const MiB = 1024 * 1024;
const DEFAULT_MAX_IN_FLIGHT = 128;
const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * MiB;
const DEFAULT_MAX_TOTAL_IN_FLIGHT_BYTES = 128 * MiB;
const DEFAULT_STALL_TIMEOUT_MS = 5000;
const DEFAULT_MAX_CONNECTIONS = 256;
const DEFAULT_MAX_OPTIONS = 4096;
/** qemu-nbd's default handshake limit: 10 s. */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * listen() backlog: connections the kernel queues before accept() (the kernel caps it at
 * net.core.somaxconn). Node's default is 511; a storm of clients connecting while the event loop
 * is busy needs more room than that, and queued connections cost the server nothing.
 */
const LISTEN_BACKLOG = 4096;

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Clears the way to listen on `path`: a socket file nobody listens on any more (a server that
 * died) is removed; a live one belongs to another server and is refused, as is any other file.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new NbdServerError('LISTEN', `${path} exists and is not a socket`);
  if (await socketIsLive(path)) {
    throw new NbdServerError('LISTEN', `${path} is in use: another server is listening on it`);
  }
  unlinkSync(path);
}

/** Whether a server accepts connections on the Unix socket `path` (a refused connection: it is stale). */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function validate(options: NbdServerOptions): void {
  if ((options.device === undefined) === (options.deviceFactory === undefined))
    throw new NbdServerError('BAD_OPTION', 'give exactly one of device and deviceFactory');
  if ((options.unixSocket === undefined) === (options.tcp === undefined))
    throw new NbdServerError('BAD_OPTION', 'give exactly one of unixSocket and tcp');
  if (options.unixSocket !== undefined && Buffer.byteLength(options.unixSocket) >= SUN_PATH_MAX)
    throw new NbdServerError(
      'BAD_OPTION',
      `Unix socket path is ${Buffer.byteLength(options.unixSocket)} bytes; the limit is ${SUN_PATH_MAX - 1}`,
    );
  if (Buffer.byteLength(options.exportName ?? '') > NBD_MAX_STRING)
    throw new NbdServerError('BAD_OPTION', `export name longer than ${NBD_MAX_STRING} bytes`);
  for (const [name, value] of [
    ['maxInFlight', options.maxInFlight],
    ['maxInFlightBytes', options.maxInFlightBytes],
    ['maxTotalInFlightBytes', options.maxTotalInFlightBytes],
    ['stallTimeoutMs', options.stallTimeoutMs],
    ['maxConnections', options.maxConnections],
    ['maxOptions', options.maxOptions],
    ['handshakeTimeoutMs', options.handshakeTimeoutMs],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1))
      throw new NbdServerError('BAD_OPTION', `${name} must be a positive integer, got ${value}`);
  }
}

function listen(server: Server, options: NbdServerOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new NbdServerError('LISTEN', `cannot listen: ${e.message}`, { cause: e }));
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve();
    };
    if (options.unixSocket !== undefined) server.listen({ path: options.unixSocket, backlog: LISTEN_BACKLOG }, done);
    else server.listen({ port: options.tcp!.port, host: options.tcp!.host, backlog: LISTEN_BACKLOG }, done);
  });
}

export async function startNbdServer(options: NbdServerOptions): Promise<NbdServer> {
  validate(options);
  const exportName = options.exportName ?? '';
  const multiConn = options.multiConn ?? false;
  // Fail now, not at the first connection, when a shared device cannot be advertised.
  if (options.device !== undefined) exportInfoOf(options.device, exportName, multiConn);
  if (options.unixSocket !== undefined) await removeStaleSocket(options.unixSocket);

  const stats = emptyNbdStats();
  const connections = new Set<NbdConnection>();
  const budget = new MemoryBudget(
    options.maxTotalInFlightBytes ?? DEFAULT_MAX_TOTAL_IN_FLIGHT_BYTES,
    options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
  );
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // allowHalfOpen: a client that shuts down its sending side still gets the replies it awaits.
  const server = createServer({ allowHalfOpen: true });
  let nextId = 1;

  server.on('connection', (socket: Socket) => {
    if (stats.activeConnections >= maxConnections) {
      // Each open connection may pin its handshake buffers: the count is part of the memory bound.
      stats.connectionsRefused++;
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const info: NbdConnectionInfo = { id: nextId++ };
    stats.connections++;
    stats.activeConnections++;
    const device =
      options.device !== undefined
        ? Promise.resolve(options.device)
        : Promise.resolve().then(() => options.deviceFactory!(info));
    const conn = new NbdConnection(socket, device, {
      exportName,
      multiConn,
      maxInFlight: options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
      maxInFlightBytes: options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES,
      stats,
      budget,
      maxOptions: options.maxOptions ?? DEFAULT_MAX_OPTIONS,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      onError: (e) => options.onConnectionError?.(e, info),
    });
    connections.add(conn);
    void conn.done.then(() => {
      connections.delete(conn);
      stats.activeConnections--;
    });
  });

  await listen(server, options);
  // After listen, an accept failure (EMFILE...) must not become an uncaught 'error' event.
  server.on('error', (e) => options.onConnectionError?.(e, { id: 0 }));

  let address: string;
  let uri: string;
  const name = encodeURIComponent(exportName);
  if (options.unixSocket !== undefined) {
    address = options.unixSocket;
    uri = `nbd+unix:///${name}?socket=${encodePath(address)}`;
  } else {
    const a = server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    address = `${host}:${a.port}`;
    uri = `nbd://${address}/${name}`;
  }

  let closing: Promise<void> | null = null;
  return {
    address,
    uri,
    stats,
    close() {
      closing ??= Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        ...[...connections].map((c) => c.shutdown()),
      ]).then(() => {});
      return closing;
    },
  };
}
