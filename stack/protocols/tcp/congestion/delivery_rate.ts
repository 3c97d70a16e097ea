/**
 * Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02):
 * every data segment sent records the connection's `delivered` count, its
 * `delivered_time` and `first_send_time`, and whether the sender was
 * application-limited; every ACK that delivers data (cumulatively or by
 * SACK) yields a rate sample from the newest segment it delivered:
 * `delivered / max(send_elapsed, ack_elapsed)`. The same sample carries a
 * per-ACK RTT (from that segment's send time, none if it was retransmitted:
 * Karn) and the packet-timed round count BBR and HyStart++ use. tcp_info's
 * `delivery_rate` is the newest valid sample.
 *
 * Bytes, not packets; times in µs. Records live in a ring of parallel typed
 * arrays (no allocation per segment) that grows by doubling up to
 * {@linkcode MAX_RECORDS}; a segment sent while the ring is full is not
 * recorded and counted in {@linkcode DeliveryRate.untracked} (the ACK that
 * delivers it gives no rate sample, only a `delivered` count).
 *
 * Simplifications, said where they are made: SACKed bytes are counted from
 * the scoreboard's total (a scoreboard cleared by an RTO makes the bytes it
 * held count again when they are cumulatively acknowledged), and a segment
 * re-sent with different boundaries updates the record holding its first
 * byte.
 *
 * @module
 */
import type { Instant } from "../../../clock.ts";

/** Most segments tracked at once (a 65,536-segment flight is ~95 MB at MSS 1448). */
export const MAX_RECORDS = 65_536;
/**
 * Records of a new ring: a request/response connection has one or two
 * segments in flight (a bulk transfer doubles from here in a few steps).
 */
const INITIAL_RECORDS = 16;
/** Bytes of one record over its seven columns: four Float64, two Uint32, one Uint8. */
const RECORD_BYTES = 4 * 8 + 2 * 4 + 1;
const FLAG_APP_LIMITED = 1;
const FLAG_RETRANSMITTED = 2;
// Shared empty stores: a connection that never sends data allocates no ring.
const NO_U32 = new Uint32Array(0);
const NO_F64 = new Float64Array(0);
const NO_U8 = new Uint8Array(0);

/**
 * One ACK's rate sample (draft §3.3 `rs`), reused for every ACK.
 *
 * @example
 * ```ts
 * import { RateSample } from "./delivery_rate.ts";
 * import assert from "node:assert/strict";
 * const rs = new RateSample();
 * assert.equal(rs.deliveryRate, 0); // no sample yet
 * ```
 */
export class RateSample {
  /** Bytes per second over the sample's interval, or 0 when this ACK gave no valid sample. */
  deliveryRate = 0;
  /** Bytes delivered over the interval. */
  delivered = 0;
  /** The interval, µs. */
  interval = 0;
  /** The connection's `delivered` when the newest delivered segment was sent. */
  priorDelivered = 0;
  /** Bytes this ACK delivered (cumulatively or by SACK). */
  newlyDelivered = 0;
  /** RTT of the newest delivered segment, µs, or -1 (retransmitted, or none). */
  rtt: number = -1;
  /** The newest delivered segment was sent while the sender was application-limited. */
  isAppLimited = false;
  /** A packet-timed round ended with this ACK (BBR `round_start`). */
  roundStart = false;
  /** Rounds so far. */
  roundCount = 0;
  /** When the ACK arrived. */
  now: Instant = 0;
  /** Bytes in flight after the ACK (SND.MAX − SND.UNA less SACKed). */
  inflight = 0;
  /** The connection is in loss recovery (fast recovery or after an RTO). */
  inRecovery = false;
  /** The sender's MSS. */
  mss = 0;
}

/**
 * The per-connection sampler: {@linkcode DeliveryRate.onSend} per data
 * segment, {@linkcode DeliveryRate.onAck} per ACK.
 *
 * @example
 * ```ts
 * import { DeliveryRate } from "./delivery_rate.ts";
 * import assert from "node:assert/strict";
 * const dr = new DeliveryRate();
 * // Ten 1000-byte segments sent 1 ms apart, nothing in flight before the first.
 * for (let i = 0; i < 10; i++) dr.onSend(i * 1000, 1000, i * 1000, i * 1000, false);
 * // All acknowledged 20 ms after the last was sent.
 * const rs = dr.onAck(10_000, 0, undefined, 29_000);
 * assert.equal(rs.newlyDelivered, 10_000);
 * assert.equal(rs.rtt, 20_000);
 * assert.equal(rs.deliveryRate, Math.round(10_000 / 0.029)); // ack_elapsed 29 ms > send_elapsed 9 ms
 * ```
 */
