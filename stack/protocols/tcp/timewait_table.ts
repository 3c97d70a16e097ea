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
import { TIME_WAIT } from "./state.ts";
import { tupleHash } from "./table.ts";
import { armTimer } from "./timers.ts";

/** Dead records (revived or removed) the queue tolerates beyond the live ones before it is rebuilt. */
const DEAD_SLACK = 64;

/** Bit of {@linkcode TimeWaitRecord.bits}: the endpoint showed IPv4-mapped addresses. */
const MAPPED = 1 << 20;
/** Bit of {@linkcode TimeWaitRecord.bits}: the rate sampler's last rate was app-limited. */
const LAST_RATE_APP_LIMITED = 1 << 21;
/** Index of the pacing rate in {@linkcode TimeWaitRecord.d}. */
const PACING_RATE = 32;

/** What is left of a connection in TIME-WAIT: the fields its segments and `ss` read. */
export class TimeWaitRecord {
  /** Next record in the hash chain. */
  hashNext: TimeWaitRecord | undefined = undefined;
  /** Revived or removed: skipped by the expiry queue. */
  dead = false;
  readonly localAddr: IpKey;
  readonly localPort: number;
  readonly remoteAddr: IpKey;
  readonly remotePort: number;
  /** When TIME-WAIT ends. */
  readonly closeAt: Instant;
  readonly ccName: string;
  readonly softError: string;
  /** The congestion control's phase `ss` showed (`info.ts` `ccState`). */
  readonly ccState: string;
  /** The endpoint's boolean fields, one bit each (`BOOLS` order), and whether it showed IPv4-mapped. */
  readonly bits: number;
  readonly scope: number;
  readonly sndWscale: number;
  readonly rcvWscale: number;
  readonly mss: number;
  readonly advMss: number;
  readonly rcvMss: number;
  readonly peerMss: number;
  readonly tsoMax: number;
  readonly quickAcks: number;
  readonly rto: number;
  readonly backoff: number;
  readonly retries: number;
  readonly dupAcks: number;
  readonly probesOut: number;
  readonly kaProbes: number;
  readonly rttSamples: number;
  readonly segsIn: number;
  readonly segsOut: number;
  readonly retransSegs: number;
  readonly dsacksIn: number;
  readonly spuriousUndos: number;
  readonly ecnCeSegs: number;
  readonly ecnEceSegs: number;
  readonly ecnReductions: number;
  readonly tfoSynLen: number;
  /**
   * Fields that are often not small integers (sequence numbers, times,
   * RTT estimates), unboxed in one array of doubles (`DOUBLES` order), then
   * what `ss` showed of the congestion control and rate sampler.
   */
  readonly d: number[];

