/**
 * RACK-TLP loss detection (RFC 8985), the default when SACK is in use
 * (Linux `tcp_recovery` = 1; the `rack` option off falls back to RFC 6675's
 * DupThresh and IsLost).
 *
 * RACK remembers when each segment was last sent (`xmit_ts`) and, from the
 * most recently sent segment the peer has delivered, judges every segment
 * sent earlier than it by more than RACK.rtt + reo_wnd lost: a time rule
 * rather than a count of duplicate ACKs, so it finds lost retransmissions
 * and tail losses too, and tolerates reordering by a window that grows
 * with D-SACKs (§6.2). The Tail Loss Probe (§7) sends one segment 2·SRTT
 * after the last one when nothing has come back, so that a loss at the tail
 * of a flight is found by RACK from the probe's ACK rather than by the RTO.
 *
 * The segment record is bounded (`RACK_SEGMENTS`); a connection whose
 * flight needs more (tiny MSS, huge window) falls back to RFC 6675, counted
 * as `rack_overflows`.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Segment } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { output, retransmitAt, sendOne } from "./output.ts";
import { prrOnAck, prrStart } from "./prr.ts";
import { DUP_THRESH } from "./sack.ts";
import { seqDiff, seqGe, seqGt, seqLe, seqLt } from "./seq.ts";
import { armRto, armTimer } from "./timers.ts";
import { undoStart } from "./dsack.ts";
import { RackRing } from "./rack_ring.ts";
import { probeStart } from "./tso_split.ts";

/** Most segments RACK tracks per connection. */
export const RACK_SEGMENTS = 4096;
/** RFC 8985 §6.2: recoveries the grown reordering window is kept for. */
const REO_WND_PERSIST = 16;
/** RFC 8985 §7.2: worst-case delayed-ACK time added to a one-segment PTO, µs. */
const WC_DEL_ACK = 200_000;
/** PTO before any RTT sample, µs (RFC 8985 §7.2). */
const PTO_NO_RTT = 1_000_000;
/** Shortest PTO, µs (Linux's 10 ms floor: a tiny SRTT would probe ahead of delayed ACKs). */
const PTO_MIN = 10_000;

/**
 * Real bytes of one spare record: a retired `Rack` and its `RackRing`, whose
 * stores went to the ring's spares (`rack_ring.ts`). Measured with Deno
 * 2.9.6: `Deno.memoryUsage()` after two `gc()` calls around 20,000 new
 * records made and kept (`bench/spare_sizes.ts`): heapUsed +418 B each.
 */
export const RACK_SPARE_BYTES = 424;
/**
 * Most bytes the spare records hold together ({@linkcode Rack.retire}): 77
 * records; two per connection in flight at once is plenty for a churn of
 * short connections.
 */
export const RACK_SPARES_MAX_BYTES = 32 * 1024;
const SPARE_RACKS = Math.floor(RACK_SPARES_MAX_BYTES / RACK_SPARE_BYTES);
/**
 * Records of connections that reached TIME-WAIT, reset, for the next
 * connection's first data or FIN ({@linkcode rackOf}): a short connection
 * sends only its FIN, and a new record and its ring cost ~550 B per side of
 * every connection. Shared by the process's stacks, as the ring's spare
 * stores (`rack_ring.ts`); a record is reset before it is kept, so nothing
 * of a connection is seen by the next.
 */
const spareRacks: Rack[] = [];

/**
 * The spare records held now, process-wide (no stack owns them, so no
 * stack counts them): how many, and their real bytes.
 *
 * @example
 * ```ts
 * import { RACK_SPARES_MAX_BYTES, rackSpares } from "./rack.ts";
 * import assert from "node:assert/strict";
 * assert.ok(rackSpares().bytes <= RACK_SPARES_MAX_BYTES);
 * ```
 */
export function rackSpares(): { records: number; bytes: number } {
  return { records: spareRacks.length, bytes: spareRacks.length * RACK_SPARE_BYTES };
}

const RETRANS = 1;
const SACKED = 2;
const LOST = 4;

