/**
 * "Segment arrives" (RFC 9293 §3.10.7) for a connection in SYN-SENT,
 * SYN-RECEIVED or a synchronized state, checks in the RFC's order: PAWS
 * (RFC 7323 §5.3), sequence number, RST (with RFC 5961 §3 exact-match and
 * challenge ACKs), SYN (RFC 5961 §4 challenge ACK), ACK, text, FIN.
 *
 * @module
 */
import { CONSUMED, type RxVerdict } from "../../manifest.ts";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCP_URG } from "../../wire/tcp.ts";
import type { Segment } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { noteOldData } from "./dsack.ts";
import { negotiate } from "./options.ts";
import { ecnEchoArrived, ecnReceive, ecnSynAckArrived } from "./ecn.ts";
import { fastOpenSynAcked } from "./fastopen.ts";
import { urgentArrives } from "./urgent.ts";
import { output, sendAck, sendInvalidAck, sendSyn } from "./output.ts";
import { acceptSegment, processFin, receiveData } from "./rcv.ts";
import { rcvRttMeasure } from "./rcv_autotune.ts";
import { seqAdd, seqGe, seqGt, seqLe, seqLt } from "./seq.ts";
import { processAck } from "./snd.ts";
import { receivePredicted } from "./fast_path.ts";
import {
  canReceive,
  CLOSE_WAIT,
  CLOSING,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  SYN_RECEIVED,
  SYN_SENT,
  TIME_WAIT,
} from "./state.ts";
import { rttSample } from "./timers.ts";

/** RFC 7323 §5.5: TS.Recent older than 24 days is invalid (PAWS skipped). */
const PAWS_IDLE = 24 * 24 * 3600 * 1_000_000;

