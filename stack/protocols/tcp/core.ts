/**
 * What every connection of one stack shares: configuration, counters, the
 * demux tables, the services it sends through, keyed hashes, the parsed
 * segment scratch, and stateless replies (RST to a closed port, RFC 9293
 * §3.10.7.1). One instance per stack, made in the plugin's `setup`.
 *
 * @module
 */
import type { Clock, Instant } from "../../clock.ts";
import type { Counter } from "../../counters.ts";
import type { PacketBuffer } from "../../packet.ts";
import type { PluginContext } from "../../manifest.ts";
import type { RouteService } from "../../services.ts";
import { RouteSendFlags } from "../../services.ts";
import { type IpKey, isLinkLocalKey } from "../../wire/ip_address.ts";
import { finishChecksum, sumBytes } from "../../wire/checksum.ts";
import { pseudoHeaderSum } from "../../ip/pseudo_header.ts";
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpOptionSet } from "../../wire/tcp.ts";
import { IP_PROTOCOL_TCP } from "../../wire/numbers.ts";
import {
  setTcpAck,
  setTcpChecksumField,
  setTcpDstPort,
  setTcpHeaderLenAndFlags,
  setTcpSeq,
  setTcpSrcPort,
  setTcpUrgentPointer,
  setTcpWindow,
} from "../../wire/tcp_fields.ts";
import type { TcpConfig } from "./config.ts";
import { CongestionRegistry } from "./congestion/registry.ts";
import type { CongestionOptions } from "./congestion/mod.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { EphemeralPorts, KeyedHash, TimestampOffsets } from "./isn.ts";
import { ConnTable, ListenTable, TupleHasher, tupleHashKey } from "./table.ts";
import { FastOpenState } from "./fastopen.ts";
import { TimeWaitTable } from "./timewait_table.ts";
import { TcpMemory } from "./memory.ts";

export { IP_PROTOCOL_TCP };
/** RFC 9293 §3.7.1 (MUST-15): the MSS assumed when the peer sends none, IPv4 (576 − 40). */
export const DEFAULT_MSS = 536;
/** The same for IPv6: RFC 8200's minimum MTU 1280 less 60 bytes of headers. */
export const DEFAULT_MSS6 = 1220;

/**
 * The MSS to assume for `addr`'s family when nothing better is known (no
 * MSS option from the peer, no route): 536 for IPv4, 1220 for IPv6.
 *
 * @example
 * ```ts
 * import { defaultMss } from "./core.ts";
 * import assert from "node:assert/strict";
 * assert.equal(defaultMss(0x0a000001), 536);
 * ```
 */
export function defaultMss(addr: IpKey): number {
  return typeof addr === "number" ? DEFAULT_MSS : DEFAULT_MSS6;
}
/** TCP header without options. */
export const TCP_HEADER_LEN = 20;
/** IPv4 + TCP headers without options. */
export const IPV4_TCP_HEADERS = 40;
/**
 * The MSS towards our own IPv4 addresses and 127.0.0.0/8 (the route's MTU
 * is 65535 there): segments that never leave the stack are limited only by
 * the IPv4 datagram size (Linux's `lo`, MTU 65536, advertises the same 65495).
 */
export const LOCAL_MSS = 65535 - IPV4_TCP_HEADERS;

/** Every counter the plugin declares, without the `tcp.` prefix. */
export const TCP_COUNTERS = [
  // drop reasons (the dispatcher counts returned verdicts as rx.<reason>)
  "rx.truncated",
  "rx.bad_header_length",
  "rx.bad_checksum",
  "rx.not_unicast",
  "rx.no_socket",
  "rx.listen_overflow",
  "rx.syn_queue_full",
  "rx.accept_queue_full",
  "rx.syn_fin",
  "rx.not_syn",
  "rx.rst_to_listener",
  "rx.bad_cookie",
  "rx.too_many_connections",
  "rx.out_of_window",
  "rx.paws",
  "rx.no_timestamp",
  "rx.rst_challenged",
  "rx.syn_challenged",
  "rx.no_ack",
  "rx.bad_ack",
  "rx.ack_unsent",
  "rx.ack_too_old",
  "rx.rst_ignored",
  "rx.no_syn",
  "rx.ooo_dropped",
  "rx.data_after_close",
  "rx.time_wait_rst",
  "rx.icmp_no_socket",
  "rx.icmp_bad_seq",
  "rx.icmp_ignored",
  // statistics (RFC 4022 TCP-MIB names where there is one)
  "active_opens",
  "passive_opens",
  "attempt_fails",
  "estab_resets",
  "in_segs",
  "out_segs",
  "retrans_segs",
  "tx_shared_copies",
  "out_rsts",
  "in_errs",
  "fast_retransmits",
  "sack_recoveries",
  "timeouts",
  "syncookies_sent",
  "syncookies_recv",
  "challenge_acks",
  "challenge_acks_limited",
  "delayed_acks",
  "zero_window_probes",
  "keepalive_probes",
  "pmtu_updates",
  "tx.failed",
  "bad_options",
  "dsacks_sent",
  "dsacks_recv",
  "spurious_undos",
  "tlp_probes",
  "tlp_recoveries",
  "rack_overflows",
  "rate_untracked",
  "ecn_ce_received",
  "ecn_reductions",
  "tfo_cookie_sent",
  "tfo_cookie_invalid",
  "tfo_syn_data_accepted",
  "tfo_queue_full",
  "tfo_syn_data_acked",
  "tfo_fallback",
  "tfo_cache_evicted",
  "urgent_received",
  "dsacks_invalid",
  "sacks_invalid",
  // buffer memory (memory.ts; Linux's names in TcpExt)
  "rx.mem_dropped",
  "rx.ooo_mem_dropped",
  "memory_allocated",
  "memory_peak",
  "memory_pressures",
  "prune_called",
  "ofo_pruned",
  "rcv_pruned",
  "rcv_collapsed",
  "rcv_hold_refused",
  "sack_reneging",
  "tfo_syn_data_mem_refused",
  "memory_pressure_us",
] as const;

