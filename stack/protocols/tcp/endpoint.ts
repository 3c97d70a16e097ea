/**
 * The transmission control block (RFC 9293 §3.3.1): one connection's state,
 * buffers and timers, and the calls the socket API makes on it (send,
 * receive, close, abort). Segment processing lives in `input.ts`
 * (segment arrives), `rcv.ts` (receive side), `snd.ts` (ACK processing and
 * recovery), `output.ts` (segments out) and `timers.ts`; they operate on the
 * fields here, gVisor-style.
 *
 * @module
 */
import type { RouteService } from "../../services.ts";
import type { StreamError, StreamEvents } from "../../stream.ts";
import { formatIpKeyPort, type IpKey } from "../../wire/ip_address.ts";
import type { Instant } from "../../clock.ts";
import type { Timer } from "../../timers.ts";
import { Assembler } from "./assembler.ts";
import { SendQueue } from "./send_queue.ts";
import { ReceiveQueue } from "./rcv_queue.ts";
import type { CongestionControl } from "./congestion/mod.ts";
import { DeliveryRate } from "./congestion/delivery_rate.ts";
import { DEFAULT_MSS, type TcpCore } from "./core.ts";
import type { ListenSocket } from "./listener.ts";
import { output, sendAck, sendChunkSize, sendReset } from "./output.ts";
import { maybeWindowUpdate } from "./rcv.ts";
import { type RcvAutotune, rcvSpaceAdjust } from "./rcv_autotune.ts";
import { sendRoom } from "./memory.ts";
import type { DsackState, UndoRecord } from "./dsack.ts";
import type { Prr } from "./prr.ts";
import type { Rack } from "./rack.ts";
import { Scoreboard } from "./sack.ts";
import type { EcnState } from "./ecn.ts";
import { seqAdd, seqDiff } from "./seq.ts";
import {
  CLOSE_WAIT,
  CLOSED,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  stateName,
  SYN_RECEIVED,
  SYN_SENT,
  type TcpState,
  TIME_WAIT,
} from "./state.ts";
import { armTimer, onTimer, watchPathMtu } from "./timers.ts";
import { readAroundUrgent, urgentPending, type UrgentState } from "./urgent.ts";

/**
 * How long a drained send or receive buffer keeps its backing store before
 * giving it back (µs): long enough that a busy connection does not
 * reallocate between segments, short enough that idle ones hold nothing.
 */
const BUFFER_TRIM_DELAY = 1_000_000;

/** Most SACKed ranges the sender's scoreboard keeps. */
const SACK_RANGES = 32;

/** What a connection tells its socket's user: the `tcp.sockets` contract's events. */
export type EndpointUser = StreamEvents;

/** One TCP connection. Fields are public to the plugin's modules, not exported from it. */
export class TcpEndpoint {
  /** Shared per-stack state. */
  readonly core: TcpCore;
  #state: TcpState = CLOSED;
  /** RFC 9293 state; it changes only through {@linkcode setState}. */
  get state(): TcpState {
    return this.#state;
  }
  /** Local address (either family). */
  localAddr: IpKey;
  /** Local port. */
  localPort: number;
  /** Remote address (the same family). */
  remoteAddr: IpKey;
  /** The network layer's route service for the connection's family. */
  readonly net: RouteService;
  /** Remote port. */
  remotePort: number;
  /** The zone (interface index) of a link-local peer, or -1: its segments leave there. */
  scope = -1;
  /** Next endpoint in the demux chain. */
  hashNext: TcpEndpoint | undefined = undefined;
  /**
   * The tuple's hash in the connection table (`table.ts`), stored by its
   * insert: removal, regrowth and the TIME-WAIT record reuse it, hashing
   * nothing again. -1 until inserted.
   */
  tupleHash = -1;
  /** Opened by a listener (passive) rather than by connect(). */
  readonly passive: boolean;

