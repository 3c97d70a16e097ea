/**
 * Compact TIME-WAIT (Linux's `inet_timewait_sock`): a connection that
 * reaches TIME-WAIT with nothing left but the wait (closed by its user, no
 * data, timers or recovery pending) leaves the connection table and is kept
 * as a {@linkcode TimeWaitRecord} of its sequence, window, option and
 * statistics fields, in a table of its own with one stack timer for all of
 * them (every record waits the same 2×MSL, so they expire in insertion
 * order). A full endpoint weighs about 2 KiB of heap (its congestion
 * control, rate sampler and timer included) and, since thousands are kept
 * for a minute, every garbage collection copied or marked them: that was
 * more than half of the time of a connect/accept/close cycle.
 *
 * Nothing changes on the wire: a segment for a record makes it a full
 * endpoint again ({@linkcode TimeWaitTable.revive}), with every field the
 * TIME-WAIT processing reads restored (the rest were at their initial
 * values, or the connection would not have been compacted), the usual
 * code answers, and the endpoint is compacted again afterwards. The
 * record expires at the same instant the endpoint's timer would have
 * fired, publishing the same `connection-state` event. TIME-WAIT entries
 * still count towards `maxConnections` and still hold their 4-tuple.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Timer } from "../../timers.ts";
import { formatIpKeyPort, type IpKey } from "../../wire/ip_address.ts";
import type { TcpCore } from "./core.ts";
import { TcpEndpoint } from "./endpoint.ts";
import { ccState, isMapped, markMapped } from "./info.ts";
import { pacingRate } from "./pacing.ts";
import { CLOSED, type TcpState, TIME_WAIT } from "./state.ts";
import { tupleHash } from "./table.ts";
import { armTimer } from "./timers.ts";

/** Numbers kept per record (one row of {@linkcode TimeWaitTable}'s column store). */
const WIDTH = 66;
// Column of each number in a row.
const C_CLOSE_AT = 0;
const C_LOCAL_PORT = 1;
const C_REMOTE_PORT = 2;
const C_BITS = 3;
const C_LA4 = 4;
const C_RA4 = 5;
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
const C_ISS = 31;
const C_SND_MAX = 32;
const C_SND_WND = 33;
const C_SND_WL1 = 34;
const C_SND_WL2 = 35;
const C_MAX_SND_WND = 36;
const C_SND_BUF_START = 37;
const C_FIN_SEQ = 38;
const C_SND_SML = 39;
const C_IRS = 40;
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
const C_PACING_RATE = 63;
const C_MIN_RTT = 64;
const C_LAST_RATE = 65;
/** Strings kept per record: congestion control name, last soft error, phase shown by `ss`. */
const STRINGS = 3;
/** Bit of the bits column: the endpoint showed IPv4-mapped addresses. */
const MAPPED = 1 << 20;
/** Bit of the bits column: the rate sampler's last rate was app-limited. */
const LAST_RATE_APP_LIMITED = 1 << 21;
/** Bit of the bits column: the addresses are IPv6 (kept as key strings, not numbers). */
const IPV6 = 1 << 22;
/** Stale queue entries (revived records) tolerated beyond the live ones before the queue is rebuilt. */
const STALE_SLACK = 64;
/** Rows per chunk of the column store (log2): 16 rows, 8.4 KB. */
const CHUNK_SHIFT = 4;
/** Row index within its chunk. */
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;
/** Rows allocated at first use. */
const INITIAL_ROWS = 1 << CHUNK_SHIFT;

/**
 * Whether `ep` holds nothing beyond what a TIME-WAIT record
 * keeps: in TIME-WAIT, closed by its user, everything sent acknowledged,
 * no buffer, scoreboard, recovery, pending ACK, D-SACK, urgent data or
 * Fast Open cookie, and no deadline but the TIME-WAIT one (a buffer trim
 * is dropped: TIME-WAIT holds no buffer).
 */
