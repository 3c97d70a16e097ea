/**
 * Segments out: building one segment (sized first, header written in place,
 * the payload a send-queue chunk or copied once from the queue, checksum over
 * the pseudo-header),
 * and the output loop that decides what may be sent now: the send window,
 * the congestion window (or RFC 6675's pipe during SACK recovery), Nagle
 * (RFC 9293 §3.7.4) and sender-side silly-window avoidance (§3.8.6.2.1).
 *
 * Re-entrancy: the route service's `send` may deliver a segment to ourselves synchronously
 * (a connection to a local address), which can run this connection's input
 * in the middle of the loop. Every iteration therefore re-reads the state,
 * and state is updated before each send.
 *
 * @module
 */
import { RouteSendFlags } from "../../services.ts";
import { finishChecksum } from "../../wire/checksum.ts";
import { pseudoHeaderSum } from "../../ip/pseudo_header.ts";
import {
  setTcpChecksumField,
  setTcpUrgentPointer,
  writeTcpFixedHeader,
} from "../../wire/tcp_fields.ts";
import {
  TCP_OPT_MSS,
  TCP_OPT_NOP_NOP_TIMESTAMP as NOP_NOP_TIMESTAMP,
} from "../../wire/tcp_options.ts";
import {
  TCP_ACK,
  TCP_FIN,
  TCP_OPT_NOP,
  TCP_OPT_SACK,
  TCP_OPT_SACK_PERMITTED,
  TCP_OPT_TIMESTAMP,
  TCP_OPT_WSCALE,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
} from "../../wire/tcp.ts";
import type { PacketBuffer } from "../../packet.ts";
import { LARGE_BUFFER_SIZE } from "../../packet_pool.ts";
import { PacketFlags } from "../../packet_flags.ts";
import { IP_PROTOCOL_TCP } from "./core.ts";
import { ecnRouteFlags, ecnTcpFlags } from "./ecn.ts";
import { synDataLength, writeFastOpenOption } from "./fastopen.ts";
import { urgentPointer, urgentSending } from "./urgent.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { hasSackBlocks, sackOptionBlocks, undoNoteRetransmit } from "./dsack.ts";
import { prrRenoPipe, prrSent } from "./prr.ts";
import { rackArmPto, rackSent, rackStep } from "./rack.ts";
import { noteOutputDone, noteSend, paceAllows } from "./pacing.ts";
import { selectWindow } from "./rcv.ts";
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from "./seq.ts";
import {
  CLOSE_WAIT,
  CLOSED,
  CLOSING,
  ESTABLISHED,
  FIN_WAIT_1,
  LAST_ACK,
  SYN_RECEIVED,
  SYN_SENT,
} from "./state.ts";
import { armRto, armTimer } from "./timers.ts";
import { countSuperSegment, nagleTrim } from "./tso_split.ts";
import { CHUNK_HEADROOM, chunkPayload } from "./send_queue.ts";

/**
 * Builds and sends one segment of `ep` with sequence number `seq`, `flags`
 * and `len` payload bytes taken from the send buffer at `seq`. Options:
 * MSS, SACK-permitted, timestamps and window scale on SYNs; timestamps and
 * SACK blocks otherwise. `newData`: the payload is sent for the first time
 * (ECN marks only such segments ECT, `ecn.ts`). Hot path: positional.
 */
export function emit(
  ep: TcpEndpoint,
  seq: number,
  flags: number,
  len: number,
  newData = false,
): void {
  // The common segment (data or a bare ACK with at most timestamps) takes a
  // short path, so that the code run per segment stays small; SYNs, RSTs,
  // SACK blocks, urgent data and ECN take the full one.
  if (
    (flags & (TCP_SYN | TCP_RST)) === 0 && !ep.ecnOk && !urgentSending(ep) &&
    !(ep.sackOk && hasSackBlocks(ep))
  ) {
    emitPlain(ep, seq, flags, len);
  } else emitFull(ep, seq, flags, len, newData);
}

/**
 * {@linkcode emit} without SYN, RST, SACK blocks, urgent data or ECN: the
 * fixed header, the timestamps option if negotiated, the payload.
 */
