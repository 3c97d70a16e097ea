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
  ep.sndUp = seqAdd(ep.dataEnd, 1);
  ep.urgentMode = true;
  return ep.send(new Uint8Array([byte]));
}

/**
 * The urgent pointer for a segment at `seq` (0: none, leave URG clear):
 * while SND.UNA has not passed the urgent byte, its distance from `seq`
 * (capped). Hot path: one comparison when not in urgent mode.
 */
export function urgentPointer(ep: TcpEndpoint, seq: number): number {
  if (!ep.urgentMode) return 0;
  if (!seqGt(ep.sndUp, ep.sndUna)) {
    ep.urgentMode = false;
    return 0;
  }
  if (!seqGt(ep.sndUp, seq)) return 0;
  const d = seqDiff(ep.sndUp, seq);
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
  if (ep.urgSeq >= 0 && !seqGt(byte, ep.urgSeq)) return; // not newer
  ep.urgSeq = byte;
  ep.urgTaken = false;
  ep.core.c.urgent_received.value++;
}

/**
 * Out of line (`oobInline` off): the part of `p` a stream read may fill
 * before the urgent byte, skipping that byte when it is at the head.
 * Called from `TcpEndpoint.receive` only while an urgent byte is known.
 */
export function readAroundUrgent(ep: TcpEndpoint, p: Uint8Array): Uint8Array {
  if (ep.oobInline || ep.rcvBuf === null) return p;
  const off = seqDiff(ep.urgSeq, readHead(ep));
  if (off < 0) {
    ep.urgSeq = -1;
    return p;
  }
  if (off === 0 && ep.readable > 0) {
    // The urgent byte is next: out of the stream (kept if not read yet).
    const one = new Uint8Array(1);
    ep.rcvBuf.read(one);
    if (!ep.urgTaken) ep.oobByte = one[0]!;
    ep.urgSeq = -1;
    return p;
  }
  return off < p.length ? p.subarray(0, off) : p;
}

/**
 * `readUrgent()`: the urgent byte out of line, or null when none has
 * arrived (or inline mode, or it was read already). Each byte once.
 */
export function readUrgent(ep: TcpEndpoint): number | null {
  if (ep.oobInline) return null;
  if (ep.oobByte >= 0) {
    const b = ep.oobByte;
    ep.oobByte = -1;
    return b;
  }
  if (ep.urgSeq < 0 || ep.urgTaken || ep.rcvBuf === null) return null;
  const off = seqDiff(ep.urgSeq, readHead(ep));
  if (off < 0 || off >= ep.readable) return null; // not here yet
  const one = new Uint8Array(1);
  ep.rcvBuf.peek(off, one, 0, 1);
  ep.urgTaken = true; // the stream still skips it
  return one[0]!;
}