  // --- send sequence space (RFC 9293 §3.3.1) ---
  /** Initial send sequence number. */
  iss = 0;
  /** Oldest unacknowledged sequence number. */
  sndUna = 0;
  /** Next sequence number to send (moves back on retransmission timeout). */
  sndNxt = 0;
  /** Highest sequence number sent + 1. */
  sndMax = 0;
  /** Send window from the peer, bytes (scaled). */
  sndWnd = 0;
  /** Segment sequence number of the last window update. */
  sndWl1 = 0;
  /** Segment acknowledgment number of the last window update. */
  sndWl2 = 0;
  /** Largest window the peer has offered. */
  maxSndWnd = 0;
  /** Shift applied to the peer's window field (RFC 7323). */
  sndWscale = 0;
  /** Data written by the user and not yet acknowledged. */
  sndBuf: SendQueue | null = null;
  /** Sequence number of the first byte of `sndBuf`. */
  sndBufStart = 0;
  /** The user closed its sending side; FIN follows the data. */
  finQueued = false;
  // -0 (equal to 0) in the fields below marked "double": a double from the start, as the values
  // they will hold, so that their first store late in a connection does not change the
  // endpoint's shape (which deoptimizes the whole data path when the first connection closes).
  /** Sequence number of our FIN (valid when `finQueued`). */
  finSeq = -0; // double
  /** End of the last short segment sent (Minshall's Nagle variant). */
  sndSml = -0; // double

  // --- receive sequence space ---
  /** Initial receive sequence number. */
  irs = 0;
  /** Next sequence number expected. */
  rcvNxt = 0;
  /** Right edge of the window we advertised (never moves left). */
  rcvAdv = 0;
  /** Shift applied to our window field. */
  rcvWscale = 0;
  /** In-order data not yet read, plus out-of-order data written ahead. */
  rcvBuf: ReceiveQueue | null = null;
  /** Receive-buffer auto-tuning state, made at the first read (`rcv_autotune.ts`). */
  rcvTune: RcvAutotune | null = null;
  /** Out-of-order ranges. */
  asm: Assembler | null = null;
  /** The peer's FIN arrived (possibly out of order) at `finRecvSeq`. */
  finRecvd = false;
  /** Sequence number of the peer's FIN. */
  finRecvSeq = -0; // double (see finSeq)
  /** The peer's FIN was processed: end of stream once the buffer drains. */
  eof = false;

  // --- options ---
  /** Send MSS: payload bytes per segment, timestamps already subtracted. */
  mss: number = DEFAULT_MSS;
  /** The MSS we advertised (route MTU − 40). */
  advMss: number = DEFAULT_MSS;
  /** Largest payload seen from the peer (delayed-ACK "full segment"). */
  rcvMss: number = DEFAULT_MSS;
  /** The peer's MSS option (536 if it sent none): the send MSS never exceeds it. */
  peerMss: number = DEFAULT_MSS;
  /** Largest super-segment the route's link segments itself (TSO), or 0: see `output.ts`. */
  tsoMax = 0;
  /** Timestamps in use. */
  tsOk = false;
  /** SACK in use. */
  sackOk = false;
  /** Window scaling in use. */
  wsOk = false;
  /** TS.Recent (RFC 7323 §4.3). */
  tsRecent = 0;
  /** When TS.Recent was last set (for the 24-day PAWS rule). */
  tsRecentAt: Instant = 0;
  /** Our timestamp clock's offset for this connection. */
  tsOffset = 0;
  /** RCV.NXT in the last ACK we sent (Last.ACK.sent). */
  lastAckSent = 0;

  // --- ACK scheduling ---
  /** An ACK must go out before processing ends. */
  ackNow = false;
  /** Bytes received since the last ACK. */
  ackPendingBytes = 0;
  /** Segments still to acknowledge at once (quick-ACK mode). */
  quickAcks = 0;
  /** Queued for an ACK at the end of the receive batch (`TcpCore.ackQueue`). */
  ackAtFlush = false;