/** The parsed fields of the segment being received (one scratch object per stack). */
export class Segment {
  /** Source address (either family). */
  src: IpKey = 0;
  /** Destination address. */
  dst: IpKey = 0;
  /** The interface it came in on (the zone of a link-local peer). */
  ifindex = -1;
  /** Source port. */
  srcPort = 0;
  /** Destination port. */
  dstPort = 0;
  /** Sequence number. */
  seq = 0;
  /** Acknowledgment number. */
  ack = 0;
  /** Flag bits. */
  flags = 0;
  /** Window field, unscaled. */
  wnd = 0;
  /** The packet's buffer. */
  buf: Uint8Array = new Uint8Array(0);
  /** The packet `buf` belongs to (the receive queue may hold it instead of copying, `rcv_queue.ts`). */
  pkt: PacketBuffer | null = null;
  /** Absolute offset of the payload in `buf`. */
  dataAt = 0;
  /** Payload length. */
  dataLen = 0;
  /** Options. */
  readonly opts: TcpOptionSet = new TcpOptionSet();
  /** The IP header's ECN field (RFC 3168 §5; 3 = CE). */
  ecn = 0;
  /** Urgent pointer field (meaningful with URG). */
  urgent = 0;

  /** Sequence space: payload plus SYN and FIN. */
  get len(): number {
    return this.dataLen + ((this.flags & TCP_SYN) !== 0 ? 1 : 0) +
      ((this.flags & TCP_FIN) !== 0 ? 1 : 0);
  }

  /**
   * The first `n` payload bytes as a view, kept by the packet
   * ({@linkcode PacketBuffer.view}): a pooled buffer comes back with the
   * same window segment after segment, and a subarray per segment was an
   * allocation on the hot path.
   */
  payload(n: number): Uint8Array {
    const at = this.dataAt;
    const pkt = this.pkt;
    if (pkt !== null && pkt.buf === this.buf) return pkt.view(at, at + n);
    return this.buf.subarray(at, at + n);
  }
}

/**
 * The zone an answer to `seg` needs: the link it came in on when its
 * source is link-local (Linux keeps it as `sk_bound_dev_if`), else -1.
 */
export function segmentZone(seg: Segment): number {
  return isLinkLocalKey(seg.src) ? seg.ifindex : -1;
}

/** Counter handles (`PluginContext.counterHandles`): each counter is made when first counted. */
export type TcpCounters = { readonly [K in typeof TCP_COUNTERS[number]]: Counter };