function emitPlain(ep: TcpEndpoint, seq: number, flags: number, len: number): void {
  const hl = ep.tsOk ? 32 : 20;
  // A full-sized segment, or with TSO a whole super-segment, is a chunk of
  // the send queue, the header written into its headroom (send_queue.ts);
  // anything else is copied out of it.
  let pkt = len > 0 && (len <= ep.mss || ep.tsoMax > 0)
    ? ep.sndBuf!.segmentChunk(seqDiff(seq, ep.sndBufStart), len)
    : null;
  const copy = pkt === null;
  if (pkt === null) pkt = ep.core.ctx.pool.alloc(hl + len);
  else pkt.start -= hl; // within the chunk's headroom
  if (len > ep.mss) pkt.gsoSize = ep.mss; // a super-segment (TSO): the link cuts it up
  const at = pkt.start;
  const dv = pkt.dv;
  const ack = (flags & TCP_ACK) !== 0 ? ep.rcvNxt : 0;
  writeTcpFixedHeader(dv, at, ep.localPort, ep.remotePort, seq, ack, hl, flags, selectWindow(ep));
  if (ep.tsOk) {
    dv.setUint32(at + 20, NOP_NOP_TIMESTAMP);
    dv.setUint32(at + 24, ep.tsNow());
    dv.setUint32(at + 28, ep.tsRecent);
  }
  transmitSegment(ep, pkt, seq, seq, flags, hl, len, RouteSendFlags.DONT_FRAGMENT, copy);
}

/** {@linkcode emit} for any segment. */
function emitFull(
  ep: TcpEndpoint,
  seq: number,
  flags: number,
  len: number,
  newData: boolean,
): void {
  const core = ep.core;
  if (ep.ecnOk) flags = ecnTcpFlags(ep, flags, len, newData);
  const syn = (flags & TCP_SYN) !== 0;
  const up = (flags & (TCP_SYN | TCP_RST)) !== 0 ? 0 : urgentPointer(ep, seq); // RFC 6093
  if (up !== 0) flags |= TCP_URG;
  let optLen = 0;
  let blocks = 0;
  if (syn) {
    optLen = 4 + (ep.tsOk ? 12 : ep.sackOk ? 4 : 0) + (ep.wsOk ? 4 : 0);
    if (ep.tfoCookie !== null) optLen += (2 + ep.tfoCookie.length + 3) & ~3; // RFC 7413
  } else {
    if (ep.tsOk) optLen = 12;
    if (ep.sackOk && hasSackBlocks(ep) && (flags & TCP_RST) === 0) {
      // RFC 6691: options beyond timestamps come out of the payload room, so
      // a full segment carries fewer (or no) SACK blocks.
      let max = ep.tsOk ? 3 : 4;
      if (len > 0) {
        const room = (ep.mss - len - 4) >> 3;
        if (room < max) max = room;
      }
      if (max > 0) {
        blocks = sackOptionBlocks(ep, core.sackOut, max);
        optLen += 4 + 8 * blocks;
      }
    }
  }
  const hl = 20 + optLen;
  const pkt = core.ctx.pool.alloc(hl + len);
  // A super-segment (TSO): the link cuts it up. Never a SYN: its Fast Open
  // data is sized to the peer's cached MSS (fastopen.ts), past the 536 that
  // ep.mss holds until the SYN-ACK, and a SYN is one segment.
  if (len > ep.mss && !syn) pkt.gsoSize = ep.mss;
  const at = pkt.start;
  const buf = pkt.buf;
  const dv = pkt.dv;
  const ack = (flags & TCP_ACK) !== 0 ? ep.rcvNxt : 0;
  let window: number;
  if (syn) {
    // RFC 7323 §2.2: the window of a SYN is never scaled.
    const free = ep.rcvBuf === null ? core.cfg.receiveBuffer : ep.rcvBuf.free;
    window = free > 65535 ? 65535 : free;
  } else if ((flags & TCP_RST) !== 0) {
    window = 0;
  } else {
    window = selectWindow(ep);
  }
  writeTcpFixedHeader(dv, at, ep.localPort, ep.remotePort, seq, ack, hl, flags, window);
  if (up !== 0) setTcpUrgentPointer(dv, at, up);
  let o = at + 20;
  if (syn) {
    buf[o] = TCP_OPT_MSS;
    buf[o + 1] = 4;
    dv.setUint16(o + 2, ep.advMss);
    o += 4;
  }
  if (ep.tsOk) {
    if (syn && ep.sackOk) {
      buf[o] = TCP_OPT_SACK_PERMITTED;
      buf[o + 1] = 2;
    } else {
      buf[o] = TCP_OPT_NOP;
      buf[o + 1] = TCP_OPT_NOP;
    }
    buf[o + 2] = TCP_OPT_TIMESTAMP;
    buf[o + 3] = 10;
    dv.setUint32(o + 4, ep.tsNow());
    dv.setUint32(o + 8, ep.tsRecent);
    o += 12;
  } else if (syn && ep.sackOk) {
    dv.setUint32(o, (TCP_OPT_NOP << 24) | (TCP_OPT_NOP << 16) | (TCP_OPT_SACK_PERMITTED << 8) | 2);
    o += 4;
  }
  if (syn && ep.wsOk) {
    dv.setUint32(o, (TCP_OPT_NOP << 24) | (TCP_OPT_WSCALE << 16) | (3 << 8) | ep.rcvWscale);
    o += 4;
  }
  if (syn && ep.tfoCookie !== null) o = writeFastOpenOption(buf, o, ep.tfoCookie);
  if (blocks > 0) {
    dv.setUint32(
      o,
      (TCP_OPT_NOP << 24) | (TCP_OPT_NOP << 16) | (TCP_OPT_SACK << 8) | (2 + 8 * blocks),
    );
    o += 4;
    const sb = core.sackOut;
    for (let i = 0; i < 2 * blocks; i++, o += 4) dv.setUint32(o, sb[i]!);
  }
  // A SYN's data (Fast Open) starts after the SYN's own sequence number.
  const dataSeq = syn ? seqAdd(seq, 1) : seq;
  const routeFlags = RouteSendFlags.DONT_FRAGMENT | ecnRouteFlags(ep, len, newData);
  transmitSegment(ep, pkt, seq, dataSeq, flags, hl, len, routeFlags, true);
}

