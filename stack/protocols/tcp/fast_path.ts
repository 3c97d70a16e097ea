/**
 * Header prediction for the receiver of a bulk transfer (Van Jacobson's, as
 * 4.4BSD `tcp_input` and Linux's `tcp_rcv_established` fast path): an
 * in-order data segment on an ESTABLISHED connection that has nothing of its
 * own in flight, with no SYN, FIN, RST, URG or SACK and nothing unusual
 * (recovery, ECN, a closed window, a hole, a FIN to come), takes one short
 * path instead of the RFC 9293 §3.10.7 sequence in `input.ts`.
 *
 * The path does exactly what the full sequence would do for such a segment
 * (same state changes, same order, same helpers), only without the checks
 * that cannot apply: it exists so that the code run per segment is small
 * (the instruction cache), not to behave differently. Anything else goes the
 * full way.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCP_URG } from "../../wire/tcp.ts";
import type { Segment } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { output } from "./output.ts";
import { sampleAck } from "./pacing.ts";
import { rackOnAck } from "./rack.ts";
import { receiveData } from "./rcv.ts";
import { updateSendWindow } from "./snd.ts";
import { rcvRttMeasure } from "./rcv_autotune.ts";
import { seqDiff, seqGe, seqLe, seqLt } from "./seq.ts";
import { ESTABLISHED } from "./state.ts";

/** Flags that take a segment off the predicted path unless only ACK is set (PSH, ECE, CWR do not). */
const PREDICTION_FLAGS = TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_ACK;

/**
 * Processes `seg` on `ep` if it is a predicted in-order data segment
 * (returns true), else changes nothing and returns false. `now` is the
 * arrival time `segmentArrives` read.
 */
export function receivePredicted(ep: TcpEndpoint, seg: Segment, now: Instant): boolean {
  // Every condition is checked before any state changes.
  if (ep.state !== ESTABLISHED || (seg.flags & PREDICTION_FLAGS) !== TCP_ACK) return false;
  const len = seg.dataLen;
  const seq = seg.seq;
  const ack = seg.ack;
  // In order, and an ACK of everything we sent with nothing outstanding.
  if (len === 0 || seq !== ep.rcvNxt || ack !== ep.sndUna || ack !== ep.sndMax) return false;
  const opts = seg.opts;
  if (
    opts.sackCount !== 0 || ep.ecnOk || ep.inRecovery || ep.finQueued || ep.finRecvd ||
    ep.user === null
  ) return false;
  // With timestamps: present and not older than TS.Recent (so PAWS passes).
  if (ep.tsOk && (!opts.hasTimestamp || seqLt(opts.tsVal, ep.tsRecent))) return false;
  // Open windows both ways (a window opening or closing goes the full way).
  const wnd = seg.wnd * (1 << ep.sndWscale);
  if (wnd === 0 || ep.sndWnd === 0) return false;
  // The whole payload fits the window we offered and the ring, with no hole.
  const asm = ep.asm;
  if (asm !== null && asm.count > 0) return false;
  const ring = ep.rcvBuf;
  const room = ring !== null ? ring.free : ep.core.cfg.receiveBuffer;
  if (len > seqDiff(ep.rcvAdv, seq) || len > room) return false;

  // RFC 7323 §4.3 (2): the timestamp of the segment at the left edge.
  if (ep.tsOk && seqLe(seq, ep.lastAckSent) && seqGe(opts.tsVal, ep.tsRecent)) {
    ep.tsRecent = opts.tsVal;
    ep.tsRecentAt = now;
  }
  // The ACK (snd.ts processAck with SND.UNA = SEG.ACK = SND.MAX): the window update rule.
  updateSendWindow(ep, seq, ack, wnd); // both windows open: it cannot open a closed one
  ep.probesOut = 0;
  if (ep.rack !== null) rackOnAck(ep, seg, false);
  sampleAck(ep);
  // The text (after the receiver's RTT sample, as in step seven); no FIN, so nothing for step eight.
  if (ep.rcvTune !== null) rcvRttMeasure(ep, seg);
  receiveData(ep, seg);
  output(ep);
  return true;
}