  // --- retransmission and congestion ---
  /** Smoothed RTT, µs (0 before the first sample). */
  srtt = 0;
  /** RTT variance, µs. */
  rttvar = 0;
  /** Current RTO before backoff, µs. */
  rto: number;
  /** Exponential backoff count. */
  backoff = 0;
  /** Retransmissions of the same data (or SYN) since the last progress. */
  retries = 0;
  /** Sequence number whose acknowledgment ends the RTT measurement, if timing. */
  rttSeq = 0;
  /** When the timed segment was sent, or -1 when not timing (Karn). */
  rttStart: Instant = -1;
  /**
   * Congestion control. Not yet made (undefined) on an active open until
   * the SYN-ACK gives the MSS ({@linkcode initSender}); what may look at it
   * before then (`info()`, an ICMP "packet too big" for the SYN) goes
   * through {@linkcode synSentCc}.
   */
  cc: CongestionControl;
  /** Duplicate ACKs in a row. */
  dupAcks = 0;
  /** In fast recovery. */
  inRecovery = false;
  /** Recovery uses the SACK scoreboard (RFC 6675) rather than NewReno. */
  sackRecovery = false;
  /** RFC 6582 `recover`: SND.MAX when recovery began. */
  recover = 0;
  /** RFC 6675 HighRxt. */
  highRxt = 0;
  /**
   * SACK scoreboard (sender side), made by {@linkcode TcpEndpoint.sackBoard}
   * when the first SACK block or duplicate ACK comes, and dropped again by
   * {@linkcode TcpEndpoint.trim} once empty: most connections never lose a
   * segment, and an idle one holds none.
   */
  scoreboard: Scoreboard | null = null;
  /** Zero-window probes sent without an answer. */
  probesOut = 0;
  /** Keepalive probes sent without an answer. */
  kaProbes = 0;
  /** RTT samples taken. */
  rttSamples = 0;

  // --- timers (deadlines in µs; 0 = off) ---
  /** The connection's one timer, armed at the earliest deadline. */
  readonly timer: Timer;
  /** Retransmission / persist deadline. */
  rtoAt: Instant = 0;
  /** Delayed-ACK deadline. */
  delackAt: Instant = 0;
  /** Keepalive deadline. */
  keepAt: Instant = 0;
  /** TIME-WAIT, orphan FIN-WAIT-2, or connect-timeout deadline. */
  closeAt: Instant = 0;
  /** Last segment received (keepalive idle time). */
  lastRecv: Instant = 0;
  /** When we last answered an unacceptable segment without data (rate limit). */
  lastInvalidAck: Instant = -Infinity;
  /** When to give the backing stores of drained buffers back (0 = not scheduled). */
  trimAt: Instant = 0;
  /** When a buffer last drained (the trim waits for a whole delay after it). */
  drainedAt: Instant = 0;
  /** When the learned path MTU our MSS follows expires: look at the route again (0 = none). */
  pmtuAt: Instant = 0;
  /** Before this, forward progress is not reported to the network layer again (see {@linkcode progressed}). */
  reachHintAt: Instant = 0;

  // --- socket options and the user ---
  /** Nagle's algorithm off. */
  noDelay = false;
  /** Keepalive on. */
  keepalive = false;
  /** close() sends RST (SO_LINGER 0). */
  lingerZero = false;
  /** The socket object, or null once the user closed it (an orphan). */
  user: EndpointUser | null = null;
  /** The listener that opened it, until accepted. */
  listener: ListenSocket | null = null;
  /** Why the connection failed, once it has. */
  error: StreamError | null = null;
  /** Words for {@linkcode error} (`Connect timed out (last ICMP error: …)`), or "". */
  errorText = "";
  /** Last soft error (ICMP), reported if the connection later times out. */
  softError = "";
  /** Congestion control name (for `ss`). */
  ccName: string;

