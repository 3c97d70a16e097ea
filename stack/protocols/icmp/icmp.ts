/**
 * The ICMP plugin: answers echo requests, matches echo replies and errors to
 * the pings and probes this stack sent, sends ICMP errors for the other
 * plugins (`icmp.error`), and hands errors it receives to the transport they
 * concern through the `ip.error` table.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import { CONSUMED } from "../../manifest.ts";
import type {
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  RxVerdict,
} from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import { finishPartialChecksum, PacketFlags } from "../../packet_flags.ts";
import type {
  EchoOptions,
  EchoReply,
  IcmpEchoService,
  IcmpErrorService,
  Ipv4RoutesService,
  Ipv4Service,
  ProbeOptions,
  ProbeResult,
  RouteService,
} from "../../services.ts";
import { Ipv4SendFlags } from "../../services.ts";
import { pingOutcome, ProbeTable, unsentProbe as unsent } from "../../ip/probe_table.ts";
import { formatIpv4Address, isIpv4Loopback } from "../../wire/address.ts";
import {
  finishChecksum,
  pseudoHeaderSumV4,
  sumBytes,
  sumRange,
  updateChecksum16,
} from "../../wire/checksum.ts";
import {
  buildIcmpError,
  checkQuote,
  errorKind,
  errorSuppression,
  type IcmpSuppression,
  kindToIcmp,
  plateauBelow,
} from "./errors.ts";
import { IcmpRateLimiter } from "../../ip/icmp_rate_limit.ts";
import { IP_PROTOCOL_ICMP, IP_PROTOCOL_UDP } from "../../wire/numbers.ts";
import {
  IPV4_DST_OFFSET,
  IPV4_SRC_OFFSET,
  ipv4Dst,
  ipv4HeaderLen,
  ipv4Protocol,
  ipv4Src,
  ipv4TotalLength,
} from "../../wire/ipv4_fields.ts";
import {
  icmpv4ChecksumField,
  icmpv4Code,
  icmpv4NextHopMtu,
  icmpv4Pointer,
  icmpv4RestOfHeader,
  icmpv4Type,
  setIcmpv4ChecksumField,
  setIcmpv4Code,
  setIcmpv4RestOfHeader,
  setIcmpv4Type,
} from "../../wire/icmpv4_fields.ts";
import { setUdpChecksumField, setUdpLength } from "../../wire/udp_fields.ts";
import { copyEchoIpv4Options } from "../../wire/ipv4_options.ts";
import {
  ICMP_DEST_UNREACHABLE as DEST_UNREACHABLE,
  ICMP_ECHO_REPLY as ECHO_REPLY,
  ICMP_ECHO_REQUEST as ECHO_REQUEST,
  ICMP_FRAG_NEEDED as FRAG_NEEDED,
  ICMP_PARAMETER_PROBLEM as PARAMETER_PROBLEM,
  ICMP_REDIRECT as REDIRECT,
  ICMP_SOURCE_QUENCH as SOURCE_QUENCH,
  ICMP_TIME_EXCEEDED as TIME_EXCEEDED,
  ICMPV4_HEADER_LEN as HEADER_LEN,
} from "../../wire/icmpv4.ts";

const TRACEROUTE_PORT = 33434;
const ECHO_OPTIONS = PacketFlags.IPV4_RECORD_ROUTE | PacketFlags.IPV4_TIMESTAMP;
const echoOptions = new Uint8Array(40); // options a reply reflects (copied by ipv4.send)

const UNREACHABLE: Readonly<Record<number, string>> = {
  0: "network unreachable",
  1: "host unreachable",
  2: "protocol unreachable",
  3: "port unreachable",
  5: "source route failed",
  13: "communication administratively prohibited",
};

/**
 * A one-line description of an ICMP error, as ping prints it. Takes the
 * three header fields positionally, as they come off the wire.
 *
 * @example
 * ```ts
 * import { describeIcmpError } from "./icmp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(describeIcmpError(11, 0, 0), "time to live exceeded");
 * assert.equal(describeIcmpError(3, 4, 576), "fragmentation needed (mtu 576)");
 * ```
 */
