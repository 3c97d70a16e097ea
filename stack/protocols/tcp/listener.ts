/**
 * Listening sockets (RFC 9293 §3.10.7.2, LISTEN): the SYN queue (half-open
 * children in SYN-RECEIVED, bounded; SYN cookies once it is full), the accept
 * queue (established, not yet accepted; bounded by the backlog). As Linux
 * does, a SYN is dropped while the accept queue is full, and the final ACK of
 * a handshake is dropped (the SYN-ACK will be retransmitted) when the accept
 * queue filled up meanwhile.
 *
 * @module
 */
import { CONSUMED, type RxVerdict } from "../../manifest.ts";
import { takeFirst } from "../../_take_first.ts";
import { RouteSendFlags } from "../../services.ts";
import type { StreamListenerEvents } from "../../stream.ts";
import { IpAddress, type IpFamily, type IpKey } from "../../wire/ip_address.ts";
import { finishChecksum, sumBytes } from "../../wire/checksum.ts";
import { pseudoHeaderSum } from "../../ip/pseudo_header.ts";
import {
  emitTcp,
  TCP_ACK,
  TCP_ECE,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  type TcpRepr,
} from "../../wire/tcp.ts";
import { defaultMss, IP_PROTOCOL_TCP, type Segment, segmentZone, type TcpCore } from "./core.ts";
import { setTcpChecksumField } from "../../wire/tcp_fields.ts";
import { TcpEndpoint } from "./endpoint.ts";
import { markMapped } from "./info.ts";
import { segmentArrives } from "./input.ts";
import { initialSequenceNumber } from "./isn.ts";
import { negotiate, offerOptions, setPeerMss } from "./options.ts";
import { sendSyn } from "./output.ts";
import { seqAdd } from "./seq.ts";
import { issAbove } from "./timewait.ts";
import { ECN_COOKIE_BIT, ecnAcceptSyn, ecnRequested } from "./ecn.ts";
import { fastOpenChildDone, fastOpenSyn } from "./fastopen.ts";
import { ESTABLISHED, SYN_RECEIVED } from "./state.ts";
import {
  checkCookie,
  cookieMssIndex,
  cookieMssTable,
  cookieTimestamp,
  makeCookie,
  TS_OPT_MASK,
} from "./syncookie.ts";

/** What a listener tells its socket object: the `tcp.sockets` contract's listener events. */
export type ListenerUser = StreamListenerEvents;

/** A listening socket. */
export class ListenSocket {
  /** Shared state. */
  readonly core: TcpCore;
  /** Local address; {@linkcode anyKey} for every address of the family. */
  readonly localAddr: IpKey;
  /** IP version. */
  readonly family: IpFamily;
  /** The family's unspecified address (0.0.0.0 or ::). */
  readonly anyKey: IpKey;
  /** Local port. */
  readonly localPort: number;
  /** Accept-queue limit. */
  readonly backlog: number;
  /** Established connections not yet accepted. */
  readonly acceptQueue: TcpEndpoint[] = [];
  /**
   * Half-open children (SYN-RECEIVED), oldest first: at most `synBacklog`.
   * An array, not a `Set`: V8 links a `Set`'s outgrown table to its
   * successor, and a long-lived listener's churned one kept every later
   * table, with the children it held, alive through scavenges
   * (`table.ts` says more).
   */
  readonly embryos: TcpEndpoint[] = [];
  /** The socket object. */
  user: ListenerUser | null = null;
  /** When the last SYN cookie was sent (cookie ACKs are checked only shortly after). */
  lastCookieAt = -Infinity;
  /** TCP Fast Open queue length (Linux TCP_FASTOPEN), 0 = off (`fastopen.ts`). */
  fastOpen = 0;
  /** Half-open children holding SYN data (at most {@linkcode fastOpen}). */
  tfoPending = 0;
  /**
   * Bound to `::` without IPV6_V6ONLY: it takes IPv4 connections too (the
   * wildcard of both families, after an IPv4 listener on the port).
   */
  readonly dual: boolean;
  /** Congestion control of accepted connections (`listen({ congestionControl })`), or null: the default. */
  congestionControl: string | null = null;

