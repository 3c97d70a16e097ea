/**
 * The receive side: the segment acceptability test and trimming to the
 * window (RFC 9293 §3.10.7.4 "first"), data into the receive ring in order or
 * ahead of a hole (kept, bounded, and reassembled), the peer's FIN, ACK
 * scheduling (quick ACKs after the handshake and on out-of-order data,
 * otherwise every second full-sized segment or the delayed-ACK timer, RFC
 * 5681 §4.2, RFC 1122 §4.2.3.2) and the window we advertise with
 * receiver-side silly-window avoidance (RFC 9293 §3.8.6.2.2).
 *
 * @module
 */
import { TCP_FIN, TCP_SYN } from "../../wire/tcp.ts";
import type { Segment, TcpCore } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { noteDuplicate } from "./dsack.ts";
import { sendAck } from "./output.ts";
import { seqAdd, seqDiff, seqGt, seqInRange, seqMax } from "./seq.ts";
import {
  CLOSE_WAIT,
  CLOSED,
  CLOSING,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  SYN_RECEIVED,
} from "./state.ts";
import { armTimer } from "./timers.ts";
import { holdPromisedWindow } from "./rcv_autotune.ts";
import { admitReceive, clampWindow, mayHold } from "./memory.ts";

/**
 * The window field to send, scaled; moves RCV.ADV (our right edge) forward,
 * never back. The edge only advances in steps of at least min(buffer / 2,
 * MSS) (receiver SWS avoidance).
 */
export function selectWindow(ep: TcpEndpoint): number {
  const max = ep.core.cfg.receiveBuffer;
  const free = ep.rcvBuf === null ? max : ep.rcvBuf.free;
  const shift = ep.rcvWscale;
  let cur = seqDiff(ep.rcvAdv, ep.rcvNxt);
  if (cur < 0) cur = 0;
  let wnd = clampWindow(ep, free);
  const step = Math.min(max >>> 1, ep.advMss);
  if (wnd - cur < step) wnd = cur;
  const maxWnd = 65535 * (1 << shift);
  if (wnd > maxWnd) wnd = maxWnd;
  let field = wnd >>> shift;
  if (field << shift < cur) {
    // Rounding down would move the right edge back: round up instead.
    field = Math.min(65535, Math.ceil(cur / (1 << shift)));
    holdPromisedWindow(ep, field << shift);
  }
  ep.rcvAdv = seqMax(ep.rcvAdv, seqAdd(ep.rcvNxt, field << shift));
  return field;
}

/**
 * RFC 9293 §3.10.7.4 (first: sequence number check) on `seg`, then trims it
 * to the window: old bytes (and an old SYN or FIN) off the front, bytes past
 * the window (and the FIN) off the back. Returns false if the segment is
 * unacceptable.
 */
export function acceptSegment(ep: TcpEndpoint, seg: Segment): boolean {
  const rcvNxt = ep.rcvNxt;
  let wnd = seqDiff(ep.rcvAdv, rcvNxt);
  if (wnd < 0) wnd = 0;
  const seq = seg.seq;
  const len = seg.len;
  const limit = seqAdd(rcvNxt, wnd);
  let ok: boolean;
  if (len === 0) {
    ok = wnd === 0 ? seq === rcvNxt : seqInRange(seq, rcvNxt, limit);
  } else if (wnd === 0) {
    // "Special allowance ... to accept valid ACKs, URGs, and RSTs": keep the
    // control part of a segment at RCV.NXT, drop its data.
    ok = seq === rcvNxt;
  } else {
    ok = seqInRange(seq, rcvNxt, limit) || seqInRange(seqAdd(seq, len - 1), rcvNxt, limit);
  }
  if (!ok) return false;
  // Trim the front.
  let skip = seqDiff(rcvNxt, seg.seq);
  if (skip > 0) {
    if ((seg.flags & TCP_SYN) !== 0) {
      seg.flags &= ~TCP_SYN;
      seg.seq = seqAdd(seg.seq, 1);
      skip--;
    }
    const cut = skip < seg.dataLen ? skip : seg.dataLen;
    seg.dataAt += cut;
    seg.dataLen -= cut;
    seg.seq = seqAdd(seg.seq, cut);
    if (skip > cut && (seg.flags & TCP_FIN) !== 0) seg.flags &= ~TCP_FIN;
  }
  // Trim the back.
  const end = seqAdd(seg.seq, seg.dataLen);
  if (seqGt(end, limit)) {
    seg.dataLen -= seqDiff(end, limit);
    seg.flags &= ~TCP_FIN;
  } else if ((seg.flags & TCP_FIN) !== 0 && end === limit && wnd > 0) {
    seg.flags &= ~TCP_FIN; // the FIN itself is past the window
  }
  if (wnd === 0) {
    seg.dataLen = 0;
    seg.flags &= ~TCP_FIN;
  }
  return true;
}

