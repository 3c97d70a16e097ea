/**
 * Explicit Congestion Notification for TCP (RFC 3168 §6.1).
 *
 * - **Negotiation**: a connection that wants ECN sends its SYN with ECE and
 *   CWR; a listener that accepts ECN (the `ecn` option, 1 or 2, like
 *   Linux's `tcp_ecn`) answers a SYN carrying both with a SYN-ACK carrying
 *   ECE alone; the client uses ECN only if the SYN-ACK has ECE without CWR
 *   (§6.1.1). A SYN-cookie handshake keeps the agreement in the cookie's
 *   TSval bits (with timestamps only, as Linux).
 * - **Sender**: new data segments go out ECT(0) through the route's send
 *   flags ({@linkcode RouteSendFlags.ECN_ECT0}); SYNs, pure ACKs,
 *   retransmissions and window probes never do (§6.1.1, §6.1.4, §6.1.5).
 *   An ACK with ECE reduces the window through the congestion controller as
 *   a loss would, without a retransmission, at most once per window of data
 *   (§6.1.2), and the next new data segment carries CWR.
 * - **Receiver**: a segment that arrives CE makes every ACK carry ECE, until
 *   a segment with CWR arrives (§6.1.3); the first CE is acknowledged at once.
 *
 * @module
 */
import type { PacketBuffer } from "../../packet.ts";
import { RouteSendFlags } from "../../services.ts";
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_RST, TCP_SYN } from "../../wire/tcp.ts";
import type { Segment, TcpCore } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { seqDiff, seqGt } from "./seq.ts";

/** The `ecn` option: never request or accept ECN. */
export const ECN_OFF = 0;
/** The `ecn` option: request ECN on our connections and accept it from peers. */
export const ECN_ON = 1;
/** The `ecn` option: accept ECN when a peer asks, never request it (the default, Linux's too). */
export const ECN_PASSIVE = 2;

/**
 * The ECN state of a connection that agreed to ECN and saw a mark: made by
 * {@linkcode ecnStateOf} at the first CE or ECE (most ECN connections never
 * see one, and most connections never agree to ECN), so a new endpoint
 * carries one null field instead of seven.
 */
export class EcnState {
  /** A CE arrived: every ACK carries ECE until the peer's CWR. */
  ece = false;
  /** The window was reduced: CWR goes on the next new data segment. */
  cwr = false;
  /** SND.MAX at the last ECE reduction: ECE up to it is the same congestion event. */
  recover = 0;
  /** {@linkcode recover} holds a reduction's boundary (an ECE reduction's, or a loss recovery's). */
  recoverSet = false;
  /** Segments that arrived marked CE. */
  ceSegs = 0;
  /** ACKs that arrived with ECE. */
  eceSegs = 0;
  /** Window reductions for ECE. */
  reductions = 0;
}

/** The ECN state of `ep`, made on first use (see {@linkcode EcnState}). */
export function ecnStateOf(ep: TcpEndpoint): EcnState {
  let s = ep.ecn;
  if (s === null) s = ep.ecn = new EcnState();
  return s;
}

/** The CE codepoint of the IP ECN field (RFC 3168 §5). */
export const ECN_CE = 3;

/**
 * The ECN field (RFC 3168 §5) of the received IP packet in `pkt` (the
 * network layer set `l3` and `family`): 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE.
 * Hot path: two reads.
 *
 * @example
 * ```ts
 * import { ipEcn } from "./ecn.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import assert from "node:assert/strict";
 * const pkt = new PacketPool().alloc(40);
 * pkt.buf[pkt.start] = 0x45;
 * pkt.buf[pkt.start + 1] = 0x03; // TOS: CE
 * pkt.l3 = pkt.start;
 * pkt.family = 4;
 * assert.equal(ipEcn(pkt), 3);
 * pkt.release();
 * ```
 */
export function ipEcn(pkt: PacketBuffer): number {
  const at = pkt.l3;
  if (at < 0) return 0;
  const b = pkt.buf[at + 1]!;
  return pkt.family === 6 ? (b >> 4) & 3 : b & 3;
}

/**
 * The TSval bit of a SYN cookie that says ECN was agreed (Linux's
 * `TS_OPT_ECN`): the bit above window scale and SACK (`syncookie.ts`).
 */
export const ECN_COOKIE_BIT = 0x20;

/**
 * Whether the SYN in `seg` asks for ECN (ECE and CWR both, §6.1.1) and the
 * configuration accepts it. A SYN that arrived ECT or CE (SYNs are sent
 * Not-ECT) crossed a path that rewrites the ECN field: no ECN (Linux's
 * `tcp_ecn_create_request`).
 */
export function ecnRequested(core: TcpCore, seg: Segment): boolean {
  return core.cfg.ecn !== ECN_OFF && seg.ecn === 0 &&
    (seg.flags & (TCP_ECE | TCP_CWR)) === (TCP_ECE | TCP_CWR);
}

