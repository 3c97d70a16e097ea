/**
 * The Deno-shaped TCP adapter: `TcpConn` and `TcpListener` (`types.ts`)
 * over the synchronous `tcp.sockets` contract (`stack/stream.ts`), and
 * {@linkcode connectTcp}/{@linkcode listenTcp}, which open them. This is
 * the only place TCP has promises: a `read()` that cannot be served from
 * the buffer parks one resolver, which the socket's `onReadable` wakes;
 * `write()` likewise waits for buffer space, so back-pressure reaches the
 * writer. A read or write that can be served now costs one settled promise
 * (the Deno API returns one) and nothing else.
 *
 * @module
 */
import type {
  StreamConnectOptions,
  StreamEvents,
  StreamListener,
  StreamListenerEvents,
  StreamService,
  StreamSocket,
  TcpSocketInfo,
} from "../stream.ts";
import { type NetAddr, netAddr } from "./address.ts";
import { takeFirst } from "../_take_first.ts";
import {
  bufferError,
  checkFlag,
  checkInteger,
  checkNumber,
  checkPort,
  checkSocketHost,
  checkTransport,
  checkZone,
  closedError,
  endpointText,
  MAX_WAITING_CALLS,
  socketErrorToException,
  type SocketTarget,
  stackClosedError,
  tooManyWaiting,
  type ZoneResolver,
} from "./errors.ts";
import type { TcpConn, TcpConnectOptions, TcpListener, TcpListenOptions } from "./types.ts";
import { checkMillis } from "../validate.ts";