  // --- statistics ---
  /** Segments received. */
  segsIn = 0;
  /** Segments sent. */
  segsOut = 0;
  /** Segments retransmitted. */
  retransSegs = 0;
  /** Bytes acknowledged by the peer. */
  bytesAcked = 0;
  /** Bytes received in order. */
  bytesReceived = 0;

  // --- RACK-TLP, D-SACK, PRR (rack.ts, dsack.ts, prr.ts) ---
  /** D-SACKs to send and received, made at the first (`dsack.ts`). */
  dsack: DsackState | null = null;
  /** RACK-TLP state, made on the first data sent when SACK is in use and `rack` is on. */
  rack: Rack | null = null;
  /** RACK gave up on this connection (its segment record overflowed): RFC 6675 from then on. */
  rackOff = false;
  /** RACK's reordering-timer or probe-timeout deadline (0 = none). */
  rackAt: Instant = -0; // double (see finSeq)
  /** PRR state of the current recovery. */
  prr: Prr | null = null;
  /** Undo record of the current recovery episode. */
  undo: UndoRecord | null = null;
  // --- rate sampling and pacing (pacing.ts) ---
  /**
   * Delivery-rate sampler (BBR, HyStart++, tcp_info `delivery_rate`), made
   * by {@linkcode TcpEndpoint.rateSampler} at the first data segment sent:
   * a connection that sends no data (the benchmark's open-and-close, the
   * quiet side of a request) makes none: a DeliveryRate and its RateSample
   * (~290 B) fewer per such endpoint.
   */
  rate: DeliveryRate | null = null;
  /**
   * The application-limited mark (`DeliveryRate.appLimited`) made before
   * any data was sent, handed to the sampler when it is made.
   */
  rateAppLimited = 0;
  /** Pace even when the congestion control sets no rate (the `pacing` option). */
  pacing = false;
  /** The pacing clock: the next segment may leave at this instant. */
  paceNext: Instant = 0;
  /** Pacing deadline: a segment held back by pacing goes then (0 = none). */
  paceAt: Instant = 0;
  // --- ECN (RFC 3168; ecn.ts) ---
  /** ECN in use (on an active open: offered, until the SYN-ACK answers). */
  ecnOk = false;
  /** Marks seen and the responses to them, made at the first CE or ECE (`ecn.ts`). */
  ecn: EcnState | null = null;

  // --- TCP Fast Open (RFC 7413; fastopen.ts) ---
  /** The Fast Open option of our SYN (empty: a cookie request) or SYN-ACK, or null for none. */
  tfoCookie: Uint8Array | null = null;
  /** Client: data bytes the first SYN carries. */
  tfoSynLen = 0;
  /** Server: a half-open child holding data from its SYN (counted in its listener's queue). */
  tfoChild = false;

  // --- urgent data (RFC 6093; urgent.ts) ---
  /** Receiving: the urgent byte left in the stream (SO_OOBINLINE, the default). */
  oobInline = true;
  /** Urgent data sent or announced, made at the first (`urgent.ts`). */
  urgent: UrgentState | null = null;

