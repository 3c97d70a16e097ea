/**
 * The stack's TCP memory: one account of the bytes every connection's send
 * and receive buffers hold (their backing stores, which also carry the
 * out-of-order data written ahead and the data awaiting acknowledgment), and
 * the limits on it, as Linux's `tcp_mem` and `tcp_memory_allocated`:
 * - up to `memoryLow` buffers grow as they would with no limit;
 * - above `memoryPressure` the stack is under pressure until the account
 *   falls back to `memoryLow` (`tcp.memory_pressures` counts the entries):
 *   receive windows stop opening past four segments (Linux's
 *   tcp_clamp_window / rcv_ssthresh), auto-tuning stops, and a buffer grows
 *   only within its fair share (`memoryHigh` / connections);
 * - no buffer grows past `memoryHigh`.
 *
 * Memory is refused only when a buffer would grow: bytes fitting the store a
 * connection already holds are always taken, and every connection may hold
 * a store of {@linkcode MEMORY_MIN_BUFFER} bytes (Linux's tcp_rmem[0] and
 * tcp_wmem[0] guarantee), so in-order data always moves and no connection
 * starves for want of memory others hold. The account therefore stays under
 * `memoryHigh` plus that minimum per connection.
 *
 * A segment whose data would need a refused growth first makes the
 * connection give back what it can (Linux's tcp_prune_queue): its
 * out-of-order data is forgotten (reneging, which RFC 2018 §8 allows: the
 * ranges are no longer SACKed, and the sender's retransmission timeout
 * recovers them; {@linkcode checkReneging} is our sender's side) and its
 * receive store shrinks to what it holds. What still
 * does not fit is dropped and counted: `tcp.rx.mem_dropped` (in order,
 * Linux's TCPRcvQDrop) or `tcp.rx.ooo_mem_dropped` (TCPOFODrop). The
 * window's right edge never moves back (RFC 9293 §3.8.6): dropped bytes are
 * sent again by the peer once the application reads.
 *
 * `tcp.memory_allocated` shows the account and `tcp.memory_peak` its
 * highest value (bytes; gauges, set again at every read of the counters,
 * so a counter reset does not leave them at zero);
 * `tcp.memory_pressure_us` counts the virtual µs spent under pressure
 * (Linux's TCPMemoryPressuresChrono), brought up to date whenever the
 * account changes or a window is offered under pressure, when it ends, and
 * whenever the stack's counters are read (`PluginContext.onCounterRead`:
 * during an episode without traffic a read shows the time so far, at no
 * cost to counting; {@linkcode TcpMemory.refreshCounters}). Data a Fast
 * Open SYN carries gets no minimum store: it is refused under pressure
 * ({@linkcode admitSynData}).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import { ringSizeFor } from "./buffer.ts";
import type { ReceiveAccount } from "./rcv_queue.ts";
import { chunkBufferSize, chunkPayload } from "./send_queue.ts";
import type { PacketBuffer } from "../../packet.ts";
import type { TcpCounters } from "./core.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { armTimer } from "./timers.ts";

/** The store every connection may hold whatever the account says (Linux's tcp_rmem[0]; rings start smaller, at 512 B). */
export const MEMORY_MIN_BUFFER = 4096;

/** The limits, bytes (`memoryLow`, `memoryPressure`, `memoryHigh`). */
export interface MemoryLimits {
  /** Pressure ends at or below this. */
  readonly memoryLow: number;
  /** Pressure starts above this. */
  readonly memoryPressure: number;
  /** No buffer grows past this. */
  readonly memoryHigh: number;
}

/**
 * One stack's account of TCP buffer memory: every ring's backing store is
 * charged here as it grows or shrinks (O(1), no scans).
 *
 * @example
 * ```ts
 * import { TcpMemory } from "./memory.ts";
 * import assert from "node:assert/strict";
 * let now = 0; // the stack's clock, µs
 * const clock = { now: () => now };
 * const limits = { memoryLow: 100, memoryPressure: 200, memoryHigh: 300 };
 * const mem = new TcpMemory(limits, null, { clock });
 * mem.charge(250);
 * assert.ok(mem.underPressure);
 * now = 1000;
 * mem.charge(-100); // 150: still above low
 * assert.ok(mem.underPressure);
 * now = 1500;
 * mem.charge(-50);
 * assert.ok(!mem.underPressure);
 * assert.equal(mem.pressureTime, 1500); // µs under pressure
 * ```
 */