/**
 * The end of {@linkcode emit}: the payload copied from the send queue (from
 * `dataSeq`) unless `pkt` is the queue's chunk already (`copy` false), the
 * checksum, the ACK and RACK/PRR bookkeeping, the send.
 */
function transmitSegment(
  ep: TcpEndpoint,
  pkt: PacketBuffer,
  seq: number,
  dataSeq: number,
  flags: number,
  hl: number,
  len: number,
  routeFlags: number,
  copy: boolean,
): void {
  const core = ep.core;
  const at = pkt.start;
  const buf = pkt.buf;
  const syn = (flags & TCP_SYN) !== 0;
  if (len > 0 && copy) ep.sndBuf!.peek(seqDiff(dataSeq, ep.sndBufStart), buf, at + hl, len);
  const total = hl + len;
  const src = ep.localAddr, dst = ep.remoteAddr;
  const pseudo = pseudoHeaderSum(src, dst, IP_PROTOCOL_TCP, total);
  // A super-segment goes to a TSO link, which computes each segment's checksum
  // from the pseudo-header sum (Linux's CHECKSUM_PARTIAL, drivers/tun/vnet.ts):
  // summing 64 KiB here would be wasted.
  if (pkt.gsoSize > 0) {
    setTcpChecksumField(pkt.dv, at, ~finishChecksum(pseudo) & 0xffff);
    pkt.flags |= PacketFlags.CHECKSUM_PARTIAL; // NAT adjusts it as a partial sum
  } else {
    // An ordinary segment is left partial too: IPv4/IPv6 output completes it
    // (the same bytes) unless the link takes it so (the in-memory link to
    // another stack, which then needs no sum at either end; packet.ts).
    setTcpChecksumField(pkt.dv, at, ~finishChecksum(pseudo) & 0xffff);
    pkt.flags |= PacketFlags.CHECKSUM_PARTIAL | PacketFlags.CHECKSUM_VERIFIED;
  }
  if ((flags & TCP_ACK) !== 0) {
    ep.lastAckSent = ep.rcvNxt;
    ep.ackNow = false;
    ep.ackPendingBytes = 0;
    ep.delackAt = 0;
  }
  if ((flags & TCP_RST) !== 0) core.c.out_rsts.value++;
  else if (!syn && (len > 0 || (flags & TCP_FIN) !== 0)) {
    // RACK's transmit time and PRR's prr_out, before the send (re-entrancy).
    const n = len + ((flags & TCP_FIN) !== 0 ? 1 : 0);
    if (ep.sackOk) rackSent(ep, seq, seqAdd(seq, n));
    prrSent(ep, n);
  }
  ep.segsOut++;
  core.c.out_segs.value++;
  if (len > ep.mss) countSuperSegment(ep, len, false); // TSO: the wire's segments
  const err = ep.net.send(
    pkt,
    src,
    dst,
    IP_PROTOCOL_TCP,
    0,
    routeFlags,
    ep.scope,
  );
  if (err !== undefined) core.c["tx.failed"].value++;
  // A super-segment the route's link no longer takes (the route moved to one
  // without TSO): ask the route again, so loss recovery resends in MSS segments.
  if (err === "message_too_long" && len > ep.mss) ep.tsoMax = core.routeTso(ep.remoteAddr);
}