export class DeliveryRate {
  /** Bytes delivered so far (`C.delivered`). */
  delivered = 0;
  /** When `delivered` last grew (`C.delivered_time`). */
  deliveredTime: Instant = 0;
  /** Send time of the newest delivered segment (`C.first_send_time`). */
  firstSendTime: Instant = 0;
  /** `C.app_limited`: the `delivered` count at which the app-limited phase ends, 0 = not limited. */
  appLimited = 0;
  /** The newest valid rate, bytes/s (tcp_info `delivery_rate`). */
  lastRate = 0;
  /** Whether {@linkcode lastRate} was application-limited. */
  lastRateAppLimited = false;
  /** Smallest RTT sample seen, µs (tcp_info `min_rtt`), or Infinity. */
  minRtt = Infinity;
  /** Segments sent while the ring was full (no rate sample from them). */
  untracked = 0;
  /** The reusable sample of the latest ACK. */
  readonly rs: RateSample = new RateSample();

  #started = false;
  #lastUna = 0;
  #lastSacked = 0;
  #lastHighSack = 0;
  #nextRoundDelivered = 0;
  // The ring of records, oldest at #head, ordered by sequence number.
  #cap = 0;
  #head = 0;
  #count = 0;
  #start = NO_U32;
  #end = NO_U32;
  #sendTime = NO_F64;
  #pDelivered = NO_F64;
  #pDeliveredTime = NO_F64;
  #pFirstSend = NO_F64;
  #flags = NO_U8;

  /** Segments tracked now. */
  get tracked(): number {
    return this.#count;
  }

