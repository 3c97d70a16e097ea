/**
 * The sender side of an incoming ACK (RFC 9293 §3.10.7.4 "fifth"): the
 * acceptable-ACK range (with RFC 5961 §5.2's lower bound), the send-window
 * update rule (SND.WL1/SND.WL2), freeing acknowledged data, RTT samples
 * (RFC 6298 with Karn's rule), SACK scoreboard updates, and loss recovery:
 * fast retransmit on the third duplicate ACK or when the scoreboard shows a
 * loss (RFC 5681 §3.2, RFC 6675 §5), NewReno partial ACKs (RFC 6582) without
 * SACK, limited transmit (RFC 3042, in `output.ts`).
 *
 * @module
 */
import { TCP_FIN, TCP_SYN } from "../../wire/tcp.ts";
import type { Segment } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { dsackInWindow, isDsack, onDsack, undoStart } from "./dsack.ts";
import { retransmitAt, sendAck } from "./output.ts";
import { prrOnAck, prrRenoDupAck, prrRenoPartialAck, prrRenoStart, prrStart } from "./prr.ts";
import { rackOnAck } from "./rack.ts";
import { sampleAck } from "./pacing.ts";
import { dropInvalidSackBlocks, DUP_THRESH } from "./sack.ts";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from "./seq.ts";
import { armRto, rttSample } from "./timers.ts";
import { checkReneging } from "./memory.ts";

/**
 * RFC 9293 §3.10.7.4's window update: SEG.WND (already scaled) becomes
 * SND.WND when the segment is not older than the last one that set it
 * (SND.WL1, SND.WL2). Returns true when that opened a closed window.
 */
export function updateSendWindow(ep: TcpEndpoint, seq: number, ack: number, wnd: number): boolean {
  if (!(seqLt(ep.sndWl1, seq) || (ep.sndWl1 === seq && seqLe(ep.sndWl2, ack)))) return false;
  const wasClosed = ep.sndWnd === 0;
  ep.sndWnd = wnd;
  ep.sndWl1 = seq;
  ep.sndWl2 = ack;
  if (wnd > ep.maxSndWnd) ep.maxSndWnd = wnd;
  return wasClosed && wnd > 0;
}

/**
 * Processes the ACK field of an acceptable segment in a synchronized state.
 * Returns a drop reason when the segment must be dropped (an ACK was sent
 * where the RFC says so), else undefined.
 */