/**
 * Sends (or resends) our SYN, or SYN-ACK in SYN-RECEIVED. SND.NXT and the
 * retransmission timer are set before the send: to one of our own addresses
 * the answer arrives inside the send (see re-entrancy above), and it must
 * find SND.NXT = ISS + 1 (else "ACK of unsent data": RST) and may clear the
 * timer.
 */
export function sendSyn(ep: TcpEndpoint): void {
  const flags = ep.state === SYN_RECEIVED ? TCP_SYN | TCP_ACK : TCP_SYN;
  const data = flags === TCP_SYN ? synDataLength(ep) : 0; // Fast Open
  if (seqLe(ep.sndNxt, ep.iss)) ep.sndNxt = ep.sndMax = seqAdd(ep.iss, 1 + data);
  armRto(ep);
  emit(ep, ep.iss, flags, data); // not newData: a SYN is never ECT, even with data (RFC 3168 §6.1.1)
}

/**
 * Sends a bare ACK `<SEQ=SND.NXT><ACK=RCV.NXT>` with the current window. The
 * RFC's SND.NXT never moves back; ours does after a timeout (go-back-N), so
 * the ACK carries SND.MAX: a sequence number behind the peer's RCV.NXT would
 * make the ACK unacceptable there, and two such peers would trade
 * "unacceptable segment" ACKs forever.
 */
export function sendAck(ep: TcpEndpoint): void {
  if (ep.state === CLOSED) return;
  emit(ep, ep.sndMax, TCP_ACK, 0);
}

/**
 * The ACK answering an unacceptable segment (RFC 9293 §3.10.7.4 first),
 * rate-limited when that segment occupied no sequence space, `segLen` being
 * its data plus FIN (Linux `tcp_oow_rate_limited`, 500 ms): a pure ACK is what
 * an ACK loop is made of, while a retransmitted FIN must be answered each
 * time or the peer waits for its next RTO.
 */
export function sendInvalidAck(ep: TcpEndpoint, segLen: number): void {
  if (segLen === 0) {
    const now = ep.core.now();
    if (now - ep.lastInvalidAck < INVALID_ACK_INTERVAL) return;
    ep.lastInvalidAck = now;
  }
  sendAck(ep);
}

/** Minimum time between ACKs answering unacceptable data-less segments, µs. */
const INVALID_ACK_INTERVAL = 500_000;

/** Sends RST+ACK from a connection (RFC 9293 §3.10.5 ABORT; Linux sets ACK too). */
export function sendReset(ep: TcpEndpoint): void {
  emit(ep, ep.sndMax, TCP_RST | TCP_ACK, 0);
}

/**
 * A keepalive (or Linux-style window) probe: `<SEQ=SND.UNA-1>` with no data,
 * which the peer must answer with an ACK (RFC 9293 §3.8.4).
 */
export function sendProbe(ep: TcpEndpoint): void {
  emit(ep, (ep.sndUna - 1) >>> 0, TCP_ACK, 0);
}