/**
 * RFC 8985 §6.2 RACK_sent_after, with ties broken by the order of
 * transmission rather than by end sequence: on a virtual clock many
 * segments leave at the same microsecond, and a retransmission sent after
 * new data must still count as sent after it. The pieces of one TSO
 * super-segment split by SACK share both: then the end sequence decides, as
 * Linux's `tcp_rack_sent_after` (`tso_split.ts`).
 */
function sentAfter(
  t1: number,
  o1: number,
  e1: number,
  t2: number,
  o2: number,
  e2: number,
): boolean {
  return t1 > t2 || (t1 === t2 && (o1 > o2 || (o1 === o2 && seqGt(e1, e2))));
}

/**
 * One connection's RACK-TLP state: the sent segments (sequence order) with
 * their last transmit time and flags, and the RFC 8985 §6.1 variables.
 *
 * @example
 * ```ts
 * import { Rack } from "./rack.ts";
 * import assert from "node:assert/strict";
 * const r = new Rack(64);
 * for (let i = 0; i < 4; i++) r.sent(i * 100, i * 100 + 100, 1000 + i); // 4 segments
 * r.sack(100, 400, 5000); // 1..3 delivered 4 ms later: segment 0 was sent before them
 * assert.equal(r.detectLoss(5000, 0), 0);
 * assert.equal(r.nextLost(), 0); // segment 0 is lost
 * assert.equal(r.pipe(), 0); // lost and not yet retransmitted: not in flight
 * ```
 */
export class Rack {
  /** Most segments tracked. */
  readonly limit: number;
  /** The records; `order` is the transmission count, the tie-break of equal times. */
  #r = new RackRing();
  #sends = 0;
  /** More segments than `limit` were needed: RACK gave up on this connection. */
  overflow = false;
  /** RACK.xmit_ts of the most recently sent segment delivered, or -1. */
  xmitTs = -1;
  /** RACK.end_seq of that segment. */
  endSeq = 0;
  /** Transmission order of that segment. */
  xmitOrder = -1;
  /** RACK.rtt: the RTT of that segment, µs. */
  rtt = 0;
  /** RACK.min_RTT from delivered segments sent once, µs. */
  minRtt = Infinity;
  /** RACK.fack: highest end sequence delivered. */
  fack = 0;
  #fackSet = false;
  /** RACK.reordering_seen. */
  reorderingSeen = false;
  /** RACK.reo_wnd_mult. */
  reoWndMult = 1;
  /** RACK.reo_wnd_persist. */
  reoWndPersist = 0;
  /** RACK.dsack_round (valid when `dsackRoundSet`). */
  dsackRound = 0;
  /** RACK.dsack_round is not None. */
  dsackRoundSet = false;
  /** Segments SACKed (RACK.segs_sacked). */
  segsSacked = 0;
  /** RACK.xmit_ts moved since the last loss check. */
  advanced = false;
  /** Reordering-timer deadline, or 0. */
  reoAt: Instant = 0;
  /** Probe-timeout deadline, or 0. */
  ptoAt: Instant = -0; // -0 = 0, a double from the start: no shape change at the first deadline
  /** TLP.end_seq (valid when `tlpActive`). */
  tlpEndSeq = 0;
  /** A probe is outstanding (TLP.end_seq is not None). */
  tlpActive = false;
  /** TLP.is_retrans. */
  tlpIsRetrans = false;
  /** The probe is being sent (its retransmission is not a recovery's). */
  probing = false;
  /** In recovery at the end of the previous ACK (to see recovery end). */
  wasInRecovery = false;
  /** SND.UNA and SND.MAX when the PTO was last armed. */
  armedUna = 0;
  armedMax = 0;
  /** Segments judged lost. */
  lostCount = 0;
  /** Times reordering was seen (a delivered segment below RACK.fack, sent once). */
  reorderEvents = 0;
  /** Loss probes sent. */
  probes = 0;
  /** TSecr of the cumulative ACK being processed, or -1 (see {@linkcode Rack.ack}). */
  #tsEcr = -1;
  /** The connection's timestamp offset, to turn a send time into its TSval. */
  #tsOffset = 0;