/** Processes `seg` on `ep`; borrows the segment (data is copied into the ring). */
export function segmentArrives(ep: TcpEndpoint, seg: Segment): RxVerdict {
  const core = ep.core;
  const now = core.now();
  ep.segsIn++;
  ep.lastRecv = now;
  ep.kaProbes = 0;
  if (ep.state === SYN_SENT) return synSent(ep, seg);
  if (receivePredicted(ep, seg, now)) return CONSUMED; // header prediction (fast_path.ts)
  let flags = seg.flags;
  const rst = (flags & TCP_RST) !== 0;
  // A retransmitted SYN while the SYN-ACK is unanswered: send it again.
  if (ep.state === SYN_RECEIVED && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN) {
    if (seg.seq === ep.irs) {
      // Echo the newest timestamp (Linux tcp_check_req does the same).
      if (ep.tsOk && seg.opts.hasTimestamp && seqGt(seg.opts.tsVal, ep.tsRecent)) {
        ep.tsRecent = seg.opts.tsVal;
        ep.tsRecentAt = now;
      }
      sendSyn(ep);
      return CONSUMED;
    }
  }
  // Simultaneous open (RFC 9293 figure 8, line 5): the peer's SYN-ACK repeats
  // its SYN's sequence number; it acknowledges ours, so take it as an ACK
  // (Linux does the same).
  if (
    ep.state === SYN_RECEIVED && !ep.passive &&
    (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK) &&
    seqAdd(seg.seq, 1) === ep.rcvNxt && seg.ack === ep.sndMax
  ) {
    flags = seg.flags &= ~TCP_SYN;
    seg.seq = ep.rcvNxt;
  }
  const opts = seg.opts;
  if (ep.tsOk && !rst) {
    if (!opts.hasTimestamp) return "no_timestamp"; // RFC 7323 §3.2
    // PAWS: a timestamp older than TS.Recent means an old duplicate.
    if (seqLt(opts.tsVal, ep.tsRecent) && now - ep.tsRecentAt < PAWS_IDLE) {
      noteOldData(ep, seg.seq, seg.dataLen);
      sendInvalidAck(ep, seg.dataLen);
      return "paws";
    }
  }
  const origSeq = seg.seq;
  const origLen = seg.dataLen;
  // First: the sequence number.
  if (!acceptSegment(ep, seg)) {
    if (!rst) {
      noteOldData(ep, origSeq, origLen);
      if ((flags & TCP_SYN) !== 0 && ep.state !== SYN_RECEIVED) {
        // RFC 5961 §4.2: a SYN "irrespective of the sequence number" gets a
        // challenge ACK, under the stack-wide limit (Linux does the same).
        if (core.allowChallengeAck()) sendAck(ep);
        return "syn_challenged";
      }
      if (ep.state === TIME_WAIT && (flags & TCP_FIN) !== 0) {
        ep.armCloseTimer(core.cfg.timeWait); // a retransmitted FIN restarts 2×MSL
        sendAck(ep);
      } else {
        // With the FIN counted: a retransmitted FIN is answered every time.
        sendInvalidAck(ep, origLen + ((flags & TCP_FIN) !== 0 ? 1 : 0));
      }
    }
    return "out_of_window";
  }
  if (seg.dataLen !== origLen) ep.ackNow = true; // part of it was old or past the window
  noteOldData(ep, origSeq, origLen);
  if (ep.ecnOk) ecnReceive(ep, seg);
  if ((seg.flags & TCP_URG) !== 0) urgentArrives(ep, seg, origSeq);
  flags = seg.flags; // trimming may have removed an old SYN or a FIN past the window
  // RFC 7323 §4.3 (2): remember the timestamp of the segment at the left edge.
  if (ep.tsOk && opts.hasTimestamp && seqLe(origSeq, ep.lastAckSent)) {
    if (seqGe(opts.tsVal, ep.tsRecent)) {
      ep.tsRecent = opts.tsVal;
      ep.tsRecentAt = now;
    }
  }
  // Second: RST. RFC 5961 §3.2: only an exact RCV.NXT match resets; any
  // other in-window RST gets a challenge ACK.
  if (rst) {
    if (origSeq !== ep.rcvNxt) {
      if (core.allowChallengeAck()) sendAck(ep);
      return "rst_challenged";
    }
    return onReset(ep);
  }
  // Fourth: SYN.
  if ((flags & TCP_SYN) !== 0) {
    if (ep.state === SYN_RECEIVED && ep.passive) {
      ep.destroy(null); // back to LISTEN (RFC 9293 §3.10.7.4 "fourth")
      return CONSUMED;
    }
    // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK.
    if (core.allowChallengeAck()) sendAck(ep);
    return "syn_challenged";
  }
  // Fifth: ACK.
  if ((flags & TCP_ACK) === 0) return "no_ack";
  if (ep.state === SYN_RECEIVED) {
    if (!(seqLt(ep.sndUna, seg.ack) && seqLe(seg.ack, ep.sndMax))) {
      core.sendControl(
        ep.localAddr,
        ep.localPort,
        ep.remoteAddr,
        ep.remotePort,
        seg.ack,
        0,
        TCP_RST,
        ep.scope,
      );
      return "bad_ack";
    }
    const v = establish(ep, seg);
    if (v !== CONSUMED) return v;
  }
  const drop = processAck(ep, seg);
  if (drop !== undefined) return drop;
  if (ep.ecnOk) ecnEchoArrived(ep, seg);
  if (ep.finQueued && seqGt(ep.sndUna, ep.finSeq)) {
    // Our FIN is acknowledged.
    switch (ep.state) {
      case FIN_WAIT_1:
        ep.setState(FIN_WAIT_2);
        if (ep.user === null) ep.armCloseTimer(core.cfg.finTimeout);
        break;
      case CLOSING:
        ep.enterTimeWait();
        return CONSUMED;
      case LAST_ACK:
        ep.destroy(null);
        return CONSUMED;
      default:
        break;
    }
  }
  // Seventh: segment text.
  if (seg.dataLen > 0 || (seg.flags & TCP_FIN) !== 0) {
    if (canReceive(ep.state)) {
      if (ep.user === null && seg.dataLen > 0 && ep.listener === null) {
        // New data for a socket the user closed: it can never be read (Linux resets).
        ep.abort(null);
        return "data_after_close";
      }
      if (ep.rcvTune !== null) rcvRttMeasure(ep, seg);
      receiveData(ep, seg);
    }
  }
  // Eighth: FIN (possibly one that arrived earlier, out of order).
  if (ep.finRecvd) processFin(ep);
  output(ep);
  return CONSUMED;
}

/** SYN-RECEIVED + acceptable ACK → ESTABLISHED (or the ACK is dropped: full accept queue). */
function establish(ep: TcpEndpoint, seg: Segment): RxVerdict {
  const ls = ep.listener;
  if (ls !== null && !ls.childEstablished(ep)) return "accept_queue_full";
  ep.setState(ep.finQueued ? FIN_WAIT_1 : ESTABLISHED);
  ep.sndWnd = seg.wnd * (1 << ep.sndWscale);
  ep.sndWl1 = seg.seq;
  ep.sndWl2 = seg.ack;
  if (ep.sndWnd > ep.maxSndWnd) ep.maxSndWnd = ep.sndWnd;
  ep.quickAcks = ep.core.cfg.quickAcks;
  ep.retries = 0;
  if (ls === null) ep.user?.onConnected();
  return CONSUMED;
}

