/**
 * The ICMPv6 plugin: checks the checksum, answers echo requests (RFC 4443
 * §4), sends and matches ping and traceroute probes (`echo.ts`), hands
 * errors it receives to the transport they quote through `ip.error` by
 * kind, and sends errors for the other plugins
 * (`icmpv6.error`) within RFC 4443 §2.4's rules and rate limit.
 *
 * @module
 */
import type { PluginContext, ProtocolHandlers, ProtocolPlugin, RxVerdict } from "../../manifest.ts";
import { CONSUMED } from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import { finishPartialChecksum, PacketFlags } from "../../packet_flags.ts";
import { packetPseudoHeaderSum, pseudoHeaderSum } from "../../ip/pseudo_header.ts";
import type { IcmpErrorService, RouteService } from "../../services.ts";
import { finishChecksum, sumBytes, sumRange, updateChecksum16 } from "../../wire/checksum.ts";
import { IpAddress, type IpKey, ipKeyAt } from "../../wire/ip_address.ts";
import { IP_PROTOCOL_ICMPV6 } from "../../wire/ipv4.ts";
import {
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_ERROR_MAX_QUOTE,
  ICMPV6_HEADER_LEN,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAMETER_PROBLEM,
  icmpv6Word,
  isIcmpv6Error,
  writeIcmpv6Header,
} from "../../wire/icmpv6.ts";
import { ndpOptionsOffset } from "../../wire/icmpv6_ndp.ts";
import { checkIpv6Header, IPV6_HEADER_LEN } from "../../wire/ipv6.ts";
import { Ipv6Chain, walkIpv6Chain } from "../../wire/ipv6_chain.ts";
import { icmpv6ErrorKind, icmpv6ErrorSuppressed, icmpv6ForKind } from "./errors.ts";
import { IcmpRateLimiter } from "../../ip/icmp_rate_limit.ts";
import { IpKeyMemo } from "../../ip/key_memo.ts";
import { Icmpv6Echo } from "./echo.ts";

const UNSPECIFIED: IpKey = "\0\0\0\0\0\0\0\0";
const LOOPBACK: IpKey = IpAddress.LOOPBACK6.key;
const MIN_TRANSPORT_QUOTE = 8;