  /** Gives the ring's stores back when nothing is tracked (an idle connection); it regrows on use. */
  release(): void {
    if (this.#count !== 0 || this.#cap === 0) return;
    this.#start = this.#end = NO_U32;
    this.#sendTime =
      this.#pDelivered =
      this.#pDeliveredTime =
      this.#pFirstSend =
        NO_F64;
    this.#flags = NO_U8;
    this.#cap = this.#head = 0;
  }

  /**
   * A data segment `[seq, seq + len)` leaves at `now`; `inflight` is what
   * was outstanding before it; `retransmit` for data sent before. Returns
   * false when the ring was full and the segment is not tracked. Hot path: positional.
   */
  onSend(seq: number, len: number, now: Instant, inflight: number, retransmit: boolean): boolean {
    if (!this.#started) {
      this.#started = true;
      this.#lastUna = this.#lastHighSack = seq;
    }
    if (inflight <= 0) this.firstSendTime = this.deliveredTime = now; // draft §3.2
    let i: number;
    if (retransmit) {
      i = this.#find(seq);
      if (i < 0) return true;
    } else {
      if (this.#count === this.#cap && !this.#grow()) {
        this.untracked++;
        return false;
      }
      i = (this.#head + this.#count) & (this.#cap - 1);
      this.#count++;
      this.#start[i] = seq;
      this.#end[i] = (seq + len) >>> 0;
    }
    this.#sendTime[i] = now;
    this.#pDelivered[i] = this.delivered;
    this.#pDeliveredTime[i] = this.deliveredTime;
    this.#pFirstSend[i] = this.firstSendTime;
    this.#flags[i] = (this.appLimited !== 0 ? FLAG_APP_LIMITED : 0) |
      (retransmit ? FLAG_RETRANSMITTED : 0);
    return true;
  }

  /**
   * The sender ran out of data with room in its window (draft §3.4): what
   * is sent until the data in flight now is delivered is application-limited.
   */
  markAppLimited(inflight: number): void {
    this.appLimited = Math.max(this.delivered + inflight, 1);
  }

  /**
   * An ACK moved SND.UNA to `una`, with `sacked` bytes SACKed above it and
   * `highSack` the scoreboard's highest SACKed edge (undefined if none).
   * Fills and returns {@linkcode rs}; `rs.deliveryRate` is 0 when no valid
   * sample came of it. The caller fills `inflight`, `inRecovery` and `mss`.
   * Hot path (every ACK): positional.
   */
  onAck(una: number, sacked: number, highSack: number | undefined, now: Instant): RateSample {
    const rs = this.rs;
    rs.now = now;
    rs.deliveryRate = 0;
    rs.delivered = 0;
    rs.rtt = -1;
    rs.roundStart = false;
    rs.newlyDelivered = 0;
    if (!this.#started) return rs;
    const oldUna = this.#lastUna;
    const ackDelta = (una - oldUna) | 0;
    const unsacked = this.#lastSacked - sacked; // SACKed before, cumulatively acknowledged now
    const newly = (ackDelta > 0 ? ackDelta : 0) - unsacked;
    if (ackDelta > 0) this.#lastUna = una;
    this.#lastSacked = sacked;
    if (newly <= 0) {
      if (ackDelta > 0) this.#dropBelow(una);
      return rs;
    }
    // The newest segment delivered: the top of a SACK block that grew; else,
    // when the ACK jumped over SACKed data, the end of the hole it filled
    // (the first hole: more than one filled at once is counted as one);
    // else just below SND.UNA.
    let top = una;
    if (highSack !== undefined && ((highSack - this.#lastHighSack) | 0) > 0) {
      top = highSack;
    } else if (ackDelta > 0 && unsacked > 0 && ackDelta - unsacked > 0) {
      top = (oldUna + ackDelta - unsacked) >>> 0;
    }
    if (((top - this.#lastHighSack) | 0) > 0) this.#lastHighSack = top;
    this.delivered += newly;
    this.deliveredTime = now;
    rs.newlyDelivered = newly;
    const i = this.#find((top - 1) >>> 0);
    if (i >= 0) {
      const flags = this.#flags[i]!;
      rs.priorDelivered = this.#pDelivered[i]!;
      rs.isAppLimited = (flags & FLAG_APP_LIMITED) !== 0;
      const sent = this.#sendTime[i]!;
      const sendElapsed = sent - this.#pFirstSend[i]!;
      const ackElapsed = now - this.#pDeliveredTime[i]!;
      this.firstSendTime = sent;
      if ((flags & FLAG_RETRANSMITTED) === 0) {
        rs.rtt = now - sent;
        if (rs.rtt < this.minRtt) this.minRtt = rs.rtt;
      }
      rs.delivered = this.delivered - rs.priorDelivered;
      rs.interval = sendElapsed > ackElapsed ? sendElapsed : ackElapsed;
      // An interval shorter than the path's minimum RTT comes from ACK
      // compression: no sample (draft §3.3, Linux tcp_rate_gen).
      if (rs.interval > 0 && rs.interval >= this.minRtt) {
        rs.deliveryRate = Math.round(rs.delivered * 1e6 / rs.interval);
        if (!rs.isAppLimited || rs.deliveryRate >= this.lastRate) {
          this.lastRate = rs.deliveryRate;
          this.lastRateAppLimited = rs.isAppLimited;
        }
      }
      // Packet-timed rounds (BBR §4.1.1.3): a round ends when a segment
      // sent after the previous round ended is delivered.
      if (rs.priorDelivered >= this.#nextRoundDelivered) {
        this.#nextRoundDelivered = this.delivered;
        rs.roundCount++;
        rs.roundStart = true;
      }
    }
    if (this.appLimited !== 0 && this.delivered > this.appLimited) this.appLimited = 0;
    this.#dropBelow(una);
    return rs;
  }

  /** Forgets records wholly below `una`. */
  #dropBelow(una: number): void {
    const mask = this.#cap - 1;
    while (this.#count > 0 && ((this.#end[this.#head]! - una) | 0) <= 0) {
      this.#head = (this.#head + 1) & mask;
      this.#count--;
    }
  }

  /** Index of the record holding `seq`, or -1 (binary search: records are in sequence order). */
  #find(seq: number): number {
    const n = this.#count;
    if (n === 0) return -1;
    const mask = this.#cap - 1;
    const base = this.#start[this.#head]!;
    const off = (seq - base) | 0;
    if (off < 0) return -1;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (((this.#start[(this.#head + mid) & mask]! - base) | 0) <= off) lo = mid;
      else hi = mid - 1;
    }
    const i = (this.#head + lo) & mask;
    return ((this.#end[i]! - seq) | 0) > 0 ? i : -1;
  }

  /** Doubles the ring (or makes the first); false at {@linkcode MAX_RECORDS}. */
  #grow(): boolean {
    const cap = this.#cap === 0 ? INITIAL_RECORDS : this.#cap * 2;
    if (cap > MAX_RECORDS) return false;
    // One backing store for the seven columns (each its own costs a
    // store and its bookkeeping, ~150 B, per connection): the 8-byte
    // columns first, so every view is aligned.
    const store = new ArrayBuffer(cap * RECORD_BYTES);
    const sendTime = new Float64Array(store, 0, cap), d = new Float64Array(store, cap * 8, cap);
    const dt = new Float64Array(store, cap * 16, cap), fs = new Float64Array(store, cap * 24, cap);
    const start = new Uint32Array(store, cap * 32, cap),
      end = new Uint32Array(store, cap * 36, cap);
    const flags = new Uint8Array(store, cap * 40, cap);
    const mask = this.#cap - 1;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & mask;
      start[k] = this.#start[i]!;
      end[k] = this.#end[i]!;
      sendTime[k] = this.#sendTime[i]!;
      d[k] = this.#pDelivered[i]!;
      dt[k] = this.#pDeliveredTime[i]!;
      fs[k] = this.#pFirstSend[i]!;
      flags[k] = this.#flags[i]!;
    }
    this.#start = start;
    this.#end = end;
    this.#sendTime = sendTime;
    this.#pDelivered = d;
    this.#pDeliveredTime = dt;
    this.#pFirstSend = fs;
    this.#flags = flags;
    this.#cap = cap;
    this.#head = 0;
    return true;
  }
}