export class TcpMemory implements ReceiveAccount {
  /** Bytes of buffer backing stores held now. */
  allocated = 0;
  /** Most bytes held at once. */
  peak = 0;
  /** Between entering above `pressure` and falling back to `low`. */
  underPressure = false;
  /** Pressure ends at or below this. */
  readonly low: number;
  /** Pressure starts above this. */
  readonly pressure: number;
  /** No buffer grows past this. */
  readonly high: number;
  /**
   * Virtual µs spent under pressure (Linux's TCPMemoryPressuresChrono, in
   * µs): ended episodes and the current one up to its last
   * {@linkcode notePressure}. Also counted in `tcp.memory_pressure_us`.
   */
  pressureTime = 0;
  readonly #c: TcpCounters | null;
  readonly #clock: { now(): Instant } | null;
  // Under pressure: when its time was last added to pressureTime.
  #pressureMark: Instant = 0;

  /**
   * An empty account with `limits`, counting into `counters` (null: none);
   * `clock` (the stack's) times pressure (none: it counts no time).
   */
  constructor(
    limits: MemoryLimits,
    counters: TcpCounters | null,
    options: { clock?: { now(): Instant } } = {},
  ) {
    this.low = limits.memoryLow;
    this.pressure = limits.memoryPressure;
    this.high = limits.memoryHigh;
    this.#c = counters;
    this.#clock = options.clock ?? null;
  }

