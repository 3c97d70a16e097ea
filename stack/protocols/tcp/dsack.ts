/**
 * D-SACK (RFC 2883) both ways, and undoing a congestion response that a
 * D-SACK proves needless (RFC 3708 detection, Linux's undo).
 *
 * Receiver: a segment that brings nothing new (wholly below RCV.NXT, or
 * wholly inside an out-of-order range already held) is reported in the
 * first SACK block of the next ACK we send (RFC 2883 §4), once; when it lay
 * inside an out-of-order range, that range follows as the second block.
 *
 * Sender: a first SACK block below the cumulative ACK, or inside the second
 * block, is a D-SACK (RFC 2883 §4.2). Each recovery episode (fast recovery or
 * RTO) remembers the window it reduced and the ranges it retransmitted;
 * when D-SACKs have reported every one of those bytes as having arrived
 * twice, no retransmission was needed (RFC 3708 §3), so the window goes back
 * to what it was (Linux `tcp_try_undo_dsack`: cwnd and ssthresh restored to
 * at least their values before the reduction) and the controller hears it
 * through `onSpuriousRecovery()`.
 *
 * @module
 */
import type { TcpOptionSet } from "../../wire/tcp_options.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { seqGe, seqGt, seqLe, seqLt, seqMax, seqMin } from "./seq.ts";

/**
 * A connection's D-SACK state, both ways: made by {@linkcode dsackOf} at
 * the first duplicate to report or D-SACK received, so the connections
 * that see neither carry one null field instead of four.
 */
export class DsackState {
  /** D-SACK to report in the next ACK's first SACK block, `[left, right)`; equal: none. */
  left = 0;
  /** Right edge of the pending D-SACK. */
  right = 0;
  /** D-SACK blocks received. */
  received = 0;
  /** Congestion responses undone as spurious (RFC 3708). */
  undos = 0;
}

/** The D-SACK state of `ep`, made on first use (see {@linkcode DsackState}). */
export function dsackOf(ep: TcpEndpoint): DsackState {
  let d = ep.dsack;
  if (d === null) d = ep.dsack = new DsackState();
  return d;
}

/** Whether `ep` has a D-SACK waiting to go out in its next ACK. */
export function dsackPending(ep: TcpEndpoint): boolean {
  const d = ep.dsack;
  return d !== null && d.left !== d.right;
}

/**
 * Records that `[left, right)` arrived again: the next ACK reports it as a
 * D-SACK. Only with SACK in use and D-SACK enabled. Hot path: positional.
 */
export function noteDuplicate(ep: TcpEndpoint, left: number, right: number): void {
  if (!ep.sackOk || !ep.core.cfg.dsack || !seqLt(left, right)) return;
  const d = dsackOf(ep);
  d.left = left >>> 0;
  d.right = right >>> 0;
}

/** Whether an ACK we send now carries SACK blocks (out-of-order data or a pending D-SACK). */
export function hasSackBlocks(ep: TcpEndpoint): boolean {
  return dsackPending(ep) || (ep.asm !== null && ep.asm.count > 0);
}

/**
 * Writes up to `max` SACK blocks for the segment being built: the pending
 * D-SACK first (then consumed), then the out-of-order ranges most recent
 * first (RFC 2018 §4, RFC 2883 §4). Returns the count.
 */
export function sackOptionBlocks(ep: TcpEndpoint, out: Uint32Array, max: number): number {
  const asm = ep.asm;
  const d = ep.dsack;
  if (d === null || d.left === d.right) return asm === null ? 0 : asm.sackBlocks(out, max);
  const l = d.left, r = d.right;
  out[0] = l;
  out[1] = r;
  d.left = d.right = 0;
  ep.core.c.dsacks_sent.value++;
  if (asm === null || max < 2) return 1;
  // RFC 2883 §4.1.2: the range holding an out-of-order duplicate comes
  // second, then the others in their usual order.
  let n = 1;
  let hold = -1;
  for (let i = 0; i < asm.count; i++) {
    if (seqLe(asm.left(i), l) && seqGe(asm.right(i), r)) {
      hold = i;
      out[2] = asm.left(i);
      out[3] = asm.right(i);
      n = 2;
      break;
    }
  }
  const k = asm.sackBlocks(SCRATCH, max);
  for (let i = 0; i < k && n < max; i++) {
    if (hold >= 0 && SCRATCH[2 * i] === out[2]) continue;
    out[2 * n] = SCRATCH[2 * i]!;
    out[2 * n + 1] = SCRATCH[2 * i + 1]!;
    n++;
  }
  return n;
}

/** Scratch blocks for {@linkcode sackOptionBlocks} (one segment is built at a time). */
const SCRATCH = new Uint32Array(8);

/**
 * RFC 2883 §4.2: whether the first SACK block of an ACK for `ack` reports a
 * duplicate: below the cumulative ACK, or inside the second block.
 */
export function isDsack(opts: TcpOptionSet, ack: number): boolean {
  if (opts.sackCount === 0) return false;
  const l = opts.sackBlocks[0]!, r = opts.sackBlocks[1]!;
  if (!seqLt(l, r)) return false;
  if (seqLe(r, ack)) return true;
  if (opts.sackCount < 2) return false;
  return seqGe(l, opts.sackBlocks[2]!) && seqLe(r, opts.sackBlocks[3]!);
}

