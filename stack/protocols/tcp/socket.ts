/**
 * The `tcp.sockets` contract (`stack/stream.ts`) over endpoints and listen
 * sockets: {@linkcode TcpStreamSocket}, {@linkcode TcpStreamListener}, and
 * `connect`/`listen`, which open them. Synchronous: no promises, no `Deno`
 * classes; failures are `StreamError` codes. The Deno-shaped `TcpConn` and
 * `TcpListener` wrap these in `stack/sockets/`.
 *
 * @module
 */
import type {
  StreamConnectOptions,
  StreamError,
  StreamEvents,
  StreamListener,
  StreamListenerEvents,
  StreamListenOptions,
  StreamSocket,
  TcpSocketInfo,
} from "../../stream.ts";
import { IpAddress, type IpKey, isLinkLocalKey, isMulticastKey } from "../../wire/ip_address.ts";
import { unsourcedReason } from "../../ip/unsourced.ts";
import { ECN_ON } from "./ecn.ts";
import { fastOpenConnect } from "./fastopen.ts";
import { readUrgent, sendUrgent } from "./urgent.ts";
import { defaultMss, type TcpCore } from "./core.ts";
import { TcpEndpoint } from "./endpoint.ts";
import { initialSequenceNumber } from "./isn.ts";
import { ListenSocket } from "./listener.ts";
import { offerOptions } from "./options.ts";
import { output, sendSyn } from "./output.ts";
import { seqAdd } from "./seq.ts";
import { CLOSED, stateName, SYN_RECEIVED, SYN_SENT } from "./state.ts";
import { armTimer, setKeepalive } from "./timers.ts";
import { endpointInfo } from "./info.ts";
import { isCompacted, shownState } from "./timewait_table.ts";

/**
 * The user of a socket nobody listens to yet: not null, because a null
 * user means the socket was closed (an orphan, which TCP treats apart).
 */
const NO_EVENTS: StreamEvents = {
  onConnected() {},
  onReadable() {},
  onWritable() {},
  onClosed() {},
};

/** One connection, as the `tcp.sockets` contract shows it. */
export class TcpStreamSocket implements StreamSocket {
  readonly #ep: TcpEndpoint;
  #given = false;

  /** Wraps `ep`, which becomes owned by a user (not an orphan). */
  constructor(ep: TcpEndpoint) {
    this.#ep = ep;
    ep.user = NO_EVENTS;
  }