/** Shared state of the TCP plugin in one stack. */
export class TcpCore {
  /** The plugin context. */
  readonly ctx: PluginContext;
  readonly #clock: Clock;
  /** Configuration. */
  readonly cfg: TcpConfig;
  /** Counters by name. */
  readonly c: TcpCounters;
  /** Connections. */
  readonly conns: ConnTable;
  /** Listeners. */
  readonly listeners: ListenTable = new ListenTable();
  /** `ipv4.route`, resolved in `ready()`. */
  net4!: RouteService;
  /** `ipv6.route` when an IPv6 plugin is loaded, resolved in `ready()`. */
  net6: RouteService | undefined;
  /** ISN hash (RFC 6528). */
  readonly isnHash: KeyedHash;
  /** Timestamp offsets (RFC 7323 §5.4) under this stack's own key. */
  readonly tsOffsets: TimestampOffsets;
  /** SYN-cookie hash. */
  readonly cookieHash: KeyedHash;
  /** Ephemeral ports (RFC 6056). */
  readonly ports: EphemeralPorts;
  /** The segment being received. */
  readonly seg: Segment = new Segment();
  /** Congestion controls by name (the `tcp.congestion` service registers more). */
  readonly congestion: CongestionRegistry = new CongestionRegistry();
  /** The options every connection's congestion control is made with (one object per stack). */
  readonly ccOptions: CongestionOptions;
  /** Our window-scale shift, from the receive buffer size. */
  readonly wscale: number;
  /** Scratch for SACK blocks we send. */
  readonly sackOut: Uint32Array = new Uint32Array(8);
  /**
   * Connections owing an ACK at the end of the current receive batch (each
   * at most once, flagged by `ackAtFlush`; emptied by every flush).
   */
  readonly ackQueue: TcpEndpoint[] = [];
  /** TCP Fast Open keys and cookie cache (`fastopen.ts`). */
  readonly fastOpen: FastOpenState;
  /** Connections in TIME-WAIT kept compact (`timewait_table.ts`); they count in `maxConnections`. */
  readonly timeWait: TimeWaitTable;
  /** Bytes every connection's buffers hold, and their limits (`memory.ts`). */
  readonly mem: TcpMemory;

  /** Connections counted against `maxConnections`: the table's and the compact TIME-WAIT records. */
  get connectionCount(): number {
    return this.conns.size + this.timeWait.size;
  }

  /** Whether a connection (open, or a compact TIME-WAIT record) holds this four-tuple. */
  tupleInUse(la: IpKey, lp: number, ra: IpKey, rp: number): boolean {
    return this.conns.lookup(la, lp, ra, rp) !== undefined || this.timeWait.has(la, lp, ra, rp);
  }

  #challengeWindow = 0;
  #challengeCount = 0;

  /** Builds the shared state from the plugin context and configuration. */
  constructor(ctx: PluginContext, cfg: TcpConfig) {
    this.ctx = ctx;
    this.#clock = ctx.clock;
    this.cfg = cfg;
    // One handle object per stack; each of the 70 counters is made when first counted.
    this.c = ctx.counterHandles(TCP_COUNTERS);
    this.isnHash = new KeyedHash(ctx.rng);
    // Keyed from the ISN secret (no draw of its own: seeded captures unchanged).
    const hasher = new TupleHasher(tupleHashKey(this.isnHash));
    this.conns = new ConnTable(hasher);
    this.timeWait = new TimeWaitTable(this, hasher);
    this.tsOffsets = new TimestampOffsets(new KeyedHash(ctx.rng));
    this.cookieHash = new KeyedHash(ctx.rng);
    this.ports = new EphemeralPorts(
      new KeyedHash(ctx.rng),
      new KeyedHash(ctx.rng),
      cfg.ephemeralPortMin,
      cfg.ephemeralPortMax,
    );
    this.fastOpen = new FastOpenState(ctx.rng, cfg.fastOpenKeyLifetime);
    this.ccOptions = Object.freeze({ hystart: cfg.hystart, rng: ctx.rng });
    this.mem = new TcpMemory(cfg, this.c, { clock: ctx });
    // tcp.memory_pressure_us and the gauges read current (a silent episode, a reset).
    ctx.onCounterRead(() => this.mem.refreshCounters());
    let s = 0;
    // Scaled for the most the buffer may grow to (auto-tuning), as Linux scales for tcp_rmem[2].
    const most = Math.max(cfg.receiveBuffer, cfg.receiveBufferMax);
    if (cfg.windowScaling) { while (s < 14 && (most >>> s) > 65535) s++; }
    this.wscale = s;
  }

  /** The stack clock. */
  now(): Instant {
    // The clock itself, not ctx.now (a closure around it): read several times per segment.
    return this.#clock.now();
  }

  /** RFC 5961 §7: whether another challenge ACK may go out this second (stack-wide). */
  allowChallengeAck(): boolean {
    const now = this.ctx.now();
    if (now - this.#challengeWindow >= 1_000_000) {
      this.#challengeWindow = now;
      this.#challengeCount = 0;
    }
    if (this.#challengeCount >= this.cfg.challengeAckLimit) {
      this.c.challenge_acks_limited.value++;
      return false;
    }
    this.#challengeCount++;
    this.c.challenge_acks.value++;
    return true;
  }

