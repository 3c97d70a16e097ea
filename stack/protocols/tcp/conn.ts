/**
 * The API boundary: {@linkcode TcpConnImpl} and {@linkcode TcpListenerImpl}
 * implement the Deno-shaped `TcpConn` and `TcpListener` of
 * `stack/net_api.ts` over a connection, and `connect`/`listen` open them.
 * This is the only place with promises: a `read()` that cannot be served
 * from the buffer parks one resolver, which the connection wakes when data,
 * end of stream or an error arrives; `write()` likewise waits for buffer
 * space, so back-pressure reaches the writer.
 *
 * @module
 */
import type {
  NetAddr,
  TcpConn,
  TcpConnectOptions,
  TcpListener,
  TcpListenOptions,
} from "../../net_api.ts";
import { formatIpKey, IpAddress, type IpKey, isMulticastKey } from "../../wire/ip_address.ts";
import { checkSocketPort, parseSocketHost } from "../../socket_address.ts";
import { checkDuration, checkInteger } from "../../validate.ts";
import { CONGESTION_CONTROLS } from "./congestion/mod.ts";
import { defaultMss, type TcpCore } from "./core.ts";
import { type EndpointUser, TcpEndpoint } from "./endpoint.ts";
import { initialSequenceNumber } from "./isn.ts";
import { type ListenerUser, ListenSocket } from "./listener.ts";
import { offerOptions } from "./options.ts";
import { output, sendSyn } from "./output.ts";
import { seqAdd } from "./seq.ts";
import { CLOSED, SYN_SENT } from "./state.ts";
import { armTimer, setKeepalive } from "./timers.ts";

interface Waiter<T> {
  readonly buf: Uint8Array;
  readonly resolve: (v: T) => void;
  readonly reject: (e: unknown) => void;
}

function addr(address: IpKey, port: number): NetAddr {
  return { transport: "tcp", hostname: formatIpKey(address), port };
}

function badResource(what: string): Error {
  return new Deno.errors.BadResource(`Cannot ${what}: the connection is closed`);
}

/** A connection as the user sees it. */
export class TcpConnImpl implements TcpConn, EndpointUser {
  readonly #ep: TcpEndpoint;
  // Made on first use: most connections are never asked (saves two objects
  // and two strings per idle connection).
  #localAddr: NetAddr | null = null;
  #remoteAddr: NetAddr | null = null;
  #closed = false;
  #writeClosed = false;
  // Parked reads and writes; made when one has to wait, dropped once served
  // (an idle connection holds no queue and no queue's backing store).
  #reads: Waiter<number | null>[] | null = null;
  #writes: Waiter<number>[] | null = null;
  #connect: { resolve: (c: TcpConn) => void; reject: (e: unknown) => void } | null = null;
  #readable: ReadableStream<Uint8Array<ArrayBuffer>> | null = null;
  #writable: WritableStream<Uint8Array> | null = null;

  /** Wraps `ep` and becomes its user. */
  constructor(ep: TcpEndpoint) {
    this.#ep = ep;
    ep.user = this;
  }

  /** Our end. */
  get localAddr(): NetAddr {
    const ep = this.#ep;
    return this.#localAddr ??= addr(ep.localAddr, ep.localPort);
  }

  /** The peer's end. */
  get remoteAddr(): NetAddr {
    const ep = this.#ep;
    return this.#remoteAddr ??= addr(ep.remoteAddr, ep.remotePort);
  }

  /** @internal The promise `connect()` returns. */
  connecting(): Promise<TcpConn> {
    return new Promise((resolve, reject) => {
      this.#connect = { resolve, reject };
    });
  }

  // ---- EndpointUser ----------------------------------------------------

  /** @internal */
  onEstablished(): void {
    const c = this.#connect;
    this.#connect = null;
    c?.resolve(this);
  }

  /** @internal */
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

  /** @internal */
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

  /** @internal */
  onClosed(error: Error | null): void {
    const c = this.#connect;
    if (c !== null) {
      this.#connect = null;
      c.reject(error ?? new Deno.errors.ConnectionAborted("Connection closed while connecting"));
    }
    this.onReadable();
    this.onWritable();
  }

  // ---- reading ---------------------------------------------------------