  /** A listener on `localAddr:localPort`; add it to the listen table separately. */
  constructor(
    core: TcpCore,
    localAddr: IpKey,
    localPort: number,
    backlog: number,
    v6only = false,
  ) {
    this.core = core;
    this.localAddr = localAddr;
    this.family = typeof localAddr === "number" ? 4 : 6;
    this.anyKey = IpAddress.any(this.family).key;
    this.dual = this.family === 6 && localAddr === this.anyKey && !v6only;
    this.localPort = localPort;
    this.backlog = backlog;
  }

  /** A child finished its handshake: queue it, or refuse (false) when the queue is full. */
  childEstablished(ep: TcpEndpoint): boolean {
    if (this.acceptQueue.length >= this.backlog) return false;
    fastOpenChildDone(this, ep);
    this.#forget(ep);
    this.acceptQueue.push(ep);
    this.user?.onAcceptable();
    return true;
  }

  /** A child is gone (reset or timed out) before being accepted. */
  childGone(ep: TcpEndpoint, _wasSynRcvd: boolean): void {
    fastOpenChildDone(this, ep);
    this.#forget(ep);
    const i = this.acceptQueue.indexOf(ep);
    if (i >= 0) this.acceptQueue.splice(i, 1);
  }

  /** Takes `ep` out of the half-open children, if there. */
  #forget(ep: TcpEndpoint): void {
    const list = this.embryos;
    const i = list.indexOf(ep);
    if (i < 0) return;
    // Shifted down in place, order kept, and the last slot popped: splice()
    // made an array of the removed item, and emptying the list by splice()
    // or a length store drops V8's backing store, which the next SYN's
    // push() makes again (152 B a handshake). pop() keeps it.
    for (let j = i + 1; j < list.length; j++) list[j - 1] = list[j]!;
    list.pop();
  }

  /** The oldest established connection, now owned by the caller. */
  take(): TcpEndpoint | undefined {
    const ep = takeFirst(this.acceptQueue); // keeps the queue's store (see #forget)
    if (ep !== undefined) ep.listener = null;
    return ep;
  }

  /** Stops listening; resets every child not yet accepted. */
  close(): void {
    this.core.listeners.remove(this);
    this.user = null;
    for (const ep of [...this.embryos, ...this.acceptQueue]) {
      ep.listener = null;
      ep.abort(null);
    }
    this.embryos.length = 0;
    this.acceptQueue.length = 0;
  }
}

/**
 * RFC 9293 §3.10.7.2: a segment for a listener. `issFloor`: the SYN reopens
 * a connection that was in TIME-WAIT, and the new ISN must lie above it
 * (`timewait.ts`).
 */
export function listenInput(
  core: TcpCore,
  ls: ListenSocket,
  seg: Segment,
  issFloor?: number,
): RxVerdict {
  const flags = seg.flags;
  if ((flags & TCP_RST) !== 0) return "rst_to_listener";
  if ((flags & TCP_ACK) !== 0) {
    if ((flags & TCP_SYN) === 0 && core.cfg.syncookies) {
      const v = cookieAck(core, ls, seg);
      if (v !== undefined) return v;
    }
    core.resetFor(seg);
    return "not_syn";
  }
  if ((flags & TCP_SYN) === 0) return "not_syn";
  if ((flags & TCP_FIN) !== 0) return "syn_fin"; // Linux drops SYN+FIN
  if (ls.acceptQueue.length >= ls.backlog) return "listen_overflow";
  const cfg = core.cfg;
  // A SYN reopening a TIME-WAIT connection takes the slot that one held, never
  // a cookie: a cookie ISN could not be chosen above the old SND.NXT.
  if (ls.embryos.length >= cfg.synBacklog && issFloor === undefined) {
    if (!cfg.syncookies) return "syn_queue_full";
    sendCookie(core, ls, seg);
    return CONSUMED;
  }
  if (core.connectionCount >= cfg.maxConnections) return "too_many_connections";
  const now = core.now();
  const tuple = {
    localAddr: seg.dst,
    localPort: seg.dstPort,
    remoteAddr: seg.src,
    remotePort: seg.srcPort,
  };
  const ep = new TcpEndpoint(
    core,
    tuple,
    true,
    ls.congestionControl ?? cfg.congestionControl,
    true,
  );
  ep.scope = segmentZone(seg);
  ep.listener = ls;
  if (ls.family !== 4 && typeof seg.dst === "number") markMapped(ep);
  ep.advMss = core.routeMss(seg.src);
  offerOptions(ep);
  negotiate(ep, seg.opts);
  ecnAcceptSyn(ep, seg);
  ep.initSender();
  ep.setState(SYN_RECEIVED); // observers may look at the endpoint: its cc is made
  ep.irs = seg.seq;
  ep.rcvNxt = seqAdd(seg.seq, 1);
  ep.rcvAdv = seqAdd(ep.rcvNxt, Math.min(cfg.receiveBuffer, 65535));
  fastOpenSyn(core, ls, ep, seg);
  ep.iss = issAbove(
    initialSequenceNumber(core.isnHash, seg.dst, seg.dstPort, seg.src, seg.srcPort, now),
    issFloor,
  );
  ep.sndUna =
    ep.sndNxt =
    ep.sndMax =
    ep.recover =
      ep.iss;
  ep.sndBufStart = seqAdd(ep.iss, 1);
  ep.sndWnd = ep.maxSndWnd = seg.wnd;
  ep.sndWl1 = seg.seq;
  if (ep.tsOk) {
    ep.tsRecent = seg.opts.tsVal;
    ep.tsRecentAt = now;
  }
  ep.lastRecv = now;
  ep.segsIn = 1;
  core.conns.insert(ep);
  ls.embryos.push(ep);
  core.c.passive_opens.value++;
  ep.rttStart = now;
  ep.rttSeq = seqAdd(ep.iss, 1);
  sendSyn(ep);
  return CONSUMED;
}