  /**
   * Sends a bare control segment (no options) from `src:srcPort` to
   * `dst:dstPort`. Hot path: positional.
   */
  sendControl(
    src: IpKey,
    srcPort: number,
    dst: IpKey,
    dstPort: number,
    seq: number,
    ack: number,
    flags: number,
    scope = -1,
  ): void {
    const pkt = this.ctx.pool.alloc(20);
    const at = pkt.start;
    const b = pkt.buf;
    const dv = pkt.dv;
    setTcpSrcPort(dv, at, srcPort);
    setTcpDstPort(dv, at, dstPort);
    setTcpSeq(dv, at, seq);
    setTcpAck(dv, at, ack);
    setTcpHeaderLenAndFlags(dv, at, 20, flags);
    setTcpWindow(dv, at, 0);
    setTcpChecksumField(dv, at, 0);
    setTcpUrgentPointer(dv, at, 0);
    const sum = sumBytes(b.subarray(at, at + 20), pseudoHeaderSum(src, dst, IP_PROTOCOL_TCP, 20));
    setTcpChecksumField(dv, at, finishChecksum(sum));
    if ((flags & TCP_RST) !== 0) this.c.out_rsts.value++;
    this.c.out_segs.value++;
    const net = this.netOf(dst);
    const err = net === undefined
      ? (pkt.release(), "no_route")
      : net.send(pkt, src, dst, IP_PROTOCOL_TCP, 0, RouteSendFlags.DONT_FRAGMENT, scope);
    if (err !== undefined) this.c["tx.failed"].value++;
  }

  /**
   * The reset answering the segment in `seg` when no connection takes it
   * (RFC 9293 §3.10.7.1): `<SEQ=SEG.ACK><CTL=RST>` if it had ACK, else
   * `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`. Never answers a RST.
   */
  resetFor(seg: Segment): void {
    if ((seg.flags & TCP_RST) !== 0) return;
    const zone = segmentZone(seg);
    if ((seg.flags & TCP_ACK) !== 0) {
      this.sendControl(seg.dst, seg.dstPort, seg.src, seg.srcPort, seg.ack, 0, TCP_RST, zone);
    } else {
      const ack = (seg.seq + seg.len) >>> 0;
      this.sendControl(seg.dst, seg.dstPort, seg.src, seg.srcPort, 0, ack, TCP_RST | TCP_ACK, zone);
    }
  }

  // The peer last confirmed reachable and the instant before which the
  // network layer wants no confirmation of it again (0: none yet).
  #reachNet: RouteService | null = null;
  #reachAddr: IpKey = 0;
  #reachScope = -1;
  #reachUntil = 0;

  /**
   * A connection to `addr` made forward progress at `now`: confirms the
   * peer to the network layer (`RouteService.confirmReachable`) unless a
   * connection to the same peer did so and the instant the layer named has
   * not come (many short connections to one peer confirm it once per hint,
   * as one long one does, not once each). Returns that instant.
   */
  confirmReachable(net: RouteService, addr: IpKey, scope: number, now: Instant): Instant {
    if (
      now < this.#reachUntil && addr === this.#reachAddr && scope === this.#reachScope &&
      net === this.#reachNet
    ) return this.#reachUntil;
    const until = net.confirmReachable?.(addr, scope) ?? Infinity;
    this.#reachNet = net;
    this.#reachAddr = addr;
    this.#reachScope = scope;
    this.#reachUntil = until;
    return until;
  }

  /** The route service for the family of `a`, or undefined when none is loaded. */
  netOf(a: IpKey): RouteService | undefined {
    return typeof a === "number" ? this.net4 : this.net6;
  }

  /** Whether `a` is one of our addresses or loopback (the network layer delivers it to us). */
  isLocal(a: IpKey): boolean {
    return this.netOf(a)?.isLocal(a) ?? false;
  }

  /**
   * The largest TCP super-segment the link towards `dst` cuts into segments
   * itself (TSO: `LinkDriver.tsoMaxSize`), or 0. No allocation for IPv4.
   */
  routeTso(dst: IpKey): number {
    return this.netOf(dst)?.tsoMaxSize?.(dst) ?? 0;
  }

  /**
   * The MSS we advertise towards `dst`, from the route: its path MTU (never
   * below the version's minimum MTU) minus the network header (20 IPv4, 40
   * IPv6) and TCP's 20; the family's default ({@linkcode defaultMss}) when
   * the route gives no MTU. 1440 on a 1500-byte link, 8960 (IPv4) on a
   * 9000-byte one, {@linkcode LOCAL_MSS} towards ourselves. No allocation.
   */
  routeMss(dst: IpKey): number {
    const net = this.netOf(dst);
    if (net === undefined) return defaultMss(dst);
    const mtu = net.pathMtu(dst);
    if (mtu <= 0) return defaultMss(dst);
    const headers = net.headerLength + TCP_HEADER_LEN;
    return Math.min(Math.max(mtu, net.minimumMtu) - headers, 65535);
  }
}