  get localAddress(): IpAddress {
    return IpAddress.fromKey(this.#ep.localAddr);
  }
  get localPort(): number {
    return this.#ep.localPort;
  }
  get remoteAddress(): IpAddress {
    return IpAddress.fromKey(this.#ep.remoteAddr);
  }
  get remotePort(): number {
    return this.#ep.remotePort;
  }
  get state(): string {
    return stateName(shownState(this.#ep));
  }
  get readable(): number {
    return this.#ep.readable;
  }
  get eof(): boolean {
    return this.#ep.eof;
  }
  get connected(): boolean {
    const st = shownState(this.#ep);
    return st !== CLOSED && st !== SYN_SENT && st !== SYN_RECEIVED;
  }
  get closed(): boolean {
    return shownState(this.#ep) === CLOSED;
  }
  get canWrite(): boolean {
    const ep = this.#ep;
    return !this.#given && ep.open && !ep.finQueued;
  }
  get shutDown(): boolean {
    return this.#given || this.#ep.finQueued;
  }
  get writeSpace(): number {
    return this.canWrite ? this.#ep.sendSpace : 0;
  }
  get error(): StreamError | null {
    return this.#ep.error;
  }
  get errorText(): string {
    return this.#ep.errorText;
  }

  get events(): StreamEvents | null {
    const u = this.#ep.user;
    return u === NO_EVENTS ? null : u;
  }
  set events(e: StreamEvents | null) {
    if (!this.#given) this.#ep.user = e ?? NO_EVENTS;
  }

  get noDelay(): boolean {
    return this.#ep.noDelay;
  }
  set noDelay(on: boolean) {
    const ep = this.#ep;
    ep.noDelay = on;
    if (on && ep.state !== CLOSED) output(ep); // what Nagle held back goes now
  }

  get keepAlive(): boolean {
    return this.#ep.keepalive;
  }
  set keepAlive(on: boolean) {
    if (this.#ep.state !== CLOSED && !isCompacted(this.#ep)) setKeepalive(this.#ep, on);
  }

  get lingerZero(): boolean {
    return this.#ep.lingerZero;
  }
  set lingerZero(on: boolean) {
    this.#ep.lingerZero = on;
  }

  get congestionControl(): string {
    return this.#ep.ccName;
  }

  setCongestionControl(name: string): boolean {
    const ep = this.#ep;
    if (typeof name !== "string" || !ep.core.congestion.has(name)) return false;
    if (ep.state !== CLOSED) ep.setCongestionControl(name);
    return true;
  }

  info(): TcpSocketInfo {
    const info = endpointInfo(this.#ep);
    // A compacted TIME-WAIT endpoint (timewait_table.ts) is not updated when it ends.
    return info.state === "TIME-WAIT" && shownState(this.#ep) === CLOSED
      ? { ...info, state: "CLOSED" }
      : info;
  }

  read(into: Uint8Array): number {
    return this.#ep.receive(into);
  }

  discard(max: number): number {
    return this.#ep.receiveDiscard(max);
  }

  sendUrgent(byte: number): number {
    return this.canWrite ? sendUrgent(this.#ep, byte) : 0;
  }

  get oobInline(): boolean {
    return this.#ep.oobInline;
  }
  set oobInline(on: boolean) {
    this.#ep.oobInline = on;
  }

  readUrgent(): number | null {
    return readUrgent(this.#ep);
  }

  write(data: Uint8Array): number {
    return this.canWrite ? this.#ep.send(data) : 0;
  }

  shutdown(): void {
    if (!this.#given) this.#ep.shutdownWrite();
  }

  close(): void {
    if (this.#given) return;
    this.#given = true;
    this.#ep.close();
  }

  abort(): void {
    if (this.#given) return;
    this.#given = true;
    const ep = this.#ep;
    ep.user = null;
    ep.abort(null);
  }
}

/** A listening socket, as the `tcp.sockets` contract shows it. */
export class TcpStreamListener implements StreamListener {
  readonly #ls: ListenSocket;
  #closed = false;

  /** Wraps `ls` (already in the listen table). */
  constructor(ls: ListenSocket) {
    this.#ls = ls;
  }

  get localAddress(): IpAddress {
    return IpAddress.fromKey(this.#ls.localAddr);
  }
  get localPort(): number {
    return this.#ls.localPort;
  }
  get pending(): number {
    return this.#closed ? 0 : this.#ls.acceptQueue.length;
  }
  get events(): StreamListenerEvents | null {
    return this.#ls.user;
  }
  set events(e: StreamListenerEvents | null) {
    if (!this.#closed) this.#ls.user = e;
  }

  accept(): StreamSocket | null {
    if (this.#closed) return null;
    const ep = this.#ls.take();
    return ep === undefined ? null : new TcpStreamSocket(ep);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ls.close();
  }
}

function isPort(p: number, allowZero: boolean): boolean {
  return Number.isInteger(p) && p >= (allowZero ? 0 : 1) && p <= 65535;
}

/** Opens a connection (active OPEN, RFC 9293 §3.10.1). */
export function connect(core: TcpCore, options: StreamConnectOptions): StreamSocket | StreamError {
  const dstAddr = options.address;
  const dstPort = options.port;
  if (dstAddr.isUnspecified()) return "invalid_destination";
  const cc = options.congestionControl ?? core.cfg.congestionControl;
  if (!core.congestion.has(cc)) return "invalid_option";
  const timeout = options.timeout;
  if (
    !isPort(dstPort, false) || (timeout !== undefined && !(timeout >= 0)) ||
    (options.localPort !== undefined && !isPort(options.localPort, true))
  ) return "invalid_option";
  const dst = dstAddr.key;
  const net = core.netOf(dst);
  if (net === undefined) return "family_not_supported";
  // Linux's tcp_v4_connect(): ENETUNREACH at once, not a SYN nobody answers.
  if (net.isBroadcast(dst) || isMulticastKey(dst)) return "no_route";
  let src: IpKey;
  const bound = options.localAddress;
  if (bound !== undefined && !bound.isUnspecified()) {
    if (bound.family !== dstAddr.family || !net.isLocal(bound.key)) return "addr_not_available";
    src = bound.key;
  } else {
    // The route's source (selected once, by the network layer), in the
    // destination's zone for a link-local one.
    src = net.selectSource(dst, options.scope ?? -1);
    if (src === IpAddress.any(dstAddr.family).key) {
      return unsourcedReason(net, dst, options.scope ?? -1);
    }
  }
  const conns = core.conns;
  let srcPort: number;
  if (options.localPort !== undefined && options.localPort !== 0) {
    srcPort = options.localPort;
    if (core.tupleInUse(src, srcPort, dst, dstPort) || core.listeners.hasPort(srcPort)) {
      return "addr_in_use";
    }
  } else {
    srcPort = core.ports.pick(
      src,
      dst,
      dstPort,
      (p) => !core.tupleInUse(src, p, dst, dstPort) && !core.listeners.hasPort(p),
    );
    if (srcPort < 0) return "addr_not_available"; // no ephemeral port left (Linux: EADDRNOTAVAIL)
  }
  if (core.connectionCount >= core.cfg.maxConnections) return "too_many_sockets";
  const now = core.now();
  const ep = new TcpEndpoint(
    core,
    { localAddr: src, localPort: srcPort, remoteAddr: dst, remotePort: dstPort },
    false,
    cc,
    true, // made at the SYN-ACK, which gives the MSS
  );
  ep.advMss = core.routeMss(dst);
  offerOptions(ep);
  ep.ecnOk = options.ecn ?? core.cfg.ecn === ECN_ON;
  if (options.fastOpenData !== undefined) fastOpenConnect(ep, options.fastOpenData);
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
  if (isLinkLocalKey(dst)) ep.scope = options.scope ?? -1;
  const sock = new TcpStreamSocket(ep);
  conns.insert(ep);
  core.c.active_opens.value++;
  if (timeout !== undefined) {
    ep.closeAt = now + timeout;
    armTimer(ep);
  }
  ep.rttStart = now;
  ep.rttSeq = seqAdd(ep.iss, 1);
  sendSyn(ep);
  return sock;
}

/** Opens a listener (passive OPEN). */
export function listen(core: TcpCore, options: StreamListenOptions): StreamListener | StreamError {
  const localAddr = options.address ?? IpAddress.ANY4;
  const backlog = options.backlog ?? core.cfg.backlog;
  if (!isPort(options.port, true) || !(backlog >= 1)) return "invalid_option";
  const cc = options.congestionControl;
  // The default too: a plugin that was to register it may be missing.
  if (!core.congestion.has(cc ?? core.cfg.congestionControl)) return "invalid_option";
  const fastOpen = options.fastOpen ?? 0;
  if (!(Number.isInteger(fastOpen) && fastOpen >= 0 && fastOpen <= 65535)) return "invalid_option";
  if (core.netOf(localAddr.key) === undefined) return "family_not_supported";
  const local = localAddr.key;
  const any = IpAddress.any(localAddr.family).key;
  if (local !== any && !core.isLocal(local)) return "addr_not_available";
  let port = options.port;
  if (port === 0) {
    port = core.ports.pick(local, 0, 0, (p) => !core.listeners.hasPort(p));
    if (port < 0) return "addr_in_use"; // no ephemeral port left (Linux bind(): EADDRINUSE)
  }
  const v6only = options.v6only === true;
  const dual = local === any && localAddr.family === 6 && !v6only;
  if (core.listeners.conflicts(local, any, port, dual)) return "addr_in_use";
  const ls = new ListenSocket(core, local, port, Math.min(65535, Math.floor(backlog)), v6only);
  if (cc !== undefined) ls.congestionControl = cc;
  ls.fastOpen = fastOpen;
  core.listeners.add(ls);
  return new TcpStreamListener(ls);
}
