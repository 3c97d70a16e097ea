/**
 * The TCP plugin: demultiplexing of received segments (own socket table, no
 * `hasBinding`), ICMP errors about our segments, and the `tcp.sockets`
 * service the `Stack` API calls. See `mod.ts` for the overview.
 *
 * @module
 */
import {
  CONSUMED,
  type PluginContext,
  type ProtocolHandlers,
  type ProtocolPlugin,
  type RxContext,
  type RxVerdict,
} from "../../manifest.ts";
import type { StreamService } from "../../stream.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import { type RouteService, routeServiceName } from "../../services.ts";
import { sumRange } from "../../wire/checksum.ts";
import {
  tcpAck,
  tcpDstPort,
  tcpFlags,
  tcpHeaderLen,
  tcpSeq,
  tcpSrcPort,
  tcpUrgentPointer,
  tcpWindow,
} from "../../wire/tcp_fields.ts";
import { TCP_OPT_NOP_NOP_TIMESTAMP as NOP_NOP_TIMESTAMP } from "../../wire/tcp_options.ts";
import { IpKeyMemo } from "../../ip/key_memo.ts";
import { packetPseudoHeaderSum } from "../../ip/pseudo_header.ts";
import { TransportErrorKind, transportErrorName } from "../../ip/transport_error.ts";
import { configFor, TCP_OPTIONS } from "./config.ts";
import { IP_PROTOCOL_TCP, TCP_COUNTERS, TCP_HEADER_LEN, TcpCore } from "./core.ts";
import { listSockets } from "./info.ts";
import { mayReopen, segmentArrives } from "./input.ts";
import { listenInput } from "./listener.ts";
import { MIN_MSS, TS_OPTION_LEN } from "./options.ts";
import { output } from "./output.ts";
import { flushAcks } from "./rcv.ts";
import { seqLe, seqLt } from "./seq.ts";
import { SYN_RECEIVED, SYN_SENT, TIME_WAIT } from "./state.ts";
import { connect, listen } from "./socket.ts";
import { watchPathMtu } from "./timers.ts";
import { reopenIssFloor } from "./timewait.ts";
import { ipEcn } from "./ecn.ts";

