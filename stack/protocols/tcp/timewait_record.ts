/**
 * One compact TIME-WAIT record (`timewait_table.ts`): the columns of its
 * row of numbers, and the copies between a full endpoint and a row (the
 * table keeps the storage, the hash and the expiry queue).
 *
 * @module
 */
import type { IpKey } from "../../wire/ip_address.ts";
import type { TcpCore } from "./core.ts";
import { TcpEndpoint } from "./endpoint.ts";
import { ccState, isMapped, markMapped } from "./info.ts";
import { pacingRate } from "./pacing.ts";
import { TIME_WAIT } from "./state.ts";

/** Numbers kept per record (one row of the TIME-WAIT table's column store). */
export const WIDTH = 66;
// Column of each number in a row.
/** Column: when the TIME-WAIT ends (µs), or 0 for a free row. */
export const C_CLOSE_AT = 0;
/** Column: local port. */
export const C_LOCAL_PORT = 1;
/** Column: remote port. */
export const C_REMOTE_PORT = 2;
/** Column: flag bits (booleans, {@linkcode IPV6}). */
export const C_BITS = 3;
/** Column: IPv4 local address (0 for IPv6). */
export const C_LA4 = 4;
/** Column: IPv4 remote address (0 for IPv6). */
export const C_RA4 = 5;
const C_SCOPE = 6;
const C_SND_WSCALE = 7;
const C_RCV_WSCALE = 8;
const C_MSS = 9;
const C_ADV_MSS = 10;
const C_RCV_MSS = 11;
const C_PEER_MSS = 12;
const C_TSO_MAX = 13;
const C_QUICK_ACKS = 14;
const C_RTO = 15;
const C_BACKOFF = 16;
const C_RETRIES = 17;
const C_DUP_ACKS = 18;
const C_PROBES_OUT = 19;
const C_KA_PROBES = 20;
const C_RTT_SAMPLES = 21;
const C_SEGS_IN = 22;
const C_SEGS_OUT = 23;
const C_RETRANS_SEGS = 24;
const C_DSACKS_IN = 25;
const C_SPURIOUS_UNDOS = 26;
const C_ECN_CE_SEGS = 27;
const C_ECN_ECE_SEGS = 28;
const C_ECN_REDUCTIONS = 29;
const C_TFO_SYN_LEN = 30;
/** Column: ISS. */
export const C_ISS = 31;
const C_SND_MAX = 32;
const C_SND_WND = 33;
const C_SND_WL1 = 34;
const C_SND_WL2 = 35;
const C_MAX_SND_WND = 36;
const C_SND_BUF_START = 37;
const C_FIN_SEQ = 38;
const C_SND_SML = 39;
/** Column: IRS. */
export const C_IRS = 40;
const C_RCV_NXT = 41;
const C_RCV_ADV = 42;
const C_FIN_RECV_SEQ = 43;
const C_TS_RECENT = 44;
const C_TS_RECENT_AT = 45;
const C_LAST_ACK_SENT = 46;
const C_SRTT = 47;
const C_RTTVAR = 48;
const C_RTT_SEQ = 49;
const C_RTT_START = 50;
const C_RECOVER = 51;
const C_HIGH_RXT = 52;
const C_LAST_RECV = 53;
const C_LAST_INVALID_ACK = 54;
const C_REACH_HINT_AT = 55;
const C_BYTES_ACKED = 56;
const C_BYTES_RECEIVED = 57;
const C_PACE_NEXT = 58;
const C_ECN_RECOVER = 59;
const C_SND_UP = 60;
const C_CWND = 61;
const C_SSTHRESH = 62;
/** Column: the pacing rate `ss` showed. */
export const C_PACING_RATE = 63;
const C_MIN_RTT = 64;
const C_LAST_RATE = 65;
/** Strings kept per record: congestion control name, last soft error, phase shown by `ss`. */
export const STRINGS = 3;
/** Bit of the bits column: the endpoint showed IPv4-mapped addresses. */
const MAPPED = 1 << 20;
/** Bit of the bits column: the rate sampler's last rate was app-limited. */
const LAST_RATE_APP_LIMITED = 1 << 21;
/** Bit of the bits column: the addresses are IPv6 (kept as key strings, not numbers). */
export const IPV6 = 1 << 22;

