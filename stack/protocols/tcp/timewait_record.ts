/**
 * One compact TIME-WAIT record (`timewait_table.ts`): the columns of its
 * row, and the copies between a full endpoint and a row (the table keeps
 * the storage, the hash and the expiry queue).
 *
 * A record keeps what TIME-WAIT processing reads (RFC 9293 §3.10.7.4,
 * RFC 7323 PAWS, RFC 5961, RFC 6191 reuse): the tuple, both sequence spaces,
 * windows and MSS, timestamps, the option and FIN flags, and the expiry. What
 * only a connection that sends data or `ss -i` uses (RTT, congestion control,
 * rate samples, statistics) is not kept: as Linux's `inet_timewait_sock`,
 * a TIME-WAIT entry shows no internals (`info.ts`). Row: 25 32-bit words
 * (88 B, four of them the table's hash, chain and queue links) and three
 * doubles (24 B) for the times.
 *
 * @module
 */
import type { IpKey } from "../../wire/ip_address.ts";
import type { TcpCore } from "./core.ts";
import { TcpEndpoint } from "./endpoint.ts";
import { ecnStateOf } from "./ecn.ts";
import { isMapped, markMapped } from "./info.ts";
import { urgentOf } from "./urgent.ts";
import { TIME_WAIT } from "./state.ts";

/**
 * 32-bit words per row: the table's four index words, then the record's.
 * The row keeps neither FIN's sequence number, nor SND.WL2, the send
 * buffer's start or the last ACK sent: a record is made only when each is
 * the one its sequence space's end gives ({@linkcode fitsRecord}).
 */
export const WIDTH = 22;
/** Word (the table's): the row's tuple hash, kept so that growing rehashes nothing. */
export const W_HASH = 0;
/** Word (the table's): the next row in the hash chain or the free list, -1 ending it. */
export const W_NEXT = 1;
/** Word (the table's): the row before in the expiry queue, or -1. */
export const W_QPREV = 2;
/** Word (the table's): the row after in the expiry queue, or -1. */
export const W_QNEXT = 3;
/** Word: flag bits (booleans, {@linkcode IPV6}, {@linkcode MAPPED}). */
export const W_BITS = 4;
/** Word: local port << 16 | remote port. */
export const W_PORTS = 5;
/** Word: IPv4 local address (0 for IPv6). */
export const W_LA4 = 6;
/** Word: IPv4 remote address (0 for IPv6). */
export const W_RA4 = 7;
const W_SCOPE = 8; // + 1: the zone of a link-local peer, or 0 for none
const W_WSCALE = 9; // send shift | receive shift << 8 | quick ACKs left << 16
const W_MSS = 10; // send MSS | advertised MSS << 16
const W_RCV_MSS = 11; // largest segment received | the peer's MSS option << 16
/** Word: ISS. */
export const W_ISS = 12;
/** Word: IRS. */
export const W_IRS = 13;
const W_SND_MAX = 14; // SND.WL2; the sent FIN and the send buffer's start are one before
const W_SND_WND = 15;
const W_SND_WL1 = 16;
const W_MAX_SND_WND = 17;
const W_RCV_NXT = 18; // the last ACK sent; the received FIN is one before
const W_RCV_ADV = 19;
const W_TS_RECENT = 20;
const W_ECN_RECOVER = 21;

/** Doubles per row, in a column of their own (no padding in the words). */
export const TIMES = 3;
/** Double: when the TIME-WAIT ends (µs), or 0 for a free row. */
export const T_CLOSE_AT = 0;
const T_TS_RECENT_AT = 1;
const T_LAST_INVALID_ACK = 2;

// Bits of the bits word for the ECN state (`EcnState`), which an endpoint makes only when marked.
const ECN_ECE = 16384;
const ECN_CWR = 32768;
const ECN_RECOVER_SET = 65536;
// Bit of the bits word: the urgent byte was read (`UrgentState.taken`; the state is made then).
const URGENT_TAKEN = 524288;

/** Bit of the bits word: the endpoint showed IPv4-mapped addresses (`ss`). */
export const MAPPED = 1 << 20;
/** Bit of the bits word: the addresses are IPv6 (kept as key strings, not numbers). */
export const IPV6 = 1 << 22;