interface Waiter<T, B = Uint8Array> {
  /** Where a read copies to, what a write sends, or (a discard) the most bytes to consume. */
  readonly buf: B;
  readonly resolve: (v: T) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * The error a failed connection reports on every later read and write:
 * the stack closed it (`"interrupted"`): `action`'s "the stack is closed",
 * `Interrupted` for a call it cut short (`pending`), `BadResource` after
 * (errors.ts's rule); else the transport's words.
 */
function connectionError(sock: StreamSocket, action: string, pending: boolean): Error | null {
  const e = sock.error;
  if (e === null) return null;
  if (e === "interrupted") return stackClosedError(action, pending);
  // "Cannot read: Connection reset by peer": the action, then the transport's words.
  return socketErrorToException(
    e,
    action,
    sock.errorText === "" ? "" : `${action}: ${sock.errorText}`,
  );
}

/** A connection as the user sees it. */
class TcpConnImpl implements TcpConn, StreamEvents {
  readonly #sock: StreamSocket;
  /** Show IPv4 addresses IPv4-mapped (accepted by a dual-stack `::`, or opened to `::ffff:…`). */
  readonly #mapped: boolean;
  // Made on first use: most connections are never asked (saves two objects
  // and two strings per idle connection).
  #localAddr: NetAddr | null = null;
  #remoteAddr: NetAddr | null = null;
  #closed = false;
  /** The stack closed the connection and has failed the calls then waiting: later ones are `BadResource`. */
  #stackGone = false;
  #writeClosed = false;
  // Parked reads and writes; made when one has to wait, dropped once served
  // (an idle connection holds no queue and no queue's backing store).
  #reads: Waiter<number | null, Uint8Array | number>[] | null = null;
  #writes: Waiter<number>[] | null = null;
  #connect:
    | { resolve: (c: TcpConn) => void; reject: (e: unknown) => void; action: string }
    | null = null;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | null = null;
  #writable: WritableStream<Uint8Array> | null = null;

  /** Wraps `sock` and becomes its events' receiver. */
  constructor(sock: StreamSocket, mapped: boolean) {
    this.#sock = sock;
    this.#mapped = mapped;
    sock.events = this;
  }

  get localAddr(): NetAddr {
    const s = this.#sock;
    return this.#localAddr ??= netAddr("tcp", s.localAddress, s.localPort, this.#mapped);
  }

  get remoteAddr(): NetAddr {
    const s = this.#sock;
    return this.#remoteAddr ??= netAddr("tcp", s.remoteAddress, s.remotePort, this.#mapped);
  }

  /**
   * The promise `connectTcp()` returns (its resolvers kept as they come: no
   * executor closure); `action` ("Cannot connect to 10.0.0.2:80") starts
   * the message should the stack close first.
   */
  connecting(action: string): Promise<TcpConn> {
    const { promise, resolve, reject } = Promise.withResolvers<TcpConn>();
    this.#connect = { resolve, reject, action };
    return promise;
  }

  // ---- StreamEvents (called synchronously by the transport) -------------

  onConnected(): void {
    const c = this.#connect;
    this.#connect = null;
    c?.resolve(this);
  }

  onReadable(): void {
    const reads = this.#reads;
    if (reads === null) return;
    while (reads.length > 0) {
      const w = reads[0]!;
      const r = this.#tryRead(w.buf);
      if (r === undefined) return;
      reads.shift();
      if (r instanceof Error) w.reject(r);
      else w.resolve(r);
    }
    if (this.#reads === reads) this.#reads = null;
  }

  onWritable(): void {
    const writes = this.#writes;
    if (writes === null) return;
    while (writes.length > 0) {
      const w = writes[0]!;
      const r = this.#tryWrite(w.buf);
      if (r === undefined) return;
      writes.shift();
      if (r instanceof Error) w.reject(r);
      else w.resolve(r);
    }
    if (this.#writes === writes) this.#writes = null;
  }

  onClosed(): void {
    const c = this.#connect;
    if (c !== null) {
      this.#connect = null;
      c.reject(
        connectionError(this.#sock, c.action, true) ??
          socketErrorToException("aborted", "", "Connection closed while connecting"),
      );
    }
    this.onReadable();
    this.onWritable();
    // The calls waiting got Interrupted; the ones made from now on get BadResource.
    if (this.#sock.error === "interrupted") this.#stackGone = true;
  }

  /** The error for `action` on a connection closed by its user or by the stack, else null. */
  #gone(action: string): Error | null {
    if (this.#closed) return closedError(action);
    return this.#stackGone ? stackClosedError(action, false) : null;
  }

  // ---- reading ---------------------------------------------------------

  /**
   * A read's outcome now: bytes, null (EOF), an error, or undefined (wait).
   * `p` a number: a discard of at most that many bytes.
   */
  #tryRead(p: Uint8Array | number): number | null | Error | undefined {
    if (this.#closed) return closedError("Cannot read");
    const sock = this.#sock;
    if (sock.readable > 0) {
      const n = typeof p !== "number"
        ? sock.read(p)
        : sock.discard !== undefined
        ? sock.discard(p)
        : sock.read(new Uint8Array(p < sock.readable ? p : sock.readable));
      if (n > 0) return n;
      // 0 with bytes buffered: the one byte there was an urgent byte out of
      // line, taken out of the stream. Never resolve 0 (a byte stream's
      // respond(0) throws): wait, or the end, as with nothing buffered.
    }
    if (sock.eof) return null;
    if (sock.closed) return connectionError(sock, "Cannot read", !this.#stackGone);
    return undefined;
  }

  read(p: Uint8Array): Promise<number | null> {
    if (!(p instanceof Uint8Array)) return Promise.reject(bufferError(p, "Cannot read"));
    if (p.length === 0) {
      const gone = this.#gone("Cannot read");
      return gone !== null ? Promise.reject(gone) : Promise.resolve(0);
    }
    if (this.#reads === null || this.#reads.length === 0) {
      const r = this.#tryRead(p);
      if (r !== undefined) return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    }
    return this.#waitRead(p);
  }

  discard(max: number = Number.MAX_SAFE_INTEGER): Promise<number | null> {
    // A bad argument rejects, as read()'s bad buffer does (the same mistake, the same way).
    try {
      checkInteger(max, "max", "Cannot discard", 0, Number.MAX_SAFE_INTEGER);
    } catch (e) {
      return Promise.reject(e);
    }
    if (max === 0) {
      const gone = this.#gone("Cannot read");
      return gone !== null ? Promise.reject(gone) : Promise.resolve(0);
    }
    if (this.#reads === null || this.#reads.length === 0) {
      const r = this.#tryRead(max);
      if (r !== undefined) return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    }
    return this.#waitRead(max);
  }

  // Parks a read or discard until onReadable can serve it.
  #waitRead(p: Uint8Array | number): Promise<number | null> {
    const reads = this.#reads ??= [];
    if (reads.length >= MAX_WAITING_CALLS) return Promise.reject(tooManyWaiting("Cannot read"));
    return new Promise((resolve, reject) => reads.push({ buf: p, resolve, reject }));
  }

  // ---- writing ---------------------------------------------------------

  #tryWrite(p: Uint8Array): number | Error | undefined {
    if (this.#closed) return closedError("Cannot write");
    const sock = this.#sock;
    if (sock.canWrite && !this.#writeClosed) {
      // The common case first (an open connection has no error).
      const n = sock.write(p);
      return n > 0 ? n : undefined;
    }
    const failed = connectionError(sock, "Cannot write", !this.#stackGone);
    if (failed !== null) return failed;
    if (this.#writeClosed || sock.shutDown) {
      return socketErrorToException("broken_pipe", "Cannot write");
    }
    return socketErrorToException("broken_pipe", "", "Cannot write: the connection is closed");
  }

  write(p: Uint8Array): Promise<number> {
    if (!(p instanceof Uint8Array)) return Promise.reject(bufferError(p, "Cannot write"));
    if (this.#writes === null || this.#writes.length === 0) {
      if (p.length === 0 && !this.#closed && !this.#stackGone) return Promise.resolve(0);
      const r = this.#tryWrite(p);
      if (r !== undefined) return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    }
    const writes = this.#writes ??= [];
    if (writes.length >= MAX_WAITING_CALLS) return Promise.reject(tooManyWaiting("Cannot write"));
    return new Promise((resolve, reject) => writes.push({ buf: p, resolve, reject }));
  }

  closeWrite(): Promise<void> {
    const gone = this.#gone("Cannot close for writing");
    if (gone !== null) return Promise.reject(gone);
    if (this.#writeClosed) return Promise.resolve();
    const sock = this.#sock;
    if (sock.closed) {
      return Promise.reject(
        new Deno.errors.NotConnected("Cannot close for writing: not connected"),
      );
    }
    this.#writeClosed = true;
    sock.shutdown();
    this.onWritable(); // pending writes fail with BrokenPipe
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) throw closedError("Cannot close");
    this.#closed = true;
    // Reads and writes waiting are cut short (Interrupted, as Deno's); later calls get BadResource.
    const reads = this.#reads, writes = this.#writes;
    this.#reads = this.#writes = null;
    for (const w of reads ?? []) w.reject(closedError("Cannot read", true));
    for (const w of writes ?? []) w.reject(closedError("Cannot write", true));
    this.#sock.close();
  }

  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  setNoDelay(noDelay = true): void {
    const gone = this.#gone("Cannot set no-delay");
    if (gone !== null) throw gone;
    this.#sock.noDelay = noDelay;
  }

  setKeepAlive(keepAlive = true): void {
    const gone = this.#gone("Cannot set keepalive");
    if (gone !== null) throw gone;
    this.#sock.keepAlive = keepAlive;
  }

  sendUrgent(byte: number): Promise<number> {
    checkInteger(byte, "byte", "Cannot send urgent data", 0, 255);
    const gone = this.#gone("Cannot send urgent data");
    if (gone !== null) return Promise.reject(gone);
    const sock = this.#sock;
    if (sock.sendUrgent === undefined || this.#writeClosed || !sock.canWrite) {
      return Promise.reject(new Deno.errors.BrokenPipe("Cannot send urgent data: not writable"));
    }
    // Behind writes still waiting, the byte would overtake them: not supported.
    if (this.#writes !== null && this.#writes.length > 0) return Promise.resolve(0);
    return Promise.resolve(sock.sendUrgent(byte));
  }

  setOobInline(inline = true): void {
    const gone = this.#gone("Cannot set out-of-band inline");
    if (gone !== null) throw gone;
    this.#sock.oobInline = inline;
  }

  readUrgent(): number | null {
    return this.#sock.readUrgent?.() ?? null;
  }

  setLinger(seconds: number | null): void {
    const gone = this.#gone("Cannot set linger");
    if (gone !== null) throw gone;
    if (seconds !== null) checkNumber(seconds, "linger", "Cannot set linger", 0);
    this.#sock.lingerZero = seconds === 0;
  }

  setCongestionControl(name: string): void {
    const action = "Cannot set congestion control";
    const gone = this.#gone(action);
    if (gone !== null) throw gone;
    if (typeof name !== "string") throw new TypeError(`${action}: ${String(name)} is not a string`);
    const set = this.#sock.setCongestionControl;
    if (set === undefined) throw new TypeError(`${action}: the transport has no choice`);
    if (!set.call(this.#sock, name)) {
      throw new TypeError(`${action}: unknown congestion control "${name}"`);
    }
  }

  info(): TcpSocketInfo {
    const gone = this.#gone("Cannot get connection info");
    if (gone !== null) throw gone;
    const info = this.#sock.info;
    if (info === undefined) {
      throw new TypeError("Cannot get connection info: the transport has none");
    }
    return info.call(this.#sock);
  }

  ref(): void {}
  unref(): void {}

  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    if (this.#readable === null) {
      this.#readable = new ReadableStream({
        type: "bytes",
        autoAllocateChunkSize: 65536,
        pull: async (controller) => {
          const req = controller.byobRequest!;
          const v = req.view!;
          const view = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
          const n = await this.read(view);
          if (n === null) {
            controller.close();
            req.respond(0);
          } else req.respond(n);
        },
        cancel: () => {
          if (!this.#closed) this.close();
        },
      });
    }
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    if (this.#writable === null) {
      this.#writable = new WritableStream({
        write: async (chunk) => {
          let off = 0;
          while (off < chunk.length) off += await this.write(chunk.subarray(off));
        },
        close: () => this.closeWrite(),
        abort: () => {
          if (!this.#closed) {
            this.#sock.lingerZero = true;
            this.close();
          }
        },
      });
    }
    return this.#writable;
  }
}

/** A listener as the user sees it. */
class TcpListenerImpl implements TcpListener, StreamListenerEvents {
  readonly addr: NetAddr;
  readonly #ls: StreamListener;
  /** An IPv6 listener (or one given IPv4-mapped text): IPv4 peers show IPv4-mapped, as on Linux. */
  readonly #mapped: boolean;
  readonly #waiters: { resolve: (c: TcpConn) => void; reject: (e: unknown) => void }[] = [];
  #closed = false;
  /** The user called `close()` (`#closed` is also set when the stack closes the listener). */
  #released = false;
  /** The stack closed the listener (`#closed` set, `#released` not): accepts say so. */
  #stackGone = false;

  /** Wraps a listening socket and becomes its events' receiver. */
  constructor(ls: StreamListener, mapped: boolean) {
    this.#ls = ls;
    this.#mapped = mapped || ls.localAddress.family === 6;
    ls.events = this;
    this.addr = netAddr("tcp", ls.localAddress, ls.localPort, mapped);
  }

  onAcceptable(): void {
    while (this.#waiters.length > 0) {
      const sock = this.#ls.accept();
      if (sock === null) return;
      // takeFirst, not shift(): emptying by shift() drops V8's backing store.
      takeFirst(this.#waiters)!.resolve(new TcpConnImpl(sock, this.#mapped));
    }
  }

  onClosed(): void {
    this.#closed = true;
    // Called by the stack (shutdown, teardown), or by close() after #released is set.
    const byStack = !this.#released;
    this.#stackGone = byStack;
    for (const w of this.#waiters.splice(0)) {
      w.reject(byStack ? stackClosedError("Cannot accept", true) : closedError("Cannot accept"));
    }
  }

  accept(): Promise<TcpConn> {
    if (this.#closed) {
      return Promise.reject(
        this.#stackGone && !this.#released
          ? stackClosedError("Cannot accept", false)
          : closedError("Cannot accept"),
      );
    }
    if (this.#waiters.length === 0) {
      const sock = this.#ls.accept();
      if (sock !== null) return Promise.resolve(new TcpConnImpl(sock, this.#mapped));
    }
    const waiters = this.#waiters;
    if (waiters.length >= MAX_WAITING_CALLS) return Promise.reject(tooManyWaiting("Cannot accept"));
    const w = Promise.withResolvers<TcpConn>(); // no executor closure per accept
    waiters.push(w);
    return w.promise;
  }

  close(): void {
    if (this.#released) throw closedError("Cannot close");
    this.#released = true;
    this.#ls.close();
    this.onClosed();
  }

  [Symbol.dispose](): void {
    if (!this.#released) this.close();
  }

  ref(): void {}
  unref(): void {}

  async *[Symbol.asyncIterator](): AsyncIterableIterator<TcpConn> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (e) {
        // Closed (BadResource), or the stack closed under the accept (Interrupted): Deno's ends too.
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
        throw e;
      }
    }
  }
}

/**
 * Opens a TCP connection through a `tcp.sockets` service, like
 * `Deno.connect`: resolves once the handshake completes. Every failure
 * rejects (none throws), as Deno's does. `Stack.connect` calls this.
 *
 * The hostname may be IPv4 or IPv6 text, `[…]`, IPv4-mapped (`::ffff:…`:
 * IPv4, shown that way), or link-local with a zone (`fe80::1%eth0`, which
 * it needs unless `localAddress` is link-local too, as on Linux);
 * `remoteAddr` shows no zone, as Deno's does not.
 *
 * @param service The stack's `tcp.sockets` service.
 * @param options Where to connect, and how.
 * @param zones Resolves zone names to interface indexes (`Stack` gives its interfaces').
 * @returns The connection, once established.
 * @throws {TypeError} A hostname that is not an address, a link-local one without a zone, a zone naming no interface, a port or timeout that is not a number.
 * @throws {RangeError} A port or timeout out of range.
 * @throws {Deno.errors.ConnectionRefused} The peer answered RST (or ICMP port unreachable).
 * @throws {Deno.errors.TimedOut} No answer after the SYN retries (or `timeout`).
 * @throws {Deno.errors.NetworkUnreachable} No route to the host.
 * @throws {Deno.errors.AddrInUse} `localPort` is taken.
 *
 * @example
 * ```ts
 * import { connectTcp, createStack, type StreamService } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * const tcp = stack.service<StreamService>("tcp.sockets")!;
 * await assert.rejects(connectTcp(tcp, { hostname: "10.0.0.2", port: 70000 }), RangeError);
 * await assert.rejects(connectTcp(tcp, { hostname: "10.0.0.2", port: 80 }), Deno.errors.NetworkUnreachable);
 * stack.close();
 * ```
 */
export function connectTcp(
  service: StreamService,
  options: TcpConnectOptions,
  zones?: ZoneResolver,
): Promise<TcpConn> {
  try {
    return open(service, options, zones);
  } catch (e) {
    return Promise.reject(e);
  }
}

function open(
  service: StreamService,
  options: TcpConnectOptions,
  zones: ZoneResolver | undefined,
): Promise<TcpConn> {
  const target = endpointText(options.hostname, options.port);
  const action = `Cannot connect to ${target}`;
  checkTransport(options.transport, "tcp", action, false);
  const peer = checkSocketHost(options.hostname, action, zones);
  const address = peer.address;
  const port = checkPort(options.port, action, false);
  let local: SocketTarget | undefined;
  if (options.localAddress !== undefined && options.localAddress !== "") {
    // Its words only when there is a local address (a string per connect otherwise).
    const bindAction = `Cannot bind to ${options.localAddress}`;
    local = checkSocketHost(options.localAddress, bindAction, zones);
    checkZone(local, undefined, bindAction); // bind()'s EINVAL
  }
  const localAddress = local?.address;
  checkZone(peer, local, action);
  const localPort = options.localPort === undefined
    ? undefined
    : checkPort(options.localPort, `Cannot bind to port ${options.localPort}`, true);
  const timeout = options.timeout === undefined
    ? undefined
    : checkMillis(options.timeout, action, "timeout"); // µs from here on
  if (options.congestionControl !== undefined && typeof options.congestionControl !== "string") {
    throw new TypeError(`${action}: congestionControl is not a string`);
  }
  if (options.ecn !== undefined && typeof options.ecn !== "boolean") {
    throw new TypeError(`${action}: ecn is not a boolean`);
  }
  if (options.fastOpenData !== undefined && !(options.fastOpenData instanceof Uint8Array)) {
    throw new TypeError(`${action}: fastOpenData is not a Uint8Array`);
  }
  // Absent options stay absent; assigned one by one (spreads made an object each).
  const req: { -readonly [K in keyof StreamConnectOptions]: StreamConnectOptions[K] } = {
    address,
    port,
  };
  if (localAddress !== undefined) req.localAddress = localAddress;
  // A zoneless link-local peer takes the link of the zoned local address (checkZone).
  if (peer.scope >= 0) req.scope = peer.scope;
  else if (peer.address.isLinkLocal() && local !== undefined && local.scope >= 0) {
    req.scope = local.scope;
  }
  if (localPort !== undefined) req.localPort = localPort;
  if (options.congestionControl !== undefined) req.congestionControl = options.congestionControl;
  if (timeout !== undefined) req.timeout = timeout;
  if (options.ecn !== undefined) req.ecn = options.ecn;
  if (options.fastOpenData !== undefined) req.fastOpenData = options.fastOpenData;
  const sock = service.connect(req);
  if (typeof sock === "string") {
    const why = sock === "invalid_option" && options.congestionControl !== undefined
      ? `unknown congestion control "${options.congestionControl}"`
      : "";
    return Promise.reject(
      socketErrorToException(sock, action, why === "" ? "" : `Cannot connect: ${why}`),
    );
  }
  const conn = new TcpConnImpl(sock, peer.mapped || local?.mapped === true);
  // A peer in this stack may have answered before connect() returned.
  if (sock.connected) return Promise.resolve(conn);
  if (sock.closed) {
    return Promise.reject(
      connectionError(sock, action, true) ?? socketErrorToException("aborted", action),
    );
  }
  return conn.connecting(action);
}

/**
 * Listens for TCP connections through a `tcp.sockets` service, like
 * `Deno.listen`. `Stack.listen` calls this.
 *
 * `hostname: "::"` takes IPv4 connections too (their addresses shown
 * IPv4-mapped, `::ffff:10.0.0.2`, as Deno on Linux shows them) unless
 * `v6only` is set; it then shares its port with a `0.0.0.0` listener.
 *
 * @param service The stack's `tcp.sockets` service.
 * @param options Where to listen.
 * @param zones Resolves zone names to interface indexes (`Stack` gives its interfaces').
 * @returns The listener.
 * @throws {TypeError} A hostname that is not an address, a port or backlog that is not a number.
 * @throws {RangeError} A port or backlog out of range.
 * @throws {Deno.errors.AddrInUse} The address and port are taken.
 * @throws {Deno.errors.AddrNotAvailable} `hostname` is not one of this host's addresses.
 *
 * @example
 * ```ts
 * import { createStack, listenTcp, type StreamService } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * const tcp = stack.service<StreamService>("tcp.sockets")!;
 * const listener = listenTcp(tcp, { port: 8080 });
 * assert.deepEqual(listener.addr, { transport: "tcp", hostname: "0.0.0.0", port: 8080 });
 * assert.throws(() => listenTcp(tcp, { port: 8080 }), Deno.errors.AddrInUse);
 * listener.close();
 * assert.throws(() => listener.close(), Deno.errors.BadResource);
 * stack.close();
 * ```
 */
export function listenTcp(
  service: StreamService,
  options: TcpListenOptions,
  zones?: ZoneResolver,
): TcpListener {
  const hostname = options.hostname === undefined || options.hostname === ""
    ? "0.0.0.0"
    : options.hostname;
  const action = `Cannot listen on ${endpointText(hostname, options.port)}`;
  checkTransport(options.transport, "tcp", action, false);
  const host = checkSocketHost(hostname, action, zones);
  checkZone(host, undefined, action); // Linux's bind(): EINVAL, a TypeError in Deno
  const address = host.address;
  const port = checkPort(options.port, action, true);
  const v6only = checkFlag(options.v6only, "v6only", action);
  if (options.congestionControl !== undefined && typeof options.congestionControl !== "string") {
    throw new TypeError(`${action}: congestionControl is not a string`);
  }
  // listen(2) takes 0 (and Linux clamps): at least one connection may wait.
  const backlog = options.backlog === undefined
    ? undefined
    : Math.max(1, Math.min(65535, Math.floor(checkNumber(options.backlog, "backlog", action, 0))));
  const fastOpen = options.fastOpen === undefined
    ? undefined
    : checkInteger(options.fastOpen, "fastOpen", action, 0, 65535);
  const ls = service.listen({
    address,
    port,
    ...(backlog !== undefined ? { backlog } : {}),
    ...(fastOpen !== undefined ? { fastOpen } : {}),
    ...(v6only ? { v6only } : {}),
    ...(options.congestionControl !== undefined
      ? { congestionControl: options.congestionControl }
      : {}),
  });
  if (typeof ls === "string") {
    if (ls === "invalid_option" && options.congestionControl !== undefined) {
      throw new TypeError(`${action}: unknown congestion control "${options.congestionControl}"`);
    }
    throw socketErrorToException(ls, action);
  }
  return new TcpListenerImpl(ls, host.mapped);
}
