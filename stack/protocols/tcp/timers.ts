/**
 * Timers of a connection: one stack timer per connection, armed at the
 * earliest of its deadlines (retransmission/persist, delayed ACK, keepalive,
 * TIME-WAIT/orphan/connect, buffer trim) and re-armed lazily: pushing a
 * deadline later leaves the timer where it is, and a timer that fires early
 * just re-arms.
 * Also the RTT estimator and RTO of RFC 6298.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { MIN_MSS, TS_OPTION_LEN } from "./options.ts";
import { undoStart } from "./dsack.ts";
import { output, sendOne, sendProbe, sendReset, sendSyn, sendWindowProbe } from "./output.ts";
import { rackTimer } from "./rack.ts";
import { seqDiff, seqGt } from "./seq.ts";
import {
  CLOSE_WAIT,
  CLOSED,
  CLOSING,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  SYN_RECEIVED,
  SYN_SENT,
  TIME_WAIT,
} from "./state.ts";

/** RFC 6298 clock granularity G: our timers are exact to 1 µs, the TS clock to 1 ms. */
const GRANULARITY = 1_000;
/** Backoff cap (RTO doubles at most this many times before the RTO maximum bites). */
const MAX_BACKOFF = 16;

/** Arms the connection's timer at its earliest deadline (never later than it is armed). */
export function armTimer(ep: TcpEndpoint): void {
  let next = 0;
  if (ep.rtoAt !== 0) next = ep.rtoAt;
  if (ep.delackAt !== 0 && (next === 0 || ep.delackAt < next)) next = ep.delackAt;
  if (ep.keepAt !== 0 && (next === 0 || ep.keepAt < next)) next = ep.keepAt;
  if (ep.closeAt !== 0 && (next === 0 || ep.closeAt < next)) next = ep.closeAt;
  if (ep.trimAt !== 0 && (next === 0 || ep.trimAt < next)) next = ep.trimAt;
  if (ep.pmtuAt !== 0 && (next === 0 || ep.pmtuAt < next)) next = ep.pmtuAt;
  if (ep.rackAt !== 0 && (next === 0 || ep.rackAt < next)) next = ep.rackAt;
  if (ep.paceAt !== 0 && (next === 0 || ep.paceAt < next)) next = ep.paceAt;
  if (next !== 0) ep.timer.armEarlier(next);
}

/** The RTO with backoff applied, clamped to the maximum. */
export function currentRto(ep: TcpEndpoint): number {
  const cfg = ep.core.cfg;
  // No backoff (nearly always): no Math.pow per segment sent.
  const rto = ep.backoff === 0 ? ep.rto : ep.rto * 2 ** Math.min(ep.backoff, MAX_BACKOFF);
  return rto > cfg.rtoMax ? cfg.rtoMax : rto;
}

/** (Re)starts the retransmission timer: it expires one RTO from now (RFC 6298 §5.3). */
export function armRto(ep: TcpEndpoint): void {
  ep.rtoAt = ep.core.now() + currentRto(ep);
  armTimer(ep);
}

/** Feeds one RTT measurement (µs) to the RFC 6298 §2 estimator. */
export function rttSample(ep: TcpEndpoint, r: number): void {
  if (r < 0) return;
  if (ep.rttSamples === 0) {
    ep.srtt = r;
    ep.rttvar = r / 2;
  } else {
    ep.rttvar = 0.75 * ep.rttvar + 0.25 * Math.abs(ep.srtt - r);
    ep.srtt = 0.875 * ep.srtt + 0.125 * r;
  }
  ep.rttSamples++;
  const cfg = ep.core.cfg;
  let rto = ep.srtt + Math.max(GRANULARITY, 4 * ep.rttvar);
  if (rto < cfg.rtoMin) rto = cfg.rtoMin;
  if (rto > cfg.rtoMax) rto = cfg.rtoMax;
  ep.rto = Math.round(rto);
}

/** Gives up on a connection: `timed_out`, in words with the last ICMP soft error, if any. */
function timeOut(ep: TcpEndpoint, what: string): void {
  const soft = ep.softError === "" ? "" : ` (last ICMP error: ${ep.softError})`;
  ep.destroy("timed_out", `${what} timed out${soft}`);
}