/** The TCP plugin. */
export const tcpPlugin: ProtocolPlugin = {
  manifest: {
    name: "tcp",
    version: "1.0.0",
    api: "^1.0.0",
    description: "TCP (RFC 9293): connections, listeners, streams",
    layer: "transport",
    dependencies: ["ipv4"],
    binds: [
      { table: "ip.protocol", key: IP_PROTOCOL_TCP },
      { table: "ip.error", key: IP_PROTOCOL_TCP, optional: true },
    ],
    provides: ["tcp.sockets", "tcp.congestion"],
    requires: [routeServiceName(4), { service: routeServiceName(6), optional: true }],
    counters: TCP_COUNTERS,
    options: TCP_OPTIONS,
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const core = new TcpCore(ctx, configFor(ctx.options));
    const c = core.c;
    const verify = core.cfg.verifyChecksum;
    const seg = core.seg;
    // A flow's IPv6 addresses become one key string each, not two new ones per segment.
    const keys = new IpKeyMemo();

    /** Borrows `pkt` (payload bytes are copied into receive buffers). */
    function receive(pkt: PacketBuffer, _rx: RxContext): RxVerdict {
      const s = pkt.start;
      const end = pkt.end;
      const len = end - s;
      if (len < 20) return "truncated";
      const buf = pkt.buf;
      const dv = pkt.dv;
      const hl = tcpHeaderLen(dv, s);
      if (hl < 20) return "bad_header_length";
      if (hl > len) return "truncated";
      // RFC 1122 §4.2.3.10: nothing for broadcast or multicast destinations;
      // nor for an anycast one: Linux neither accepts a SYN to it nor
      // answers with a RST (tcp_v6_conn_request, tcp_v6_send_reset: only
      // RTF_LOCAL destinations), so a connection never has it as its source.
      if (
        (pkt.flags & (PacketFlags.NET_BROADCAST | PacketFlags.NET_MULTICAST |
          PacketFlags.NET_ANYCAST)) !== 0
      ) {
        return "not_unicast";
      }
      if (
        verify && (pkt.flags & PacketFlags.CHECKSUM_VERIFIED) === 0 &&
        sumRange(buf, s, end, packetPseudoHeaderSum(pkt, IP_PROTOCOL_TCP, len)) !== 0xffff
      ) {
        c.in_errs.value++;
        return "bad_checksum";
      }
      c.in_segs.value++;
      seg.src = keys.keyAt(pkt, pkt.srcAt);
      seg.dst = keys.keyAt(pkt, pkt.dstAt);
      seg.ifindex = pkt.ifindex;
      seg.srcPort = tcpSrcPort(dv, s);
      seg.dstPort = tcpDstPort(dv, s);
      seg.seq = tcpSeq(dv, s);
      seg.ack = tcpAck(dv, s);
      seg.flags = tcpFlags(dv, s);
      seg.wnd = tcpWindow(dv, s);
      seg.buf = buf;
      seg.pkt = pkt;
      seg.dataAt = s + hl;
      seg.dataLen = len - hl;
      seg.ecn = ipEcn(pkt);
      seg.urgent = tcpUrgentPointer(dv, s);
      const opts = seg.opts;
      if (hl === 20) opts.reset();
      else if (hl === 32 && dv.getUint32(s + 20) === NOP_NOP_TIMESTAMP) {
        // The common case: nop, nop, timestamps.
        opts.reset();
        opts.hasTimestamp = true;
        opts.tsVal = dv.getUint32(s + 24);
        opts.tsEcr = dv.getUint32(s + 28);
      } else if (!opts.parse(buf, s + 20, s + hl)) c.bad_options.value++;
      const ep = core.conns.lookup(seg.dst, seg.dstPort, seg.src, seg.srcPort) ??
        core.timeWait.revive(seg.dst, seg.dstPort, seg.src, seg.srcPort);
      if (ep !== undefined) {
        if (!mayReopen(ep, seg) || core.listeners.lookup(seg.dst, seg.dstPort) === undefined) {
          const verdict = segmentArrives(ep, seg);
          if (ep.state === TIME_WAIT) core.timeWait.settle(ep); // compact (timewait_table.ts)
          return verdict;
        }
        // A new SYN takes over a TIME-WAIT connection; its ISN goes above the old SND.NXT.
        const floor = reopenIssFloor(ep);
        ep.destroy(null);
        return listenInput(core, core.listeners.lookup(seg.dst, seg.dstPort)!, seg, floor);
      }
      const ls = core.listeners.lookup(seg.dst, seg.dstPort);
      if (ls !== undefined) return listenInput(core, ls, seg);
      core.resetFor(seg);
      return "no_socket";
    }

    /**
     * An error (by kind, `ip.error` in stack/services.ts) quoting one of our
     * segments: validated against the connection (RFC 5927 §4.1), then
     * "packet too big" lowers the MSS and resends (RFC 1191, RFC 8201),
     * port or protocol unreachable aborts a connection still opening, other
     * errors are remembered as soft errors (RFC 1122 §4.2.3.9), source
     * quench is ignored (RFC 6633).
     */
    function receiveError(pkt: PacketBuffer, _rx: RxContext): RxVerdict {
      const s = pkt.start;
      if (pkt.end - s < 8) return "truncated";
      const dv = pkt.dv;
      const ep = core.conns.lookup(
        pkt.srcKey(),
        tcpSrcPort(dv, s),
        pkt.dstKey(),
        tcpDstPort(dv, s),
      );
      if (ep === undefined) {
        // A compact TIME-WAIT record: everything it sent is acknowledged,
        // so no quoted sequence number is in [SND.UNA, SND.MAX).
        const tw = core.timeWait.has(
          pkt.srcKey(),
          tcpSrcPort(dv, s),
          pkt.dstKey(),
          tcpDstPort(dv, s),
        );
        return tw ? "icmp_bad_seq" : "icmp_no_socket";
      }
      const seq = tcpSeq(dv, s);
      if (!(seqLe(ep.sndUna, seq) && seqLt(seq, ep.sndMax))) return "icmp_bad_seq";
      const kind = pkt.errorKind;
      switch (kind) {
        case TransportErrorKind.PACKET_TOO_BIG: {
          const net = ep.net;
          // The quote matched an in-window segment: only now may the path
          // MTU go down (RFC 5927 §4.1, as Linux's tcp_v4_err()).
          const mtu = net.learnPathMtu(pkt.dstKey(), pkt.errorInfo);
          if (mtu < net.minimumMtu) return "icmp_ignored";
          const headers = net.headerLength + TCP_HEADER_LEN;
          const mss = Math.max(MIN_MSS, mtu - headers - (ep.tsOk ? TS_OPTION_LEN : 0));
          if (mss < ep.mss) {
            ep.mss = mss;
            // None yet before the SYN-ACK (the MSS then comes from ep.mss).
            if (ep.cc !== undefined) ep.cc.setMss(mss);
            c.pmtu_updates.value++;
            watchPathMtu(ep); // the MSS may grow again when the learned MTU expires
            ep.sndNxt = ep.sndUna; // resend with the smaller size (no congestion response)
            output(ep);
          }
          return CONSUMED;
        }
        case TransportErrorKind.PORT_UNREACHABLE:
        case TransportErrorKind.PROTOCOL_UNREACHABLE:
          if (ep.state === SYN_SENT || ep.state === SYN_RECEIVED) {
            c.attempt_fails.value++;
            ep.destroy(
              "connection_refused",
              `Connection refused (ICMP ${transportErrorName(kind)})`,
            );
            return CONSUMED;
          }
          ep.softError = transportErrorName(kind);
          return CONSUMED;
        case TransportErrorKind.NETWORK_UNREACHABLE:
        case TransportErrorKind.HOST_UNREACHABLE:
        case TransportErrorKind.PROHIBITED:
        case TransportErrorKind.SOURCE_ROUTE_FAILED:
        case TransportErrorKind.TIME_EXCEEDED:
        case TransportErrorKind.PARAMETER_PROBLEM:
          ep.softError = transportErrorName(kind);
          return CONSUMED;
        default: // source quench (RFC 6633), none
          return "icmp_ignored";
      }
    }

    /** Closes every listener for the stack, telling each user (its pending accepts end). */
    function closeListeners(): void {
      for (const l of [...core.listeners]) {
        const user = l.user;
        l.close();
        user?.onClosed();
      }
    }

    const service: StreamService = {
      connect: (options) => connect(core, options),
      listen: (options) => listen(core, options),
      sockets: () => listSockets(core),
      abortAll() {
        closeListeners();
        let n = 0;
        core.timeWait.clear(); // nothing left to tell the peers
        for (const ep of [...core.conns]) {
          if (ep.state === TIME_WAIT) ep.destroy(null); // nothing left to tell the peer
          else {
            ep.abort("interrupted", "The connection was reset: the stack is stopping");
            n++;
          }
        }
        return n;
      },
    };

    return {
      receivers: { "ip.protocol": receive, "ip.error": receiveError },
      services: { "tcp.sockets": service, "tcp.congestion": core.congestion },
      flush: () => flushAcks(core),
      ready() {
        core.net4 = ctx.service<RouteService>(routeServiceName(4));
        core.net6 = ctx.optionalService<RouteService>(routeServiceName(6));
        // Every plugin has registered its algorithms by now.
        const cc = core.cfg.congestionControl;
        if (!core.congestion.has(cc)) {
          throw new TypeError(
            `Cannot set up tcp: unknown congestionControl "${cc}" (known: ${
              core.congestion.names().join(", ")
            })`,
          );
        }
      },
      teardown() {
        closeListeners();
        core.timeWait.clear();
        for (const ep of [...core.conns]) ep.destroy("interrupted", "The stack was closed");
      },
    };
  },
};
