/**
 * Receive-buffer auto-tuning (Linux "Dynamic Right-Sizing",
 * tcp_rcv_space_adjust): once per receiver-measured RTT, the bytes the
 * application read in that RTT are compared with the previous RTT's; when the
 * drain rate grew, the receive buffer (and so the window we may advertise)
 * grows towards twice the bytes read per RTT plus 16 segments, up to
 * `receiveBufferMax`. A receiver that does not read never grows; the ring's
 * backing store still grows only as data actually arrives; the buffer never
 * shrinks, so the right edge never moves back (RFC 7323 §2.4).
 *
 * The RTT is measured on the receiver from the timestamps the peer echoes
 * (Linux tcp_rcv_rtt_measure_ts), falling back to the connection's SRTT.
 *
 * @module
 */
import type { ReceiveQueue } from "./rcv_queue.ts";
import type { Segment } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { seqDiff } from "./seq.ts";

/** Linux TCP_INIT_CWND: the first RTT's expected drain is 10 segments. */
const INIT_SPACE_SEGMENTS = 10;

/** Per-connection auto-tuning state (Linux rcvq_space and rcv_rtt_est). */
export class RcvAutotune {
  /** Bytes read by the application in the last measured RTT (rcvq_space.space). */
  space: number;
  /** Bytes read in total when this measurement began (rcvq_space.seq). */
  seq: number;
  /** When this measurement began, µs (rcvq_space.time). */
  time: number;
  /** Receiver RTT estimate ×8, µs (rcv_rtt_est.rtt_us); 0 before a sample. */
  rtt8 = 0;
  /** The last echoed timestamp sampled, so one echo gives one sample. */
  lastTsecr = -1;
  /** The buffer size auto-tuning chose (the ring may hold a few bytes more: {@linkcode holdPromisedWindow}). */
  size: number;

  /** A measurement starting at `seq` bytes read, at `time`, for a buffer of `size`. */
  constructor(space: number, seq: number, time: number, size: number) {
    this.size = size;
    this.space = space;
    this.seq = seq;
    this.time = time;
  }
}

/**
 * The receive buffer Linux asks for after `copied` bytes were read in one RTT
 * when the RTT before read `space` (tcp_rcv_space_adjust, Linux 6.x): twice
 * the drain plus 16 segments, plus twice the growth extrapolated, since the
 * sender's window may still be doubling.
 *
 * @example
 * ```ts
 * import { rcvWindowTarget } from "./rcv_autotune.ts";
 * import assert from "node:assert/strict";
 * // 100 KB read after 50 KB: (2·100000 + 16·1000) · (1 + 2·50000/50000)
 * assert.equal(rcvWindowTarget(100_000, 50_000, 1000), 648_000);
 * ```
 */
export function rcvWindowTarget(copied: number, space: number, advMss: number): number {
  const win = 2 * copied + 16 * advMss;
  const grow = Math.floor(win * (copied - space) / space);
  return win + 2 * grow;
}

/** True when this stack's configuration lets receive buffers grow. */
function enabled(ep: TcpEndpoint): boolean {
  const cfg = ep.core.cfg;
  return cfg.receiveBufferMax > cfg.receiveBuffer;
}

/**
 * A data segment arrived: take a receiver RTT sample from its echoed
 * timestamp, once per echo and only from full-sized segments (a short one
 * may have waited for the application; Linux tcp_rcv_rtt_measure_ts).
 */
export function rcvRttMeasure(ep: TcpEndpoint, seg: Segment): void {
  const t = ep.rcvTune;
  if (t === null || !ep.tsOk || !seg.opts.hasTimestamp) return;
  const tsecr = seg.opts.tsEcr;
  if (tsecr === 0 || tsecr === t.lastTsecr) return;
  t.lastTsecr = tsecr;
  if (seg.dataLen < ep.mss) return;
  let ms = (ep.tsNow() - tsecr) | 0;
  if (ms < 0 || ms > 600_000) return; // a wrapped or bogus echo
  if (ms === 0) ms = 1; // the clock ticks in ms; Linux counts 0 as 1
  const us = ms * 1000;
  // An EWMA with gain 1/8, kept ×8 as Linux does.
  t.rtt8 = t.rtt8 === 0 ? us * 8 : t.rtt8 + us - (t.rtt8 >>> 3);
}

/**
 * The application read some bytes: once a measured RTT has passed, grow the
 * receive buffer if the bytes read per RTT grew (call before deciding on a
 * window update, as Linux's tcp_recvmsg does before tcp_cleanup_rbuf).
 */
export function rcvSpaceAdjust(ep: TcpEndpoint): void {
  const ring = ep.rcvBuf;
  if (ring === null) return;
  releasePromise(ep, ring);
  if (!enabled(ep)) return;
  const copied = ep.bytesReceived - ring.length;
  const now = ep.core.now();
  let t = ep.rcvTune;
  if (t === null) {
    // The first read starts the first measurement (Linux tcp_init_buffer_space).
    const space = Math.min(ring.max, INIT_SPACE_SEGMENTS * ep.advMss);
    ep.rcvTune = t = new RcvAutotune(space, copied, now, ring.max);
    return;
  }
  const rtt = t.rtt8 !== 0 ? t.rtt8 / 8 : ep.srtt;
  if (rtt === 0 || now - t.time < rtt) return;
  const got = copied - t.seq;
  // Under memory pressure buffers stop growing (memory.ts).
  if (got > t.space && !ep.core.mem.underPressure) {
    const cfg = ep.core.cfg;
    // The window field can say at most 65535 << wscale.
    const limit = Math.min(cfg.receiveBufferMax, 65535 * (1 << ep.rcvWscale));
    const target = rcvWindowTarget(got, t.space, ep.advMss);
    const size = target < limit ? target : limit;
    if (size > t.size) t.size = size;
    ring.raiseMax(size);
    t.space = got;
  }
  t.seq = copied;
  t.time = now;
}

/**
 * The window was rounded up to the scale so the right edge would not move
 * back; the ring must take the bytes so promised, or a peer filling the
 * window would see them dropped and retransmit until it gave up instead of
 * seeing a zero window (Linux accepts them too: it aligns the window up the
 * same way, tcp_select_window). Each rounding adds under 2^wscale bytes.
 */
export function holdPromisedWindow(ep: TcpEndpoint, promised: number): void {
  const ring = ep.rcvBuf;
  if (ring !== null && promised > ring.free) ring.raiseMax(ring.length + promised);
}

/**
 * After a read: once the window edge no longer needs the bytes a rounded-up
 * window promised past the buffer, the ring's limit returns to the buffer
 * size, so repeated closing windows never add up to a larger buffer.
 */
function releasePromise(ep: TcpEndpoint, ring: ReceiveQueue): void {
  const size = ep.rcvTune !== null ? ep.rcvTune.size : ep.core.cfg.receiveBuffer;
  if (ring.max <= size) return;
  let promised = seqDiff(ep.rcvAdv, ep.rcvNxt);
  if (promised < 0) promised = 0;
  ring.lowerMax(Math.max(size, ring.length + promised));
}