/** The timer callback: runs every due deadline, then re-arms. */
export function onTimer(ep: TcpEndpoint, now: Instant): void {
  if (ep.state === CLOSED) return;
  if (ep.closeAt !== 0 && ep.closeAt <= now) {
    ep.closeAt = 0;
    onCloseTimer(ep);
    if (ep.state === CLOSED) return;
  }
  if (ep.rackAt !== 0 && ep.rackAt <= now) {
    // Before the RTO: a probe due at the same instant (the PTO is capped
    // by the RTO, RFC 8985 §7.2) goes instead, and restarts the RTO.
    ep.rackAt = 0;
    rackTimer(ep, now);
    if (ep.state === CLOSED) return;
  }
  if (ep.rtoAt !== 0 && ep.rtoAt <= now) {
    ep.rtoAt = 0;
    onRetransmitTimer(ep, now);
    if (ep.state === CLOSED) return;
  }
  if (ep.delackAt !== 0 && ep.delackAt <= now) {
    ep.delackAt = 0;
    if (ep.ackPendingBytes > 0 || ep.ackNow) {
      ep.ackNow = true;
      output(ep);
    }
  }
  if (ep.keepAt !== 0 && ep.keepAt <= now) {
    ep.keepAt = 0;
    onKeepalive(ep, now);
    if (ep.state === CLOSED) return;
  }
  if (ep.trimAt !== 0 && ep.trimAt <= now) {
    ep.trimAt = 0;
    ep.trim();
  }
  if (ep.pmtuAt !== 0 && ep.pmtuAt <= now) {
    ep.pmtuAt = 0;
    regrowMss(ep);
  }
  if (ep.paceAt !== 0 && ep.paceAt <= now) {
    ep.paceAt = 0; // pacing (pacing.ts): what was held back may go now
    output(ep);
    if (ep.state === CLOSED) return;
  }
  armTimer(ep);
}

/**
 * If a learned path MTU (RFC 1191) is in force towards the peer, looks at
 * the route again when it expires (`pmtuAt`). Called when the MSS is set on
 * the handshake and when an ICMP "fragmentation needed" lowered it.
 */
export function watchPathMtu(ep: TcpEndpoint): void {
  const core = ep.core;
  const expires = ep.net.pmtuExpires(ep.remoteAddr);
  if (expires === 0) return;
  ep.pmtuAt = expires > core.now() ? expires : core.now();
  armTimer(ep);
}

/**
 * The learned path MTU expired: the MSS follows the route's MTU back up
 * (RFC 1191 §6.3: a larger PMTU is tried once the estimate times out; Linux
 * `tcp_sync_mss` on the next send), bounded by the peer's MSS: only a route
 * whose MTU grew (the learned entry is gone, or the interface's MTU is
 * larger) makes segments larger again, and a connection opened while a
 * learned MTU was in force grows too once it expires. If
 * the bottleneck is still there, its next "fragmentation needed" lowers the
 * MSS once more. Never shrinks the MSS: ICMP does that. Re-arms while a
 * (newer) learned entry is still in force.
 */
function regrowMss(ep: TcpEndpoint): void {
  const st = ep.state;
  if (st === CLOSED || st === SYN_SENT || st === SYN_RECEIVED || st === TIME_WAIT) return;
  const core = ep.core;
  let mss = Math.min(ep.peerMss, core.routeMss(ep.remoteAddr)) -
    (ep.tsOk ? TS_OPTION_LEN : 0);
  if (mss < MIN_MSS) mss = MIN_MSS;
  if (mss > ep.mss) {
    ep.mss = mss;
    ep.cc.setMss(mss);
    core.c.pmtu_updates.value++;
    output(ep); // what waited for a full segment may go now
  }
  watchPathMtu(ep);
}

function onCloseTimer(ep: TcpEndpoint): void {
  switch (ep.state) {
    case TIME_WAIT:
      ep.destroy(null);
      return;
    case FIN_WAIT_2:
      if (ep.user === null) {
        // Orphaned FIN-WAIT-2 (Linux tcp_fin_timeout): give up with a reset.
        sendReset(ep);
        ep.destroy(null);
      }
      return;
    case SYN_SENT:
      ep.core.c.attempt_fails.value++;
      timeOut(ep, "Connect");
      return;
    default:
      return;
  }
}

