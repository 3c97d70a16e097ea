/**
 * TCP tracking as Linux's nf_conntrack_proto_tcp does it: a state per flow
 * moved by the segments seen in both directions (a table indexed by
 * direction, the segment's flag class and the old state), and window
 * tracking per direction (Guido van Rooij's "Real Stateful TCP Packet
 * Filtering in IP Filter"): a segment whose sequence or acknowledgment
 * falls outside what the peers can have sent and accepted is invalid and
 * moves nothing, so an out-of-window RST does not kill the flow.
 *
 * Not done: SACK blocks do not widen the acknowledgment check (the plain
 * ACK is used), no retransmission counting (Linux's shorter timeout after
 * three retransmissions), no pickup of flows seen mid-stream (only a SYN
 * creates a TCP entry, as `nf_conntrack_tcp_loose=0`).
 *
 * @module
 */

/** States, Linux's numbering and names. */
export const TcpCtState = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSE: 8,
  SYN_SENT2: 9,
} as const;

/** Names of {@linkcode TcpCtState} values, by number. */
export const TCP_CT_STATE_NAMES: readonly string[] = [
  "NONE",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "FIN_WAIT",
  "CLOSE_WAIT",
  "LAST_ACK",
  "TIME_WAIT",
  "CLOSE",
  "SYN_SENT2",
];

const NO = 0, SS = 1, SR = 2, ES = 3, FW = 4, CW = 5, LA = 6, TW = 7, CL = 8, S2 = 9;
/** Not a valid move: the segment is invalid. */
const IV = 10;
/** A move that is possible but says nothing (a retransmitted SYN-ACK): accepted, nothing changes. */
const IG = 11;

// Flag classes, in the order of the rows below.
const SYN = 0, SYNACK = 1, FIN = 2, ACK = 3, RST = 4, NONE = 5;

// [direction][flag class][old state] → new state. Columns: NO SS SR ES FW CW LA TW CL S2.
const MOVES: readonly (readonly (readonly number[])[])[] = [
  [ // original direction
    [SS, SS, IG, IG, IG, IG, IG, SS, SS, S2], // SYN: (re)open; TIME_WAIT/CLOSE may reopen
    [IV, IV, SR, IV, IV, IV, IV, IV, IV, SR], // SYN-ACK: only after a simultaneous open
    [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV], // FIN
    [ES, IV, ES, ES, CW, CW, TW, TW, CL, IV], // ACK: the third segment of the handshake
    [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL], // RST (then window-checked)
    [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV], // no flag
  ],
  [ // reply direction
    [IV, S2, IV, IV, IV, IV, IV, SS, IV, S2], // SYN: simultaneous open
    [IV, SR, IG, IG, IG, IG, IG, IG, IG, SR], // SYN-ACK
    [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV], // FIN
    [IV, IG, SR, ES, CW, CW, TW, TW, CL, IG], // ACK
    [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL], // RST
    [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV], // no flag
  ],
];

// #rstVerdict results.
const RST_CLOSE = 0, RST_INVALID = 1, RST_KEEP = 2;

const F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_ACK = 0x10;
/** The peer sent a window scale option. */
const SIDE_WSCALE = 1;
/** `maxAck` holds an acknowledgment seen. */
const SIDE_MAXACK_SET = 2;
/** Linux's MAXACKWINCONST: the acknowledgment lower bound before a window is known. */
const MAX_ACK_WINDOW = 66000;

function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
function after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/** What one direction has shown (Linux's `ip_ct_tcp_state`). */
export class TcpSide {
  /** Highest sequence number sent plus one (SYN and FIN count). */
  end = 0;
  /** Highest sequence number the peer's window lets this side send. */
  maxEnd = 0;
  /** Largest window this side advertised (scaled). */
  maxWin = 0;
  /** Its window scale shift. */
  scale = 0;
  /** SIDE_* bits. */
  flags = 0;
  /** Highest acknowledgment it sent. */
  maxAck = 0;
}

/** What a segment did to the flow. */
export const TcpMove = {
  /** Counted; the state may have changed. */
  OK: 0,
  /** Not a valid move or outside the windows: nothing changed. */
  INVALID: 1,
  /** A new SYN on a closed flow: the caller removes the entry and tracks anew. */
  REOPEN: 2,
} as const;