/**
 * Whether a row holds all of `ep` that TIME-WAIT reads: both FINs are the
 * last sequence numbers of their spaces, everything before the sent FIN
 * left the send buffer, the ACK of the sent FIN updated the send window
 * (SND.WL2 = SND.MAX) and the last ACK sent acknowledged the received FIN
 * (so the row keeps none of these), and the quick ACKs left fit 16 bits.
 * So in TIME-WAIT once its last ACK went out; an endpoint for which it is
 * not stays a full endpoint (answering the same, in 2 KiB of heap).
 */
export function fitsRecord(ep: TcpEndpoint): boolean {
  const finSeq = (ep.sndMax - 1) >>> 0;
  return ep.finSeq === finSeq && ep.sndBufStart === finSeq && ep.sndWl2 === ep.sndMax &&
    ep.finRecvSeq === ((ep.rcvNxt - 1) >>> 0) && ep.lastAckSent === ep.rcvNxt &&
    ep.quickAcks >= 0 && ep.quickAcks <= 0xffff;
}

/**
 * Copies what TIME-WAIT needs of `ep` ({@linkcode fitsRecord}) into the
 * row starting at word `o` of `w` and double `t` of `d` (the table's
 * index words are left alone). IPv6 addresses are left to the caller: the
 * row holds IPv4 ones only.
 */
export function writeRecord(
  w: Uint32Array,
  o: number,
  d: Float64Array,
  t: number,
  ep: TcpEndpoint,
): void {
  const la = ep.localAddr;
  const v6 = typeof la !== "number";
  const ecn = ep.ecn;
  d[t + T_CLOSE_AT] = ep.closeAt;
  d[t + T_TS_RECENT_AT] = ep.tsRecentAt;
  d[t + T_LAST_INVALID_ACK] = ep.lastInvalidAck;
  w[o + W_BITS] = (ep.passive ? 1 : 0) |
    (ep.finQueued ? 2 : 0) |
    (ep.finRecvd ? 4 : 0) |
    (ep.eof ? 8 : 0) |
    (ep.tsOk ? 16 : 0) |
    (ep.sackOk ? 32 : 0) |
    (ep.wsOk ? 64 : 0) |
    (ep.sackRecovery ? 128 : 0) |
    (ep.noDelay ? 256 : 0) |
    (ep.keepalive ? 512 : 0) |
    (ep.lingerZero ? 1024 : 0) |
    (ep.rackOff ? 2048 : 0) |
    (ep.pacing ? 4096 : 0) |
    (ep.ecnOk ? 8192 : 0) |
    (ecn !== null && ecn.ece ? ECN_ECE : 0) |
    (ecn !== null && ecn.cwr ? ECN_CWR : 0) |
    (ecn !== null && ecn.recoverSet ? ECN_RECOVER_SET : 0) |
    (ep.tfoChild ? 131072 : 0) |
    (ep.oobInline ? 262144 : 0) |
    (ep.urgent !== null && ep.urgent.taken ? URGENT_TAKEN : 0) |
    (isMapped(ep) ? MAPPED : 0) |
    (v6 ? IPV6 : 0);
  w[o + W_PORTS] = ep.localPort << 16 | ep.remotePort;
  w[o + W_LA4] = v6 ? 0 : la as number;
  w[o + W_RA4] = v6 ? 0 : ep.remoteAddr as number;
  w[o + W_SCOPE] = ep.scope + 1;
  w[o + W_WSCALE] = ep.sndWscale | ep.rcvWscale << 8 | ep.quickAcks << 16;
  w[o + W_MSS] = ep.mss | ep.advMss << 16;
  w[o + W_RCV_MSS] = ep.rcvMss | ep.peerMss << 16;
  w[o + W_ISS] = ep.iss;
  w[o + W_IRS] = ep.irs;
  w[o + W_SND_MAX] = ep.sndMax;
  w[o + W_SND_WND] = ep.sndWnd;
  w[o + W_SND_WL1] = ep.sndWl1;
  w[o + W_MAX_SND_WND] = ep.maxSndWnd;
  w[o + W_RCV_NXT] = ep.rcvNxt;
  w[o + W_RCV_ADV] = ep.rcvAdv;
  w[o + W_TS_RECENT] = ep.tsRecent;
  w[o + W_ECN_RECOVER] = ecn === null ? 0 : ecn.recover;
}

/** The local port of the record at word `o`. */
export function localPortOf(w: Uint32Array, o: number): number {
  return w[o + W_PORTS]! >>> 16;
}