function onRetransmitTimer(ep: TcpEndpoint, now: Instant): void {
  const core = ep.core;
  const cfg = core.cfg;
  switch (ep.state) {
    case SYN_SENT:
      if (ep.retries >= cfg.synRetries) {
        core.c.attempt_fails.value++;
        timeOut(ep, "Connect");
        return;
      }
      ep.retries++;
      ep.backoff++;
      ep.rttStart = -1;
      core.c.retrans_segs.value++;
      ep.retransSegs++;
      sendSyn(ep);
      return;
    case SYN_RECEIVED:
      if (ep.retries >= cfg.synAckRetries) {
        if (ep.passive) ep.destroy(null);
        else timeOut(ep, "Connect");
        return;
      }
      ep.retries++;
      ep.backoff++;
      ep.rttStart = -1;
      core.c.retrans_segs.value++;
      ep.retransSegs++;
      sendSyn(ep);
      return;
    case ESTABLISHED:
    case CLOSE_WAIT:
    case FIN_WAIT_1:
    case CLOSING:
    case LAST_ACK:
      break;
    default:
      return;
  }
  const outstanding = seqDiff(ep.sndMax, ep.sndUna);
  if (ep.sndWnd === 0) {
    // Persist (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17): probe the closed
    // window with one octet (`sendWindowProbe`: SND.NXT stays at SND.UNA),
    // forever while the peer answers; give up only after maxRetries
    // unanswered probes (any ACK resets the count).
    if (ep.probesOut > cfg.maxRetries) {
      timeOut(ep, "Connection");
      return;
    }
    ep.probesOut++;
    core.c.zero_window_probes.value++;
    if (ep.backoff < MAX_BACKOFF) ep.backoff++;
    armRto(ep); // before the send: a local peer answers inside it
    if (!sendWindowProbe(ep)) ep.rtoAt = 0;
    return;
  }
  if (outstanding === 0) {
    // Nagle or SWS held back data and no ACK will come: the override timeout.
    sendOne(ep, ep.cc.cwnd, true);
    output(ep);
    return;
  }
  // A real retransmission timeout (RFC 6298 §5.4-5.7, RFC 5681 §3.1).
  ep.retries++;
  core.c.timeouts.value++;
  if (ep.retries > cfg.maxRetries) {
    timeOut(ep, "Connection");
    return;
  }
  // RFC 5681 §3.1: ssthresh is set on the first timeout of a segment and
  // held when its retransmission times out again; and a timeout during fast
  // recovery keeps the ssthresh the recovery set, rather than reducing (or,
  // from a FlightSize swollen by SACKed data, raising) it a second time for
  // the same window (Linux tcp_enter_loss). FlightSize is capped by cwnd:
  // with SACK, SND.MAX − SND.UNA also counts data the peer already holds.
  const reduced = ep.retries > 1 || (ep.inRecovery && seqGt(ep.recover, ep.sndUna));
  if (!reduced) undoStart(ep); // a D-SACK may yet show the timeout was spurious
  if (reduced) ep.cc.cwnd = ep.mss;
  else ep.cc.onTimeout(Math.min(outstanding, ep.cc.cwnd), now);
  ep.inRecovery = ep.sackRecovery = false;
  ep.dupAcks = 0;
  ep.recover = ep.sndMax;
  ep.scoreboard?.clear(); // RFC 2018 §8
  ep.rack?.timedOut();
  ep.rttStart = -1;
  if (ep.backoff < MAX_BACKOFF) ep.backoff++;
  ep.sndNxt = ep.sndUna; // go back: resend from the first unacknowledged byte
  armRto(ep);
  output(ep);
}

function onKeepalive(ep: TcpEndpoint, now: Instant): void {
  const cfg = ep.core.cfg;
  if (!ep.keepalive || (ep.state !== ESTABLISHED && ep.state !== CLOSE_WAIT)) return;
  if (ep.sndMax !== ep.sndUna) {
    // Data in flight: the retransmission timer watches the peer.
    ep.keepAt = now + cfg.keepaliveIdle;
    return;
  }
  const idle = now - ep.lastRecv;
  if (ep.kaProbes === 0 && idle < cfg.keepaliveIdle) {
    ep.keepAt = ep.lastRecv + cfg.keepaliveIdle;
    return;
  }
  if (ep.kaProbes >= cfg.keepaliveProbes) {
    timeOut(ep, "Connection");
    return;
  }
  ep.kaProbes++;
  ep.core.c.keepalive_probes.value++;
  ep.keepAt = now + cfg.keepaliveInterval;
  sendProbe(ep);
}

/** Turns keepalive on or off (RFC 1122 §4.2.3.6). */
export function setKeepalive(ep: TcpEndpoint, on: boolean): void {
  ep.keepalive = on;
  ep.kaProbes = 0;
  if (on) {
    ep.keepAt = ep.core.now() + ep.core.cfg.keepaliveIdle;
    armTimer(ep);
  } else ep.keepAt = 0;
}