  /** Copies what TIME-WAIT needs of `ep` (see {@linkcode canCompact}). */
  constructor(ep: TcpEndpoint) {
    this.localAddr = ep.localAddr;
    this.localPort = ep.localPort;
    this.remoteAddr = ep.remoteAddr;
    this.remotePort = ep.remotePort;
    this.closeAt = ep.closeAt;
    this.ccName = ep.ccName;
    this.softError = ep.softError;
    this.ccState = ccState(ep);
    this.bits = (ep.passive ? 1 : 0) |
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
      (ep.rate.lastRateAppLimited ? LAST_RATE_APP_LIMITED : 0);
    this.scope = ep.scope;
    this.sndWscale = ep.sndWscale;
    this.rcvWscale = ep.rcvWscale;
    this.mss = ep.mss;
    this.advMss = ep.advMss;
    this.rcvMss = ep.rcvMss;
    this.peerMss = ep.peerMss;
    this.tsoMax = ep.tsoMax;
    this.quickAcks = ep.quickAcks;
    this.rto = ep.rto;
    this.backoff = ep.backoff;
    this.retries = ep.retries;
    this.dupAcks = ep.dupAcks;
    this.probesOut = ep.probesOut;
    this.kaProbes = ep.kaProbes;
    this.rttSamples = ep.rttSamples;
    this.segsIn = ep.segsIn;
    this.segsOut = ep.segsOut;
    this.retransSegs = ep.retransSegs;
    this.dsacksIn = ep.dsacksIn;
    this.spuriousUndos = ep.spuriousUndos;
    this.ecnCeSegs = ep.ecnCeSegs;
    this.ecnEceSegs = ep.ecnEceSegs;
    this.ecnReductions = ep.ecnReductions;
    this.tfoSynLen = ep.tfoSynLen;
    const cc = ep.cc;
    const rate = ep.rate;
    this.d = [
      ep.iss,
      ep.sndMax,
      ep.sndWnd,
      ep.sndWl1,
      ep.sndWl2,
      ep.maxSndWnd,
      ep.sndBufStart,
      ep.finSeq,
      ep.sndSml,
      ep.irs,
      ep.rcvNxt,
      ep.rcvAdv,
      ep.finRecvSeq,
      ep.tsRecent,
      ep.tsRecentAt,
      ep.lastAckSent,
      ep.srtt,
      ep.rttvar,
      ep.rttSeq,
      ep.rttStart,
      ep.recover,
      ep.highRxt,
      ep.lastRecv,
      ep.lastInvalidAck,
      ep.reachHintAt,
      ep.bytesAcked,
      ep.bytesReceived,
      ep.paceNext,
      ep.ecnRecover,
      ep.sndUp,
      cc.cwnd,
      cc.ssthresh,
      pacingRate(ep),
      rate.minRtt,
      rate.lastRate,
    ];
  }

  /** The pacing rate `ss` showed. */
  get pacingRate(): number {
    return this.d[PACING_RATE]!;
  }

  /** Restores the fields into `ep`, a new endpoint for the same tuple. */
  restore(ep: TcpEndpoint): void {
    const b = this.bits;
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
    ep.scope = this.scope;
    ep.sndWscale = this.sndWscale;
    ep.rcvWscale = this.rcvWscale;
    ep.mss = this.mss;
    ep.advMss = this.advMss;
    ep.rcvMss = this.rcvMss;
    ep.peerMss = this.peerMss;
    ep.tsoMax = this.tsoMax;
    ep.quickAcks = this.quickAcks;
    ep.rto = this.rto;
    ep.backoff = this.backoff;
    ep.retries = this.retries;
    ep.dupAcks = this.dupAcks;
    ep.probesOut = this.probesOut;
    ep.kaProbes = this.kaProbes;
    ep.rttSamples = this.rttSamples;
    ep.segsIn = this.segsIn;
    ep.segsOut = this.segsOut;
    ep.retransSegs = this.retransSegs;
    ep.dsacksIn = this.dsacksIn;
    ep.spuriousUndos = this.spuriousUndos;
    ep.ecnCeSegs = this.ecnCeSegs;
    ep.ecnEceSegs = this.ecnEceSegs;
    ep.ecnReductions = this.ecnReductions;
    ep.tfoSynLen = this.tfoSynLen;
    const d = this.d;
    ep.iss = d[0]!;
    ep.sndUna = ep.sndNxt = ep.sndMax = d[1]!;
    ep.sndWnd = d[2]!;
    ep.sndWl1 = d[3]!;
    ep.sndWl2 = d[4]!;
    ep.maxSndWnd = d[5]!;
    ep.sndBufStart = d[6]!;
    ep.finSeq = d[7]!;
    ep.sndSml = d[8]!;
    ep.irs = d[9]!;
    ep.rcvNxt = d[10]!;
    ep.rcvAdv = d[11]!;
    ep.finRecvSeq = d[12]!;
    ep.tsRecent = d[13]!;
    ep.tsRecentAt = d[14]!;
    ep.lastAckSent = d[15]!;
    ep.srtt = d[16]!;
    ep.rttvar = d[17]!;
    ep.rttSeq = d[18]!;
    ep.rttStart = d[19]!;
    ep.recover = d[20]!;
    ep.highRxt = d[21]!;
    ep.lastRecv = d[22]!;
    ep.lastInvalidAck = d[23]!;
    ep.reachHintAt = d[24]!;
    ep.bytesAcked = d[25]!;
    ep.bytesReceived = d[26]!;
    ep.paceNext = d[27]!;
    ep.ecnRecover = d[28]!;
    ep.sndUp = d[29]!;
    ep.softError = this.softError;
    ep.closeAt = this.closeAt;
    // TIME-WAIT sends no data: the congestion control and the rate sampler
    // only need to show what they showed (`ss`).
    ep.cc.setMss(ep.mss);
    ep.cc.cwnd = d[30]!;
    ep.cc.ssthresh = d[31]!;
    ep.rate.minRtt = d[33]!;
    ep.rate.lastRate = d[34]!;
    ep.rate.lastRateAppLimited = (b & LAST_RATE_APP_LIMITED) !== 0;
  }
}