/** The remote port of the record at word `o`. */
export function remotePortOf(w: Uint32Array, o: number): number {
  return w[o + W_PORTS]! & 0xffff;
}

/**
 * A new endpoint of `core` with the record's fields (not in any table, no
 * timer); an IPv6 record's addresses are `v6Local` and `v6Remote`. The
 * fields a record does not keep start as in a new endpoint.
 */
export function readRecord(
  core: TcpCore,
  w: Uint32Array,
  o: number,
  d: Float64Array,
  t: number,
  v6Local: IpKey,
  v6Remote: IpKey,
): TcpEndpoint {
  const b = w[o + W_BITS]!;
  const v6 = (b & IPV6) !== 0;
  const ep = new TcpEndpoint(
    core,
    {
      localAddr: v6 ? v6Local : w[o + W_LA4]!,
      localPort: localPortOf(w, o),
      remoteAddr: v6 ? v6Remote : w[o + W_RA4]!,
      remotePort: remotePortOf(w, o),
    },
    (b & 1) !== 0,
    core.cfg.congestionControl,
  );
  ep.resumeState(TIME_WAIT);
  ep.closeAt = d[t + T_CLOSE_AT]!;
  ep.tsRecentAt = d[t + T_TS_RECENT_AT]!;
  ep.lastInvalidAck = d[t + T_LAST_INVALID_ACK]!;
  ep.finQueued = (b & 2) !== 0;
  ep.finRecvd = (b & 4) !== 0;
  ep.eof = (b & 8) !== 0;
  ep.tsOk = (b & 16) !== 0;
  ep.sackOk = (b & 32) !== 0;
  ep.wsOk = (b & 64) !== 0;
  ep.sackRecovery = (b & 128) !== 0;
  ep.noDelay = (b & 256) !== 0;
  ep.keepalive = (b & 512) !== 0;
  ep.lingerZero = (b & 1024) !== 0;
  ep.rackOff = (b & 2048) !== 0;
  ep.pacing = (b & 4096) !== 0;
  ep.ecnOk = (b & 8192) !== 0;
  if ((b & (ECN_ECE | ECN_CWR | ECN_RECOVER_SET)) !== 0) {
    const ecn = ecnStateOf(ep);
    ecn.ece = (b & ECN_ECE) !== 0;
    ecn.cwr = (b & ECN_CWR) !== 0;
    ecn.recoverSet = (b & ECN_RECOVER_SET) !== 0;
    ecn.recover = w[o + W_ECN_RECOVER]!;
  }
  ep.tfoChild = (b & 131072) !== 0;
  ep.oobInline = (b & 262144) !== 0;
  if ((b & URGENT_TAKEN) !== 0) urgentOf(ep).taken = true;
  if ((b & MAPPED) !== 0) markMapped(ep);
  ep.scope = w[o + W_SCOPE]! - 1;
  const ws = w[o + W_WSCALE]!;
  ep.sndWscale = ws & 0xff;
  ep.rcvWscale = ws >>> 8 & 0xff;
  ep.quickAcks = ws >>> 16;
  const mss = w[o + W_MSS]!;
  ep.mss = mss & 0xffff;
  ep.advMss = mss >>> 16;
  const rcvMss = w[o + W_RCV_MSS]!;
  ep.rcvMss = rcvMss & 0xffff;
  ep.peerMss = rcvMss >>> 16;
  ep.iss = w[o + W_ISS]!;
  ep.irs = w[o + W_IRS]!;
  ep.sndUna = ep.sndNxt = ep.sndMax = w[o + W_SND_MAX]!;
  ep.sndWnd = w[o + W_SND_WND]!;
  ep.sndWl1 = w[o + W_SND_WL1]!;
  ep.sndWl2 = ep.sndMax;
  ep.maxSndWnd = w[o + W_MAX_SND_WND]!;
  ep.sndBufStart = (ep.sndMax - 1) >>> 0;
  ep.finSeq = (ep.sndMax - 1) >>> 0;
  ep.rcvNxt = w[o + W_RCV_NXT]!;
  ep.rcvAdv = w[o + W_RCV_ADV]!;
  ep.finRecvSeq = (ep.rcvNxt - 1) >>> 0;
  ep.tsRecent = w[o + W_TS_RECENT]!;
  ep.lastAckSent = ep.rcvNxt;
  ep.cc.setMss(ep.mss);
  return ep;
}