export function canCompact(ep: TcpEndpoint): boolean {
  return ep.state === TIME_WAIT && ep.user === null && ep.listener === null &&
    ep.error === null && ep.closeAt !== 0 && ep.rtoAt === 0 && ep.delackAt === 0 &&
    ep.keepAt === 0 && ep.pmtuAt === 0 && ep.rackAt === 0 && ep.paceAt === 0 &&
    !ep.ackNow && ep.ackPendingBytes === 0 && !ep.ackAtFlush &&
    ep.sndUna === ep.sndMax && ep.sndNxt === ep.sndMax && ep.sndBuf === null &&
    ep.rcvBuf === null && ep.asm === null && ep.scoreboard === null && ep.rack === null &&
    ep.prr === null && ep.undo === null && !ep.inRecovery && ep.dsackLeft === ep.dsackRight &&
    !ep.urgentMode && ep.urgSeq === -1 && ep.oobByte === -1 && ep.tfoCookie === null;
}

/**
 * Whether `ep` is a TIME-WAIT endpoint compacted into a record: its
 * user's socket still holds it, but it is in no table and never changes
 * again (a segment revives a new endpoint; the record expires alone).
 */
export function isCompacted(ep: TcpEndpoint): boolean {
  return ep.state === TIME_WAIT &&
    ep.core.conns.lookup(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort) !== ep;
}

/**
 * The state a user's socket shows of `ep`: its own, or for a compacted
 * endpoint TIME-WAIT while its connection is still kept (as a record, or
 * revived) and CLOSED once it has ended, as the full endpoint would have.
 */
export function shownState(ep: TcpEndpoint): TcpState {
  if (!isCompacted(ep)) return ep.state;
  const core = ep.core;
  const cur = core.conns.lookup(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort);
  if (cur !== undefined) {
    return cur.state === TIME_WAIT && cur.iss === ep.iss && cur.irs === ep.irs ? TIME_WAIT : CLOSED;
  }
  return core.timeWait.holds(ep) ? TIME_WAIT : CLOSED;
}

/**
 * The TIME-WAIT records of one stack: a column store (a `Float64Array` row
 * of numbers per record, the few strings in a plain array), a chained hash
 * by 4-tuple in `Int32Array`s, and an expiry queue of (row, generation)
 * pairs in `closeAt` order. No object per record: the garbage collector
 * never sees them. Grown by doubling up to the records alive (bounded by
 * `maxConnections`), shrunk when they fall to a quarter, released when the
 * last one ends.
 */
export class TimeWaitTable {
  readonly #core: TcpCore;
  #rows = 0;
  /**
   * The numbers, in chunks of 16 rows: growing adds chunks and copies
   * nothing (copying, and touching fresh pages twice, made growth cost
   * more than the records).
   */
  #num: Float64Array[] = [];
  #str: string[] = [];
  /** IPv6 local and remote keys per row ("" for IPv4). */
  #v6: string[] = [];
  /** Next row in the hash chain, or the next free row; -1 ends. */
  #next = new Int32Array(0);
  /** Bumped when a row is freed: queue entries of an older generation are stale. */
  #gen = new Int32Array(0);
  /** Hash buckets (a power of two, twice the rows): first row, or -1. */
  #heads = new Int32Array(0);
  #free = -1;
  #size = 0;
  /** Expiry queue: row, generation, row, generation… from `#qHead` to `#qTail`. */
  #queue = new Int32Array(0);
  #qHead = 0;
  #qTail = 0;
  #stale = 0;
  #timer: Timer | null = null;

  /** An empty table for `core`'s connections (nothing allocated until the first record). */
  constructor(core: TcpCore) {
    this.#core = core;
  }

  /** Number of records. */
  get size(): number {
    return this.#size;
  }

  /** Whether a record holds a tuple. */
  has(la: IpKey, lp: number, ra: IpKey, rp: number): boolean {
    return this.#find(la, lp, ra, rp) >= 0;
  }