/**
 * A zero-window probe (RFC 9293 §3.8.6.1: "at least one octet of new data
 * (if available)"; RFC 1122 §4.2.2.17): the octet at SND.UNA, or the FIN
 * when no data waits. BSD's way (4.4BSD `tcp_output` with `t_force` while
 * the persist timer runs): SND.MAX covers the octet, so the ACK that takes
 * it is acceptable, but SND.NXT stays at SND.UNA, so that when the window
 * opens, sending resumes at SND.UNA, the probe octet included, and no hole is
 * left behind a probe the receiver dropped. Later probes resend the same
 * octet. The answers to probes are not duplicate ACKs (`snd.ts`). Linux
 * instead probes with `<SEQ=SND.UNA−1>` and no data; the octet is what RFC
 * 9293 asks for, and a receiver that opened its window meanwhile takes it.
 * Returns whether a probe went out.
 */
export function sendWindowProbe(ep: TcpEndpoint): boolean {
  const una = ep.sndUna;
  const dataEnd = ep.dataEnd;
  const len = seqGt(dataEnd, una) ? 1 : 0;
  const fin = len === 0 && ep.finQueued && ep.finSeq === una;
  if (len === 0 && !fin) return false;
  const end = seqAdd(una, 1);
  // State before the send (see re-entrancy above).
  if (seqGt(end, ep.sndMax)) ep.sndMax = end;
  ep.rttStart = -1; // the answer waits on the peer's window: no RTT sample
  const flags = TCP_ACK | (fin ? TCP_FIN : 0) | (len > 0 && end === dataEnd ? TCP_PSH : 0);
  emit(ep, una, flags, len);
  return true;
}

/**
 * Retransmits up to `maxLen` bytes from `seq` (a hole, or the segment at
 * SND.UNA), with FIN if it reaches an already-sent FIN. Does not move SND.NXT.
 */
export function retransmitAt(ep: TcpEndpoint, seq: number, maxLen: number): number {
  const avail = seqDiff(ep.dataEnd, seq);
  let len = Math.min(maxLen, ep.mss, avail > 0 ? avail : 0);
  if (len < 0) len = 0;
  const fin = ep.finQueued && seqAdd(seq, len) === ep.finSeq && seqGt(ep.sndMax, ep.finSeq);
  if (len === 0 && !fin) return 0;
  const end = seqAdd(seq, len);
  const flags = TCP_ACK | (fin ? TCP_FIN : 0) | (len > 0 && end === ep.dataEnd ? TCP_PSH : 0);
  // State before the send (see re-entrancy above).
  ep.retransSegs++;
  ep.core.c.retrans_segs.value++;
  undoNoteRetransmit(ep, seq, len + (fin ? 1 : 0));
  ep.rttStart = -1; // Karn: no RTT sample from retransmitted data
  if (ep.rtoAt === 0) armRto(ep);
  if (len > 0) noteSend(ep, seq, len, true);
  emit(ep, seq, flags, len);
  return len + (fin ? 1 : 0);
}

/**
 * Sends one segment of new (or go-back-N retransmitted) data at SND.NXT if
 * the windows, Nagle and SWS avoidance allow; `budget` is what congestion
 * control allows in flight beyond what is there; `force` sends at least one
 * byte (or the FIN) past a closed window (persist probes, SWS override).
 * Returns whether a segment went out.
 */