export function describeIcmpError(type: number, code: number, info: number): string {
  if (type === DEST_UNREACHABLE) {
    if (code === FRAG_NEEDED) return `fragmentation needed (mtu ${info})`;
    return UNREACHABLE[code] ?? `destination unreachable (code ${code})`;
  }
  if (type === TIME_EXCEEDED) {
    return code === 0 ? "time to live exceeded" : "fragment reassembly time exceeded";
  }
  if (type === PARAMETER_PROBLEM) return `parameter problem (pointer ${info})`;
  return `icmp type ${type} code ${code}`;
}

/** The ICMPv4 plugin. */
export const icmpPlugin: ProtocolPlugin = {
  manifest: {
    name: "icmp",
    version: "1.1.0",
    api: "^1.0.0",
    description: "ICMP for IPv4: echo (ping), probes, errors sent and dispatched",
    layer: "network",
    dependencies: ["ipv4"],
    binds: [{ table: "ip.protocol", key: IP_PROTOCOL_ICMP, family: 4 }],
    exposes: ["ip.error"],
    provides: ["icmp.echo", "icmp.error"],
    requires: [
      "ipv4.send",
      { service: "ipv4.routes", optional: true },
      { service: "ipv4.route", optional: true },
    ],
    counters: [
      "rx.truncated",
      "rx.wrong_family",
      "rx.bad_checksum",
      "rx.echo_requests",
      "rx.echo_replies",
      "rx.unmatched_reply",
      "rx.broadcast_echo_ignored",
      "rx.unhandled_type",
      "rx.dest_unreachable",
      "rx.frag_needed",
      "rx.time_exceeded",
      "rx.parameter_problem",
      "rx.source_quench_ignored",
      "rx.redirect_ignored",
      "rx.bad_quote",
      "rx.error_not_ours",
      "rx.error_for_probe",
      "rx.error_delivered",
      "rx.error_unclaimed",
      "tx.echo_replies",
      "tx.echo_requests",
      "tx.udp_probes",
      "tx.send_failed",
      "tx.dest_unreachable",
      "tx.time_exceeded",
      "tx.parameter_problem",
      "tx.rate_limited",
      "tx.no_error_for_bad_packet",
      "tx.no_error_for_icmp_error",
      "tx.no_error_for_broadcast",
      "tx.no_error_for_fragment",
      "tx.no_error_for_bad_source",
    ],
    options: {
      echoIgnoreBroadcasts: {
        default: true,
        description: "ignore echo requests to broadcast/multicast (Linux's default)",
      },
      ratelimit: {
        default: 1_000_000,
        description:
          "µs per ICMP error token per destination, burst 6 (Linux icmp_ratelimit); 0: off",
      },
      ratelimitBurst: { default: 6, description: "ICMP errors per destination in a burst" },
      msgsPerSecond: {
        default: 1000,
        description: "ICMP errors per second, whole stack (Linux icmp_msgs_per_sec); 0: off",
      },
      msgsBurst: { default: 50, description: "ICMP errors in a burst, whole stack" },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    let ipv4!: Ipv4Service;
    let routes: Ipv4RoutesService | undefined;
    let route: RouteService | undefined;
    const ipError = ctx.table("ip.error");
    const o = ctx.options as Record<string, number | boolean>;
    const ignoreBroadcast = o.echoIgnoreBroadcasts as boolean;
    const limiter = new IcmpRateLimiter({
      interval: o.ratelimit as number,
      burst: o.ratelimitBurst as number,
      perSecond: o.msgsPerSecond as number,
      globalBurst: o.msgsBurst as number,
    });
    const c = ctx.counterHandles({
      requestsIn: "rx.echo_requests",
      repliesIn: "rx.echo_replies",
      unmatched: "rx.unmatched_reply",
      destUnreachIn: "rx.dest_unreachable",
      fragNeededIn: "rx.frag_needed",
      timeExceededIn: "rx.time_exceeded",
      paramProblemIn: "rx.parameter_problem",
      errorForProbe: "rx.error_for_probe",
      errorDelivered: "rx.error_delivered",
      repliesOut: "tx.echo_replies",
      requestsOut: "tx.echo_requests",
      udpProbes: "tx.udp_probes",
      sendFailed: "tx.send_failed",
      destUnreachOut: "tx.dest_unreachable",
      timeExceededOut: "tx.time_exceeded",
      paramProblemOut: "tx.parameter_problem",
      rateLimited: "tx.rate_limited",
    });
    const suppressed = {} as Record<IcmpSuppression, { value: number }>;
    for (
      const why of [
        "no_error_for_bad_packet",
        "no_error_for_icmp_error",
        "no_error_for_broadcast",
        "no_error_for_fragment",
        "no_error_for_bad_source",
      ] as const
    ) suppressed[why] = ctx.counter(`tx.${why}`);
    const pending = new ProbeTable(ctx); // (identifier << 16 | sequence) -> echo probe
    const udpPending = new ProbeTable(ctx); // (source port << 16 | dest port) -> UDP probe
    const defaultIdentifier = ctx.rng.nextU32() & 0xffff;
    const udpSourcePort = 32768 + (ctx.rng.nextU32() % 28232); // Linux's ephemeral range
    let nextSequence = 0;
    let nextUdpPort = 0;
    let lastSent: Instant = 0;

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      // `ip.protocol` is shared with IPv6, where 1 is not ICMP's number.
      if (pkt.family !== 4) return "wrong_family";
      const s = pkt.start;
      const len = pkt.end - s;
      if (len < HEADER_LEN) return "truncated";
      const b = pkt.buf;
      const dv = pkt.dv;
      if (sumRange(b, s, pkt.end) !== 0xffff) return "bad_checksum";
      const type = icmpv4Type(dv, s);
      switch (type) {
        case ECHO_REQUEST:
          return echoRequest(pkt, s, len);
        case ECHO_REPLY: {
          c.repliesIn.value++;
          const key = icmpv4RestOfHeader(dv, s); // identifier and sequence
          const p = pending.findReply(key); // any source: the destination may be a group
          if (p === undefined) {
            c.unmatched.value++; // a later member's reply to a group (ping's DUP!) too
            return CONSUMED;
          }
          pending.settle(key, p, {
            kind: "reply",
            from: formatIpv4Address(dv.getUint32(pkt.srcAt)),
            rtt: ctx.now() - p.sent,
            type: ECHO_REPLY,
            code: icmpv4Code(dv, s),
            info: 0,
            ttl: pkt.ttl,
            bytes: len - HEADER_LEN,
          });
          return CONSUMED;
        }
        case DEST_UNREACHABLE:
        case TIME_EXCEEDED:
        case PARAMETER_PROBLEM:
          return receiveError(pkt, rx, type, s, len);
        case SOURCE_QUENCH:
          return "source_quench_ignored"; // RFC 6633 §3: hosts MUST silently discard
        case REDIRECT:
          return "redirect_ignored"; // not supported (RFC 1122 §3.2.2.2 would let us update routes)
        default:
          return "unhandled_type";
      }
    }

    function echoRequest(pkt: PacketBuffer, s: number, len: number): RxVerdict {
      c.requestsIn.value++;
      const toGroup = (pkt.flags & (PacketFlags.NET_BROADCAST | PacketFlags.NET_MULTICAST)) !== 0;
      if (toGroup && ignoreBroadcast) return "broadcast_echo_ignored";
      // RFC 1122 3.2.2.6: the reply carries the request's data unchanged.
      const reply = ctx.pool.alloc(len);
      const r = reply.start;
      reply.buf.set(pkt.data, r); // the packet's cached view: no subarray per echo
      setIcmpv4Type(reply.dv, r, ECHO_REPLY);
      setIcmpv4Code(reply.dv, r, 0);
      // The request's checksum is verified and only its first word changes:
      // updated (RFC 1624), not summed again (issue #13: one pass less of a
      // cold echo). 0 may stand for an all-zero reply, whose field is 0xffff.
      let ck = updateChecksum16(
        icmpv4ChecksumField(pkt.dv, s),
        pkt.dv.getUint16(s),
        ECHO_REPLY << 8,
      );
      if (ck === 0) {
        setIcmpv4ChecksumField(reply.dv, r, 0);
        ck = finishChecksum(sumRange(reply.buf, r, reply.end));
      }
      setIcmpv4ChecksumField(reply.dv, r, ck);
      // RFC 1122 §3.2.2.6: Record Route and Timestamp come back (IPv4 adds our entry).
      let opt: Uint8Array | undefined;
      if ((pkt.flags & ECHO_OPTIONS) !== 0 && pkt.l3 >= 0) {
        const n = copyEchoIpv4Options(pkt.buf, pkt.l3, ipv4HeaderLen(pkt.dv, pkt.l3), echoOptions);
        if (n > 0) opt = echoOptions.subarray(0, n);
      }
      const from = toGroup ? 0 : pkt.dv.getUint32(pkt.dstAt);
      const err = ipv4.send(reply, from, pkt.dv.getUint32(pkt.srcAt), IP_PROTOCOL_ICMP, 0, 0, opt);
      if (err === undefined) c.repliesOut.value++;
      else c.sendFailed.value++;
      return CONSUMED;
    }

    /**
     * An error about a datagram we sent (RFC 1122 §3.2.2): check the quote,
     * read the MTU of "fragmentation needed" (learned here only for a probe
     * of ours; a transport learns it once the quote matches a socket), then settle a probe it quotes or
     * dispatch it to the transport through `ip.error`.
     */
    function receiveError(
      pkt: PacketBuffer,
      rx: RxContext,
      type: number,
      s: number,
      len: number,
    ): RxVerdict {
      const dv = pkt.dv;
      const q = checkQuote(dv, s, len);
      if (typeof q === "string") return q;
      const qhl = ipv4HeaderLen(dv, q);
      const qsrc = ipv4Src(dv, q);
      const qdst = ipv4Dst(dv, q);
      const qproto = ipv4Protocol(dv, q);
      // RFC 5927 §4.1: an error about a datagram we did not send is forged or
      // misrouted. A 127/8 source is ours only when the error itself came
      // over our loopback path (the receive path refuses 127/8 from a wire).
      const outerSrc = dv.getUint32(pkt.srcAt);
      const loopback = isIpv4Loopback(qsrc) && isIpv4Loopback(outerSrc);
      if (!loopback && !ipv4.isLocal(qsrc)) return "error_not_ours";
      const code = icmpv4Code(dv, s);
      let info = 0;
      if (type === DEST_UNREACHABLE) {
        c.destUnreachIn.value++;
        if (code === FRAG_NEEDED) {
          c.fragNeededIn.value++;
          // RFC 1191 §5: an old router says 0; guess the next plateau down.
          // Learned only once the quote matches a flow of ours (RFC 5927
          // §4.1): a probe below, or the transport that owns the socket.
          info = icmpv4NextHopMtu(dv, s);
          if (info === 0) info = plateauBelow(ipv4TotalLength(dv, q));
        }
      } else if (type === TIME_EXCEEDED) c.timeExceededIn.value++;
      else {
        c.paramProblemIn.value++;
        info = icmpv4Pointer(dv, s);
      }
      const qp = q + qhl;
      let map: ProbeTable | undefined;
      let key = 0;
      if (qproto === IP_PROTOCOL_ICMP && icmpv4Type(dv, qp) === ECHO_REQUEST) {
        map = pending;
        key = icmpv4RestOfHeader(dv, qp); // identifier and sequence
      } else if (qproto === IP_PROTOCOL_UDP) {
        map = udpPending;
        key = dv.getUint32(qp); // source and destination ports
      }
      const p = map?.find(key, qdst);
      if (p !== undefined) {
        c.errorForProbe.value++;
        if (type === DEST_UNREACHABLE && code === FRAG_NEEDED && routes !== undefined) {
          info = routes.learnPmtu(qdst, info);
        }
        map!.settle(key, p, {
          kind: "error",
          from: formatIpv4Address(outerSrc),
          rtt: ctx.now() - p.sent,
          type,
          code,
          info,
          ttl: pkt.ttl,
          bytes: 0,
        });
        return CONSUMED;
      }
      pkt.errorKind = errorKind(type, code);
      pkt.errorInfo = info;
      pkt.l3 = q;
      pkt.l4 = qp;
      pkt.start = qp;
      pkt.srcAt = q + IPV4_SRC_OFFSET;
      pkt.dstAt = q + IPV4_DST_OFFSET;
      pkt.proto = qproto;
      if (!ctx.hasBinding(ipError, qproto)) return "error_unclaimed";
      c.errorDelivered.value++;
      return rx.next(ipError, qproto);
    }

    const errors: IcmpErrorService = {
      report(pkt: PacketBuffer, kind: number, info: number): void {
        const tc = kindToIcmp(kind);
        if (tc >= 0) errors.send(pkt, tc >> 8, tc & 0xff, info);
      },
      send(pkt: PacketBuffer, type: number, code: number, info: number): void {
        const why = errorSuppression(pkt);
        if (why !== undefined) {
          suppressed[why].value++;
          return;
        }
        const l3 = pkt.l3;
        const src = ipv4Src(pkt.dv, l3);
        const dst = ipv4Dst(pkt.dv, l3);
        // Linux exempts "fragmentation needed" so that PMTU discovery never starves.
        const exempt = type === DEST_UNREACHABLE && code === FRAG_NEEDED;
        if (!exempt && !limiter.allow(src, ctx.now())) {
          c.rateLimited.value++;
          return;
        }
        // The quote is the datagram as sent: a TUN's partial TCP checksum
        // completed (any error about it, e.g. bad IPv4 options, before IPv4 does).
        finishPartialChecksum(pkt);
        const e = buildIcmpError(ctx.pool, pkt, type, code, info);
        // From the address the datagram was sent to when it is ours (RFC 1122
        // §3.2.2: port unreachable comes from the host addressed), else from
        // the route back (RFC 1812 §4.3.2.4: the outgoing interface's address).
        const from = ipv4.isLocal(dst) || isIpv4Loopback(dst) ? dst : 0;
        if (ipv4.send(e, from, src, IP_PROTOCOL_ICMP, 0, 0) !== undefined) {
          c.sendFailed.value++;
          return;
        }
        if (type === DEST_UNREACHABLE) c.destUnreachOut.value++;
        else if (type === TIME_EXCEEDED) c.timeExceededOut.value++;
        else if (type === PARAMETER_PROBLEM) c.paramProblemOut.value++;
      },
    };

    function probe(dst: number, options: ProbeOptions, done: (r: ProbeResult) => void): void {
      const size = options.size ?? (options.protocol === "udp" ? 32 : 56);
      const udp = options.protocol === "udp";
      if (!(Number.isInteger(size) && size >= 0 && size <= 65507)) {
        throw new RangeError(`Cannot probe with ${size} bytes of data`);
      }
      const timeout = options.timeout ?? 1_000_000;
      let map: ProbeTable;
      let key: number;
      let pkt: PacketBuffer;
      let src = 0;
      if (!udp) {
        const identifier = (options.identifier ?? defaultIdentifier) & 0xffff;
        const sequence = (options.sequence ?? (nextSequence = (nextSequence + 1) & 0xffff)) &
          0xffff;
        map = pending;
        key = ((identifier << 16) | sequence) >>> 0;
        pkt = ctx.pool.alloc(HEADER_LEN + size);
        const s = pkt.start;
        const b = pkt.buf;
        const dv = pkt.dv;
        setIcmpv4Type(dv, s, ECHO_REQUEST);
        setIcmpv4Code(dv, s, 0);
        setIcmpv4ChecksumField(dv, s, 0);
        setIcmpv4RestOfHeader(dv, s, key); // identifier and sequence
        // Payload like ping(8): a recognisable byte ramp.
        for (let i = 0; i < size; i++) b[s + HEADER_LEN + i] = (i + 8) & 0xff;
        setIcmpv4ChecksumField(dv, s, finishChecksum(sumBytes(pkt.data)));
      } else {
        const port = (options.port ?? TRACEROUTE_PORT + (nextUdpPort++ & 0x3ff)) & 0xffff;
        map = udpPending;
        key = ((udpSourcePort << 16) | port) >>> 0;
        pkt = ctx.pool.alloc(HEADER_LEN + size);
        const s = pkt.start;
        const b = pkt.buf;
        const dv = pkt.dv;
        dv.setUint32(s, key); // source and destination ports
        setUdpLength(dv, s, HEADER_LEN + size);
        setUdpChecksumField(dv, s, 0);
        for (let i = 0; i < size; i++) b[s + HEADER_LEN + i] = (0x40 + i) & 0xff;
        // The checksum needs the source the route will pick; without routes, none (RFC 768).
        src = (route?.selectSource(dst) ?? 0) as number;
        if (src !== 0) {
          const sum = finishChecksum(
            sumBytes(pkt.data, pseudoHeaderSumV4(src, dst, IP_PROTOCOL_UDP, HEADER_LEN + size)),
          );
          setUdpChecksumField(dv, s, sum === 0 ? 0xffff : sum);
        }
      }
      if (!map.start(key, dst, timeout, done)) {
        pkt.release();
        done(unsent("too_many_probes"));
        return;
      }
      lastSent = ctx.now();
      const err = ipv4.send(
        pkt,
        src,
        dst,
        udp ? IP_PROTOCOL_UDP : IP_PROTOCOL_ICMP,
        options.ttl ?? 0,
        (options.dontFragment ? Ipv4SendFlags.DONT_FRAGMENT : 0) |
          (options.broadcast ? Ipv4SendFlags.BROADCAST : 0),
      );
      if (err !== undefined) {
        c.sendFailed.value++;
        map.cancel(key);
        done(unsent(err));
        return;
      }
      if (udp) c.udpProbes.value++;
      else c.requestsOut.value++;
    }

    const echo: IcmpEchoService = {
      echo(dst: number, options: EchoOptions, done: (r: EchoReply | string) => void): void {
        const size = options.size ?? 56;
        if (!(size >= 0 && size <= 65507)) {
          throw new RangeError(`Cannot ping with ${size} bytes of data`);
        }
        const sequence = (options.sequence ?? (nextSequence = (nextSequence + 1) & 0xffff)) &
          0xffff;
        const wording = {
          sequence,
          target: formatIpv4Address(dst),
          timeout: options.timeout ?? 1_000_000,
          describeError: describeIcmpError,
        };
        probe(dst, { ...options, protocol: "icmp", sequence }, (r) => {
          done(pingOutcome(r, wording));
        });
      },
      lastSent: () => lastSent,
      probe,
    };

    return {
      receive,
      services: { "icmp.echo": echo, "icmp.error": errors },
      ready() {
        ipv4 = ctx.service<Ipv4Service>("ipv4.send");
        routes = ctx.optionalService<Ipv4RoutesService>("ipv4.routes");
        route = ctx.optionalService<RouteService>("ipv4.route");
      },
      teardown() {
        pending.clear();
        udpPending.clear();
      },
    };
  },
};
