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
  readonly scope: number;
  readonly passive: boolean;
  readonly mapped: boolean;
  readonly ccName: string;
  readonly iss: number;
  /** SND.UNA = SND.NXT = SND.MAX (everything we sent is acknowledged). */
  readonly sndMax: number;
  readonly sndWnd: number;
  readonly sndWl1: number;
  readonly sndWl2: number;
  readonly maxSndWnd: number;
  readonly sndWscale: number;
  readonly sndBufStart: number;
  readonly finQueued: boolean;
  readonly finSeq: number;
  readonly sndSml: number;
  readonly irs: number;
  readonly rcvNxt: number;
  readonly rcvAdv: number;
  readonly rcvWscale: number;
  readonly finRecvd: boolean;
  readonly finRecvSeq: number;
  readonly eof: boolean;
  readonly mss: number;
  readonly advMss: number;
  readonly rcvMss: number;
  readonly peerMss: number;
  readonly tsoMax: number;
  readonly tsOk: boolean;
  readonly sackOk: boolean;
  readonly wsOk: boolean;
  readonly tsRecent: number;
  readonly tsRecentAt: Instant;
  readonly lastAckSent: number;
  readonly quickAcks: number;
  readonly srtt: number;
  readonly rttvar: number;
  readonly rto: number;
  readonly backoff: number;
  readonly retries: number;
  readonly rttSeq: number;
  readonly rttStart: Instant;
  readonly dupAcks: number;
  readonly sackRecovery: boolean;
  readonly recover: number;
  readonly highRxt: number;
  readonly probesOut: number;
  readonly kaProbes: number;
  readonly rttSamples: number;
  readonly lastRecv: Instant;
  readonly lastInvalidAck: Instant;
  readonly reachHintAt: Instant;
  readonly noDelay: boolean;
  readonly keepalive: boolean;
  readonly lingerZero: boolean;
  readonly softError: string;
  readonly segsIn: number;
  readonly segsOut: number;
  readonly retransSegs: number;
  readonly bytesAcked: number;
  readonly bytesReceived: number;
  readonly rackOff: boolean;
  readonly dsacksIn: number;
  readonly spuriousUndos: number;
  readonly pacing: boolean;
  readonly paceNext: Instant;
  readonly ecnOk: boolean;
  readonly ecnEce: boolean;
  readonly ecnCwr: boolean;
  readonly ecnRecover: number;
  readonly ecnCeSegs: number;
  readonly ecnEceSegs: number;
  readonly ecnReductions: number;
  readonly ecnRecoverSet: boolean;
  readonly tfoSynLen: number;
  readonly tfoChild: boolean;
  readonly sndUp: number;
  readonly oobInline: boolean;
  readonly urgTaken: boolean;
  // What `ss` shows of the congestion control and rate sampler (not kept).
  readonly cwnd: number;
  readonly ssthresh: number;
  readonly ccState: string;
  readonly pacingRate: number;
  readonly minRtt: number;
  readonly lastRate: number;
  readonly lastRateAppLimited: boolean;

  /** Copies what TIME-WAIT needs of `ep` (see {@linkcode canCompact}). */
  constructor(ep: TcpEndpoint) {
    this.localAddr = ep.localAddr;
    this.localPort = ep.localPort;
    this.remoteAddr = ep.remoteAddr;
    this.remotePort = ep.remotePort;
    this.closeAt = ep.closeAt;
    this.scope = ep.scope;
    this.passive = ep.passive;
    this.mapped = isMapped(ep);
    this.ccName = ep.ccName;
    this.iss = ep.iss;
    this.sndMax = ep.sndMax;
    this.sndWnd = ep.sndWnd;
    this.sndWl1 = ep.sndWl1;
    this.sndWl2 = ep.sndWl2;
    this.maxSndWnd = ep.maxSndWnd;
    this.sndWscale = ep.sndWscale;
    this.sndBufStart = ep.sndBufStart;
    this.finQueued = ep.finQueued;
    this.finSeq = ep.finSeq;
    this.sndSml = ep.sndSml;
    this.irs = ep.irs;
    this.rcvNxt = ep.rcvNxt;
    this.rcvAdv = ep.rcvAdv;
    this.rcvWscale = ep.rcvWscale;
    this.finRecvd = ep.finRecvd;
    this.finRecvSeq = ep.finRecvSeq;
    this.eof = ep.eof;
    this.mss = ep.mss;
    this.advMss = ep.advMss;
    this.rcvMss = ep.rcvMss;
    this.peerMss = ep.peerMss;
    this.tsoMax = ep.tsoMax;
    this.tsOk = ep.tsOk;
    this.sackOk = ep.sackOk;
    this.wsOk = ep.wsOk;
    this.tsRecent = ep.tsRecent;
    this.tsRecentAt = ep.tsRecentAt;
    this.lastAckSent = ep.lastAckSent;
    this.quickAcks = ep.quickAcks;
    this.srtt = ep.srtt;
    this.rttvar = ep.rttvar;
    this.rto = ep.rto;
    this.backoff = ep.backoff;
    this.retries = ep.retries;
    this.rttSeq = ep.rttSeq;
    this.rttStart = ep.rttStart;
    this.dupAcks = ep.dupAcks;
    this.sackRecovery = ep.sackRecovery;
    this.recover = ep.recover;
    this.highRxt = ep.highRxt;
    this.probesOut = ep.probesOut;
    this.kaProbes = ep.kaProbes;
    this.rttSamples = ep.rttSamples;
    this.lastRecv = ep.lastRecv;
    this.lastInvalidAck = ep.lastInvalidAck;
    this.reachHintAt = ep.reachHintAt;
    this.noDelay = ep.noDelay;
    this.keepalive = ep.keepalive;
    this.lingerZero = ep.lingerZero;
    this.softError = ep.softError;
    this.segsIn = ep.segsIn;
    this.segsOut = ep.segsOut;
    this.retransSegs = ep.retransSegs;
    this.bytesAcked = ep.bytesAcked;
    this.bytesReceived = ep.bytesReceived;
    this.rackOff = ep.rackOff;
    this.dsacksIn = ep.dsacksIn;
    this.spuriousUndos = ep.spuriousUndos;
    this.pacing = ep.pacing;
    this.paceNext = ep.paceNext;
    this.ecnOk = ep.ecnOk;
    this.ecnEce = ep.ecnEce;
    this.ecnCwr = ep.ecnCwr;
    this.ecnRecover = ep.ecnRecover;
    this.ecnCeSegs = ep.ecnCeSegs;
    this.ecnEceSegs = ep.ecnEceSegs;
    this.ecnReductions = ep.ecnReductions;
    this.ecnRecoverSet = ep.ecnRecoverSet;
    this.tfoSynLen = ep.tfoSynLen;
    this.tfoChild = ep.tfoChild;
    this.sndUp = ep.sndUp;
    this.oobInline = ep.oobInline;
    this.urgTaken = ep.urgTaken;
    const cc = ep.cc;
    this.cwnd = cc.cwnd;
    this.ssthresh = cc.ssthresh;
    this.ccState = ccState(ep);
    this.pacingRate = pacingRate(ep);
    const rate = ep.rate;
    this.minRtt = rate.minRtt;
    this.lastRate = rate.lastRate;
    this.lastRateAppLimited = rate.lastRateAppLimited;
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
    const core = this.#core;
    const ep = new TcpEndpoint(core, r, r.passive, r.ccName);
    ep.resumeState(TIME_WAIT);
    if (r.mapped) markMapped(ep);
    ep.closeAt = r.closeAt;
    ep.scope = r.scope;
    ep.iss = r.iss;
    ep.sndUna = ep.sndNxt = ep.sndMax = r.sndMax;
    ep.sndWnd = r.sndWnd;
    ep.sndWl1 = r.sndWl1;
    ep.sndWl2 = r.sndWl2;
    ep.maxSndWnd = r.maxSndWnd;
    ep.sndWscale = r.sndWscale;
    ep.sndBufStart = r.sndBufStart;
    ep.finQueued = r.finQueued;
    ep.finSeq = r.finSeq;
    ep.sndSml = r.sndSml;
    ep.irs = r.irs;
    ep.rcvNxt = r.rcvNxt;
    ep.rcvAdv = r.rcvAdv;
    ep.rcvWscale = r.rcvWscale;
    ep.finRecvd = r.finRecvd;
    ep.finRecvSeq = r.finRecvSeq;
    ep.eof = r.eof;
    ep.mss = r.mss;
    ep.advMss = r.advMss;
    ep.rcvMss = r.rcvMss;
    ep.peerMss = r.peerMss;
    ep.tsoMax = r.tsoMax;
    ep.tsOk = r.tsOk;
    ep.sackOk = r.sackOk;
    ep.wsOk = r.wsOk;
    ep.tsRecent = r.tsRecent;
    ep.tsRecentAt = r.tsRecentAt;
    ep.lastAckSent = r.lastAckSent;
    ep.quickAcks = r.quickAcks;
    ep.srtt = r.srtt;
    ep.rttvar = r.rttvar;
    ep.rto = r.rto;
    ep.backoff = r.backoff;
    ep.retries = r.retries;
    ep.rttSeq = r.rttSeq;
    ep.rttStart = r.rttStart;
    ep.dupAcks = r.dupAcks;
    ep.sackRecovery = r.sackRecovery;
    ep.recover = r.recover;
    ep.highRxt = r.highRxt;
    ep.probesOut = r.probesOut;
    ep.kaProbes = r.kaProbes;
    ep.rttSamples = r.rttSamples;
    ep.lastRecv = r.lastRecv;
    ep.lastInvalidAck = r.lastInvalidAck;
    ep.reachHintAt = r.reachHintAt;
    ep.noDelay = r.noDelay;
    ep.keepalive = r.keepalive;
    ep.lingerZero = r.lingerZero;
    ep.softError = r.softError;
    ep.segsIn = r.segsIn;
    ep.segsOut = r.segsOut;
    ep.retransSegs = r.retransSegs;
    ep.bytesAcked = r.bytesAcked;
    ep.bytesReceived = r.bytesReceived;
    ep.rackOff = r.rackOff;
    ep.dsacksIn = r.dsacksIn;
    ep.spuriousUndos = r.spuriousUndos;
    ep.pacing = r.pacing;
    ep.paceNext = r.paceNext;
    ep.ecnOk = r.ecnOk;
    ep.ecnEce = r.ecnEce;
    ep.ecnCwr = r.ecnCwr;
    ep.ecnRecover = r.ecnRecover;
    ep.ecnCeSegs = r.ecnCeSegs;
    ep.ecnEceSegs = r.ecnEceSegs;
    ep.ecnReductions = r.ecnReductions;
    ep.ecnRecoverSet = r.ecnRecoverSet;
    ep.tfoSynLen = r.tfoSynLen;
    ep.tfoChild = r.tfoChild;
    ep.sndUp = r.sndUp;
    ep.oobInline = r.oobInline;
    ep.urgTaken = r.urgTaken;
    // TIME-WAIT sends no data: the congestion control and the rate sampler
    // only need to show what they showed (`ss`).
    ep.cc.setMss(r.mss);
    ep.cc.cwnd = r.cwnd;
    ep.cc.ssthresh = r.ssthresh;
    ep.rate.minRtt = r.minRtt;
    ep.rate.lastRate = r.lastRate;
    ep.rate.lastRateAppLimited = r.lastRateAppLimited;
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