/**
 * Records that `len` bytes arrived and decides when to acknowledge them:
 * - at once (`ackNow`, sent by `output()` before segment processing ends):
 *   out-of-order data and data filling a hole (RFC 5681 §4.2: immediate
 *   duplicate ACKs), the peer's FIN, trimmed segments, quick-ACK mode
 *   after the handshake;
 * - at the end of the receive batch, once two full-sized segments are
 *   unacknowledged (RFC 9293 §3.8.6.3, RFC 5681 §4.2: an ACK "SHOULD be
 *   generated for at least every second full-sized segment"): the
 *   connection is queued and `flushAcks` sends one ACK for everything the
 *   batch brought. A batch of N segments read together (a TUN read loop, or
 *   the frames of one instant on the virtual network) gets one stretch ACK
 *   rather than N/2, as Linux's GRO makes one from the segments it merges;
 *   a frame received alone is its own batch, so then every second segment
 *   is acknowledged, as before. Super-segments (a TUN with offloads) are
 *   coalesced too, although Linux ACKs each GRO packet: an ACK per
 *   super-segment, or per 4 or 8, inside a batch was measured against a
 *   BBR and a CUBIC sender (session 18, docs/BENCHMARK_HISTORY.md): BBR no
 *   faster, CUBIC slower, more CPU per GiB, since each ACK write runs
 *   Linux's sender (its ACK processing and the sends it releases) on our
 *   thread;
 * - else by the delayed-ACK timer (40 ms, RFC 1122 §4.2.3.2: under 0.5 s).
 */
export function scheduleAck(ep: TcpEndpoint, len: number, immediate: boolean): void {
  // Capped at our MSS (Linux's tcp_measure_rcv_mss): a TSO/GRO super-segment
  // of 64 KiB must not make "two full-sized segments" mean 128 KiB.
  if (len > ep.rcvMss) ep.rcvMss = len > ep.advMss ? ep.advMss : len;
  ep.ackPendingBytes += len;
  if (immediate) {
    ep.ackNow = true;
    return;
  }
  if (ep.quickAcks > 0) {
    ep.quickAcks--;
    ep.ackNow = true;
    return;
  }
  if (ep.ackPendingBytes >= 2 * ep.rcvMss) {
    if (!ep.ackAtFlush) {
      const core = ep.core;
      ep.ackAtFlush = true;
      core.ackQueue.push(ep);
      core.ctx.requestFlush();
    }
    return;
  }
  if (ep.delackAt === 0) {
    ep.delackAt = ep.core.now() + ep.core.cfg.delayedAck;
    ep.core.c.delayed_acks.value++;
    armTimer(ep);
  }
}

/**
 * The plugin's `flush()`: at the end of a receive batch, one ACK for each
 * connection `scheduleAck` queued, acknowledging everything received so far
 * (none if a segment sent meanwhile carried it).
 */
export function flushAcks(core: TcpCore): void {
  const q = core.ackQueue;
  // Sending may deliver to ourselves and queue more: those are sent too.
  for (let i = 0; i < q.length; i++) {
    const ep = q[i]!;
    ep.ackAtFlush = false;
    if (ep.ackPendingBytes > 0 && ep.state !== CLOSED) sendAck(ep);
  }
  q.length = 0;
}

/**
 * Step seven (segment text) for ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2:
 * in-order data goes to the ring (then any out-of-order ranges it reaches);
 * data past a hole is written ahead and recorded. Also records the FIN.
 * Retains (copies) the payload.
 */