function onReset(ep: TcpEndpoint): RxVerdict {
  const core = ep.core;
  switch (ep.state) {
    case SYN_RECEIVED:
      if (ep.passive) ep.destroy(null);
      else {
        core.c.attempt_fails.value++;
        ep.destroy("connection_refused", "Connection refused");
      }
      return CONSUMED;
    case ESTABLISHED:
    case FIN_WAIT_1:
    case FIN_WAIT_2:
    case CLOSE_WAIT:
      core.c.estab_resets.value++;
      ep.destroy("connection_reset", "Connection reset by peer");
      return CONSUMED;
    case TIME_WAIT:
      // RFC 1337: ignore RST in TIME-WAIT (no assassination).
      return "time_wait_rst";
    default: // CLOSING, LAST-ACK
      ep.destroy(null);
      return CONSUMED;
  }
}

/** RFC 9293 §3.10.7.3: SYN-SENT. */
function synSent(ep: TcpEndpoint, seg: Segment): RxVerdict {
  const core = ep.core;
  const flags = seg.flags;
  let ackOk = false;
  if ((flags & TCP_ACK) !== 0) {
    if (seqLe(seg.ack, ep.iss) || seqGt(seg.ack, ep.sndMax)) {
      if ((flags & TCP_RST) === 0) core.resetFor(seg);
      return "bad_ack";
    }
    ackOk = true;
  }
  if ((flags & TCP_RST) !== 0) {
    if (!ackOk) return "rst_ignored";
    core.c.attempt_fails.value++;
    ep.destroy("connection_refused", "Connection refused");
    return CONSUMED;
  }
  if ((flags & TCP_SYN) === 0) return "no_syn";
  const now = core.now();
  ep.irs = seg.seq;
  ep.rcvNxt = seqAdd(seg.seq, 1);
  negotiate(ep, seg.opts);
  ecnSynAckArrived(ep, seg);
  ep.initSender();
  if (ep.tsOk) {
    ep.tsRecent = seg.opts.tsVal;
    ep.tsRecentAt = now;
  }
  const synWindow = Math.min(core.cfg.receiveBuffer, 65535);
  ep.rcvAdv = seqAdd(ep.rcvNxt, synWindow);
  ep.sndWnd = seg.wnd; // a SYN's window is never scaled (RFC 7323 §2.2)
  ep.maxSndWnd = seg.wnd;
  ep.sndWl1 = seg.seq;
  ep.sndWl2 = seg.ack;
  if (!ackOk) {
    // Simultaneous open: SYN-RECEIVED, answer SYN-ACK with our ISS.
    ep.setState(SYN_RECEIVED);
    sendSyn(ep);
    return CONSUMED;
  }
  ep.sndUna = seg.ack;
  if (ep.tfoCookie !== null || ep.tfoSynLen > 0) fastOpenSynAcked(ep, seg);
  if (ep.rttStart >= 0) rttSample(ep, now - ep.rttStart);
  else if (ep.rttSamples === 0 && ep.rto < 3_000_000) ep.rto = 3_000_000; // RFC 6298 §5.7
  ep.rttStart = -1;
  ep.retries = ep.backoff = 0;
  ep.rtoAt = 0;
  ep.setState(ep.finQueued ? FIN_WAIT_1 : ESTABLISHED);
  ep.quickAcks = core.cfg.quickAcks;
  ep.ackNow = true;
  ep.user?.onConnected();
  if (seg.dataLen > 0 || (flags & TCP_FIN) !== 0) {
    // Data or FIN on the SYN-ACK: continue at step six (RFC 9293).
    if (acceptSegment(ep, seg) && canReceive(ep.state)) receiveData(ep, seg);
    if (ep.finRecvd) processFin(ep);
  }
  output(ep);
  return CONSUMED;
}

/** Whether a SYN may reopen a connection in TIME-WAIT (RFC 6191, RFC 1122 §4.2.2.13). */
export function mayReopen(ep: TcpEndpoint, seg: Segment): boolean {
  if (ep.state !== TIME_WAIT) return false;
  if ((seg.flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) !== TCP_SYN) return false;
  if (ep.tsOk && seg.opts.hasTimestamp) {
    // RFC 6191 §2: a newer TSval, or the same TSval and a higher sequence number.
    if (seg.opts.tsVal === ep.tsRecent) return seqGt(seg.seq, ep.rcvNxt);
    return seqGt(seg.opts.tsVal, ep.tsRecent);
  }
  return seqGt(seg.seq, ep.rcvNxt);
}