/**
 * The TCP part of a flow: state and both directions' windows.
 *
 * @example
 * ```ts
 * import { TcpFlow, TcpMove, TCP_CT_STATE_NAMES } from "./tcp_track.ts";
 * import assert from "node:assert/strict";
 * const f = new TcpFlow();
 * // SYN (seq 100, window 1000), then SYN-ACK (seq 500, ack 101), then ACK.
 * assert.equal(f.segment(0, 0x02, 100, 0, 1000, 0, -1, null, 0), TcpMove.OK);
 * assert.equal(f.segment(1, 0x12, 500, 101, 1000, 0, -1, null, 0), TcpMove.OK);
 * assert.equal(f.segment(0, 0x10, 101, 501, 1000, 0, -1, null, 0), TcpMove.OK);
 * assert.equal(TCP_CT_STATE_NAMES[f.state], "ESTABLISHED");
 * ```
 */
export class TcpFlow {
  /** A {@linkcode TcpCtState}. */
  state: number = NO;
  /** The two directions (original, reply). */
  readonly sides: readonly [TcpSide, TcpSide] = [new TcpSide(), new TcpSide()];
  /** Set when the flow went from SYN_RECV to ESTABLISHED (Linux's ASSURED). */
  assured = false;
  /** Direction of the last plain ACK seen (-1: none), for RST trains. */
  #lastAckDir = -1;
  /** Sequence end of that ACK. */
  #lastAckEnd = 0;

  /**
   * Applies one segment going `dir` (0 original, 1 reply) with TCP `flags`,
   * `seq`, `ack`, the raw `window` field and `dataLen` payload bytes;
   * `wscale` is the window scale option it carries (-1: none; read by the
   * caller only from SYNs). `buf`/`at` are unused (reserved for SACK) and
   * may be null/0.
   *
   * @returns A {@linkcode TcpMove}.
   */
  segment(
    dir: 0 | 1,
    flags: number,
    seq: number,
    ack: number,
    window: number,
    dataLen: number,
    wscale: number,
    _buf: Uint8Array | null,
    _at: number,
  ): number {
    const index = (flags & F_RST) !== 0
      ? RST
      : (flags & F_SYN) !== 0
      ? ((flags & F_ACK) !== 0 ? SYNACK : SYN)
      : (flags & F_FIN) !== 0
      ? FIN
      : (flags & F_ACK) !== 0
      ? ACK
      : NONE;
    const old = this.state;
    const next = MOVES[dir]![index]![old]!;
    if (next === IV) return TcpMove.INVALID;
    if (next === IG) return TcpMove.OK;
    if (next === SS && dir === 0 && (old === TW || old === CL)) return TcpMove.REOPEN;
    if (index === RST && old === CL) return TcpMove.INVALID; // already closed: nothing to kill
    let keep = false;
    if (index === RST) {
      const rst = this.#rstVerdict(dir, seq >>> 0);
      if (rst === RST_INVALID) return TcpMove.INVALID;
      keep = rst === RST_KEEP;
    }
    if (!this.#inWindow(dir, flags, seq >>> 0, ack >>> 0, window, dataLen, wscale)) {
      return TcpMove.INVALID;
    }
    if (index === ACK) {
      this.#lastAckDir = dir;
      this.#lastAckEnd = (seq + dataLen) >>> 0;
    } else if (index !== NONE) this.#lastAckDir = -1;
    if (keep) return TcpMove.OK;
    if (old === SR && next === ES && dir === 0) this.assured = true;
    this.state = next;
    return TcpMove.OK;
  }

  /**
   * Linux's RST checks in nf_conntrack_tcp_packet(): a RST whose sequence
   * number is below the highest acknowledgment the peer sent is old
   * (invalid); in an assured ESTABLISHED flow, a RST in the window but not
   * exactly at that acknowledgment (nor right after the sender's last
   * segment) leaves the state, since the receiving end will only answer it
   * with a challenge ACK (RFC 5961 §3.2), so a blind RST cannot end the
   * flow.
   */
  #rstVerdict(dir: 0 | 1, seq: number): number {
    const receiver = this.sides[dir === 0 ? 1 : 0];
    if ((receiver.flags & SIDE_MAXACK_SET) === 0) return RST_CLOSE;
    const established = this.state === ES && this.assured;
    if (seq === 0 && !established) return RST_CLOSE; // answers a SYN let through
    if (before(seq, receiver.maxAck)) return RST_INVALID;
    if (!established || seq === receiver.maxAck) return RST_CLOSE;
    if (this.#lastAckDir === dir && seq === this.#lastAckEnd) return RST_CLOSE; // a train: data, then RST
    return RST_KEEP;
  }

