/**
 * Urgent data (RFC 9293 §3.8.5 as updated by RFC 6093). The urgent pointer
 * points to the byte *after* the urgent byte (RFC 6093 §4, what every
 * implementation does), and only one byte is urgent, as in BSD and Linux.
 *
 * - **Sending** (`sendUrgent(byte)`, Linux's `send(MSG_OOB)`): the byte
 *   joins the stream, and every segment sent while SND.UNA has not passed it
 *   carries URG with the pointer (capped at 0xFFFF when the byte is further
 *   away, as Linux does).
 * - **Receiving**: by default the byte stays in the stream where it was sent
 *   (SO_OOBINLINE, RFC 6093 §6's advice); with `oobInline` off it is taken
 *   out of the stream and read with `readUrgent()` instead. A later urgent
 *   byte replaces one not yet read (BSD). URG on a segment whose pointer is
 *   0 or points at data already read (an nmap or hping3 probe, or a stale
 *   retransmission) changes nothing.
 *
 * @module
 */
import { TCP_SYN, TCP_URG } from "../../wire/tcp.ts";
import type { Segment } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { seqAdd, seqDiff, seqGe, seqGt } from "./seq.ts";

/** Largest value of the urgent pointer field. */
const MAX_POINTER = 0xffff;

/**
 * A connection's urgent data, both ways: made by {@linkcode urgentOf} when
 * the user sends an urgent byte or a segment announces one, so the many
 * connections that never see URG carry one null field instead of five.
 */
export class UrgentState {
  /** Sending: SND.UP, the sequence number after our urgent byte (valid in urgent mode). */
  sndUp = 0;
  /** Sending: segments carry URG until SND.UNA passes SND.UP (urgent mode). */
  sending = false;
  /** Receiving: sequence number of the latest urgent byte, or -1. */
  seq = -1;
  /** Receiving: `readUrgent()` returned the byte at {@linkcode seq} already. */
  taken = false;
  /** Receiving: an urgent byte taken out of the stream and not yet read, or -1. */
  oobByte = -1;
}

/** The urgent state of `ep`, made on first use (see {@linkcode UrgentState}). */
export function urgentOf(ep: TcpEndpoint): UrgentState {
  let u = ep.urgent;
  if (u === null) u = ep.urgent = new UrgentState();
  return u;
}

/**
 * Whether `ep` has no urgent data to send or to read (what a TIME-WAIT
 * record needs: it keeps only {@linkcode UrgentState.taken}).
 */
export function urgentIdle(ep: TcpEndpoint): boolean {
  const u = ep.urgent;
  return u === null || (!u.sending && u.seq === -1 && u.oobByte === -1);
}

/** Whether `ep` is in urgent mode: its segments carry URG (hot path: one load when not). */
export function urgentSending(ep: TcpEndpoint): boolean {
  const u = ep.urgent;
  return u !== null && u.sending;
}

/** Whether an urgent byte is known ahead in `ep`'s stream (reads go through {@linkcode readAroundUrgent}). */
export function urgentPending(ep: TcpEndpoint): boolean {
  const u = ep.urgent;
  return u !== null && u.seq >= 0;
}

/** Sequence number of the first in-order byte not yet read by the user. */
function readHead(ep: TcpEndpoint): number {
  return (ep.rcvNxt - ep.readable - (ep.eof ? 1 : 0)) >>> 0;
}

/**
 * Queues `byte` as urgent data and sends what may go; returns 1, or 0 when
 * the send buffer is full or the sending side is closed.
 */
export function sendUrgent(ep: TcpEndpoint, byte: number): number {
  if (ep.sendSpace < 1) return 0;
  // Urgent mode before the byte is queued: send() may put it on the wire at once.
  const u = urgentOf(ep);
  u.sndUp = seqAdd(ep.dataEnd, 1);
  u.sending = true;
  return ep.send(new Uint8Array([byte]));
}

/**
 * The urgent pointer for a segment at `seq` (0: none, leave URG clear):
 * while SND.UNA has not passed the urgent byte, its distance from `seq`
 * (capped). Hot path: one comparison when not in urgent mode.
 */
export function urgentPointer(ep: TcpEndpoint, seq: number): number {
  const u = ep.urgent;
  if (u === null || !u.sending) return 0;
  if (!seqGt(u.sndUp, ep.sndUna)) {
    u.sending = false;
    return 0;
  }
  if (!seqGt(u.sndUp, seq)) return 0;
  const d = seqDiff(u.sndUp, seq);
  return d > MAX_POINTER ? MAX_POINTER : d;
}

/**
 * An acceptable segment with URG (RFC 9293 §3.10.7.4 "sixth"): RCV.UP moves
 * to the newest urgent byte; out of line, that byte is the one
 * `readUrgent()` returns and reads skip. `seq`: the segment's sequence
 * number as sent (the pointer counts from it, even when the window check
 * trimmed old data off the front).
 */
export function urgentArrives(ep: TcpEndpoint, seg: Segment, seq: number): void {
  if ((seg.flags & (TCP_URG | TCP_SYN)) !== TCP_URG || seg.urgent === 0) return;
  const byte = (seqAdd(seq, seg.urgent) - 1) >>> 0;
  if (!seqGe(byte, readHead(ep))) return; // already read: stale
  const u = urgentOf(ep);
  if (u.seq >= 0 && !seqGt(byte, u.seq)) return; // not newer
  u.seq = byte;
  u.taken = false;
  ep.core.c.urgent_received.value++;
}

/**
 * Out of line (`oobInline` off): the part of `p` a stream read may fill
 * before the urgent byte, skipping that byte when it is at the head.
 * Called from `TcpEndpoint.receive` only while an urgent byte is known.
 */
export function readAroundUrgent(ep: TcpEndpoint, p: Uint8Array): Uint8Array {
  const u = ep.urgent;
  if (ep.oobInline || ep.rcvBuf === null || u === null) return p;
  const off = seqDiff(u.seq, readHead(ep));
  if (off < 0) {
    u.seq = -1;
    return p;
  }
  if (off === 0 && ep.readable > 0) {
    // The urgent byte is next: out of the stream (kept if not read yet).
    const one = new Uint8Array(1);
    ep.rcvBuf.read(one);
    if (!u.taken) u.oobByte = one[0]!;
    u.seq = -1;
    return p;
  }
  return off < p.length ? p.subarray(0, off) : p;
}

/**
 * `readUrgent()`: the urgent byte out of line, or null when none has
 * arrived (or inline mode, or it was read already). Each byte once.
 */
export function readUrgent(ep: TcpEndpoint): number | null {
  const u = ep.urgent;
  if (ep.oobInline || u === null) return null;
  if (u.oobByte >= 0) {
    const b = u.oobByte;
    u.oobByte = -1;
    return b;
  }
  if (u.seq < 0 || u.taken || ep.rcvBuf === null) return null;
  const off = seqDiff(u.seq, readHead(ep));
  if (off < 0 || off >= ep.readable) return null; // not here yet
  const one = new Uint8Array(1);
  ep.rcvBuf.peek(off, one, 0, 1);
  u.taken = true; // the stream still skips it
  return one[0]!;
}