  /**
   * A new endpoint for a tuple; not yet in the demux table. `deferCc`: no
   * congestion control is made here only to be replaced: a passive open
   * calls {@linkcode initSender} at once (it knows the MSS), an active one
   * at the SYN-ACK.
   */
  constructor(
    core: TcpCore,
    tuple: { localAddr: IpKey; localPort: number; remoteAddr: IpKey; remotePort: number },
    passive: boolean,
    ccName: string,
    deferCc = false,
  ) {
    this.core = core;
    this.localAddr = tuple.localAddr;
    this.localPort = tuple.localPort;
    this.remoteAddr = tuple.remoteAddr;
    this.remotePort = tuple.remotePort;
    this.net = core.netOf(tuple.remoteAddr) ?? core.net4; // a family without a service fails to send
    this.passive = passive;
    this.rto = core.cfg.rtoInitial;
    this.ccName = ccName;
    this.pacing = core.cfg.pacing;
    // Deferred: unset (reading it would throw) until initSender() (see `cc`).
    this.cc = deferCc
      ? undefined as unknown as CongestionControl
      : this.#newCc(ccName, DEFAULT_MSS);
    this.timer = core.ctx.timer((now) => onTimer(this, now));
    this.tsOffset = core.tsOffsets.of(
      tuple.localAddr,
      tuple.localPort,
      tuple.remoteAddr,
      tuple.remotePort,
    );
    // Stored a second time at once, so that V8 takes none of these for a
    // constant: a field stored only by its initializer is one, and every
    // function that read it is deoptimized at its first other store. These
    // get theirs at the first connection's FIN and close, when the data path
    // of the connections still open is hot (see also Rack's constructor).
    this.finQueued = this.finRecvd = this.eof = false;
    this.finSeq = this.finRecvSeq = -0;
    this.asm = null;
    this.scoreboard = null;
    this.keepAt = this.closeAt = 0;
    this.pmtuAt = this.paceAt = 0;
    this.rate = null; // made at the first data segment, maybe long after warm-up
    this.ecn = this.urgent = this.dsack = null; // made at the first mark, urgent byte, D-SACK
  }

  /** Sequence number just past the last byte the user has written. */
  get dataEnd(): number {
    return seqAdd(this.sndBufStart, this.sndBuf === null ? 0 : this.sndBuf.length);
  }

  /** Bytes sent and not yet acknowledged (sequence space). */
  get flight(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }

  /** Our timestamp clock now: milliseconds plus the per-connection offset (RFC 7323 §5.4). */
  tsNow(): number {
    return (Math.floor(this.core.now() / 1000) + this.tsOffset) >>> 0;
  }

  /** The delivery-rate sampler, made at the first data segment sent (see {@linkcode rate}). */
  rateSampler(): DeliveryRate {
    let rate = this.rate;
    if (rate === null) {
      rate = this.rate = new DeliveryRate();
      rate.appLimited = this.rateAppLimited;
    }
    return rate;
  }

  /** Allocates the receive buffer on first use. */
  rcvBuffer(): ReceiveQueue {
    if (this.rcvBuf === null) {
      this.rcvBuf = new ReceiveQueue(this.core.cfg.receiveBuffer, this.core.mem);
    }
    return this.rcvBuf;
  }

  /**
   * The out-of-order bookkeeping, made when the first segment arrives past
   * a hole (and dropped by {@linkcode TcpEndpoint.trim} once empty).
   */
  reassembler(): Assembler {
    if (this.asm === null) this.asm = new Assembler(this.core.cfg.reassemblyRanges);
    return this.asm;
  }

  /** Allocates the send buffer on first use. */
  sndBuffer(): SendQueue {
    if (this.sndBuf === null) {
      const core = this.core;
      this.sndBuf = new SendQueue(
        core.cfg.sendBuffer,
        core.ctx.pool,
        core.mem,
        core.c.tx_shared_copies,
      );
    }
    return this.sndBuf;
  }

  /**
   * Forward progress at `now` (new data acknowledged, or new data in
   * order): the network layer confirms the peer's next hop to neighbour
   * unreachability detection (RFC 4861 §7.3.1), so NDP or ARP sends no
   * probes while the connection moves. Not per segment: only once the
   * instant the network layer named has passed (a quarter of the
   * reachable time, 7.5 s by default). Hot path: one comparison.
   */
  progressed(now: Instant): void {
    if (now < this.reachHintAt) return;
    this.reachHintAt = this.core.confirmReachable(this.net, this.remoteAddr, this.scope, now);
  }

  /**
   * A buffer just drained: unless it fills again meanwhile, its backing
   * store is released {@linkcode BUFFER_TRIM_DELAY} from now, so a
   * connection that once moved a lot of data costs no buffer memory while
   * idle (the store is reallocated, small, on the next write).
   */
  drained(): void {
    const now = this.core.now();
    this.drainedAt = now;
    if (this.trimAt === 0) {
      this.trimAt = now + BUFFER_TRIM_DELAY;
      armTimer(this);
    }
  }