  /** Whether a record holds `ep`'s connection (its tuple, ISS and IRS). */
  holds(ep: TcpEndpoint): boolean {
    const row = this.#find(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort);
    if (row < 0) return false;
    const n = this.#num[row >> CHUNK_SHIFT]!;
    const o = (row & CHUNK_MASK) * WIDTH;
    return n[o + C_ISS] === ep.iss && n[o + C_IRS] === ep.irs;
  }

  #find(la: IpKey, lp: number, ra: IpKey, rp: number): number {
    if (this.#size === 0) return -1;
    const chunks = this.#num;
    const v4 = typeof la === "number";
    let row = this.#heads[tupleHash(la, lp, ra, rp) & (this.#heads.length - 1)]!;
    while (row >= 0) {
      const num = chunks[row >> CHUNK_SHIFT]!;
      const o = (row & CHUNK_MASK) * WIDTH;
      if (num[o + C_LOCAL_PORT] === lp && num[o + C_REMOTE_PORT] === rp) {
        if (v4) {
          if ((num[o + C_BITS]! & IPV6) === 0 && num[o + C_LA4] === la && num[o + C_RA4] === ra) {
            return row;
          }
        } else if (this.#v6[2 * row] === la && this.#v6[2 * row + 1] === ra) return row;
      }
      row = this.#next[row]!;
    }
    return -1;
  }

  /**
   * Compacts `ep` if it may be ({@linkcode canCompact}): it leaves the
   * connection table and its timer stops; a record takes its place, in
   * the expiry queue at its `closeAt`.
   */
  settle(ep: TcpEndpoint): void {
    if (!canCompact(ep)) return;
    if (this.#free < 0) this.#grow();
    const row = this.#free;
    this.#free = this.#next[row]!;
    this.#write(row, ep);
    const h = tupleHash(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort) &
      (this.#heads.length - 1);
    this.#next[row] = this.#heads[h]!;
    this.#heads[h] = row;
    this.#size++;
    this.#enqueue(row);
    this.#core.conns.remove(ep);
    ep.timer.cancel();
    const timer = this.#timer ??= this.#core.ctx.timer((now) => this.#expire(now));
    timer.armEarlier(ep.closeAt);
  }

  /**
   * Makes the record for a tuple a full endpoint again, in the connection
   * table with its timer armed, or returns undefined when there is none.
   */
  revive(la: IpKey, lp: number, ra: IpKey, rp: number): TcpEndpoint | undefined {
    const row = this.#find(la, lp, ra, rp);
    if (row < 0) return undefined;
    const ep = this.#endpoint(row);
    this.#remove(row);
    this.#stale++;
    // Bounded: the queue holds at most twice the live records, plus a little.
    if (this.#stale > STALE_SLACK && this.#stale > this.#size) this.#rebuildQueue();
    this.#core.conns.insert(ep);
    armTimer(ep);
    return ep;
  }

  /**
   * Detached endpoints showing every record, for `ss` (in no table, no
   * timer), each with what `ss` showed of its congestion control.
   */
  views(): Map<TcpEndpoint, { ccState: string; pacingRate: number }> {
    const out = new Map<TcpEndpoint, { ccState: string; pacingRate: number }>();
    for (let row = 0; row < this.#rows; row++) {
      if (!this.#live(row)) continue;
      out.set(this.#endpoint(row), {
        ccState: this.#str[row * STRINGS + 2]!,
        pacingRate: this.#num[row >> CHUNK_SHIFT]![(row & CHUNK_MASK) * WIDTH + C_PACING_RATE]!,
      });
    }
    return out;
  }

  /** Ends every TIME-WAIT now (the stack stops), with the usual events. */
  clear(): void {
    for (let row = 0; row < this.#rows; row++) {
      if (!this.#live(row)) continue;
      this.#closed(row);
      this.#remove(row);
    }
    this.#timer?.cancel();
    this.#release();
  }

  /** Whether `row` holds a record (free rows have closeAt -1). */
  #live(row: number): boolean {
    return this.#num[row >> CHUNK_SHIFT]![(row & CHUNK_MASK) * WIDTH + C_CLOSE_AT]! >= 0;
  }

  #write(row: number, ep: TcpEndpoint): void {
    const n = this.#num[row >> CHUNK_SHIFT]!;
    const o = (row & CHUNK_MASK) * WIDTH;
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
    this.#v6[2 * row] = v6 ? la as string : "";
    this.#v6[2 * row + 1] = v6 ? ra as string : "";
    const s = row * STRINGS;
    this.#str[s] = ep.ccName;
    this.#str[s + 1] = ep.softError;
    this.#str[s + 2] = ccState(ep);
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

  /** A new endpoint with the record's fields (not in any table, no timer). */
  #endpoint(row: number): TcpEndpoint {
    const n = this.#num[row >> CHUNK_SHIFT]!;
    const o = (row & CHUNK_MASK) * WIDTH;
    const b = n[o + C_BITS]!;
    const v6 = (b & IPV6) !== 0;
    const s = row * STRINGS;
    const ep = new TcpEndpoint(
      this.#core,
      {
        localAddr: v6 ? this.#v6[2 * row]! : n[o + C_LA4]!,
        localPort: n[o + C_LOCAL_PORT]!,
        remoteAddr: v6 ? this.#v6[2 * row + 1]! : n[o + C_RA4]!,
        remotePort: n[o + C_REMOTE_PORT]!,
      },
      (b & 1) !== 0,
      this.#str[s]!,
    );
    ep.resumeState(TIME_WAIT);
    ep.softError = this.#str[s + 1]!;
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

  /** Takes `row` out of the hash chains and frees it; its queue entry goes stale. */
  #remove(row: number): void {
    const n = this.#num[row >> CHUNK_SHIFT]!;
    const o = (row & CHUNK_MASK) * WIDTH;
    const v6 = (n[o + C_BITS]! & IPV6) !== 0;
    const h = tupleHash(
      v6 ? this.#v6[2 * row]! : n[o + C_LA4]!,
      n[o + C_LOCAL_PORT]!,
      v6 ? this.#v6[2 * row + 1]! : n[o + C_RA4]!,
      n[o + C_REMOTE_PORT]!,
    ) & (this.#heads.length - 1);
    const next = this.#next;
    let cur = this.#heads[h]!;
    let prev = -1;
    while (cur >= 0 && cur !== row) {
      prev = cur;
      cur = next[cur]!;
    }
    if (cur < 0) return;
    if (prev < 0) this.#heads[h] = next[row]!;
    else next[prev] = next[row]!;
    n[o + C_CLOSE_AT] = -1;
    this.#v6[2 * row] = this.#v6[2 * row + 1] = "";
    this.#str[row * STRINGS + 1] = ""; // a soft error's text is not kept alive
    this.#gen[row] = (this.#gen[row]! + 1) | 0;
    next[row] = this.#free;
    this.#free = row;
    this.#size--;
  }

  /** Doubles the rows (the first time: makes them), rehashing every record. */
  #grow(): void {
    const old = this.#rows;
    const rows = old === 0 ? INITIAL_ROWS : old * 2;
    const chunks = this.#num;
    for (let row = old; row < rows; row += 1 << CHUNK_SHIFT) {
      const chunk = new Float64Array(WIDTH << CHUNK_SHIFT);
      for (let i = 0; i < 1 << CHUNK_SHIFT; i++) chunk[i * WIDTH + C_CLOSE_AT] = -1;
      chunks.push(chunk);
    }
    const next = new Int32Array(rows);
    const gen = new Int32Array(rows);
    gen.set(this.#gen);
    for (let row = old; row < rows; row++) {
      this.#str.push("", "", "");
      this.#v6.push("", "");
    }
    const heads = new Int32Array(rows * 2).fill(-1);
    this.#gen = gen;
    this.#heads = heads;
    this.#next = next;
    // Rehash the records (every old row is live: rows are added only when none is free).
    for (let row = 0; row < old; row++) {
      const num = chunks[row >> CHUNK_SHIFT]!;
      const o = (row & CHUNK_MASK) * WIDTH;
      const v6 = (num[o + C_BITS]! & IPV6) !== 0;
      const h = tupleHash(
        v6 ? this.#v6[2 * row]! : num[o + C_LA4]!,
        num[o + C_LOCAL_PORT]!,
        v6 ? this.#v6[2 * row + 1]! : num[o + C_RA4]!,
        num[o + C_REMOTE_PORT]!,
      ) & (heads.length - 1);
      next[row] = heads[h]!;
      heads[h] = row;
    }
    // The new rows, on the free list in order.
    for (let row = rows - 1; row >= old; row--) {
      next[row] = this.#free;
      this.#free = row;
    }
    this.#rows = rows;
  }

  /** All records gone: give the storage back (an idle stack holds none). */
  #release(): void {
    this.#rows = 0;
    this.#num = [];
    this.#str = [];
    this.#v6 = [];
    this.#next = new Int32Array(0);
    this.#gen = new Int32Array(0);
    this.#heads = new Int32Array(0);
    this.#queue = new Int32Array(0);
    this.#free = -1;
    this.#size =
      this.#qHead =
      this.#qTail =
      this.#stale =
        0;
  }

  #enqueue(row: number): void {
    if (this.#qTail + 2 > this.#queue.length) {
      // Slide the live part to the front, growing if it is more than half full.
      const live = this.#qTail - this.#qHead;
      const q = live * 2 + 2 > this.#queue.length
        ? new Int32Array(Math.max(2 * INITIAL_ROWS, this.#queue.length * 2))
        : this.#queue;
      q.copyWithin(0, this.#qHead, this.#qTail);
      if (q !== this.#queue) q.set(this.#queue.subarray(this.#qHead, this.#qTail));
      this.#queue = q;
      this.#qHead = 0;
      this.#qTail = live;
    }
    // In closeAt order: a record revived to answer a segment that did not
    // restart 2×MSL (old data, a PAWS-old ACK) goes back before the newer
    // ones, or every probed record would stay a full endpoint.
    const q = this.#queue;
    const closeAt = this.#num[row >> CHUNK_SHIFT]![(row & CHUNK_MASK) * WIDTH + C_CLOSE_AT]!;
    let at = this.#qTail;
    while (at > this.#qHead) {
      const r = q[at - 2]!;
      const live = this.#gen[r] === q[at - 1];
      if (live && this.#num[r >> CHUNK_SHIFT]![(r & CHUNK_MASK) * WIDTH + C_CLOSE_AT]! <= closeAt) {
        break;
      }
      at -= 2;
    }
    if (at < this.#qTail) q.copyWithin(at + 2, at, this.#qTail);
    q[at] = row;
    q[at + 1] = this.#gen[row]!;
    this.#qTail += 2;
  }

  #rebuildQueue(): void {
    const q = this.#queue;
    let w = 0;
    for (let i = this.#qHead; i < this.#qTail; i += 2) {
      const row = q[i]!;
      if (this.#gen[row] !== q[i + 1]) continue;
      q[w++] = row;
      q[w++] = q[i + 1]!;
    }
    this.#qHead = 0;
    this.#qTail = w;
    this.#stale = 0;
  }

  /** The timer: ends every TIME-WAIT due by `now`, then waits for the next. */
  #expire(now: Instant): void {
    const q = this.#queue;
    while (this.#qHead < this.#qTail) {
      const row = q[this.#qHead]!;
      if (this.#gen[row] === q[this.#qHead + 1]) {
        if (this.#num[row >> CHUNK_SHIFT]![(row & CHUNK_MASK) * WIDTH + C_CLOSE_AT]! > now) break;
        this.#closed(row);
        this.#remove(row);
      } else this.#stale--;
      this.#qHead += 2;
    }
    if (this.#size === 0) {
      this.#release();
      return;
    }
    if (this.#rows > INITIAL_ROWS && this.#size <= this.#rows >> 2) this.#shrink();
    const row = this.#queue[this.#qHead]!;
    this.#timer!.arm(this.#num[row >> CHUNK_SHIFT]![(row & CHUNK_MASK) * WIDTH + C_CLOSE_AT]!);
  }

  /**
   * The records fell to a quarter of the rows: moves them, in expiry
   * order, to a store of the smallest power of two at least twice their
   * number, so that a burst of closes does not keep its storage for as
   * long as any record lives (under steady load, for ever). Amortized:
   * the rows at least halve for a copy of a quarter of them.
   */
  #shrink(): void {
    let rows = INITIAL_ROWS;
    while (rows < 2 * this.#size) rows *= 2;
    const num: Float64Array[] = [];
    for (let r = 0; r < rows; r += 1 << CHUNK_SHIFT) {
      const chunk = new Float64Array(WIDTH << CHUNK_SHIFT);
      for (let i = 0; i < 1 << CHUNK_SHIFT; i++) chunk[i * WIDTH + C_CLOSE_AT] = -1;
      num.push(chunk);
    }
    const str: string[] = new Array(rows * STRINGS).fill("");
    const v6: string[] = new Array(rows * 2).fill("");
    const next = new Int32Array(rows);
    const heads = new Int32Array(rows * 2).fill(-1);
    const queue = new Int32Array(Math.max(2 * INITIAL_ROWS, 4 * this.#size));
    const q = this.#queue;
    let w = 0;
    for (let i = this.#qHead; i < this.#qTail; i += 2) {
      const row = q[i]!;
      if (this.#gen[row] !== q[i + 1]) continue; // stale
      const from = this.#num[row >> CHUNK_SHIFT]!;
      const o = (row & CHUNK_MASK) * WIDTH;
      const to = num[w >> CHUNK_SHIFT]!;
      to.set(from.subarray(o, o + WIDTH), (w & CHUNK_MASK) * WIDTH);
      for (let k = 0; k < STRINGS; k++) str[w * STRINGS + k] = this.#str[row * STRINGS + k]!;
      v6[2 * w] = this.#v6[2 * row]!;
      v6[2 * w + 1] = this.#v6[2 * row + 1]!;
      const isV6 = (from[o + C_BITS]! & IPV6) !== 0;
      const h = tupleHash(
        isV6 ? v6[2 * w]! : from[o + C_LA4]!,
        from[o + C_LOCAL_PORT]!,
        isV6 ? v6[2 * w + 1]! : from[o + C_RA4]!,
        from[o + C_REMOTE_PORT]!,
      ) & (heads.length - 1);
      next[w] = heads[h]!;
      heads[h] = w;
      queue[2 * w] = w; // generation 0
      w++;
    }
    this.#free = -1;
    for (let row = rows - 1; row >= w; row--) {
      next[row] = this.#free;
      this.#free = row;
    }
    this.#num = num;
    this.#str = str;
    this.#v6 = v6;
    this.#next = next;
    this.#gen = new Int32Array(rows);
    this.#heads = heads;
    this.#queue = queue;
    this.#qHead = this.#stale = 0;
    this.#qTail = 2 * w;
    this.#rows = rows;
  }

  /** What the endpoint's destroy() would publish: TIME-WAIT → CLOSED. */
  #closed(row: number): void {
    const ctx = this.#core.ctx;
    if (!ctx.hasEventListeners("connection-state")) return;
    const n = this.#num[row >> CHUNK_SHIFT]!;
    const o = (row & CHUNK_MASK) * WIDTH;
    const v6 = (n[o + C_BITS]! & IPV6) !== 0;
    ctx.publish({
      type: "connection-state",
      plugin: "tcp",
      local: formatIpKeyPort(v6 ? this.#v6[2 * row]! : n[o + C_LA4]!, n[o + C_LOCAL_PORT]!),
      remote: formatIpKeyPort(v6 ? this.#v6[2 * row + 1]! : n[o + C_RA4]!, n[o + C_REMOTE_PORT]!),
      from: "TIME-WAIT",
      to: "CLOSED",
    });
  }
}