/**
 * Whether a D-SACK block `[left, right)` lies where a duplicate could have
 * come from: nothing past SND.MAX, nothing more than the largest window
 * below SND.UNA (Linux `tcp_is_sackblock_valid`). A block outside is forged
 * or corrupt: dropped and counted in `dsacks_invalid`, so that it neither
 * undoes a congestion response nor widens RACK's reordering window.
 */
export function dsackInWindow(ep: TcpEndpoint, left: number, right: number): boolean {
  const floor = (ep.sndUna - Math.max(ep.maxSndWnd, ep.mss)) >>> 0;
  if (seqLe(right, ep.sndMax) && seqGe(left, floor) && seqLt(left, right)) return true;
  ep.core.c.dsacks_invalid.value++;
  return false;
}

/** Most retransmitted ranges an episode remembers; beyond, it cannot be undone. */
export const UNDO_RANGES = 32;

/**
 * One recovery episode's undo record (Linux `undo_marker`, `undo_retrans`,
 * `prior_cwnd`): the window before the reduction, and the ranges
 * retransmitted in the episode that no D-SACK has reported yet. Only a
 * D-SACK of retransmitted bytes counts (not one of a segment the network
 * duplicated), and each byte once.
 */
export class UndoRecord {
  /** cwnd before the reduction, bytes. */
  priorCwnd = 0;
  /** ssthresh before the reduction, bytes. */
  priorSsthresh = 0;
  /** Left edges of the retransmitted ranges not yet reported twice. */
  readonly left: number[] = [];
  /** Their right edges. */
  readonly right: number[] = [];
  /** Something was retransmitted in the episode. */
  retransmitted = false;
  /** The episode can still be undone. */
  active = false;
}

/**
 * A recovery episode begins (fast recovery or RTO): remembers the window
 * before the congestion response. Call before the controller reduces it.
 */
export function undoStart(ep: TcpEndpoint): void {
  if (!ep.sackOk || !ep.core.cfg.dsack) return;
  let u = ep.undo;
  if (u === null) u = ep.undo = new UndoRecord();
  const cc = ep.cc;
  u.priorCwnd = cc.cwnd;
  u.priorSsthresh = cc.ssthresh;
  u.left.length = u.right.length = 0;
  u.retransmitted = false;
  u.active = true;
}

/** `[seq, seq + len)` was retransmitted (fast, SACK or RTO recovery; not a loss probe). */
export function undoNoteRetransmit(ep: TcpEndpoint, seq: number, len: number): void {
  const u = ep.undo;
  if (u === null || !u.active || len <= 0 || (ep.rack !== null && ep.rack.probing)) return;
  u.retransmitted = true;
  const end = (seq + len) >>> 0;
  const n = u.left.length;
  if (n > 0 && u.right[n - 1] === seq) {
    u.right[n - 1] = end; // the next segment of a run
    return;
  }
  if (n >= UNDO_RANGES) {
    u.active = false; // too much to track: keep the reduction
    return;
  }
  u.left.push(seq);
  u.right.push(end);
}

/**
 * A D-SACK for `[left, right)` arrived: counts it, and if it reports the
 * last retransmitted byte of the current episode not yet reported, undoes
 * the episode's congestion response. Returns whether it did.
 */
export function onDsack(ep: TcpEndpoint, left: number, right: number): boolean {
  const d = dsackOf(ep);
  d.received++;
  ep.core.c.dsacks_recv.value++;
  const u = ep.undo;
  if (u === null || !u.active || !u.retransmitted) return false;
  const L = u.left, R = u.right;
  let hit = false;
  for (let i = 0; i < L.length; i++) {
    const l = seqMax(L[i]!, left), r = seqMin(R[i]!, right);
    if (!seqGt(r, l)) continue;
    hit = true;
    if (l === L[i] && r === R[i]) {
      L.splice(i, 1);
      R.splice(i, 1);
      i--;
    } else if (l === L[i]) L[i] = r;
    else if (r === R[i]) R[i] = l;
    else if (L.length < UNDO_RANGES) {
      L.splice(i + 1, 0, r);
      R.splice(i + 1, 0, R[i]!);
      R[i] = l;
      i++;
    } else R[i] = l; // no room to split: the rest must be reported again as a whole
  }
  if (!hit || L.length > 0) return false;
  // RFC 3708 §3: every retransmission arrived twice: none was needed.
  u.active = false;
  const cc = ep.cc;
  if (cc.cwnd < u.priorCwnd) cc.cwnd = u.priorCwnd;
  if (cc.ssthresh < u.priorSsthresh) cc.ssthresh = u.priorSsthresh;
  cc.onSpuriousRecovery?.();
  if (ep.inRecovery) {
    ep.inRecovery = ep.sackRecovery = false;
    ep.dupAcks = 0;
  }
  d.undos++;
  ep.core.c.spurious_undos.value++;
  return true;
}

/**
 * A segment `[seq, seq + len)` arrived: the part of it below RCV.NXT (old
 * data received again) becomes the D-SACK of the next ACK (RFC 2883 §4.1.1,
 * as Linux's `tcp_send_dupack`). Hot path: positional.
 */
export function noteOldData(ep: TcpEndpoint, seq: number, len: number): void {
  if (len <= 0 || !seqLt(seq, ep.rcvNxt)) return;
  const end = (seq + len) >>> 0;
  noteDuplicate(ep, seq, seqLt(end, ep.rcvNxt) ? end : ep.rcvNxt);
}