  /** An empty record of at most `limit` segments. */
  constructor(limit: number) {
    this.limit = limit;
    // Stored a second time at once: V8 takes a field stored only by its
    // initializer for a constant and deoptimizes every function that read
    // it at the first other store. retire() stores them all, at the first
    // connection's close: the code of the next connection, already running,
    // fell back to the interpreter and needed ~80 MiB of bulk at MTU 1500 to
    // reach TurboFan again (bench/instructions.ts tcp1500).
    this.#reset();
  }

  /**
   * The connection is done with RACK and forgets this record (nothing of
   * it is in flight): the ring's stores go to the next ring
   * ({@linkcode RackRing.recycle}), and the record itself, reset to a new
   * one's state, to the next connection's {@linkcode rackOf}.
   */
  retire(): void {
    this.#r.recycle();
    if (this.limit !== RACK_SEGMENTS || spareRacks.length >= SPARE_RACKS) return;
    this.#reset();
    spareRacks.push(this);
  }

  /** The state of a new record, as the field initializers above, in the same order. */
  #reset(): void {
    this.#sends = 0;
    this.overflow = false;
    this.xmitTs = -1;
    this.endSeq = 0;
    this.xmitOrder = -1;
    this.rtt = 0;
    this.minRtt = Infinity;
    this.fack = 0;
    this.#fackSet = false;
    this.reorderingSeen = false;
    this.reoWndMult = 1;
    this.reoWndPersist = 0;
    this.dsackRound = 0;
    this.dsackRoundSet = false;
    this.segsSacked = 0;
    this.advanced = false;
    this.reoAt = 0;
    this.ptoAt = -0;
    this.tlpEndSeq = 0;
    this.tlpActive = false;
    this.tlpIsRetrans = false;
    this.probing = false;
    this.wasInRecovery = false;
    this.armedUna = 0;
    this.armedMax = 0;
    this.lostCount = 0;
    this.reorderEvents = 0;
    this.probes = 0;
    this.#tsEcr = -1;
    this.#tsOffset = 0;
  }

  /** Segments tracked. */
  get count(): number {
    return this.#r.count;
  }

  /** Gives the record's stores back when it is empty (an idle connection). */
  release(): void {
    this.#r.release();
  }

  /** The connection is done with RACK: its stores go to the next connection's (`RackRing.recycle`). */
  recycle(): void {
    this.#r.recycle();
  }

  #push(s: number, e: number, t: number): void {
    if (this.count >= this.limit) {
      this.overflow = true;
      return;
    }
    this.#r.push(s, e, t, this.#sends);
  }

  /**
   * `[seq, end)` (data, FIN counted) left at `now`: appended past the
   * highest sent, or (re)marked as a retransmission where sent before.
   */
  sent(seq: number, end: number, now: Instant): void {
    this.#sends++;
    const r = this.#r;
    const last = r.count > 0 ? r.end[r.slot(r.count - 1)]! : seq;
    if (seqLt(seq, last)) {
      const top = seqLt(end, last) ? end : last;
      this.#retransmitted(seq, top, now);
      if (seqGt(end, last)) this.#push(last, end, now);
    } else this.#push(seq, end, now);
  }

  #retransmitted(a: number, b: number, now: Instant): void {
    const r = this.#r;
    let k = 0;
    while (k < r.count && seqLe(r.end[r.slot(k)]!, a)) k++;
    if (k < r.count && seqLt(r.start[r.slot(k)]!, a)) {
      if (this.count >= this.limit) return void (this.overflow = true);
      r.split(k, a);
      k++;
    }
    for (; k < r.count && seqLt(r.start[r.slot(k)]!, b); k++) {
      if (seqGt(r.end[r.slot(k)]!, b)) {
        if (this.count >= this.limit) return void (this.overflow = true);
        r.split(k, b);
      }
      const i = r.slot(k);
      r.flags[i] = (r.flags[i]! & ~SACKED) | RETRANS;
      r.time[i] = now;
      r.order[i] = this.#sends;
    }
  }

  /** RFC 8985 §6.2 steps 1-3 for the segment in slot `i` delivered (ACKed or SACKed) at `now`. */
  #delivered(i: number, now: Instant): void {
    const r = this.#r;
    const t = r.time[i]!, e = r.end[i]!, o = r.order[i]!;
    const retrans = (r.flags[i]! & RETRANS) !== 0;
    const rtt = now - t;
    // Step 2: an ACK for a retransmitted segment faster than the minimum
    // RTT, or whose TSecr predates the retransmission, is for the
    // original: no sample, no RACK update.
    if (!(retrans && (rtt < this.minRtt || this.#echoesEarlier(t)))) {
      if (!retrans && rtt < this.minRtt) this.minRtt = rtt; // step 1
      this.rtt = rtt;
      if (sentAfter(t, o, e, this.xmitTs, this.xmitOrder, this.endSeq)) {
        this.xmitTs = t;
        this.endSeq = e;
        this.xmitOrder = o;
        this.advanced = true;
      }
    }
    // Step 3: reordering.
    if (!this.#fackSet || seqGt(e, this.fack)) {
      this.fack = e;
      this.#fackSet = true;
    } else if (seqLt(e, this.fack) && !retrans) {
      this.reorderingSeen = true;
      this.reorderEvents++;
    }
  }

  /**
   * RFC 8985 §6.2 step 2 condition 1: the ACK's TSecr is older than the
   * TSval a (re)transmission at `t` carried (ms clock plus the connection's
   * offset, as `tsNow`), so the ACK is not for that transmission. Within
   * the same millisecond it cannot tell: not judged.
   */
  #echoesEarlier(t: number): boolean {
    if (this.#tsEcr < 0) return false;
    const sent = (Math.floor(t / 1000) + this.#tsOffset) >>> 0;
    return ((this.#tsEcr - sent) | 0) < 0;
  }

  /**
   * Cumulative ACK to `una` at `now`: delivers and forgets the segments it
   * covers. `tsEcr`: the ACK's timestamp echo (RFC 7323), or -1 without
   * one; `tsOffset`: the connection's timestamp offset. (A SACK's TSecr
   * echoes the segment at the cumulative ACK, not the SACKed one: SACKs are
   * not judged by it, as Linux's `tcp_skb_spurious_retrans` judges only
   * cumulatively acknowledged segments.)
   */
  ack(una: number, now: Instant, tsEcr = -1, tsOffset = 0): void {
    this.#tsEcr = tsEcr;
    this.#tsOffset = tsOffset;
    const r = this.#r;
    const E = r.end, F = r.flags, n = r.count, mask = r.mask;
    let k = 0, i = r.head;
    while (k < n && seqLe(E[i]!, una)) {
      if ((F[i]! & SACKED) === 0) this.#delivered(i, now);
      else this.segsSacked--;
      k++;
      i = (i + 1) & mask;
    }
    this.#tsEcr = -1;
    if (k < n && seqLt(r.start[i]!, una)) r.start[i] = una;
    r.drop(k);
  }

  /**
   * A SACK block `[left, right)` at `now`: delivers the segments inside it.
   * A segment (a TSO super-segment) the block covers in part is split at
   * the block's edge first, as Linux fragments its skb, so that the SACKed
   * part leaves the pipe and only the rest is ever retransmitted.
   */
  sack(left: number, right: number, now: Instant): void {
    const r = this.#r;
    for (let k = 0; k < r.count; k++) {
      let i = r.slot(k);
      if (seqGe(r.start[i]!, right)) break;
      if ((r.flags[i]! & SACKED) !== 0 || seqLe(r.end[i]!, left)) continue;
      if (seqLt(r.start[i]!, left)) {
        if (this.count >= this.limit) continue; // no room: left to a later, wider block
        r.split(k, left);
        continue; // the part from `left` is next
      }
      if (seqGt(r.end[i]!, right)) {
        if (this.count >= this.limit) continue;
        r.split(k, right);
        i = r.slot(k); // a split may have regrown the ring
      }
      r.flags[i] = r.flags[i]! | SACKED;
      this.segsSacked++;
      this.#delivered(i, now);
    }
  }

  /**
   * RFC 8985 §6.2 step 5 (RACK_detect_loss) with reordering window
   * `reoWnd`: marks lost every segment sent before RACK's segment by more
   * than RACK.rtt + reo_wnd (a lost retransmission is lost again); returns
   * how long until the next one would be (0: none waiting), µs.
   */
  detectLoss(now: Instant, reoWnd: number): number {
    this.advanced = false;
    if (this.xmitTs < 0) return 0;
    const r = this.#r;
    const T = r.time, F = r.flags, O = r.order, n = r.count, mask = r.mask;
    let timeout = 0;
    for (let k = 0, i = r.head; k < n; k++, i = (i + 1) & mask) {
      const f = F[i]!;
      if ((f & SACKED) !== 0 || (f & (LOST | RETRANS)) === LOST) continue;
      if (!sentAfter(this.xmitTs, this.xmitOrder, this.endSeq, T[i]!, O[i]!, r.end[i]!)) continue;
      const remaining = T[i]! + this.rtt + reoWnd - now;
      if (remaining <= 0) {
        F[i] = (f | LOST) & ~RETRANS;
        this.lostCount++;
      } else if (remaining > timeout) timeout = remaining;
    }
    return timeout;
  }

  /** Sequence number of the first lost segment not yet retransmitted, or -1. */
  nextLost(): number {
    const r = this.#r;
    for (let k = 0; k < r.count; k++) {
      const i = r.slot(k);
      if ((r.flags[i]! & (LOST | RETRANS | SACKED)) === LOST) return r.start[i]!;
    }
    return -1;
  }

  /** End of the segment starting at `seq` (see {@linkcode Rack.nextLost}). */
  endOf(seq: number): number {
    const r = this.#r;
    for (let k = 0; k < r.count; k++) {
      const i = r.slot(k);
      if (r.start[i] === seq) return r.end[i]!;
    }
    return seq;
  }

  /**
   * Bytes in flight (Linux: packets out − SACKed − lost + retransmitted):
   * every segment neither SACKed nor lost, plus retransmissions in flight.
   */
  pipe(): number {
    const r = this.#r;
    const S = r.start, E = r.end, F = r.flags, n = r.count, mask = r.mask;
    let pipe = 0;
    for (let k = 0, i = r.head; k < n; k++, i = (i + 1) & mask) {
      const f = F[i]!;
      if ((f & SACKED) !== 0) continue;
      const len = seqDiff(E[i]!, S[i]!);
      if ((f & LOST) === 0) pipe += len;
      if ((f & RETRANS) !== 0) pipe += len;
    }
    return pipe;
  }

  /** The last segment sent, `[start, end)`, or undefined. */
  last(): [number, number] | undefined {
    const r = this.#r;
    if (r.count === 0) return undefined;
    const i = r.slot(r.count - 1);
    return [r.start[i]!, r.end[i]!];
  }

  /** RTO (RFC 8985 §6.3 with go-back-N): everything outstanding is lost; SACKs forgotten. */
  timedOut(): void {
    const r = this.#r;
    for (let k = 0; k < r.count; k++) r.flags[r.slot(k)] = LOST;
    this.segsSacked = 0;
    this.tlpActive = false;
    this.reoAt = this.ptoAt = 0;
  }
}

/** The connection's RACK state, made when SACK is in use with `rack` on. */
export function rackOf(ep: TcpEndpoint): Rack | null {
  if (ep.rack === null && ep.sackOk && ep.core.cfg.rack && !ep.rackOff) {
    ep.rack = spareRacks.pop() ?? new Rack(RACK_SEGMENTS);
    // The handshake's RTT sample (the only one before the first data) is a
    // minimum RTT too, as Linux's tcp_update_rtt_min on the SYN-ACK: without
    // it a retransmission SACKed in the first flight gives no RACK sample.
    if (ep.rttSamples > 0) ep.rack.minRtt = ep.srtt;
  }
  return ep.rack;
}

/** `emit` sent `[seq, end)` of data (or FIN): recorded before the send. Hot path. */
export function rackSent(ep: TcpEndpoint, seq: number, end: number): void {
  const r = ep.rack ?? rackOf(ep);
  if (r === null) return;
  r.sent(seq, end, ep.core.now());
  if (r.overflow) {
    // Fall back to RFC 6675 for the rest of the connection.
    ep.rack = null;
    ep.rackOff = true;
    ep.rackAt = 0;
    ep.core.c.rack_overflows.value++;
  }
}

/** RFC 8985 §6.2 step 4: the reordering window, µs. */
function reoWnd(ep: TcpEndpoint, r: Rack): number {
  if (!r.reorderingSeen) {
    if (ep.inRecovery || ep.backoff > 0) return 0;
    if (r.segsSacked >= DUP_THRESH) return 0;
  }
  const min = Number.isFinite(r.minRtt) ? r.minRtt : ep.srtt;
  const w = r.reoWndMult * min / 4;
  return w < ep.srtt ? w : ep.srtt;
}

/**
 * Processes an ACK for RACK-TLP (before SND.UNA moves): delivered segments,
 * the D-SACK-driven reordering window, TLP's episode (§7.4), then loss
 * detection; enters fast recovery when a loss is found. `dsack` tells
 * whether the ACK's first SACK block is a D-SACK.
 */
export function rackOnAck(ep: TcpEndpoint, seg: Segment, dsack: boolean): void {
  const r = ep.rack;
  if (r === null) return;
  const now = ep.core.now();
  const ack = seg.ack;
  const opts = seg.opts;
  for (let i = dsack ? 1 : 0; i < opts.sackCount; i++) {
    r.sack(opts.sackBlocks[2 * i]!, opts.sackBlocks[2 * i + 1]!, now);
  }
  if (seqGt(ack, ep.sndUna)) {
    const ecr = ep.tsOk && opts.hasTimestamp && opts.tsEcr !== 0 ? opts.tsEcr : -1;
    r.ack(ack, now, ecr, ep.tsOffset);
  }
  // Step 4: the window grows by one min_RTT/4 per round with D-SACKs and
  // shrinks back after 16 recoveries without one.
  if (r.dsackRoundSet && seqGe(ack, r.dsackRound)) r.dsackRoundSet = false;
  // A D-SACK below RACK.fack: a segment arrived twice because it was
  // delayed past later ones, which is reordering too (Linux's D-SACK
  // reordering rule, as RFC 8985 §6.2 step 3 cannot see it for a segment
  // that was retransmitted).
  if (dsack && seqLt(opts.sackBlocks[0]!, r.fack)) r.reorderingSeen = true;
  if (!r.dsackRoundSet && dsack) {
    r.dsackRound = ep.sndMax;
    r.dsackRoundSet = true;
    r.reoWndMult++;
    r.reoWndPersist = REO_WND_PERSIST;
  } else if (r.wasInRecovery && !ep.inRecovery) {
    if (--r.reoWndPersist <= 0) r.reoWndMult = 1;
  }
  if (r.tlpActive) tlpOnAck(ep, r, seg, dsack);
  if (r.advanced) {
    // Nothing SACKed and no recovery: every segment still out was sent
    // after the one just delivered (or retransmitted later), so none can
    // be lost by RACK's rule; skip the scan (the common ACK).
    if (r.segsSacked > 0 || ep.inRecovery) detectAndArm(ep, r, now);
    else r.advanced = false;
  }
  r.wasInRecovery = ep.inRecovery;
}

/** Loss detection, the reordering timer, and recovery when something is lost. */
function detectAndArm(ep: TcpEndpoint, r: Rack, now: Instant): void {
  const before = r.lostCount;
  const timeout = r.detectLoss(now, reoWnd(ep, r));
  r.reoAt = timeout > 0 ? now + timeout : 0;
  setRackTimer(ep, r);
  if (r.lostCount > before) enterRecovery(ep, r);
}

/**
 * RFC 8985 §7.4.2 (as Linux's `tcp_process_tlp_ack`): the ACKs that end a
 * probe's episode. A probe of new data needs nothing (RACK finds any loss).
 * For a retransmitted probe, a D-SACK of it means the original arrived too
 * (no loss); an ACK beyond it without one means the probe repaired a loss,
 * which calls for the congestion response a fast recovery would have made;
 * a pure duplicate ACK means both arrived. An ACK of exactly the probe
 * waits for the D-SACK that may follow.
 */
function tlpOnAck(ep: TcpEndpoint, r: Rack, seg: Segment, dsack: boolean): void {
  const ack = seg.ack, end = r.tlpEndSeq;
  if (seqLt(ack, end)) return;
  if (!r.tlpIsRetrans || (dsack && seqLe(seg.opts.sackBlocks[1]!, end))) {
    r.tlpActive = false;
    return;
  }
  if (seqGt(ack, end)) {
    r.tlpActive = false;
    if (ep.inRecovery) return;
    const cc = ep.cc;
    undoStart(ep);
    cc.onCongestion(Math.min(seqDiff(ep.sndMax, ep.sndUna), cc.cwnd), ep.core.now());
    ep.core.c.tlp_recoveries.value++;
    return;
  }
  if (ack === ep.sndUna && seg.opts.sackCount === 0 && seg.dataLen === 0) r.tlpActive = false;
}

/** RACK found a loss outside recovery: fast recovery begins (RFC 8985 §6.2, RFC 6675 §5). */
function enterRecovery(ep: TcpEndpoint, r: Rack): void {
  // Unlike RFC 6582's `recover` rule, a loss found by time starts a new
  // episode even right after the last one ended (as Linux). Not while an
  // RTO's go-back-N resend is under way: it resends the lost data itself.
  if (ep.inRecovery || seqLt(ep.sndNxt, ep.sndMax)) return;
  const core = ep.core;
  const cc = ep.cc;
  ep.inRecovery = ep.sackRecovery = true;
  ep.recover = ep.sndMax;
  ep.rttStart = -1;
  ep.highRxt = ep.sndUna;
  core.c.fast_retransmits.value++;
  core.c.sack_recoveries.value++;
  undoStart(ep);
  cc.onCongestion(Math.min(seqDiff(ep.sndMax, ep.sndUna), cc.cwnd), core.now());
  prrStart(ep, seqDiff(ep.sndMax, ep.sndUna)); // RFC 6937 RecoverFS
  prrOnAck(ep, 0, r.pipe()); // the fast retransmission goes at once (also from the timer)
  r.tlpActive = false;
  r.ptoAt = 0;
  setRackTimer(ep, r);
  armRto(ep);
}

/** The connection's RACK deadline is the earlier of the reordering timer and the PTO. */
function setRackTimer(ep: TcpEndpoint, r: Rack): void {
  let at = r.reoAt;
  if (r.ptoAt !== 0 && (at === 0 || r.ptoAt < at)) at = r.ptoAt;
  ep.rackAt = at;
  if (at !== 0) armTimer(ep);
}

/**
 * One step of SACK recovery with RACK's marks (in place of RFC 6675's
 * NextSeg): retransmit the first lost segment, else send new data, while
 * cwnd − pipe allows a segment. Returns whether something was sent.
 */
export function rackStep(ep: TcpEndpoint): boolean {
  const r = ep.rack!;
  const mss = ep.mss;
  const budget = ep.cc.cwnd - r.pipe();
  if (budget < mss) return false;
  const s = r.nextLost();
  if (s >= 0) {
    const n = retransmitAt(ep, s, seqDiff(r.endOf(s), s));
    if (n === 0) return false;
    const end = (s + n) >>> 0;
    if (seqGt(end, ep.highRxt)) ep.highRxt = end;
    return true;
  }
  return ep.sndNxt === ep.sndMax && sendOne(ep, budget, false);
}

/**
 * RFC 8985 §7.2: after new data went out or new data was acknowledged,
 * (re)arms the probe timeout, unless in recovery or a probe is out.
 * Called at the end of `output()`.
 */
export function rackArmPto(ep: TcpEndpoint): void {
  const r = ep.rack;
  if (r === null) return;
  if (r.armedUna === ep.sndUna && r.armedMax === ep.sndMax) return;
  r.armedUna = ep.sndUna;
  r.armedMax = ep.sndMax;
  if (
    ep.inRecovery || r.tlpActive || ep.backoff > 0 || ep.sndUna === ep.sndMax || ep.sndWnd === 0
  ) {
    if (r.ptoAt !== 0) {
      r.ptoAt = 0;
      setRackTimer(ep, r);
    }
    return;
  }
  const now = ep.core.now();
  let pto: number;
  if (ep.rttSamples > 0) {
    pto = 2 * ep.srtt;
    pto += seqDiff(ep.sndMax, ep.sndUna) <= ep.mss ? WC_DEL_ACK : 2_000;
  } else pto = PTO_NO_RTT;
  if (pto < PTO_MIN) pto = PTO_MIN;
  let at = now + pto;
  if (ep.rtoAt !== 0 && ep.rtoAt < at) at = ep.rtoAt;
  r.ptoAt = at;
  setRackTimer(ep, r);
}

/** The RACK deadline passed: the reordering timer (§6.3) and/or the PTO (§7.3). */
export function rackTimer(ep: TcpEndpoint, now: Instant): void {
  const r = ep.rack;
  if (r === null) return;
  if (r.reoAt !== 0 && r.reoAt <= now) {
    r.reoAt = 0;
    detectAndArm(ep, r, now);
    output(ep);
    if (retiredInSend(ep, r)) return;
  }
  if (r.ptoAt !== 0 && r.ptoAt <= now) {
    r.ptoAt = 0;
    if (!ep.inRecovery && ep.sndUna !== ep.sndMax) sendProbe(ep, r);
    if (retiredInSend(ep, r)) return;
  }
  setRackTimer(ep, r);
}

/**
 * Whether the connection retired `r` (TIME-WAIT gave it to the next
 * connection, {@linkcode Rack.retire}) while a segment was being sent: to
 * one of our own addresses the answer arrives inside the send, and can
 * complete the close. Nothing may write to `r` after that (it is another
 * connection's to be). A record dropped by an overflow (`rackOff`) is
 * nobody else's.
 */
function retiredInSend(ep: TcpEndpoint, r: Rack): boolean {
  return ep.rack !== r && !ep.rackOff;
}

/**
 * RFC 8985 §7.3: a probe: one new segment if the peer's window allows
 * (regardless of cwnd), else the last segment sent again; then the RTO
 * runs (not another PTO) until the episode ends.
 */
function sendProbe(ep: TcpEndpoint, r: Rack): void {
  const core = ep.core;
  r.probing = true;
  let sentNew = false;
  if (ep.sndNxt === ep.sndMax) sentNew = sendOne(ep, ep.mss, false);
  if (retiredInSend(ep, r)) {
    if (sentNew) core.c.tlp_probes.value++;
    return;
  }
  let isRetrans = false;
  if (!sentNew) {
    const last = r.last();
    if (last === undefined) {
      r.probing = false;
      return;
    }
    let [s, e] = last;
    if (seqLt(s, ep.sndUna)) s = ep.sndUna;
    if (seqGt(e, ep.sndMax)) e = ep.sndMax;
    // A FIN's sequence number is resent by retransmitAt with the data before it.
    if (ep.finQueued && e === ep.sndMax && seqGt(e, ep.finSeq)) e = ep.finSeq;
    s = probeStart(s, e, ep.mss); // TSO: the last MSS of a super-segment (Linux)
    const sent = retransmitAt(ep, s, seqDiff(e, s) > 0 ? seqDiff(e, s) : ep.mss);
    if (retiredInSend(ep, r)) {
      if (sent > 0) core.c.tlp_probes.value++;
      return;
    }
    if (sent === 0) {
      r.probing = false;
      return;
    }
    isRetrans = true;
  }
  r.probing = false;
  r.tlpActive = true;
  r.tlpIsRetrans = isRetrans;
  r.tlpEndSeq = ep.sndMax;
  r.probes++;
  core.c.tlp_probes.value++;
  armRto(ep);
}