export function processAck(ep: TcpEndpoint, seg: Segment): string | undefined {
  const ack = seg.ack;
  // RFC 5961 §5.2: an ACK outside [SND.UNA − MAX.SND.WND, SND.NXT] (ours:
  // SND.MAX, as SND.NXT moves back after a timeout) drops the segment and
  // gets a challenge ACK, rate-limited stack-wide (§7), so that blind data
  // injection needs a guess of the ACK field too.
  if (seqGt(ack, ep.sndMax)) {
    if (ep.core.allowChallengeAck()) sendAck(ep); // RFC 9293: ACK of unsent data
    return "ack_unsent";
  }
  if (ep.maxSndWnd > 0 && seqLt(ack, (ep.sndUna - ep.maxSndWnd) >>> 0)) {
    if (ep.core.allowChallengeAck()) sendAck(ep);
    return "ack_too_old";
  }
  const wnd = seg.wnd * (1 << ep.sndWscale);
  const windowChanged = wnd !== ep.sndWnd;
  if (updateSendWindow(ep, seg.seq, ack, wnd)) windowOpened(ep);
  ep.probesOut = 0;
  let newlySacked = 0;
  const opts = seg.opts;
  // D-SACK (RFC 2883 §4.2) judged first; then blocks reporting data never
  // sent are dropped before RACK and the scoreboard see them.
  let dsack = false;
  if (opts.sackCount > 0 && ep.sackOk) {
    const firstIsDsack = isDsack(opts, ack);
    dsack = firstIsDsack && dsackInWindow(ep, opts.sackBlocks[0]!, opts.sackBlocks[1]!);
    const bad = dropInvalidSackBlocks(opts, ep.sndMax, firstIsDsack, dsack);
    if (bad > 0) ep.core.c.sacks_invalid.value += bad;
  }
  const sb = opts.sackCount > 0 ? ep.sackBoard() : ep.scoreboard;
  const sackedBefore = sb?.sacked ?? 0;
  if (sb !== null && opts.sackCount > 0) {
    const una = seqMax(ack, ep.sndUna);
    for (let i = 0; i < opts.sackCount; i++) {
      newlySacked += sb.add(opts.sackBlocks[2 * i]!, opts.sackBlocks[2 * i + 1]!, una, ep.sndMax);
    }
  }
  // D-SACK (RFC 2883 §4.2), RACK-TLP (RFC 8985), and PRR's DeliveredData.
  if (dsack) onDsack(ep, opts.sackBlocks[0]!, opts.sackBlocks[1]!);
  const unaDelta = seqGt(ack, ep.sndUna) ? seqDiff(ack, ep.sndUna) : 0;
  // PRR's safe ACK: SND.UNA advances and nothing new is found lost.
  const lostBefore = ep.rack?.lostCount ?? 0;
  const unaAdvanced = seqGt(ack, ep.sndUna);
  if (ep.rack !== null) rackOnAck(ep, seg, dsack);
  if (seqGt(ack, ep.sndUna)) {
    newAck(ep, seg, ack);
  } else if (ack === ep.sndUna && seqGt(ep.sndMax, ep.sndUna)) {
    // RFC 5681 §2 duplicate ACK; RFC 6675 §2: or one that SACKs new data.
    // Not while the peer's window is closed: what is outstanding then is a
    // zero-window probe, and its answers are window reports, not signs of
    // loss (BSD counts no duplicate ACK while the persist timer runs; Linux
    // has nothing in flight while probing).
    const dup = seg.dataLen === 0 && (seg.flags & (TCP_SYN | TCP_FIN)) === 0 && !windowChanged &&
      wnd !== 0;
    if (dup || (newlySacked > 0 && wnd !== 0)) onDupAck(ep);
  }
  if (ep.sackRecovery && ep.inRecovery) {
    const board = ep.scoreboard;
    const pipe = ep.rack !== null
      ? ep.rack.pipe()
      : board !== null
      ? board.pipe(ep.sndUna, ep.sndMax, ep.highRxt, ep.mss)
      : ep.flight;
    // RFC 6937 DeliveredData = Δsnd.una + ΔSACKed: bytes SACKed earlier
    // and now acknowledged cumulatively count once.
    const delivered = Math.max(0, unaDelta + (ep.scoreboard?.sacked ?? 0) - sackedBefore);
    prrOnAck(ep, delivered, pipe, unaAdvanced && (ep.rack?.lostCount ?? 0) === lostBefore);
  }
  sampleAck(ep); // delivery rate, BBR's model, HyStart++ (pacing.ts)
  return undefined;
}

/**
 * The peer's window opened after being closed: the persist timer becomes the
 * retransmission timer again, without the probes' backoff (4.4BSD
 * `tcp_output` clears `t_rxtshift` when it stops persisting): a fresh RTO if
 * something (the probe octet) is outstanding, else none until data is sent.
 */
function windowOpened(ep: TcpEndpoint): void {
  ep.backoff = 0;
  if (ep.sndMax !== ep.sndUna) armRto(ep);
  else ep.rtoAt = 0;
}