  /**
   * Releases the backing stores of the buffers that are empty now, and an
   * empty scoreboard and reassembler.
   */
  trim(): void {
    // Drained again since the timer was armed (request/response every
    // second): wait for a whole delay of idleness, so steady traffic does
    // not free and reallocate its stores once per request (issue 19).
    const idleAt = this.drainedAt + BUFFER_TRIM_DELAY;
    if (idleAt > this.core.now()) {
      this.trimAt = idleAt;
      armTimer(this);
      return;
    }
    this.sndBuf?.release();
    this.rcvBuf?.release();
    if (this.scoreboard !== null && this.scoreboard.empty && !this.inRecovery) {
      this.scoreboard = null;
    }
    if (this.asm !== null && this.asm.count === 0) this.asm = null;
    this.rate?.release();
    this.rack?.release();
  }

  /** The SACK scoreboard, made on first use; null when SACK is not in use. */
  sackBoard(): Scoreboard | null {
    if (this.scoreboard === null && this.sackOk) this.scoreboard = new Scoreboard(SACK_RANGES);
    return this.scoreboard;
  }

  /**
   * Sets up congestion control once the MSS is known, and if the MSS was
   * lowered by a learned path MTU, looks at the route again when that expires.
   */
  initSender(): void {
    this.cc = this.#newCc(this.ccName, this.mss);
    watchPathMtu(this);
  }

  /**
   * The congestion control of a connection still waiting for its SYN-ACK:
   * made now as an active open made it before it deferred (for the default
   * MSS), so `info()` shows the same window; {@linkcode initSender} replaces
   * it at the SYN-ACK, as before.
   */
  synSentCc(): CongestionControl {
    if (this.cc === undefined) this.cc = this.#newCc(this.ccName, DEFAULT_MSS);
    return this.cc;
  }