/**
 * Whether `ep` holds nothing beyond what a {@linkcode TimeWaitRecord}
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

/** The TIME-WAIT records of one stack, by 4-tuple, and their expiry queue. */
export class TimeWaitTable {
  readonly #core: TcpCore;
  // Made on first use: a stack that never closes a connection holds none.
  #buckets: Map<number, TimeWaitRecord> | null = null;
  /** Records in `closeAt` order (dead ones are skipped). */
  #queue: TimeWaitRecord[] = [];
  #head = 0;
  #dead = 0;
  #size = 0;
  #timer: Timer | null = null;

  /** An empty table for `core`'s connections. */
  constructor(core: TcpCore) {
    this.#core = core;
  }

  /** Number of records. */
  get size(): number {
    return this.#size;
  }

  /** The record for a tuple, or undefined. */
  lookup(la: IpKey, lp: number, ra: IpKey, rp: number): TimeWaitRecord | undefined {
    if (this.#size === 0) return undefined;
    let r = this.#buckets!.get(tupleHash(la, lp, ra, rp));
    while (r !== undefined) {
      if (
        r.remoteAddr === ra && r.remotePort === rp && r.localPort === lp && r.localAddr === la
      ) return r;
      r = r.hashNext;
    }
    return undefined;
  }

  /**
   * Compacts `ep` if it may be ({@linkcode canCompact}): it leaves the
   * connection table and its timer stops; a record takes its place.
   */
  settle(ep: TcpEndpoint): void {
    if (!canCompact(ep)) return;
    const core = this.#core;
    core.conns.remove(ep);
    ep.timer.cancel();
    const r = new TimeWaitRecord(ep);
    const buckets = this.#buckets ??= new Map();
    const h = tupleHash(r.localAddr, r.localPort, r.remoteAddr, r.remotePort);
    r.hashNext = buckets.get(h);
    buckets.set(h, r);
    this.#size++;
    this.#enqueue(r);
  }

  /**
   * Makes the record for a tuple a full endpoint again, in the connection
   * table with its timer armed, or returns undefined when there is none.
   */
  revive(la: IpKey, lp: number, ra: IpKey, rp: number): TcpEndpoint | undefined {
    const r = this.lookup(la, lp, ra, rp);
    if (r === undefined) return undefined;
    this.#remove(r);
    // Bounded: the queue holds at most twice the live records, plus a little.
    if (this.#dead > DEAD_SLACK && this.#dead > this.#size) this.#compactQueue();
    const ep = this.#endpoint(r);
    this.#core.conns.insert(ep);
    armTimer(ep);
    return ep;
  }

  /**
   * Detached endpoints showing every record, for `ss` (in no table, no
   * timer), each with its record.
   */
  views(): Map<TcpEndpoint, TimeWaitRecord> {
    const out = new Map<TcpEndpoint, TimeWaitRecord>();
    if (this.#buckets === null) return out;
    for (const head of this.#buckets.values()) {
      for (let r: TimeWaitRecord | undefined = head; r !== undefined; r = r.hashNext) {
        out.set(this.#endpoint(r), r);
      }
    }
    return out;
  }

  /** Ends every TIME-WAIT now (the stack stops), with the usual events. */
  clear(): void {
    if (this.#buckets === null) return;
    const all: TimeWaitRecord[] = [];
    for (const head of this.#buckets.values()) {
      for (let r: TimeWaitRecord | undefined = head; r !== undefined; r = r.hashNext) all.push(r);
    }
    for (const r of all) {
      this.#remove(r);
      this.#closed(r);
    }
    this.#queue = [];
    this.#head = this.#dead = 0;
    this.#timer?.cancel();
  }

  #endpoint(r: TimeWaitRecord): TcpEndpoint {
    const ep = new TcpEndpoint(this.#core, r, (r.bits & 1) !== 0, r.ccName);
    ep.resumeState(TIME_WAIT);
    r.restore(ep);
    return ep;
  }

  /** Takes `r` out of the hash table; the queue skips it from now on. */
  #remove(r: TimeWaitRecord): void {
    const buckets = this.#buckets!;
    const h = tupleHash(r.localAddr, r.localPort, r.remoteAddr, r.remotePort);
    let cur = buckets.get(h);
    let prev: TimeWaitRecord | undefined;
    while (cur !== undefined && cur !== r) {
      prev = cur;
      cur = cur.hashNext;
    }
    if (cur === undefined) return;
    if (prev === undefined) {
      if (r.hashNext === undefined) buckets.delete(h);
      else buckets.set(h, r.hashNext);
    } else prev.hashNext = r.hashNext;
    r.hashNext = undefined;
    r.dead = true;
    this.#size--;
    this.#dead++;
  }

  #enqueue(r: TimeWaitRecord): void {
    const q = this.#queue;
    const last = q.length > this.#head ? q[q.length - 1]! : undefined;
    if (last === undefined || last.closeAt <= r.closeAt) q.push(r);
    else {
      // Rare: an endpoint that waited in TIME-WAIT with its user, compacted late.
      let lo = this.#head, hi = q.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (q[mid]!.closeAt <= r.closeAt) lo = mid + 1;
        else hi = mid;
      }
      q.splice(lo, 0, r);
    }
    const timer = this.#timer ??= this.#core.ctx.timer((now) => this.#expire(now));
    timer.armEarlier(r.closeAt);
  }

  #compactQueue(): void {
    const live = this.#queue.filter((r, i) => i >= this.#head && !r.dead);
    this.#queue = live;
    this.#head = 0;
    this.#dead = 0;
  }

  /** The timer: ends every TIME-WAIT due by `now`, then waits for the next. */
  #expire(now: Instant): void {
    const q = this.#queue;
    while (this.#head < q.length) {
      const r = q[this.#head]!;
      if (!r.dead) {
        if (r.closeAt > now) break;
        this.#remove(r);
        this.#closed(r);
      }
      this.#head++;
      this.#dead--;
    }
    if (this.#head === q.length) {
      q.length = this.#head = 0;
    } else if (this.#head > 1024 && 2 * this.#head > q.length) {
      q.splice(0, this.#head);
      this.#head = 0;
    }
    const next = q[this.#head];
    if (next !== undefined) this.#timer!.arm(next.closeAt);
  }

  /** What the endpoint's destroy() would publish: TIME-WAIT → CLOSED. */
  #closed(r: TimeWaitRecord): void {
    const ctx = this.#core.ctx;
    if (!ctx.hasEventListeners("connection-state")) return;
    ctx.publish({
      type: "connection-state",
      plugin: "tcp",
      local: formatIpKeyPort(r.localAddr, r.localPort),
      remote: formatIpKeyPort(r.remoteAddr, r.remotePort),
      from: "TIME-WAIT",
      to: "CLOSED",
    });
  }
}