/** Answers a SYN statelessly with a cookie SYN-ACK. */
function sendCookie(core: TcpCore, ls: ListenSocket, seg: Segment): void {
  const now = core.now();
  const cfg = core.cfg;
  const opts = seg.opts;
  const advMss = core.routeMss(seg.src);
  const peerMss = opts.mss > 0 ? opts.mss : defaultMss(seg.src);
  const idx = cookieMssIndex(Math.min(peerMss, advMss), cookieMssTable(seg.src));
  const t = { la: seg.dst, lp: seg.dstPort, ra: seg.src, rp: seg.srcPort };
  const iss = makeCookie(core.cookieHash, t, seg.seq, idx, now);
  const ts = cfg.timestamps && opts.hasTimestamp;
  // Without timestamps there is nowhere to keep SACK and window scale (Linux too).
  const ws = ts && cfg.windowScaling && opts.windowScale >= 0;
  const sack = ts && cfg.sack && opts.sackPermitted;
  const ecnCookie = ts && ecnRequested(core, seg); // kept in the TSval too (Linux's TS_OPT_ECN)
  // The connection's own timestamp clock (the offset is a function of the
  // tuple, so the connection rebuilt from the cookie continues it).
  const tsVal = ts
    ? cookieTimestamp(
      (Math.floor(now / 1000) +
        core.tsOffsets.of(seg.dst, seg.dstPort, seg.src, seg.srcPort)) >>> 0,
      (ws ? Math.min(opts.windowScale, 14) : 0xf) | (sack ? 0x10 : 0) |
        (ecnCookie ? ECN_COOKIE_BIT : 0),
    )
    : 0;
  const repr: TcpRepr = {
    srcPort: seg.dstPort,
    dstPort: seg.srcPort,
    seq: iss,
    ack: seqAdd(seg.seq, 1),
    flags: TCP_SYN | TCP_ACK | (ecnCookie ? TCP_ECE : 0),
    window: Math.min(cfg.receiveBuffer, 65535),
    payloadLength: 0,
    mss: advMss,
    ...(sack ? { sackPermitted: true } : {}),
    ...(ts ? { timestamp: { value: tsVal >>> 0, echo: opts.tsVal } } : {}),
    ...(ws ? { windowScale: core.wscale } : {}),
  };
  const hl = 20 + (4 + (ts ? 12 : 0) + (ws ? 4 : 0));
  const pkt = core.ctx.pool.alloc(hl);
  const seg4 = pkt.buf.subarray(pkt.start, pkt.start + hl);
  emitTcp(repr, seg4, { src: 0, dst: 0 });
  // The checksum over the pseudo-header of either family (emitTcp's is IPv4's).
  setTcpChecksumField(pkt.dv, pkt.start, 0);
  setTcpChecksumField(
    pkt.dv,
    pkt.start,
    finishChecksum(sumBytes(seg4, pseudoHeaderSum(seg.dst, seg.src, IP_PROTOCOL_TCP, hl))),
  );
  ls.lastCookieAt = now;
  core.c.syncookies_sent.value++;
  core.c.out_segs.value++;
  const net = core.netOf(seg.src);
  const err = net === undefined ? (pkt.release(), "no_route") : net.send(
    pkt,
    seg.dst,
    seg.src,
    IP_PROTOCOL_TCP,
    0,
    RouteSendFlags.DONT_FRAGMENT,
    segmentZone(seg),
  );
  if (err !== undefined) core.c["tx.failed"].value++;
}