  /**
   * Adds the time under pressure since it was last added to
   * {@linkcode pressureTime} (and the counter): done on every change of the
   * account, every window offered under pressure and every read of the
   * stack's counters, so the figure is current while traffic flows and
   * when read during a silent episode. Nothing when not under pressure.
   * Only the stack's (virtual) clock is read; where the time is cut into
   * additions does not change the total.
   */
  notePressure(): void {
    if (!this.underPressure || this.#clock === null) return;
    const now = this.#clock.now();
    const d = now - this.#pressureMark;
    this.#pressureMark = now;
    this.pressureTime += d;
    if (this.#c !== null) this.#c.memory_pressure_us.value += d;
  }

  /**
   * Brings the counters up to date for a read of the stack's counters: the
   * time under pressure so far ({@linkcode notePressure}) and the gauges
   * (which a counter reset zeroed). Not on the packet path.
   */
  refreshCounters(): void {
    this.notePressure();
    const c = this.#c;
    if (c === null || this.peak === 0) return; // never charged: no gauge objects made for a read
    c.memory_allocated.value = this.allocated;
    c.memory_peak.value = this.peak;
  }

  /** A backing store changed by `delta` bytes. */
  charge(delta: number): void {
    this.notePressure(); // the time under pressure up to this change
    const a = this.allocated += delta;
    const c = this.#c;
    if (c !== null) c.memory_allocated.value = a;
    if (a > this.peak) {
      this.peak = a;
      if (c !== null) c.memory_peak.value = a;
    }
    if (delta > 0) {
      if (!this.underPressure && a > this.pressure) {
        this.underPressure = true;
        if (this.#clock !== null) this.#pressureMark = this.#clock.now();
        if (c !== null) c.memory_pressures.value++;
      }
    } else if (this.underPressure && a <= this.low) this.underPressure = false;
  }

  /**
   * A segment the receive queue would have held was copied: its packet
   * pool refused the hold (`PacketPool.takeHold`: its holds used up, or the
   * slab the buffer was carved from would be kept alive past the pool's
   * `heldSlabBytes` cap). Counted in `tcp.rcv_hold_refused`.
   */
  holdRefused(): void {
    if (this.#c !== null) this.#c.rcv_hold_refused.value++;
  }

  /**
   * Whether a store of `from` bytes may become `to` bytes now, for one of
   * `connections` connections (Linux's __sk_mem_raise_allocated).
   */
  mayGrow(from: number, to: number, connections: number): boolean {
    if (to <= from || to <= MEMORY_MIN_BUFFER) return true;
    const after = this.allocated + to - from;
    if (after <= this.low) return true;
    if (after > this.high) return false;
    if (!this.underPressure && after <= this.pressure) return true;
    // Under pressure: within this connection's fair share of the limit.
    return to * (connections > 0 ? connections : 1) <= this.high;
  }
}

/**
 * How many of the `len` bytes arriving `off` bytes past RCV.NXT the
 * connection may keep, memory-wise (the window allowed all `len`): all of
 * them when they fit its receive store or the store may grow; else, after
 * pruning, what fits the store it keeps (at least the minimum store). Counts
 * the prune and the drop. Called for data only; O(1) unless it prunes.
 *
 * The bytes are admitted as if copied into the ring (the receive queue's
 * held packets come before the ring's bytes and are not in its store,
 * `rcv_queue.ts`); whether a super-segment is then held instead is
 * {@linkcode mayHold}'s decision, so either way the account allowed it.
 */
export function admitReceive(ep: TcpEndpoint, off: number, len: number): number {
  const q = ep.rcvBuffer(); // data is coming: the ring is made now anyway
  const ring = q.ring;
  const held = ring.length;
  const need = held + off + len;
  if (need <= ring.allocated) return len;
  const core = ep.core;
  const mem = core.mem;
  // The connection's real bytes: the ring's store and the held buffers whole.
  const heldReal = q.allocated - ring.allocated;
  if (mem.mayGrow(q.allocated, heldReal + ring.sizeFor(need), core.connectionCount)) return len;
  // Give back what this connection can (Linux tcp_prune_queue): its
  // out-of-order data first, then the room its store has past what it holds.
  const c = core.c;
  c.prune_called.value++;
  const asm = ep.asm;
  if (asm !== null && asm.count > 0) {
    asm.clear(); // reneging (RFC 2018 §8): these ranges are no longer SACKed
    ring.dropAhead();
    if (!ep.eof) ep.finRecvd = false; // a FIN past the hole goes with them
    c.ofo_pruned.value++;
  }
  if (ring.shrink() > 0) c.rcv_collapsed.value++;
  const kept = ring.allocated;
  const to = heldReal + ring.sizeFor(need);
  if (mem.mayGrow(heldReal + kept, to, core.connectionCount)) return len;
  const fit = (kept > MEMORY_MIN_BUFFER ? kept : MEMORY_MIN_BUFFER) - held - off;
  if (fit >= len) return len;
  c.rcv_pruned.value++;
  if (off === 0) c["rx.mem_dropped"].value++;
  else c["rx.ooo_mem_dropped"].value++;
  return fit > 0 ? fit : 0;
}

/**
 * Whether the receive queue may hold `pkt` (`rcv_queue.ts`) instead of
 * copying its payload: its buffer counts whole, so holding it is a growth of
 * the connection's real bytes by the buffer's size, under the same rules as
 * a store's (up to `memoryLow` free, under pressure within the fair share,
 * never past `memoryHigh`). When refused the payload is copied into the
 * ring, as {@linkcode admitReceive} allowed; so is a buffer this stack's own
 * send queue keeps. O(1).
 */
export function mayHold(ep: TcpEndpoint, pkt: PacketBuffer): boolean {
  const q = ep.rcvBuf;
  if (q === null) return false;
  const core = ep.core;
  // A buffer one of this stack's send queues keeps (a connection to one of
  // our own addresses) is charged to this account already: copied, it
  // counts once (send_queue.ts).
  if (pkt.shared && pkt.isFrom(core.ctx.pool)) return false;
  return core.mem.mayGrow(q.allocated, q.allocated + pkt.buf.length, core.connectionCount);
}

/**
 * Whether a Fast Open child may take the `len` bytes of data its SYN carries
 * (RFC 7413 §4.2.2, `fastopen.ts`) into a receive store: not while the stack
 * is under memory pressure, nor when that store would take the account past
 * `memoryPressure`. A half-open connection has no claim on the minimum store
 * ({@linkcode MEMORY_MIN_BUFFER} is for connections that exist), so a flood
 * of such SYNs cannot push the account on. Refused, the data is counted
 * (`tcp.tfo_syn_data_mem_refused`) and not acknowledged: the handshake
 * completes and the client sends it again (§4.2.2 fallback). O(1).
 */
export function admitSynData(ep: TcpEndpoint, len: number): boolean {
  const core = ep.core;
  const mem = core.mem;
  const store = ringSizeFor(0, len, core.cfg.receiveBuffer);
  if (!mem.underPressure && mem.allocated + store <= mem.pressure) return true;
  core.c.tfo_syn_data_mem_refused.value++;
  return false;
}

/**
 * The window to offer under memory pressure: no more than four segments
 * (Linux's tcp_clamp_window), unless the store already held has more room.
 * The caller keeps the right edge from moving back.
 */
export function clampWindow(ep: TcpEndpoint, wnd: number): number {
  const mem = ep.core.mem;
  if (!mem.underPressure) return wnd;
  mem.notePressure(); // keeps tcp.memory_pressure_us current while the account is still
  // Room in the ring's store: held buffers' slack takes no new bytes.
  const ring = ep.rcvBuf === null ? null : ep.rcvBuf.ring;
  const room = ring === null ? 0 : ring.allocated - ring.length;
  let cap = 4 * ep.advMss;
  if (room > cap) cap = room;
  return wnd < cap ? wnd : cap;
}

/**
 * How many bytes the application may add to the send buffer now (its room,
 * cut to what fits the store it holds when the store may not grow).
 */
export function sendRoom(ep: TcpEndpoint, room: number): number {
  if (room <= 0) return room;
  const queue = ep.sndBuf;
  const held = queue === null ? 0 : queue.length;
  const have = queue === null ? 0 : queue.allocated;
  const core = ep.core;
  const mss = ep.mss;
  const to = queue === null
    ? chunkBufferSize(mss) * Math.ceil(room / chunkPayload(mss))
    : queue.sizeFor(held + room);
  if (to <= have) return room;
  if (core.mem.mayGrow(have, to, core.connectionCount)) return room;
  // The guaranteed store: at least one chunk, so that data always moves.
  let limit = have > MEMORY_MIN_BUFFER ? have : MEMORY_MIN_BUFFER;
  if (limit < chunkBufferSize(mss)) limit = chunkBufferSize(mss);
  const fit = queue === null
    ? Math.floor(limit / chunkBufferSize(mss)) * chunkPayload(mss)
    : queue.roomWithin(limit);
  return fit < room ? (fit > 0 ? fit : 0) : room;
}

/** Linux's floor for the reneging timeout (tcp_check_sack_reneging), µs. */
const RENEGING_TIMEOUT_MIN = 10_000;

/**
 * The sender's side of a peer under memory pressure (Linux's
 * tcp_check_sack_reneging): an ACK that moved SND.UNA up to data the peer
 * had SACKed means the peer discarded that data (RFC 2018 §8 lets it). The
 * retransmission timer is brought forward to max(SRTT/16, 10 ms), so the
 * timeout's recovery (scoreboard cleared, RACK marks everything lost, resent
 * from SND.UNA) does not wait a whole RTO. Call after SND.UNA advanced and
 * the scoreboard dropped what the ACK covers; O(1).
 */
export function checkReneging(ep: TcpEndpoint): void {
  const sb = ep.scoreboard;
  if (sb === null || sb.count === 0 || sb.left(0) !== ep.sndUna) return;
  ep.core.c.sack_reneging.value++;
  const at = ep.core.now() + Math.max(ep.srtt / 16, RENEGING_TIMEOUT_MIN);
  if (ep.rtoAt === 0 || at < ep.rtoAt) {
    ep.rtoAt = at;
    armTimer(ep);
  }
}