/** The ICMPv6 plugin. */
export const icmpv6Plugin: ProtocolPlugin = {
  manifest: {
    name: "icmpv6",
    version: "0.1.0",
    api: "^1.0.0",
    description: "ICMPv6: echo (ping, traceroute), errors sent and dispatched by kind",
    layer: "network",
    dependencies: ["ipv6"],
    binds: [{ table: "ip.protocol", key: IP_PROTOCOL_ICMPV6, family: 6 }],
    exposes: ["ip.error", "icmpv6.message"],
    provides: ["icmpv6.echo", "icmpv6.error"],
    requires: ["ipv6.route"],
    counters: [
      "rx.truncated",
      "rx.wrong_family",
      "rx.bad_checksum",
      "rx.echo_requests",
      "rx.echo_replies",
      "rx.errors",
      "rx.error_bad_quote",
      "rx.error_not_ours",
      "rx.error_for_probe",
      "rx.unmatched_reply",
      "rx.ndp_unhandled",
      "rx.mld_unhandled",
      "rx.unknown_type",
      "tx.echo_replies",
      "tx.echo_requests",
      "tx.udp_probes",
      "tx.errors",
      "tx.rate_limited",
      "tx.no_error_for_icmp_error",
      "tx.no_error_for_multicast",
      "tx.no_error_for_bad_source",
      "tx.no_error_for_bad_packet",
      "tx.failed",
    ],
    options: {
      ratelimit: {
        default: 1_000_000,
        description:
          "µs per ICMPv6 error token per destination (Linux net.ipv6.icmp.ratelimit); 0: off",
      },
      ratelimitBurst: { default: 6, description: "ICMPv6 errors per destination in a burst" },
      msgsPerSecond: {
        default: 1000,
        description: "ICMPv6 errors per second, whole stack (Linux icmp_msgs_per_sec); 0: off",
      },
      msgsBurst: { default: 50, description: "ICMPv6 errors in a burst, whole stack" },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const errorTable = ctx.table("ip.error");
    const messageTable = ctx.table("icmpv6.message");
    const route = ctx.service<RouteService>("ipv6.route");
    const limiter = new IcmpRateLimiter({
      interval: ctx.options.ratelimit as number,
      burst: ctx.options.ratelimitBurst as number,
      perSecond: ctx.options.msgsPerSecond as number,
      globalBurst: ctx.options.msgsBurst as number,
    });
    const quoted = new Ipv6Chain();
    const keys = new IpKeyMemo();
    const echo = new Icmpv6Echo(ctx, route);
    const c = {
      echoRequests: ctx.counter("rx.echo_requests"),
      echoReplies: ctx.counter("rx.echo_replies"),
      errors: ctx.counter("rx.errors"),
      txEchoReplies: ctx.counter("tx.echo_replies"),
      txErrors: ctx.counter("tx.errors"),
      rateLimited: ctx.counter("tx.rate_limited"),
      failed: ctx.counter("tx.failed"),
      badPacket: ctx.counter("tx.no_error_for_bad_packet"),
    };
    const suppressed = {
      "no_error_for_icmp_error": ctx.counter("tx.no_error_for_icmp_error"),
      "no_error_for_multicast": ctx.counter("tx.no_error_for_multicast"),
      "no_error_for_bad_source": ctx.counter("tx.no_error_for_bad_source"),
      "no_error_for_bad_packet": c.badPacket,
    };

    /** Sends an ICMPv6 message built in `pkt` (data = the message) from `src` to `dst`. */
    function sendMessage(pkt: PacketBuffer, src: IpKey, dst: IpKey): string | undefined {
      if (src === UNSPECIFIED) src = route.selectSource(dst);
      const s = pkt.start;
      pkt.buf[s + 2] = 0;
      pkt.buf[s + 3] = 0;
      const sum = finishChecksum(
        sumBytes(pkt.data, pseudoHeaderSum(src, dst, IP_PROTOCOL_ICMPV6, pkt.length)),
      );
      pkt.buf[s + 2] = sum >>> 8;
      pkt.buf[s + 3] = sum;
      return route.send(pkt, src, dst, IP_PROTOCOL_ICMPV6, 0, 0);
    }

    /** RFC 4443 §4.2: the reply carries the request's identifier, sequence and data. */
    function echoReply(pkt: PacketBuffer): void {
      const s = pkt.start;
      // The requester pings again and again: its keys come from the memo
      // (no string built, its hash kept, the route cache's compare a pointer's).
      const dst = keys.keyAt(pkt, pkt.dstAt);
      const peer = keys.keyAt(pkt, pkt.srcAt);
      const reply = ctx.pool.alloc(pkt.end - s);
      const r = reply.start;
      const b = reply.buf;
      b.set(pkt.data, r);
      b[r] = ICMPV6_ECHO_REPLY;
      b[r + 1] = 0;
      let err: string | undefined;
      if (route.isAssigned(dst) || dst === LOOPBACK) {
        // From the address the request went to: the addresses swap places, the
        // pseudo-header's sum stays, only the first word changes, so the
        // verified checksum is updated (RFC 1624), not summed again (issue
        // #13, as ICMP's echo). The update differs from a full sum only for
        // an all-zero message and pseudo-header, which next header 58 rules out.
        const ck = updateChecksum16(
          (pkt.buf[s + 2]! << 8) | pkt.buf[s + 3]!,
          (pkt.buf[s]! << 8) | pkt.buf[s + 1]!,
          ICMPV6_ECHO_REPLY << 8,
        );
        b[r + 2] = ck >>> 8;
        b[r + 3] = ck;
        err = route.send(reply, dst, peer, IP_PROTOCOL_ICMPV6, 0, 0);
      } else {
        // To a multicast or anycast request, from a unicast address of ours
        // (§4.2; Linux's default, anycast_src_echo_reply 0): the one source
        // selection picks towards the requester, and the sum is new.
        err = sendMessage(reply, UNSPECIFIED, peer);
      }
      if (err === undefined) c.txEchoReplies.value++;
      else c.failed.value++;
    }

    /**
     * An error about a packet we sent: validate the quoted IPv6 header,
     * walk its chain to the transport header (at least 8 bytes of it), and
     * deliver through `ip.error` by kind (RFC 4443 §2.4 (d)).
     */
    function dispatchError(pkt: PacketBuffer, type: number, code: number): RxVerdict {
      c.errors.value++;
      const q = pkt.start + ICMPV6_HEADER_LEN;
      const b = pkt.buf;
      if (pkt.end - q < IPV6_HEADER_LEN || (b[q]! >>> 4) !== 6) return "error_bad_quote";
      const claimed = q + IPV6_HEADER_LEN + ((b[q + 4]! << 8) | b[q + 5]!);
      const end = Math.min(claimed, pkt.end);
      if (
        walkIpv6Chain(b, q, end, quoted) !== null ||
        quoted.isFragment && quoted.fragmentOffset !== 0
      ) {
        return "error_bad_quote";
      }
      if (end - quoted.upperAt < MIN_TRANSPORT_QUOTE) return "error_bad_quote";
      // RFC 5927 §4.1: an error about a packet we did not send is forged or misrouted.
      const qsrc = ipKeyAt(b, q + 8, 6);
      if (!route.isLocal(qsrc)) return "error_not_ours";
      const info = type === ICMPV6_PACKET_TOO_BIG || type === ICMPV6_PARAMETER_PROBLEM
        ? icmpv6Word(b, pkt.start)
        : 0;
      if (echo.error(pkt, q, quoted.upperAt, quoted.protocol, type, code, info)) return CONSUMED;
      // About an ICMPv6 message of ours (an echo reply): no transport owns it,
      // so the path MTU is learned here, as Linux's icmpv6_err() does (RFC 8201 §4).
      if (type === ICMPV6_PACKET_TOO_BIG && quoted.protocol === IP_PROTOCOL_ICMPV6) {
        route.learnPathMtu(ipKeyAt(b, q + 24, 6), info);
        return CONSUMED;
      }
      const kind = icmpv6ErrorKind(type, code);
      if (kind === 0 || !ctx.hasBinding(errorTable, quoted.protocol)) return CONSUMED;
      pkt.l3 = q;
      pkt.family = 6;
      pkt.srcAt = q + 8;
      pkt.dstAt = q + 24;
      pkt.proto = quoted.protocol;
      pkt.errorKind = kind;
      pkt.errorInfo = info;
      pkt.start = pkt.l4 = quoted.upperAt;
      pkt.end = end;
      const iface = ctx.interfaces.get(pkt.ifindex) ?? ctx.interfaces.list()[0];
      if (iface !== undefined) ctx.deliver(errorTable, quoted.protocol, pkt, iface);
      return CONSUMED;
    }

    function receive(pkt: PacketBuffer): RxVerdict {
      // `ip.protocol` is shared with IPv4, where 58 is not ICMPv6's number.
      if (pkt.family !== 6) return "wrong_family";
      const len = pkt.length;
      if (len < 4) return "truncated";
      const pseudo = packetPseudoHeaderSum(pkt, IP_PROTOCOL_ICMPV6, len);
      if (sumRange(pkt.buf, pkt.start, pkt.end, pseudo) !== 0xffff) return "bad_checksum";
      const type = pkt.buf[pkt.start]!;
      const code = pkt.buf[pkt.start + 1]!;
      if (isIcmpv6Error(type)) return dispatchError(pkt, type, code);
      if (type === ICMPV6_ECHO_REQUEST) {
        if (len < ICMPV6_HEADER_LEN) return "truncated";
        c.echoRequests.value++;
        echoReply(pkt);
        return CONSUMED;
      }
      if (type === ICMPV6_ECHO_REPLY) {
        if (len < ICMPV6_HEADER_LEN) return "truncated";
        c.echoReplies.value++;
        echo.reply(pkt);
        return CONSUMED;
      }
      // Neighbor Discovery and MLD belong to the plugins bound to their types.
      if (ctx.hasBinding(messageTable, type)) {
        const iface = ctx.interfaces.get(pkt.ifindex);
        if (iface === undefined) return "ndp_unhandled";
        ctx.deliver(messageTable, type, pkt, iface);
        return CONSUMED;
      }
      if (ndpOptionsOffset(type) >= 0) return "ndp_unhandled";
      if (type >= 130 && type <= 132 || type === 143) return "mld_unhandled";
      return "unknown_type"; // RFC 4443 §2.4 (b): unknown informational, silently dropped
    }

    const errors: IcmpErrorService = {
      send(pkt: PacketBuffer, type: number, code: number, info: number): void {
        const ip = pkt.l3;
        const end = pkt.end;
        const linkMulticast =
          (pkt.flags & (PacketFlags.LINK_MULTICAST | PacketFlags.LINK_BROADCAST)) !== 0;
        const why = icmpv6ErrorSuppressed(pkt.buf, ip, end, type, code, linkMulticast);
        if (why !== null) {
          suppressed[why].value++;
          return;
        }
        if (checkIpv6Header(pkt.buf, ip, end) === "truncated") {
          c.badPacket.value++;
          return;
        }
        const dst = ipKeyAt(pkt.buf, ip + 8, 6);
        // Packet Too Big is exempt, so path MTU discovery is never starved (as Linux).
        if (type !== ICMPV6_PACKET_TOO_BIG && !limiter.allow(dst, ctx.now())) {
          c.rateLimited.value++;
          return;
        }
        // The quote is the packet as sent: a partial TCP checksum completed.
        finishPartialChecksum(pkt);
        const quote = Math.min(end - ip, ICMPV6_ERROR_MAX_QUOTE);
        const e = ctx.pool.alloc(ICMPV6_HEADER_LEN + quote);
        writeIcmpv6Header(e.buf, e.start, type, code, info >>> 0);
        e.buf.set(pkt.buf.subarray(ip, ip + quote), e.start + ICMPV6_HEADER_LEN);
        const invokedTo = ipKeyAt(pkt.buf, ip + 24, 6);
        // From the address the packet was sent to when it is ours (RFC 4443
        // §2.2(a)); an anycast one is not (isAssigned), so the source is
        // chosen, a unicast address (§2.2(b): MUST). Linux 6.18 differs:
        // icmp6_send takes the anycast address itself (ipv6_chk_acast_addr_src,
        // since 3.14): a UDP datagram to a router's fd00:1:: on a closed port
        // got its Port Unreachable from fd00:1:: (scapy, two namespaces,
        // kernel 6.18.44). The RFC does not allow that: we keep it.
        const src = route.isAssigned(invokedTo) ? invokedTo : UNSPECIFIED;
        if (sendMessage(e, src, dst) === undefined) c.txErrors.value++;
        else c.failed.value++;
      },
      report(pkt: PacketBuffer, kind: number, info: number): void {
        const tc = icmpv6ForKind(kind);
        if (tc >= 0) errors.send(pkt, tc >> 8, tc & 0xff, info);
      },
    };

    return {
      receive,
      services: { "icmpv6.echo": echo.service, "icmpv6.error": errors },
      teardown: () => echo.clear(),
    };
  },
};