function newAck(ep: TcpEndpoint, seg: Segment, ack: number): void {
  const core = ep.core;
  const now = core.now();
  const flightBefore = seqDiff(ep.sndMax, ep.sndUna);
  const acked = seqDiff(ack, ep.sndUna);
  const buf = ep.sndBuf;
  if (buf !== null) {
    let n = seqDiff(ack, ep.sndBufStart);
    if (n > buf.length) n = buf.length;
    if (n > 0) {
      buf.discard(n);
      ep.sndBufStart = seqAdd(ep.sndBufStart, n);
      ep.bytesAcked += n;
      if (buf.empty) ep.drained();
    }
  } else if (seqGt(ack, ep.sndBufStart) && !ep.finQueued) {
    ep.sndBufStart = ack;
  }
  ep.sndUna = ack;
  if (seqLt(ep.sndNxt, ack)) ep.sndNxt = ack;
  // RTT: the timed segment (Karn), else after a timeout the echoed timestamp.
  if (ep.rttStart >= 0 && seqGe(ack, ep.rttSeq)) {
    rttSample(ep, now - ep.rttStart);
    ep.rttStart = -1;
  } else if (ep.backoff > 0 && ep.tsOk && seg.opts.hasTimestamp && seg.opts.tsEcr !== 0) {
    const ms = (ep.tsNow() - seg.opts.tsEcr) | 0;
    if (ms >= 0) rttSample(ep, ms * 1000);
  }
  ep.retries = 0;
  ep.backoff = 0;
  ep.progressed(now);
  ep.scoreboard?.ackTo(ack);
  const cc = ep.cc;
  if (ep.inRecovery) {
    if (seqGe(ack, ep.recover)) {
      // Full ACK: leave recovery (RFC 6582 §3.2 step 3, option 1; RFC 6675 §5).
      const flight = seqDiff(ep.sndMax, ep.sndUna);
      cc.cwnd = ep.sackRecovery ? cc.ssthresh : Math.min(cc.ssthresh, flight + ep.mss);
      ep.inRecovery = ep.sackRecovery = false;
      ep.dupAcks = 0;
    } else if (!ep.sackRecovery) {
      // NewReno partial ACK: retransmit the next hole (RFC 6582 §3.2 step
      // 5), the window from PRR (RFC 6937) rather than deflation. State
      // first: the send may deliver an answer to ourselves at once. Linux
      // sends the hole only when PRR allows; from here it always goes.
      prrRenoPartialAck(ep, acked);
      ep.dupAcks = 0;
      retransmitAt(ep, ep.sndUna, ep.mss);
    }
  } else {
    ep.dupAcks = 0;
    cc.onAck(acked, flightBefore, now, ep.srtt);
  }
  if (ep.sndUna === ep.sndMax) ep.rtoAt = 0;
  else {
    armRto(ep);
    checkReneging(ep); // the peer dropped data it had SACKed (memory.ts)
  }
  ep.user?.onWritable();
}

/** A duplicate ACK: count it, and enter fast retransmit / fast recovery when due. */
function onDupAck(ep: TcpEndpoint): void {
  ep.dupAcks++;
  if (ep.rack !== null) return; // RACK judges losses by time (rack.ts)
  const cc = ep.cc;
  if (ep.inRecovery) {
    if (!ep.sackRecovery) prrRenoDupAck(ep); // RFC 6937 in place of RFC 5681's inflation
    return;
  }
  const sb = ep.sackBoard();
  const lost = ep.dupAcks >= DUP_THRESH || (sb !== null && sb.isLost(ep.sndUna, ep.mss));
  if (!lost) return;
  // RFC 6582 §3.2 step 1 / RFC 6675 §5: not again for losses of the window
  // already being recovered.
  if (!seqGt(ep.sndUna, ep.recover)) return;
  const core = ep.core;
  ep.inRecovery = true;
  ep.recover = ep.sndMax;
  ep.rttStart = -1;
  core.c.fast_retransmits.value++;
  undoStart(ep);
  cc.onCongestion(seqDiff(ep.sndMax, ep.sndUna), core.now());
  // State before each send: a retransmission to one of our own addresses is
  // answered inside the send (see output.ts), which may end the recovery.
  armRto(ep);
  const una = ep.sndUna;
  if (sb !== null) {
    ep.sackRecovery = true;
    core.c.sack_recoveries.value++;
    prrStart(ep, seqDiff(ep.sndMax, ep.sndUna));
    ep.highRxt = una;
    const n = retransmitAt(ep, una, seqDiff(sb.holeEnd(una, ep.sndMax), una));
    ep.highRxt = seqAdd(una, n);
  } else {
    prrRenoStart(ep);
    retransmitAt(ep, una, ep.mss);
  }
}