export function sendOne(ep: TcpEndpoint, budget: number, force: boolean): boolean {
  const mss = ep.mss;
  const sndNxt = ep.sndNxt;
  const dataEnd = ep.dataEnd;
  let avail = seqDiff(dataEnd, sndNxt);
  if (avail < 0) avail = 0;
  const wndRoom = seqDiff(seqAdd(ep.sndUna, ep.sndWnd), sndNxt);
  let room = wndRoom < budget ? wndRoom : budget;
  if (force && room < 1) room = 1;
  // TSO: whole MSS-sized segments in one super-segment the link cuts up.
  const goal = ep.tsoMax > 0 ? tsoGoal(ep.tsoMax, mss) : mss;
  let len = avail < goal ? avail : goal;
  if (len > room) len = room > 0 ? room : 0;
  if (len > mss) {
    // A super-segment stops at the end of a super-segment-sized chunk, so
    // that the next one is that chunk whole, sent uncopied (sendChunkSize);
    // not short of it: Nagle would hold a piece under one MSS back.
    const rest = ep.sndBuf!.restOfLargeChunk(seqDiff(sndNxt, ep.sndBufStart), mss);
    if (rest >= mss && rest < len) len = rest;
  }
  if (len > mss) len = nagleTrim(ep, len, mss, avail, force); // TSO: a short tail goes only as it would alone
  const finPending = ep.finQueued && seqLe(sndNxt, ep.finSeq);
  const fin = finPending && seqAdd(sndNxt, len) === ep.finSeq && (wndRoom > len || force);
  if (len === 0 && !fin) return false;
  const retrans = seqLt(sndNxt, ep.sndMax);
  if (len > 0 && !force && !retrans && len < mss && !fin) {
    // Nagle (RFC 9293 §3.7.4) in Minshall's form (as Linux): a short segment
    // carrying all the queued data goes out unless another short segment is
    // still unacknowledged (or always, with TCP_NODELAY). SWS avoidance
    // (§3.8.6.2.1): a short segment that is not the end of the data only if
    // it fills half the largest window the peer offered.
    const smallOut = seqGt(ep.sndSml, ep.sndUna) && seqLe(ep.sndSml, ep.sndMax);
    const all = len === avail && (ep.noDelay || !smallOut);
    const half = ep.maxSndWnd > 0 && len >= (ep.maxSndWnd >>> 1);
    if (!all && !half) return false;
  }
  const end = seqAdd(sndNxt, len);
  if (len < mss) ep.sndSml = end;
  const flags = TCP_ACK | (fin ? TCP_FIN : 0) | (len > 0 && end === dataEnd ? TCP_PSH : 0);
  // State before the send (see re-entrancy above).
  ep.sndNxt = seqAdd(end, fin ? 1 : 0);
  if (seqGt(ep.sndNxt, ep.sndMax)) ep.sndMax = ep.sndNxt;
  if (retrans) {
    ep.retransSegs++;
    ep.core.c.retrans_segs.value++;
    if (len > mss) countSuperSegment(ep, len, true);
    undoNoteRetransmit(ep, sndNxt, len + (fin ? 1 : 0));
    ep.rttStart = -1;
  } else if (ep.rttStart < 0 && len > 0) {
    ep.rttSeq = end;
    ep.rttStart = ep.core.now();
    // TSO: time the first segment of a super-segment, whose ACK may come
    // alone (Linux samples the RTT from an ACK of part of a TSO skb).
    if (len > mss) ep.rttSeq = seqAdd(sndNxt, mss);
  }
  if (ep.rtoAt === 0) armRto(ep);
  if (len > 0) noteSend(ep, sndNxt, len, retrans);
  emit(ep, sndNxt, flags, len, !retrans);
  return true;
}

/**
 * The payload of a TSO super-segment: as many whole MSS-sized segments as fit
 * in `tsoMax` after the largest headers (IPv6 40 + TCP 60), at least one.
 */
function tsoGoal(tsoMax: number, mss: number): number {
  const n = Math.floor((tsoMax - 100) / mss);
  return n > 1 ? n * mss : mss;
}

/**
 * Payload bytes per new send-queue chunk for a write of `n` bytes: one MSS,
 * so that a full-sized segment goes out uncopied (send_queue.ts); with TSO,
 * when the write fills at least one, a whole super-segment, so that a full
 * super-segment does too instead of being copied together from 45 chunks
 * at MTU 1500 (issue 13, `iperf3 -c -R`). Small writes keep MSS-sized chunks:
 * a large chunk partly filled costs a whole 64 KiB buffer (until the next
 * write fills it, or the idle trim).
 */
export function sendChunkSize(ep: TcpEndpoint, n: number): number {
  const mss = ep.mss;
  if (ep.tsoMax <= 0) return mss;
  const goal = tsoGoal(ep.tsoMax, mss);
  if (n < goal || goal <= chunkPayload(mss)) return mss;
  // At most a pooled large buffer's payload after the headroom.
  const fits = Math.floor((LARGE_BUFFER_SIZE - CHUNK_HEADROOM) / mss) * mss;
  return goal <= fits ? goal : fits > mss ? fits : mss;
}