  /** A read's outcome now: bytes, null (EOF), an error, or undefined (wait). */
  #tryRead(p: Uint8Array): number | null | Error | undefined {
    if (this.#closed) return badResource("read");
    const ep = this.#ep;
    if (ep.readable > 0) return ep.receive(p);
    if (ep.eof) return null;
    if (ep.state === CLOSED) return ep.error ?? null;
    return undefined;
  }

  /** Reads into `p`; null at end of stream. */
  read(p: Uint8Array): Promise<number | null> {
    if (!(p instanceof Uint8Array)) {
      return Promise.reject(new TypeError("Cannot read: the buffer is not a Uint8Array"));
    }
    if (p.length === 0) return Promise.resolve(0);
    if (this.#reads === null || this.#reads.length === 0) {
      const r = this.#tryRead(p);
      if (r !== undefined) return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    }
    return new Promise((resolve, reject) => (this.#reads ??= []).push({ buf: p, resolve, reject }));
  }

  // ---- writing ---------------------------------------------------------

  #tryWrite(p: Uint8Array): number | Error | undefined {
    if (this.#closed) return badResource("write");
    const ep = this.#ep;
    if (ep.error !== null) return ep.error;
    if (this.#writeClosed || ep.finQueued) {
      return new Deno.errors.BrokenPipe("Cannot write: the sending side is closed");
    }
    if (!ep.open) return new Deno.errors.BrokenPipe("Cannot write: the connection is closed");
    const n = ep.send(p);
    return n > 0 ? n : undefined;
  }

  /** Queues bytes; resolves with how many were taken (waits while the buffer is full). */
  write(p: Uint8Array): Promise<number> {
    if (!(p instanceof Uint8Array)) {
      return Promise.reject(new TypeError("Cannot write: the data is not a Uint8Array"));
    }
    if (this.#writes === null || this.#writes.length === 0) {
      if (p.length === 0 && !this.#closed) return Promise.resolve(0);
      const r = this.#tryWrite(p);
      if (r !== undefined) return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    }
    return new Promise((resolve, reject) =>
      (this.#writes ??= []).push({ buf: p, resolve, reject })
    );
  }

  /** Sends FIN after the queued data (half-close). */
  closeWrite(): Promise<void> {
    if (this.#closed) return Promise.reject(badResource("close for writing"));
    if (this.#writeClosed) return Promise.resolve();
    const ep = this.#ep;
    if (ep.state === CLOSED) {
      return Promise.reject(
        new Deno.errors.NotConnected("Cannot close for writing: not connected"),
      );
    }
    this.#writeClosed = true;
    ep.shutdownWrite();
    this.onWritable(); // pending writes fail with BrokenPipe
    return Promise.resolve();
  }

  /** Closes the connection (FIN, or RST with unread data or linger 0). */
  close(): void {
    if (this.#closed) throw badResource("close");
    this.#closed = true;
    const ep = this.#ep;
    this.onReadable();
    this.onWritable();
    ep.close();
  }

  /** Same as {@linkcode close}, if not closed yet. */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /** Nagle off (`true`) or on. */
  setNoDelay(noDelay = true): void {
    this.#ep.noDelay = noDelay;
    if (noDelay && this.#ep.state !== CLOSED) output(this.#ep);
  }

  /** Keepalive probes on or off. */
  setKeepAlive(keepAlive = true): void {
    if (this.#ep.state !== CLOSED) setKeepalive(this.#ep, keepAlive);
  }

  /** `0`: close() resets; null: the default graceful close. */
  setLinger(seconds: number | null): void {
    if (
      seconds !== null && !(typeof seconds === "number" && seconds >= 0 && seconds <= 0x7fffffff)
    ) {
      throw new RangeError(`Cannot set linger: ${seconds} is not null or 0..2147483647 seconds`);
    }
    this.#ep.lingerZero = seconds === 0;
  }

  /** No-op. */
  ref(): void {}
  /** No-op. */
  unref(): void {}

  /** A byte stream of what the peer sends (BYOB readers work). */
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

  /** A sink for what we send; closing it sends FIN. */
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
            this.#ep.lingerZero = true;
            this.close();
          }
        },
      });
    }
    return this.#writable;
  }
}

/** A listener as the user sees it. */
export class TcpListenerImpl implements TcpListener, ListenerUser {
  /** Where it listens. */
  readonly addr: NetAddr;
  readonly #ls: ListenSocket;
  readonly #waiters: { resolve: (c: TcpConn) => void; reject: (e: unknown) => void }[] = [];
  #closed = false;

  /** Wraps a listening socket and becomes its user. */
  constructor(ls: ListenSocket) {
    this.#ls = ls;
    ls.user = this;
    this.addr = addr(ls.localAddr, ls.localPort);
  }

  /** @internal */
  onAcceptable(): void {
    while (this.#waiters.length > 0) {
      const ep = this.#ls.take();
      if (ep === undefined) return;
      this.#waiters.shift()!.resolve(new TcpConnImpl(ep));
    }
  }

  /** The next connection. */
  accept(): Promise<TcpConn> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("Cannot accept: the listener is closed"));
    }
    if (this.#waiters.length === 0) {
      const ep = this.#ls.take();
      if (ep !== undefined) return Promise.resolve(new TcpConnImpl(ep));
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Stops listening; pending accepts reject with BadResource. */
  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("Cannot close: the listener is closed");
    this.#closed = true;
    this.#ls.close();
    for (const w of this.#waiters.splice(0)) {
      w.reject(new Deno.errors.BadResource("Cannot accept: the listener is closed"));
    }
  }

  /** Same as {@linkcode close}, if not closed yet. */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /** No-op. */
  ref(): void {}
  /** No-op. */
  unref(): void {}

  /** Accepts until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<TcpConn> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource) return;
        throw e;
      }
    }
  }
}

/** The address of `hostname` (see `parseSocketHost`); null when absent or empty. */
function parseHost(hostname: string | undefined, what: string): IpAddress | null {
  if (hostname === undefined || hostname === "") return null;
  return parseSocketHost(hostname, `Cannot ${what} ${hostname}`);
}

function noFamily(what: string, a: IpAddress): Error {
  return new Deno.errors.NetworkUnreachable(
    `Cannot ${what} ${a}: no IPv${a.family} network layer is loaded`,
  );
}

function checkPort(port: unknown, what: string, allowZero: boolean): number {
  return checkSocketPort(port, `Cannot ${what}`, allowZero);
}

/** Opens a connection (active OPEN, RFC 9293 §3.10.1). */
export function connect(core: TcpCore, options: TcpConnectOptions): Promise<TcpConn> {
  if (options.transport !== undefined && options.transport !== "tcp") {
    throw new TypeError(`Cannot connect: unsupported transport "${options.transport}"`);
  }
  const dstAddr = parseHost(options.hostname, "connect to");
  const dstPort = checkPort(options.port, "connect", false);
  // Checked before anything is created (issue 16.9).
  if (options.timeout !== undefined) checkDuration(options.timeout, "Cannot connect", "timeout");
  if (dstAddr === null || dstAddr.isUnspecified()) {
    throw new TypeError(`Cannot connect to ${dstAddr ?? "0.0.0.0"}`);
  }
  const dst = dstAddr.key;
  const cc = options.congestionControl ?? core.cfg.congestionControl;
  if (!CONGESTION_CONTROLS.includes(cc) && cc !== "reno") {
    throw new TypeError(`Cannot connect: unknown congestion control "${cc}"`);
  }
  const net = core.netOf(dst);
  if (net === undefined) return Promise.reject(noFamily("connect to", dstAddr));
  if (net.isBroadcast(dst) || isMulticastKey(dst)) {
    // Linux's tcp_v4_connect(): ENETUNREACH at once, not a SYN nobody answers.
    return Promise.reject(
      new Deno.errors.NetworkUnreachable(
        `Cannot connect to ${options.hostname}: a broadcast or multicast address`,
      ),
    );
  }
  let src: IpKey;
  const bound = options.localAddress === undefined
    ? null
    : parseHost(options.localAddress, "bind to");
  if (bound !== null && !bound.isUnspecified()) {
    if (bound.family !== dstAddr.family || !net.isLocal(bound.key)) {
      return Promise.reject(
        new Deno.errors.AddrNotAvailable(`Cannot bind to ${options.localAddress}: not local`),
      );
    }
    src = bound.key;
  } else {
    // The route's source (selected once, by the network layer).
    src = net.selectSource(dst);
    if (src === IpAddress.any(dstAddr.family).key) {
      return Promise.reject(
        new Deno.errors.NetworkUnreachable(`Cannot connect to ${options.hostname}: no route`),
      );
    }
  }
  const conns = core.conns;
  let srcPort: number;
  if (options.localPort !== undefined && options.localPort !== 0) {
    srcPort = checkPort(options.localPort, "bind", false);
    if (conns.lookup(src, srcPort, dst, dstPort) !== undefined || core.listeners.hasPort(srcPort)) {
      return Promise.reject(
        new Deno.errors.AddrInUse(`Cannot bind to port ${srcPort}: address in use`),
      );
    }
  } else {
    srcPort = core.ports.pick(
      src,
      dst,
      dstPort,
      (p) => conns.lookup(src, p, dst, dstPort) === undefined && !core.listeners.hasPort(p),
    );
    if (srcPort < 0) {
      return Promise.reject(
        new Deno.errors.AddrNotAvailable("Cannot connect: no free ephemeral port"),
      );
    }
  }
  if (conns.size >= core.cfg.maxConnections) {
    return Promise.reject(
      new Deno.errors.AddrNotAvailable("Cannot connect: too many connections"),
    );
  }
  const now = core.now();
  const ep = new TcpEndpoint(
    core,
    { localAddr: src, localPort: srcPort, remoteAddr: dst, remotePort: dstPort },
    false,
    cc,
  );
  ep.advMss = core.routeMss(dst);
  offerOptions(ep);
  ep.mss = ep.rcvMss = Math.min(ep.advMss, defaultMss(dst));
  ep.iss = initialSequenceNumber(core.isnHash, src, srcPort, dst, dstPort, now);
  ep.sndUna =
    ep.sndNxt =
    ep.sndMax =
    ep.recover =
      ep.iss;
  ep.sndBufStart = seqAdd(ep.iss, 1);
  ep.setState(SYN_SENT);
  ep.lastRecv = now;
  const conn = new TcpConnImpl(ep);
  const promise = conn.connecting();
  conns.insert(ep);
  core.c.active_opens.value++;
  if (options.timeout !== undefined) {
    ep.closeAt = now + Math.max(0, options.timeout);
    armTimer(ep);
  }
  ep.rttStart = now;
  ep.rttSeq = seqAdd(ep.iss, 1);
  sendSyn(ep);
  return promise;
}

/** Opens a listener (passive OPEN). */
export function listen(core: TcpCore, options: TcpListenOptions): TcpListener {
  if (options.transport !== undefined && options.transport !== "tcp") {
    throw new TypeError(`Cannot listen: unsupported transport "${options.transport}"`);
  }
  const localAddr = parseHost(options.hostname, "listen on") ?? IpAddress.ANY4;
  if (core.netOf(localAddr.key) === undefined) throw noFamily("listen on", localAddr);
  const local = localAddr.key;
  const any = IpAddress.any(localAddr.family).key;
  if (local !== any && !core.isLocal(local)) {
    throw new Deno.errors.AddrNotAvailable(`Cannot listen on ${options.hostname}: not local`);
  }
  let port = checkPort(options.port, "listen", true);
  if (options.backlog !== undefined) {
    checkInteger(options.backlog, 0, 0x7fffffff, "Cannot listen", "backlog");
  }
  if (port === 0) {
    port = core.ports.pick(local, 0, 0, (p) => !core.listeners.hasPort(p));
    if (port < 0) throw new Deno.errors.AddrInUse("Cannot listen: no free ephemeral port");
  }
  if (core.listeners.conflicts(local, any, port)) {
    throw new Deno.errors.AddrInUse(
      `Cannot listen on ${options.hostname ?? "0.0.0.0"}:${port}: address in use`,
    );
  }
  const backlog = Math.max(1, Math.min(65535, Math.floor(options.backlog ?? core.cfg.backlog)));
  const ls = new ListenSocket(core, local, port, backlog);
  core.listeners.add(ls);
  return new TcpListenerImpl(ls);
}