export function receiveData(ep: TcpEndpoint, seg: Segment): void {
  const off = seqDiff(seg.seq, ep.rcvNxt);
  let len = seg.dataLen;
  let fin = (seg.flags & TCP_FIN) !== 0;
  // A bare FIN allocates no ring: most short connections never receive data.
  const ring = ep.rcvBuf;
  const room = (ring !== null ? ring.free : ep.core.cfg.receiveBuffer) - off;
  if (len > room) {
    len = room > 0 ? room : 0;
    fin = false;
  }
  if (len > 0) {
    const kept = admitReceive(ep, off, len); // the stack's memory limit (memory.ts)
    if (kept < len) {
      len = kept;
      fin = false;
    }
  }
  if (len > 0) {
    const buf = ep.rcvBuffer();
    const data = seg.payload(len);
    if (off === 0) {
      const asm = ep.asm;
      const hadHoles = asm !== null && asm.count > 0;
      // A pooled super-segment is held rather than copied (rcv_queue.ts),
      // when the stack's memory allows its whole buffer (memory.ts).
      const pkt = seg.pkt;
      buf.append(data, pkt !== null && pkt.buf === seg.buf && mayHold(ep, pkt) ? pkt : null);
      ep.rcvNxt = seqAdd(ep.rcvNxt, len);
      ep.bytesReceived += len;
      // New data: our ACKs reach the peer (RFC 4861 §7.3.1); lastRecv is now.
      ep.progressed(ep.lastRecv);
      if (hadHoles) {
        for (let end = asm!.takeFront(ep.rcvNxt); end >= 0; end = asm!.takeFront(ep.rcvNxt)) {
          const n = seqDiff(end, ep.rcvNxt);
          buf.commit(n);
          ep.bytesReceived += n;
          ep.rcvNxt = end;
        }
      }
      // RFC 5681 §4.2: ACK at once when a segment fills (part of) a hole.
      scheduleAck(ep, len, hadHoles);
      ep.user?.onReadable();
    } else {
      const right = seqAdd(seg.seq, len);
      const asm = ep.reassembler();
      if (!asm.covers(seg.seq, right)) {
        if (asm.add(seg.seq, right)) buf.writeAt(off, data);
        else {
          ep.core.c["rx.ooo_dropped"].value++;
          fin = false;
        }
      } else noteDuplicate(ep, seg.seq, right); // RFC 2883 §4.1.2
      // An out-of-order segment gets an immediate (duplicate) ACK.
      scheduleAck(ep, 0, true);
    }
  } else if (seg.dataLen > 0) {
    scheduleAck(ep, 0, true); // no room: tell the peer our window
  }
  if (fin) {
    ep.finRecvd = true;
    ep.finRecvSeq = seqAdd(seg.seq, len);
    // A bare FIN past a hole is out of order too: duplicate ACK at once.
    if (len === 0 && off > 0) scheduleAck(ep, 0, true);
  }
}

/**
 * Step eight: once RCV.NXT reaches the peer's FIN, consume it, ACK at once and
 * move on (RFC 9293 §3.10.7.4 "eighth"). Returns true when the FIN was processed.
 */
export function processFin(ep: TcpEndpoint): boolean {
  if (!ep.finRecvd || ep.eof || ep.rcvNxt !== ep.finRecvSeq) return false;
  ep.rcvNxt = seqAdd(ep.rcvNxt, 1);
  ep.eof = true;
  ep.ackNow = true;
  switch (ep.state) {
    case SYN_RECEIVED:
    case ESTABLISHED:
      ep.setState(CLOSE_WAIT);
      break;
    case FIN_WAIT_1:
      // Our FIN not yet acknowledged (else we would be in FIN-WAIT-2).
      ep.setState(CLOSING);
      break;
    case FIN_WAIT_2:
      ep.enterTimeWait();
      break;
    default:
      break;
  }
  ep.user?.onReadable();
  return true;
}

/**
 * After the user read: if the window can open by at least min(buffer / 2,
 * MSS) and at least double, tell the peer now (a window update) instead of
 * waiting for its next segment or a probe.
 */
export function maybeWindowUpdate(ep: TcpEndpoint): void {
  const s = ep.state;
  if (s !== ESTABLISHED && s !== FIN_WAIT_1 && s !== FIN_WAIT_2) return;
  let free = clampWindow(ep, ep.rcvBuf!.free); // as selectWindow will offer
  const maxWnd = 65535 * (1 << ep.rcvWscale);
  if (free > maxWnd) free = maxWnd; // what the window field can say
  let cur = seqDiff(ep.rcvAdv, ep.rcvNxt);
  if (cur < 0) cur = 0;
  const step = Math.min(ep.core.cfg.receiveBuffer >>> 1, ep.advMss);
  if (free - cur >= step && free >= 2 * cur) sendAck(ep);
}