/** RFC 6675 §5 loss recovery: one step of "while cwnd − pipe ≥ 1 SMSS". */
function sackStep(ep: TcpEndpoint): boolean {
  const sb = ep.scoreboard!;
  const mss = ep.mss;
  const pipe = sb.pipe(ep.sndUna, ep.sndMax, ep.highRxt, mss);
  const budget = ep.cc.cwnd - pipe;
  if (budget < mss) return false;
  // (1) the first lost hole above HighRxt.
  let s = sb.nextHole(ep.highRxt, ep.sndUna, mss, true);
  if (s >= 0) {
    const n = retransmitAt(ep, s, seqDiff(sb.holeEnd(s, ep.sndMax), s));
    if (n === 0) return false;
    ep.highRxt = seqAdd(s, n);
    return true;
  }
  // (2) new data.
  if (ep.sndNxt === ep.sndMax && sendOne(ep, budget, false)) return true;
  // (3) a hole that is not yet judged lost.
  s = sb.nextHole(ep.highRxt, ep.sndUna, mss, false);
  if (s >= 0) {
    const n = retransmitAt(ep, s, seqDiff(sb.holeEnd(s, ep.sndMax), s));
    if (n === 0) return false;
    ep.highRxt = seqAdd(s, n);
    return true;
  }
  return false;
}

/**
 * Sends whatever may be sent now, then a pending ACK if no segment carried
 * it, then arms the persist timer if data waits on a closed window.
 */
export function output(ep: TcpEndpoint): void {
  const st = ep.state;
  if (
    st !== ESTABLISHED && st !== CLOSE_WAIT && st !== FIN_WAIT_1 && st !== CLOSING &&
    st !== LAST_ACK
  ) {
    if (ep.ackNow && st !== CLOSED && st !== SYN_SENT && st !== SYN_RECEIVED) sendAck(ep);
    return;
  }
  let paced = false;
  // Nothing to send (a receiver's path): the loop's first sendOne() would
  // find just that, so it is not run.
  const idle = ep.paceNext === 0 && !ep.sackRecovery && !ep.inRecovery && !ep.finQueued &&
    seqDiff(ep.dataEnd, ep.sndNxt) <= 0;
  for (let i = 0; i < 1_000_000 && !idle; i++) {
    if (ep.state === CLOSED) return;
    // paceNext stays 0 on a connection that is not paced: no clock read.
    if (ep.paceNext !== 0 && !paceAllows(ep, ep.core.now())) {
      paced = true;
      break;
    }
    if (ep.sackRecovery) {
      if (!(ep.rack !== null ? rackStep(ep) : sackStep(ep))) break;
      continue;
    }
    // Recovery without SACK: cwnd is PRR's, measured against the pipe, in
    // whole segments (as Linux counts packets; PRR's byte count is no
    // licence for a runt).
    let budget = ep.cc.cwnd - (ep.inRecovery ? prrRenoPipe(ep) : ep.flight);
    if (ep.inRecovery && budget < ep.mss) break;
    // RFC 3042 limited transmit: one new segment per duplicate ACK (first two).
    if (!ep.inRecovery && ep.dupAcks > 0 && ep.dupAcks < 3 && ep.sndNxt === ep.sndMax) {
      budget += ep.dupAcks * ep.mss;
    }
    if (!sendOne(ep, budget, false)) break;
  }
  if (!paced) noteOutputDone(ep);
  if (ep.ackNow) sendAck(ep);
  rackArmPto(ep);
  // Persist (RFC 9293 §3.8.6.1) / SWS override: data waits, nothing is in
  // flight, so no ACK will come to open the window; the retransmission timer
  // doubles as the persist timer.
  if (ep.rtoAt === 0 && ep.sndMax === ep.sndUna && ep.state !== CLOSED) {
    const waiting = seqDiff(ep.dataEnd, ep.sndNxt) > 0 ||
      (ep.finQueued && seqLe(ep.sndNxt, ep.finSeq));
    if (waiting) {
      armRto(ep);
      armTimer(ep);
    }
  }
}