/**
 * Copies what TIME-WAIT needs of `ep` into the row at `n[o…]` and its
 * strings into `str[s…]` (IPv6 addresses are left to the caller: the row
 * holds IPv4 ones only).
 */
export function writeRecord(
  n: Float64Array,
  o: number,
  str: string[],
  s: number,
  ep: TcpEndpoint,
): void {
  const la = ep.localAddr;
  const ra = ep.remoteAddr;
  const v6 = typeof la !== "number";
  n[o + C_BITS] = (ep.passive ? 1 : 0) |
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
    (ep.ecnEce ? 16384 : 0) |
    (ep.ecnCwr ? 32768 : 0) |
    (ep.ecnRecoverSet ? 65536 : 0) |
    (ep.tfoChild ? 131072 : 0) |
    (ep.oobInline ? 262144 : 0) |
    (ep.urgTaken ? 524288 : 0) |
    (isMapped(ep) ? MAPPED : 0) |
    (ep.rate.lastRateAppLimited ? LAST_RATE_APP_LIMITED : 0) |
    (v6 ? IPV6 : 0);
  n[o + C_CLOSE_AT] = ep.closeAt;
  n[o + C_LOCAL_PORT] = ep.localPort;
  n[o + C_REMOTE_PORT] = ep.remotePort;
  n[o + C_LA4] = v6 ? 0 : la as number;
  n[o + C_RA4] = v6 ? 0 : ra as number;
  str[s] = ep.ccName;
  str[s + 1] = ep.softError;
  str[s + 2] = ccState(ep);
  n[o + C_SCOPE] = ep.scope;
  n[o + C_SND_WSCALE] = ep.sndWscale;
  n[o + C_RCV_WSCALE] = ep.rcvWscale;
  n[o + C_MSS] = ep.mss;
  n[o + C_ADV_MSS] = ep.advMss;
  n[o + C_RCV_MSS] = ep.rcvMss;
  n[o + C_PEER_MSS] = ep.peerMss;
  n[o + C_TSO_MAX] = ep.tsoMax;
  n[o + C_QUICK_ACKS] = ep.quickAcks;
  n[o + C_RTO] = ep.rto;
  n[o + C_BACKOFF] = ep.backoff;
  n[o + C_RETRIES] = ep.retries;
  n[o + C_DUP_ACKS] = ep.dupAcks;
  n[o + C_PROBES_OUT] = ep.probesOut;
  n[o + C_KA_PROBES] = ep.kaProbes;
  n[o + C_RTT_SAMPLES] = ep.rttSamples;
  n[o + C_SEGS_IN] = ep.segsIn;
  n[o + C_SEGS_OUT] = ep.segsOut;
  n[o + C_RETRANS_SEGS] = ep.retransSegs;
  n[o + C_DSACKS_IN] = ep.dsacksIn;
  n[o + C_SPURIOUS_UNDOS] = ep.spuriousUndos;
  n[o + C_ECN_CE_SEGS] = ep.ecnCeSegs;
  n[o + C_ECN_ECE_SEGS] = ep.ecnEceSegs;
  n[o + C_ECN_REDUCTIONS] = ep.ecnReductions;
  n[o + C_TFO_SYN_LEN] = ep.tfoSynLen;
  n[o + C_ISS] = ep.iss;
  n[o + C_SND_MAX] = ep.sndMax;
  n[o + C_SND_WND] = ep.sndWnd;
  n[o + C_SND_WL1] = ep.sndWl1;
  n[o + C_SND_WL2] = ep.sndWl2;
  n[o + C_MAX_SND_WND] = ep.maxSndWnd;
  n[o + C_SND_BUF_START] = ep.sndBufStart;
  n[o + C_FIN_SEQ] = ep.finSeq;
  n[o + C_SND_SML] = ep.sndSml;
  n[o + C_IRS] = ep.irs;
  n[o + C_RCV_NXT] = ep.rcvNxt;
  n[o + C_RCV_ADV] = ep.rcvAdv;
  n[o + C_FIN_RECV_SEQ] = ep.finRecvSeq;
  n[o + C_TS_RECENT] = ep.tsRecent;
  n[o + C_TS_RECENT_AT] = ep.tsRecentAt;
  n[o + C_LAST_ACK_SENT] = ep.lastAckSent;
  n[o + C_SRTT] = ep.srtt;
  n[o + C_RTTVAR] = ep.rttvar;
  n[o + C_RTT_SEQ] = ep.rttSeq;
  n[o + C_RTT_START] = ep.rttStart;
  n[o + C_RECOVER] = ep.recover;
  n[o + C_HIGH_RXT] = ep.highRxt;
  n[o + C_LAST_RECV] = ep.lastRecv;
  n[o + C_LAST_INVALID_ACK] = ep.lastInvalidAck;
  n[o + C_REACH_HINT_AT] = ep.reachHintAt;
  n[o + C_BYTES_ACKED] = ep.bytesAcked;
  n[o + C_BYTES_RECEIVED] = ep.bytesReceived;
  n[o + C_PACE_NEXT] = ep.paceNext;
  n[o + C_ECN_RECOVER] = ep.ecnRecover;
  n[o + C_SND_UP] = ep.sndUp;
  n[o + C_CWND] = ep.cc.cwnd;
  n[o + C_SSTHRESH] = ep.cc.ssthresh;
  n[o + C_PACING_RATE] = pacingRate(ep);
  n[o + C_MIN_RTT] = ep.rate.minRtt;
  n[o + C_LAST_RATE] = ep.rate.lastRate;
}