/** Passive open: sets `ep.ecnOk` when the SYN in `seg` asks for ECN and we accept it. */
export function ecnAcceptSyn(ep: TcpEndpoint, seg: Segment): void {
  ep.ecnOk = ecnRequested(ep.core, seg);
}

/**
 * Active open: the SYN-ACK in `seg` confirms ECN only with ECE set and CWR
 * clear (§6.1.1: a SYN-ACK with both is a reflected SYN, not consent); in a
 * simultaneous open the peer's bare SYN must carry both, like ours (Linux's
 * `tcp_ecn_rcv_syn`).
 */
export function ecnSynAckArrived(ep: TcpEndpoint, seg: Segment): void {
  if (!ep.ecnOk) return;
  const want = (seg.flags & TCP_ACK) !== 0 ? TCP_ECE : TCP_ECE | TCP_CWR;
  ep.ecnOk = (seg.flags & (TCP_ECE | TCP_CWR)) === want;
}

/**
 * The TCP flags of an outgoing segment of an ECN connection (`ep.ecnOk`):
 * ECE+CWR on our first SYN (not on its retransmissions), ECE on our SYN-ACK, ECE on every other ACK while a
 * CE is unanswered, and CWR on the first new data segment after a window
 * reduction. `newData`: the segment carries data sent for the first time
 * (it also goes out ECT(0): {@linkcode ecnRouteFlags}). Hot path.
 */
export function ecnTcpFlags(ep: TcpEndpoint, flags: number, len: number, newData: boolean): number {
  if ((flags & TCP_RST) !== 0) return flags;
  if ((flags & TCP_SYN) !== 0) {
    if ((flags & TCP_ACK) !== 0) return flags | TCP_ECE;
    // A retransmitted SYN goes without ECE+CWR, in case a middlebox dropped
    // the first for them (§6.1.1.1; Linux's tcp_ecn_fallback). An ECE
    // SYN-ACK (to the first SYN) still enables ECN, as in Linux.
    return ep.retries === 0 ? flags | TCP_ECE | TCP_CWR : flags;
  }
  const s = ep.ecn;
  if (s === null) return flags;
  if (s.ece && (flags & TCP_ACK) !== 0) flags |= TCP_ECE;
  if (s.cwr && newData && len > 0) {
    s.cwr = false;
    flags |= TCP_CWR;
  }
  return flags;
}

/** The route send flags for a segment: ECT(0) on new data of an ECN connection (§6.1.5). */
export function ecnRouteFlags(ep: TcpEndpoint, len: number, newData: boolean): number {
  return ep.ecnOk && newData && len > 0 ? RouteSendFlags.ECN_ECT0 : 0;
}

/**
 * Receiver side of an acceptable segment (§6.1.3): CWR ends the echo, CE
 * (on this segment, if it carries data) starts it. The first CE is acknowledged at once, so the
 * sender hears of it within a round trip (Linux leaves delayed ACKs too).
 */
export function ecnReceive(ep: TcpEndpoint, seg: Segment): void {
  if ((seg.flags & TCP_CWR) !== 0 && ep.ecn !== null) ep.ecn.ece = false;
  // CE counts on data only: pure ACKs are never sent ECT (§6.1.4), and
  // answering a CE ACK with an ACK is not wanted (Linux checks data only).
  if (seg.ecn === ECN_CE && seg.dataLen > 0) {
    const s = ecnStateOf(ep);
    s.ceSegs++;
    ep.core.c.ecn_ce_received.value++;
    if (!s.ece) {
      s.ece = true;
      ep.ackNow = true;
    }
  }
}

/**
 * Sender side (§6.1.2): an ACK with ECE reduces the window once per window
 * of data (not again for ECE acknowledging data sent before the last
 * reduction, nor during loss recovery, which has reduced it already), like
 * a loss but without a retransmission, and queues CWR. Called after the ACK
 * was processed.
 */
export function ecnEchoArrived(ep: TcpEndpoint, seg: Segment): void {
  if ((seg.flags & TCP_ECE) === 0 || (seg.flags & TCP_SYN) !== 0) return;
  const s = ecnStateOf(ep);
  s.eceSegs++;
  if (ep.inRecovery) {
    // The loss response was the reduction: tell the receiver, once per
    // recovery (more ECE follows until our CWR reaches it).
    if (!s.recoverSet || s.recover !== ep.recover) s.cwr = true;
    // ECE for the window being recovered, also after recovery ends: the same event.
    s.recover = ep.recover;
    s.recoverSet = true;
    return;
  }
  if (s.recoverSet && !seqGt(seg.ack, s.recover)) return;
  const cc = ep.cc;
  // BBR v1 models the path and does not reduce for ECE (Linux's bbr_ssthresh
  // leaves the window to BBR); the echo is still answered with CWR.
  if (cc.ownsRecoveryWindow !== true) cc.onCongestion(seqDiff(ep.sndMax, ep.sndUna), ep.core.now());
  s.recover = ep.sndMax;
  s.recoverSet = true;
  s.reductions++;
  s.cwr = true;
  ep.core.c.ecn_reductions.value++;
}