  #newCc(name: string, mss: number): CongestionControl {
    const core = this.core;
    return core.congestion.create(name, mss, core.cfg.initialWindow, core.ccOptions);
  }

  /**
   * Switches the congestion control to `name` (Linux's `TCP_CONGESTION`):
   * the new algorithm starts from the current window and ssthresh. The
   * caller checked the name.
   */
  setCongestionControl(name: string): void {
    if (name === this.ccName) return;
    const old = this.cc;
    this.ccName = name;
    this.cc = this.#newCc(name, this.mss);
    if (this.state !== SYN_SENT && this.state !== SYN_RECEIVED && this.state !== CLOSED) {
      this.cc.cwnd = old.cwnd;
      this.cc.ssthresh = old.ssthresh;
    }
    this.paceNext = 0;
  }

  // ---- the socket API's calls --------------------------------------------

  /** Room in the send buffer. */
  get sendSpace(): number {
    if (this.finQueued) return 0;
    return sendRoom(this, this.sndBuf === null ? this.core.cfg.sendBuffer : this.sndBuf.free);
  }

  /** Bytes readable now. */
  get readable(): number {
    return this.rcvBuf === null ? 0 : this.rcvBuf.length;
  }

  /** Queues as much of `p` as fits and sends what the windows allow; returns the count. */
  send(p: Uint8Array): number {
    if (this.finQueued || p.length === 0) return 0;
    const q = this.sndBuffer();
    // A full-sized segment is one chunk (send_queue.ts); with TSO, a bulk
    // write's chunks are super-segments (output.ts). A large chunk taking
    // only the buffer's last few KB is filled by the writes that follow.
    const free = q.free;
    q.chunkSize = sendChunkSize(this, p.length);
    // Everything queued was sent: new data starts a chunk of its own, so
    // that super-segments start where chunks do.
    if (q.chunkSize > this.mss && this.sndNxt === this.dataEnd) q.sealTail();
    // The memory account reckons in the chunks the write takes.
    let room = this.sendSpace;
    if (q.chunkSize > this.mss && room < p.length && room < free) {
      // It cut the room short: one-MSS chunks, as a 64 KiB chunk for the
      // few KB it allowed would overshoot.
      q.chunkSize = this.mss;
      room = this.sendSpace;
    }
    const n = q.write(room < p.length ? p.subarray(0, room) : p);
    if (n > 0 && this.state !== SYN_SENT && this.state !== SYN_RECEIVED) output(this);
    return n;
  }

  /** Reads up to `p.length` bytes; may send a window update. */
  receive(p: Uint8Array): number {
    if (this.rcvBuf === null) return 0;
    if (urgentPending(this)) p = readAroundUrgent(this, p); // an urgent byte out of line
    const n = this.rcvBuf.read(p);
    if (n > 0) this.#consumed();
    return n;
  }

  /**
   * Consumes up to `n` readable bytes without copying them (a sink that
   * does not look at them); may send a window update, as `receive`.
   */
  receiveDiscard(n: number): number {
    const buf = this.rcvBuf;
    if (buf === null) return 0;
    const k = n < buf.length ? n : buf.length;
    // An urgent byte out of line: the copying read knows where the stream
    // stops. Inline (the default) the mark stays set but changes nothing.
    if (urgentPending(this) && !this.oobInline) return k > 0 ? this.receive(new Uint8Array(k)) : 0;
    if (k <= 0) return 0;
    buf.discard(k);
    this.#consumed();
    return k;
  }

  // After the user consumed bytes: the window may reopen; read to the end
  // after the connection closed, the store goes back at once.
  #consumed(): void {
    rcvSpaceAdjust(this);
    maybeWindowUpdate(this);
    if (this.rcvBuf!.empty) {
      if (this.state === CLOSED) this.rcvBuf!.release();
      else this.drained();
    }
  }

  /** The user's CLOSE of the sending side (RFC 9293 §3.10.4): FIN after queued data. */
  shutdownWrite(): void {
    if (this.finQueued) return;
    switch (this.state) {
      case SYN_SENT:
      case SYN_RECEIVED:
        // Queued for processing after the handshake.
        this.finQueued = true;
        this.finSeq = this.dataEnd;
        return;
      case ESTABLISHED:
        this.finQueued = true;
        this.finSeq = this.dataEnd;
        this.setState(FIN_WAIT_1);
        output(this);
        return;
      case CLOSE_WAIT:
        this.finQueued = true;
        this.finSeq = this.dataEnd;
        this.setState(LAST_ACK);
        output(this);
        return;
      default:
        return;
    }
  }

  /**
   * The user closed the socket: send FIN (or RST if unread data is left or
   * linger is 0, RFC 9293 §3.10.4 / RFC 2525 §2.17); the connection lives on
   * as an orphan until the close completes.
   */
  close(): void {
    this.user = null;
    if (this.state === CLOSED) {
      // Nobody will read what it still holds: held packets back to their pool, the store to the account.
      this.rcvBuf?.dispose();
      this.rcvBuf = null;
      this.asm = null;
      return;
    }
    if (this.lingerZero || this.readable > 0 || this.state === SYN_SENT) {
      this.abort(null);
      return;
    }
    this.shutdownWrite();
    if (this.state === FIN_WAIT_2) this.armCloseTimer(this.core.cfg.finTimeout);
    else if (this.state === TIME_WAIT) this.core.timeWait.settle(this);
  }

  /** ABORT (RFC 9293 §3.10.5): RST if synchronized, then gone. `error` goes to the user. */
  abort(error: StreamError | null, text = ""): void {
    if (this.state === CLOSED) {
      if (this.user === null) {
        // The user gave up the unread data: held packets back to their pool, the store to the account.
        this.rcvBuf?.dispose();
        this.rcvBuf = null;
        this.asm = null;
      }
      return;
    }
    if (this.state !== SYN_SENT) sendReset(this);
    this.destroy(error, text);
  }

  /**
   * The one place the state changes: sets it to `to` and, when another
   * plugin listens for events, publishes a `connection-state` event (so no
   * transition escapes an observer, however short). Transitions are a few
   * per connection, never per segment; with no listener the cost is a short
   * walk over the plugin list. Listeners must not call back into TCP.
   */
  setState(to: TcpState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    const ctx = this.core.ctx;
    if (!ctx.hasEventListeners("connection-state")) return;
    ctx.publish({
      type: "connection-state",
      plugin: "tcp",
      local: formatIpKeyPort(this.localAddr, this.localPort),
      remote: formatIpKeyPort(this.remoteAddr, this.remotePort),
      from: stateName(from),
      to: stateName(to),
    });
  }

  /**
   * Sets the state without an event: a TIME-WAIT record becoming an
   * endpoint again (`timewait_table.ts`) is no transition.
   */
  resumeState(state: TcpState): void {
    this.#state = state;
  }

  /** Arms the close deadline (TIME-WAIT, orphan FIN-WAIT-2) `after` µs from now. */
  armCloseTimer(after: number): void {
    this.closeAt = this.core.now() + after;
    armTimer(this);
  }

  /** Enters TIME-WAIT for 2×MSL (RFC 9293 §3.10.7.4), freeing the buffers. */
  enterTimeWait(): void {
    this.setState(TIME_WAIT);
    this.rtoAt = this.delackAt = this.keepAt = 0;
    this.rackAt = 0;
    this.rack?.retire(); // nothing of ours is in flight any more: the record goes to the next connection
    this.rack = null;
    this.sndBuf?.dispose();
    this.sndBuf = null;
    this.scoreboard = null;
    if (this.user !== null) {
      // The user may still read buffered data; keep rcvBuf.
      this.user.onReadable();
    } else {
      this.rcvBuf?.dispose(); // held packets back to their pool, the store to the account
      this.rcvBuf = null;
      this.asm = null;
    }
    if (this.core.cfg.timeWait === 0) {
      this.destroy(null);
      return;
    }
    this.armCloseTimer(this.core.cfg.timeWait);
  }

  /** Removes the connection: out of the table, timer off, user told (`text`: words for `error`). */
  destroy(error: StreamError | null, text = ""): void {
    if (this.state === CLOSED) return;
    const wasSynRcvd = this.state === SYN_RECEIVED;
    // LAST-ACK ends with our FIN acknowledged: nothing is in flight, and
    // RACK's stores go to the next connection (an RST or a timeout does not).
    if (this.state === LAST_ACK && this.sndUna === this.sndMax) this.rack?.recycle();
    this.setState(CLOSED);
    this.core.conns.remove(this);
    this.timer.cancel();
    this.rtoAt =
      this.delackAt =
      this.keepAt =
      this.closeAt =
      this.trimAt =
      this.pmtuAt =
      this.rackAt =
      this.paceAt =
        0;
    this.sndBuf?.dispose();
    this.sndBuf = null;
    this.scoreboard = null;
    if (this.listener !== null) {
      this.listener.childGone(this, wasSynRcvd);
      this.listener = null;
    }
    if (error !== null && this.error === null) {
      this.error = error;
      this.errorText = text;
    }
    const user = this.user;
    if (user !== null) {
      this.rcvBuf?.copyHeld(); // the user may read them after the stack is gone
      user.onClosed(error);
    } else {
      this.rcvBuf?.dispose(); // held packets back to their pool, the store to the account
      this.rcvBuf = null;
      this.asm = null;
    }
  }

  /** Sends an ACK now (window update, keepalive answer). */
  ack(): void {
    sendAck(this);
  }

  /** Whether the connection may still carry data from the user. */
  get open(): boolean {
    return this.state === ESTABLISHED || this.state === CLOSE_WAIT ||
      this.state === SYN_SENT || this.state === SYN_RECEIVED;
  }
}