/**
 * A new endpoint of `core` with the record's fields (not in any table, no
 * timer); an IPv6 record's addresses are `v6Local` and `v6Remote`.
 */
export function readRecord(
  core: TcpCore,
  n: Float64Array,
  o: number,
  str: readonly string[],
  s: number,
  v6Local: IpKey,
  v6Remote: IpKey,
): TcpEndpoint {
  const b = n[o + C_BITS]!;
  const v6 = (b & IPV6) !== 0;
  const ep = new TcpEndpoint(
    core,
    {
      localAddr: v6 ? v6Local : n[o + C_LA4]!,
      localPort: n[o + C_LOCAL_PORT]!,
      remoteAddr: v6 ? v6Remote : n[o + C_RA4]!,
      remotePort: n[o + C_REMOTE_PORT]!,
    },
    (b & 1) !== 0,
    str[s]!,
  );
  ep.resumeState(TIME_WAIT);
  ep.softError = str[s + 1]!;
  ep.closeAt = n[o + C_CLOSE_AT]!;
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
  ep.ecnEce = (b & 16384) !== 0;
  ep.ecnCwr = (b & 32768) !== 0;
  ep.ecnRecoverSet = (b & 65536) !== 0;
  ep.tfoChild = (b & 131072) !== 0;
  ep.oobInline = (b & 262144) !== 0;
  ep.urgTaken = (b & 524288) !== 0;
  if ((b & MAPPED) !== 0) markMapped(ep);
  ep.scope = n[o + C_SCOPE]!;
  ep.sndWscale = n[o + C_SND_WSCALE]!;
  ep.rcvWscale = n[o + C_RCV_WSCALE]!;
  ep.mss = n[o + C_MSS]!;
  ep.advMss = n[o + C_ADV_MSS]!;
  ep.rcvMss = n[o + C_RCV_MSS]!;
  ep.peerMss = n[o + C_PEER_MSS]!;
  ep.tsoMax = n[o + C_TSO_MAX]!;
  ep.quickAcks = n[o + C_QUICK_ACKS]!;
  ep.rto = n[o + C_RTO]!;
  ep.backoff = n[o + C_BACKOFF]!;
  ep.retries = n[o + C_RETRIES]!;
  ep.dupAcks = n[o + C_DUP_ACKS]!;
  ep.probesOut = n[o + C_PROBES_OUT]!;
  ep.kaProbes = n[o + C_KA_PROBES]!;
  ep.rttSamples = n[o + C_RTT_SAMPLES]!;
  ep.segsIn = n[o + C_SEGS_IN]!;
  ep.segsOut = n[o + C_SEGS_OUT]!;
  ep.retransSegs = n[o + C_RETRANS_SEGS]!;
  ep.dsacksIn = n[o + C_DSACKS_IN]!;
  ep.spuriousUndos = n[o + C_SPURIOUS_UNDOS]!;
  ep.ecnCeSegs = n[o + C_ECN_CE_SEGS]!;
  ep.ecnEceSegs = n[o + C_ECN_ECE_SEGS]!;
  ep.ecnReductions = n[o + C_ECN_REDUCTIONS]!;
  ep.tfoSynLen = n[o + C_TFO_SYN_LEN]!;
  ep.iss = n[o + C_ISS]!;
  ep.sndUna = ep.sndNxt = ep.sndMax = n[o + C_SND_MAX]!;
  ep.sndWnd = n[o + C_SND_WND]!;
  ep.sndWl1 = n[o + C_SND_WL1]!;
  ep.sndWl2 = n[o + C_SND_WL2]!;
  ep.maxSndWnd = n[o + C_MAX_SND_WND]!;
  ep.sndBufStart = n[o + C_SND_BUF_START]!;
  ep.finSeq = n[o + C_FIN_SEQ]!;
  ep.sndSml = n[o + C_SND_SML]!;
  ep.irs = n[o + C_IRS]!;
  ep.rcvNxt = n[o + C_RCV_NXT]!;
  ep.rcvAdv = n[o + C_RCV_ADV]!;
  ep.finRecvSeq = n[o + C_FIN_RECV_SEQ]!;
  ep.tsRecent = n[o + C_TS_RECENT]!;
  ep.tsRecentAt = n[o + C_TS_RECENT_AT]!;
  ep.lastAckSent = n[o + C_LAST_ACK_SENT]!;
  ep.srtt = n[o + C_SRTT]!;
  ep.rttvar = n[o + C_RTTVAR]!;
  ep.rttSeq = n[o + C_RTT_SEQ]!;
  ep.rttStart = n[o + C_RTT_START]!;
  ep.recover = n[o + C_RECOVER]!;
  ep.highRxt = n[o + C_HIGH_RXT]!;
  ep.lastRecv = n[o + C_LAST_RECV]!;
  ep.lastInvalidAck = n[o + C_LAST_INVALID_ACK]!;
  ep.reachHintAt = n[o + C_REACH_HINT_AT]!;
  ep.bytesAcked = n[o + C_BYTES_ACKED]!;
  ep.bytesReceived = n[o + C_BYTES_RECEIVED]!;
  ep.paceNext = n[o + C_PACE_NEXT]!;
  ep.ecnRecover = n[o + C_ECN_RECOVER]!;
  ep.sndUp = n[o + C_SND_UP]!;
  // TIME-WAIT sends no data: the congestion control and the rate sampler
  // only need to show what they showed (`ss`).
  ep.cc.setMss(ep.mss);
  ep.cc.cwnd = n[o + C_CWND]!;
  ep.cc.ssthresh = n[o + C_SSTHRESH]!;
  ep.rate.minRtt = n[o + C_MIN_RTT]!;
  ep.rate.lastRate = n[o + C_LAST_RATE]!;
  ep.rate.lastRateAppLimited = (b & LAST_RATE_APP_LIMITED) !== 0;
  return ep;
}
