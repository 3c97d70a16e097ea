/**
 * Ping and traceroute over IPv6 (RFC 4443 §4): echo requests and UDP
 * probes this stack sends, matched to the echo replies and the ICMPv6
 * errors that quote them. The `icmpv6.echo` service of the ICMPv6 plugin.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { Counter } from "../../counters.ts";
import type { PluginContext } from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import type {
  EchoReply,
  Icmpv6EchoService,
  Icmpv6ProbeOptions,
  ProbeResult,
  RouteService,
} from "../../services.ts";
import { RouteSendFlags } from "../../services.ts";
import { pseudoHeaderSum } from "../../ip/pseudo_header.ts";
import { pingOutcome, ProbeTable, unsentProbe as unsent } from "../../ip/probe_table.ts";
import { finishChecksum, sumBytes } from "../../wire/checksum.ts";
import { formatIpKey, IpAddress, type IpKey, ipKeyAt } from "../../wire/ip_address.ts";
import {
  ICMPV6_DESTINATION_UNREACHABLE,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_HEADER_LEN,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_TIME_EXCEEDED,
  icmpv6Word,
  writeIcmpv6Header,
} from "../../wire/icmpv6.ts";
import { IP_PROTOCOL_ICMPV6, IP_PROTOCOL_UDP } from "../../wire/numbers.ts";

const TRACEROUTE_PORT = 33434;
const UDP_HEADER_LEN = 8;
/** Largest echo data: a 65535-byte payload less the 8-byte ICMPv6 header. */
const MAX_DATA = 65527;

const UNREACHABLE: readonly string[] = [
  "no route to destination",
  "communication administratively prohibited",
  "beyond scope of source address",
  "address unreachable",
  "port unreachable",
  "source address failed ingress/egress policy",
  "reject route to destination",
];

/**
 * A one-line description of an ICMPv6 error, as ping prints it (RFC 4443
 * §3 names). Takes the three header fields positionally, as they come off
 * the wire.
 *
 * @example
 * ```ts
 * import { describeIcmpv6Error } from "./echo.ts";
 * import assert from "node:assert/strict";
 * assert.equal(describeIcmpv6Error(3, 0, 0), "hop limit exceeded in transit");
 * assert.equal(describeIcmpv6Error(1, 4, 0), "port unreachable");
 * assert.equal(describeIcmpv6Error(2, 0, 1400), "packet too big (mtu 1400)");
 * ```
 */
export function describeIcmpv6Error(type: number, code: number, info: number): string {
  switch (type) {
    case ICMPV6_DESTINATION_UNREACHABLE:
      return UNREACHABLE[code] ?? `destination unreachable (code ${code})`;
    case ICMPV6_PACKET_TOO_BIG:
      return `packet too big (mtu ${info})`;
    case ICMPV6_TIME_EXCEEDED:
      return code === 0 ? "hop limit exceeded in transit" : "fragment reassembly time exceeded";
    case 4:
      return `parameter problem (code ${code}, pointer ${info})`;
    default:
      return `icmpv6 type ${type} code ${code}`;
  }
}

/**
 * The probes of one ICMPv6 plugin instance: sends them, and settles each
 * with the reply or error that matches it (or its timeout).
 *
 * @example
 * ```ts
 * import { Icmpv6Echo } from "./echo.ts";
 * import assert from "node:assert/strict";
 * // Built by the ICMPv6 plugin, which hands it replies and errors.
 * assert.equal(typeof Icmpv6Echo, "function");
 * ```
 */