/** The final ACK of a cookie handshake: rebuild the connection, or undefined if no valid cookie. */
function cookieAck(core: TcpCore, ls: ListenSocket, seg: Segment): RxVerdict | undefined {
  const now = core.now();
  if (now - ls.lastCookieAt > 128_000_000) return undefined; // no recent cookies
  const t = { la: seg.dst, lp: seg.dstPort, ra: seg.src, rp: seg.srcPort };
  const peerIsn = (seg.seq - 1) >>> 0;
  const idx = checkCookie(core.cookieHash, t, peerIsn, (seg.ack - 1) >>> 0, now);
  if (idx < 0) {
    core.c["rx.bad_cookie"].value++;
    return undefined;
  }
  if (ls.acceptQueue.length >= ls.backlog) return "listen_overflow";
  if (core.connectionCount >= core.cfg.maxConnections) {
    return "too_many_connections";
  }
  const cfg = core.cfg;
  const ep = new TcpEndpoint(
    core,
    {
      localAddr: seg.dst,
      localPort: seg.dstPort,
      remoteAddr: seg.src,
      remotePort: seg.srcPort,
    },
    true,
    ls.congestionControl ?? cfg.congestionControl,
    true,
  );
  if (ls.family !== 4 && typeof seg.dst === "number") markMapped(ep);
  ep.scope = segmentZone(seg);
  ep.advMss = core.routeMss(seg.src);
  const opts = seg.opts;
  ep.tsOk = cfg.timestamps && opts.hasTimestamp;
  if (ep.tsOk) {
    const bits = opts.tsEcr & TS_OPT_MASK;
    ep.wsOk = (bits & 0xf) !== 0xf;
    ep.sackOk = (bits & 0x10) !== 0;
    ep.ecnOk = (bits & ECN_COOKIE_BIT) !== 0;
    ep.sndWscale = ep.wsOk ? bits & 0xf : 0;
    ep.rcvWscale = ep.wsOk ? core.wscale : 0;
    ep.tsRecent = opts.tsVal;
    ep.tsRecentAt = now;
  }
  setPeerMss(ep, cookieMssTable(seg.src)[idx]!);
  ep.initSender();
  ep.iss = peerIsnOf(seg.ack);
  ep.sndUna =
    ep.sndNxt =
    ep.sndMax =
    ep.recover =
      seg.ack;
  ep.sndBufStart = seg.ack;
  ep.irs = peerIsn;
  ep.rcvNxt = seg.seq;
  ep.rcvAdv = seqAdd(seg.seq, Math.min(cfg.receiveBuffer, 65535));
  ep.lastAckSent = seg.seq;
  ep.sndWnd = ep.maxSndWnd = seg.wnd * (1 << ep.sndWscale);
  ep.sndWl1 = seg.seq;
  ep.sndWl2 = seg.ack;
  ep.setState(ESTABLISHED);
  ep.quickAcks = cfg.quickAcks;
  ep.lastRecv = now;
  ep.listener = ls;
  core.conns.insert(ep);
  ls.acceptQueue.push(ep);
  core.c.passive_opens.value++;
  core.c.syncookies_recv.value++;
  // The ACK may carry data (or FIN): process it like any segment.
  if (seg.dataLen > 0 || (seg.flags & TCP_FIN) !== 0) segmentArrives(ep, seg);
  ls.user?.onAcceptable();
  return CONSUMED;
}

function peerIsnOf(ack: number): number {
  return (ack - 1) >>> 0;
}