  /**
   * Linux's tcp_in_window(): the four bounds on sequence and
   * acknowledgment, then the windows grow with what the segment shows.
   */
  #inWindow(
    dir: 0 | 1,
    flags: number,
    seq: number,
    ack: number,
    window: number,
    dataLen: number,
    wscale: number,
  ): boolean {
    const sender = this.sides[dir];
    const receiver = this.sides[dir === 0 ? 1 : 0];
    const syn = (flags & F_SYN) !== 0;
    let end = (seq + dataLen + (syn ? 1 : 0) + ((flags & F_FIN) !== 0 ? 1 : 0)) >>> 0;
    let win = window;
    if (sender.maxWin === 0) {
      // The first segment from this side: learn its sequence space.
      if (syn) {
        sender.end = sender.maxEnd = end;
        sender.maxWin = win === 0 ? 1 : win;
        if (wscale >= 0) {
          sender.flags |= SIDE_WSCALE;
          sender.scale = wscale > 14 ? 14 : wscale;
        }
        // RFC 7323 §2.2: scaling only when both sides offered it (known at
        // the answering SYN, once the other side has spoken).
        if (receiver.maxWin !== 0 && (sender.flags & receiver.flags & SIDE_WSCALE) === 0) {
          sender.scale = receiver.scale = 0;
        }
        if ((flags & F_ACK) === 0) {
          if (dir === 0) sender.maxEnd = (end + sender.maxWin) >>> 0;
          return true; // the opening SYN (or a simultaneous one)
        }
      } else {
        return false; // never picked up mid-stream
      }
    } else if (
      ((this.state === SS && dir === 0) || (this.state === SR && dir === 1)) && syn &&
      after(end, sender.end)
    ) {
      // A SYN (or SYN-ACK) sent again with a new initial sequence number.
      sender.end = sender.maxEnd = end;
      sender.maxWin = win === 0 ? 1 : win;
    }
    let sack = ack;
    if ((flags & F_ACK) === 0 || ((flags & F_RST) !== 0 && ack === 0)) {
      ack = sack = receiver.end; // no acknowledgment (or a RST with a zero one) to check
    }
    if (seq === end && ((flags & F_RST) === 0 || (seq === 0 && this.state === SS))) {
      seq = end = sender.end; // an empty segment: checked as at the sender's edge
    }
    const maxAckWindow = sender.maxWin > MAX_ACK_WINDOW ? sender.maxWin : MAX_ACK_WINDOW;
    const ok = before(seq, (sender.maxEnd + 1) >>> 0) && // I: not beyond what the receiver allows
      after(end, (sender.end - receiver.maxWin - 1) >>> 0) && // II: not older than a window
      before(sack, (receiver.end + 1) >>> 0) && // III: acknowledges nothing unsent
      after(sack, (receiver.end - maxAckWindow - 1) >>> 0); // IV: not too old an ack
    if (!ok) return false;
    if (!syn) win = (win << sender.scale) >>> 0;
    if (sender.maxWin < win) sender.maxWin = win;
    if (after(end, sender.end)) sender.end = end;
    if ((flags & F_ACK) !== 0) {
      if ((sender.flags & SIDE_MAXACK_SET) === 0) {
        sender.maxAck = ack;
        sender.flags |= SIDE_MAXACK_SET;
      } else if (after(ack, sender.maxAck)) sender.maxAck = ack;
    }
    if (receiver.maxWin !== 0 && after(end, sender.maxEnd)) {
      receiver.maxWin = (receiver.maxWin + (end - sender.maxEnd)) >>> 0;
    }
    if (after((sack + win) >>> 0, (receiver.maxEnd - 1) >>> 0)) {
      receiver.maxEnd = (sack + win + (win === 0 ? 1 : 0)) >>> 0;
    }
    return true;
  }
}

/**
 * The window scale option of the TCP header at `l4` (header length `hlen`),
 * or -1 when absent. Never reads past `l4 + hlen`.
 *
 * @example
 * ```ts
 * import { tcpWindowScaleOption } from "./tcp_track.ts";
 * import assert from "node:assert/strict";
 * const h = new Uint8Array(24);
 * h.set([1, 3, 3, 7], 20); // NOP, window scale 7
 * assert.equal(tcpWindowScaleOption(h, 0, 24), 7);
 * ```
 */
export function tcpWindowScaleOption(buf: Uint8Array, l4: number, hlen: number): number {
  let i = l4 + 20;
  const end = l4 + hlen;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === 0) return -1;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) return -1;
    const len = buf[i + 1]!;
    if (len < 2 || i + len > end) return -1;
    if (kind === 3 && len === 3) return buf[i + 2]!;
    i += len;
  }
  return -1;
}