export class Icmpv6Echo {
  /** The `icmpv6.echo` service. */
  readonly service: Icmpv6EchoService;
  readonly #ctx: PluginContext;
  readonly #route: RouteService;
  readonly #pending: ProbeTable; // (identifier << 16 | sequence) -> echo probe
  readonly #udpPending: ProbeTable; // (source port << 16 | dest port) -> UDP probe
  #identifier = -1; // drawn at the first probe: a stack that never pings
  #udpSourcePort = -1; // IPv6 draws nothing from the RNG (captures stay as they were)
  readonly #c: {
    requests: Counter;
    udpProbes: Counter;
    failed: Counter;
    unmatched: Counter;
    forProbe: Counter;
  };
  #nextSequence = 0;
  #nextUdpPort = 0;
  #lastSent: Instant = 0;

  /** Probes sent through `route`, counted in `ctx`'s counters. */
  constructor(ctx: PluginContext, route: RouteService) {
    this.#ctx = ctx;
    this.#route = route;
    this.#pending = new ProbeTable(ctx);
    this.#udpPending = new ProbeTable(ctx);
    this.#c = {
      requests: ctx.counter("tx.echo_requests"),
      udpProbes: ctx.counter("tx.udp_probes"),
      failed: ctx.counter("tx.failed"),
      unmatched: ctx.counter("rx.unmatched_reply"),
      forProbe: ctx.counter("rx.error_for_probe"),
    };
    this.service = {
      echo: (dst, options, done) => this.#echo(dst, options, done),
      lastSent: () => this.#lastSent,
      probe: (dst, options, done) => this.#probe(dst, options, done),
    };
  }

  /**
   * An echo reply (`pkt.start` at the ICMPv6 header, length checked):
   * settles the echo probe it answers. Borrows `pkt`.
   */
  reply(pkt: PacketBuffer): void {
    const key = icmpv6Word(pkt.buf, pkt.start); // identifier and sequence
    const p = this.#pending.findReply(key); // any source: the destination may be anycast or a group
    if (p === undefined) {
      this.#c.unmatched.value++; // a later member's reply to a group (ping's DUP!) too
      return;
    }
    this.#pending.settle(key, p, {
      kind: "reply",
      from: formatIpKey(pkt.srcKey()),
      rtt: this.#ctx.now() - p.sent,
      type: ICMPV6_ECHO_REPLY,
      code: pkt.buf[pkt.start + 1]!,
      info: 0,
      ttl: pkt.ttl,
      bytes: pkt.end - pkt.start - ICMPV6_HEADER_LEN,
    });
  }

  /**
   * An error quoting a packet of ours (quoted IPv6 header at `q`, its
   * upper-layer header at `upper`, `protocol`, at least 8 bytes of it):
   * settles the probe it quotes and returns true, or returns false. A
   * Packet Too Big for a probe lowers the path MTU (the quote matched a
   * flow of ours, RFC 5927 §4.1); `info` is then the MTU in force.
   */
  error(
    pkt: PacketBuffer,
    q: number,
    upper: number,
    protocol: number,
    type: number,
    code: number,
    info: number,
  ): boolean {
    const b = pkt.buf;
    let map: ProbeTable;
    let key: number;
    if (protocol === IP_PROTOCOL_ICMPV6 && b[upper] === ICMPV6_ECHO_REQUEST) {
      map = this.#pending;
      key = icmpv6Word(b, upper);
    } else if (protocol === IP_PROTOCOL_UDP) {
      map = this.#udpPending;
      key = ((b[upper]! << 24) | (b[upper + 1]! << 16) | (b[upper + 2]! << 8) | b[upper + 3]!) >>>
        0;
    } else return false;
    const qdst = ipKeyAt(b, q + 24, 6);
    const p = map.find(key, qdst);
    if (p === undefined) return false;
    this.#c.forProbe.value++;
    if (type === ICMPV6_PACKET_TOO_BIG) info = this.#route.learnPathMtu(qdst, info);
    map.settle(key, p, {
      kind: "error",
      from: formatIpKey(pkt.srcKey()),
      rtt: this.#ctx.now() - p.sent,
      type,
      code,
      info,
      ttl: pkt.ttl,
      bytes: 0,
    });
    return true;
  }

  /** Cancels every probe (the plugin is torn down). */
  clear(): void {
    this.#pending.clear();
    this.#udpPending.clear();
  }

  #echo(dst: IpKey, options: Icmpv6ProbeOptions, done: (r: EchoReply | string) => void): void {
    const size = options.size ?? 56;
    if (!(Number.isInteger(size) && size >= 0 && size <= MAX_DATA)) {
      throw new RangeError(`Cannot ping with ${size} bytes of data`);
    }
    const sequence =
      (options.sequence ?? (this.#nextSequence = (this.#nextSequence + 1) & 0xffff)) &
      0xffff;
    const wording = {
      sequence,
      target: formatIpKey(dst),
      timeout: options.timeout ?? 1_000_000,
      describeError: describeIcmpv6Error,
    };
    this.#probe(dst, { ...options, protocol: "icmp", sequence }, (r) => {
      done(pingOutcome(r, wording));
    });
  }

  #probe(dst: IpKey, options: Icmpv6ProbeOptions, done: (r: ProbeResult) => void): void {
    const udp = options.protocol === "udp";
    const size = options.size ?? (udp ? 32 : 56);
    if (!(Number.isInteger(size) && size >= 0 && size <= MAX_DATA)) {
      throw new RangeError(`Cannot probe with ${size} bytes of data`);
    }
    const route = this.#route.route(
      IpAddress.fromKey(dst),
      options.ifindex === undefined ? undefined : { scope: options.ifindex },
    );
    if (typeof route === "string") {
      done(unsent(route));
      return;
    }
    const src = route.source.key;
    const len = ICMPV6_HEADER_LEN + size;
    const pkt = this.#ctx.pool.alloc(len);
    const s = pkt.start;
    const b = pkt.buf;
    let map: ProbeTable;
    let key: number;
    if (this.#identifier < 0) {
      this.#identifier = this.#ctx.rng.nextU32() & 0xffff;
      this.#udpSourcePort = 32768 + (this.#ctx.rng.nextU32() % 28232); // Linux's ephemeral range
    }
    if (!udp) {
      const identifier = (options.identifier ?? this.#identifier) & 0xffff;
      const sequence =
        (options.sequence ?? (this.#nextSequence = (this.#nextSequence + 1) & 0xffff)) & 0xffff;
      map = this.#pending;
      key = ((identifier << 16) | sequence) >>> 0;
      writeIcmpv6Header(b, s, ICMPV6_ECHO_REQUEST, 0, key);
      // Data like ping(8): a recognisable byte ramp.
      for (let i = 0; i < size; i++) b[s + ICMPV6_HEADER_LEN + i] = (i + 8) & 0xff;
    } else {
      const port = (options.port ?? TRACEROUTE_PORT + (this.#nextUdpPort++ & 0x3ff)) & 0xffff;
      map = this.#udpPending;
      key = ((this.#udpSourcePort << 16) | port) >>> 0;
      b[s] = key >>> 24;
      b[s + 1] = key >>> 16;
      b[s + 2] = key >>> 8;
      b[s + 3] = key;
      b[s + 4] = len >>> 8;
      b[s + 5] = len;
      b[s + 6] = 0;
      b[s + 7] = 0;
      for (let i = 0; i < size; i++) b[s + UDP_HEADER_LEN + i] = (0x40 + i) & 0xff;
    }
    // Both checksums cover the pseudo-header (RFC 8200 §8.1); UDP's is never 0 over IPv6.
    const proto = udp ? IP_PROTOCOL_UDP : IP_PROTOCOL_ICMPV6;
    let sum = finishChecksum(sumBytes(pkt.data, pseudoHeaderSum(src, dst, proto, len)));
    if (udp && sum === 0) sum = 0xffff;
    b[s + (udp ? 6 : 2)] = sum >>> 8;
    b[s + (udp ? 7 : 3)] = sum;
    if (!map.start(key, dst, options.timeout ?? 1_000_000, done)) {
      pkt.release();
      done(unsent("too_many_probes"));
      return;
    }
    this.#lastSent = this.#ctx.now();
    const err = route.send(
      pkt,
      proto,
      options.ttl ?? 0,
      options.dontFragment ? RouteSendFlags.DONT_FRAGMENT : 0,
    );
    if (err !== undefined) {
      this.#c.failed.value++;
      map.cancel(key);
      done(unsent(err));
      return;
    }
    if (udp) this.#c.udpProbes.value++;
    else this.#c.requests.value++;
  }
}
