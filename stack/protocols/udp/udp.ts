/**
 * The UDP plugin: receive (validation, checksum, demultiplexing to sockets,
 * ICMP port unreachable for closed ports), ICMP errors delivered back to
 * sockets, and the synchronous `udp.sockets` service that sends.
 *
 * @module
 */
import type {
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  Verdict,
} from "../../manifest.ts";
import { CONSUMED } from "../../manifest.ts";
import { type PacketBuffer, PacketFlags } from "../../packet.ts";
import {
  type IcmpErrorService,
  type Ipv4RoutesService,
  Ipv4SendFlags,
  type Ipv4Service,
  type UdpError,
  type UdpOpenOptions,
  type UdpService,
  type UdpSocket,
  type UdpSocketInfo,
} from "../../services.ts";
import {
  formatIpv4Address,
  IPV4_BROADCAST as LIMITED_BROADCAST,
  isIpv4Multicast,
} from "../../wire/address.ts";
import { pseudoHeaderSumV4, pseudoHeaderSumV6, sumBytes } from "../../wire/checksum.ts";
import { UDP_HEADER_LEN, UDP_MAX_PAYLOAD_V4, udpChecksum } from "../../wire/udp.ts";
import { type SocketHost, UdpSocketImpl } from "./socket.ts";
import { matchesGroup, SocketTable } from "./table.ts";
import { IP_PROTOCOL_UDP } from "../../wire/ipv4.ts";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_PARAMETER_PROBLEM,
  ICMP_PORT_UNREACHABLE,
  ICMP_TIME_EXCEEDED,
} from "../../wire/icmpv4.ts";

/** Linux's default IP_MULTICAST_TTL. */
const MULTICAST_TTL = 1;
/** Upper bounds of the per-socket queue options, so every queue stays bounded. */
const MAX_QUEUE_LIMIT = 65536;
const MAX_QUEUE_BYTES = 64 * 1024 * 1024;

function endpoint(address: number, port: number): string {
  return `${formatIpv4Address(address)}:${port}`;
}

/**
 * What an ICMP error means to a connected socket (RFC 1122 §4.1.3.3: pass
 * them all up; the errno choices follow Linux's `icmp_err_convert`).
 * Fragmentation needed is path-MTU news for IPv4, not an error for the
 * application; source quench and redirect are not errors either.
 */
function icmpToError(type: number, code: number): UdpError | undefined {
  if (type === ICMP_DEST_UNREACHABLE) {
    switch (code) {
      case 2: // protocol unreachable
      case 3: // port unreachable
        return "connection_refused";
      case 4: // fragmentation needed
        return undefined;
      case 0: // net unreachable
      case 6: // net unknown
      case 9: // net administratively prohibited
      case 11: // net unreachable for TOS
        return "network_unreachable";
      default: // host unreachable, unknown, prohibited, filtered, ...
        return "host_unreachable";
    }
  }
  if (type === ICMP_TIME_EXCEEDED) return "host_unreachable"; // Linux: EHOSTUNREACH
  if (type === ICMP_PARAMETER_PROBLEM) return "protocol_error"; // Linux: EPROTO
  return undefined;
}

/** The UDP plugin. */
export const udpPlugin: ProtocolPlugin = {
  manifest: {
    name: "udp",
    version: "1.0.0",
    api: "^1.0.0",
    description: "UDP (RFC 768): sockets, demultiplexing, ICMP errors",
    layer: "transport",
    dependencies: ["ipv4"],
    binds: [
      { table: "ip.protocol", key: IP_PROTOCOL_UDP },
      { table: "ip.error", key: IP_PROTOCOL_UDP, optional: true },
    ],
    provides: ["udp.sockets"],
    requires: ["ipv4.send", "ipv4.routes", { service: "icmp.error", optional: true }],
    counters: [
      "rx.datagrams",
      "rx.no_checksum",
      "rx.truncated",
      "rx.bad_length",
      "rx.bad_checksum",
      "rx.zero_checksum",
      "rx.unsupported_family",
      "rx.no_socket",
      "rx.ignored_broadcast",
      "rx.rcvbuf_full",
      "rx.error_truncated",
      "rx.error_no_socket",
      "rx.error_ignored",
      "rx.errors_reported",
      "tx.datagrams",
      "tx.port_unreachable",
      "tx.no_route",
      "tx.message_too_long",
      "tx.broadcast_not_enabled",
      "tx.failed",
    ],
    options: {
      ephemeralPortMin: { default: 49152, description: "lowest ephemeral port (RFC 6335)" },
      ephemeralPortMax: { default: 65535, description: "highest ephemeral port" },
      receiveQueueLimit: { default: 256, description: "default most datagrams queued per socket" },
      receiveQueueBytes: {
        default: 212992,
        description: "default most payload bytes queued per socket (Linux rmem_default)",
      },
      maxSockets: { default: 65536, description: "most open sockets" },
      verifyChecksum: { default: true, description: "drop datagrams with a bad checksum" },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const o = ctx.options;
    const min = o.ephemeralPortMin as number;
    const max = o.ephemeralPortMax as number;
    if (
      !(Number.isInteger(min) && Number.isInteger(max) && 1 <= min && min <= max && max <= 65535)
    ) {
      throw new RangeError(
        `Cannot set up udp: ephemeral port range ${min}..${max} is not within 1..65535`,
      );
    }
    const defaultQueueLimit = Math.max(1, Math.min(o.receiveQueueLimit as number, MAX_QUEUE_LIMIT));
    const defaultQueueBytes = Math.max(1, Math.min(o.receiveQueueBytes as number, MAX_QUEUE_BYTES));
    const maxSockets = o.maxSockets as number;
    const verify = o.verifyChecksum as boolean;
    const table = new SocketTable(ctx.rng, { min, max });
    let ipv4!: Ipv4Service;
    let routes!: Ipv4RoutesService;
    let icmpError: IcmpErrorService | undefined;
    const c = {
      datagrams: ctx.counter("rx.datagrams"),
      noChecksum: ctx.counter("rx.no_checksum"),
      errorsReported: ctx.counter("rx.errors_reported"),
      txDatagrams: ctx.counter("tx.datagrams"),
      portUnreachable: ctx.counter("tx.port_unreachable"),
      noRoute: ctx.counter("tx.no_route"),
      tooLong: ctx.counter("tx.message_too_long"),
      broadcast: ctx.counter("tx.broadcast_not_enabled"),
      failed: ctx.counter("tx.failed"),
    };

    /** Whether `a` is the limited broadcast or a directed broadcast of one of our subnets. */
    function isBroadcast(a: number): boolean {
      if (a === LIMITED_BROADCAST) return true;
      for (const iface of ctx.interfaces.list()) {
        for (const x of iface.ipv4) {
          if (x.prefixLength >= 31) continue;
          const mask = x.prefixLength === 0 ? 0 : (0xffffffff << (32 - x.prefixLength)) >>> 0;
          if (((x.address | ~mask) >>> 0) === a) return true;
        }
      }
      return false;
    }

    /** The source address for traffic to `dst` from an unbound socket, or 0 (no route). */
    function chooseSource(dst: number): number {
      if (ipv4.isLocal(dst)) return dst;
      const r = routes.lookup(dst);
      if (r !== undefined && r.source !== 0) return r.source;
      if (dst === LIMITED_BROADCAST || isIpv4Multicast(dst)) {
        for (const iface of ctx.interfaces.list()) {
          if (iface.up && iface.ipv4.length > 0) return iface.ipv4[0]!.address;
        }
      }
      return 0;
    }

    // ---- send -----------------------------------------------------------------

    const host: SocketHost = {
      output(sock: UdpSocketImpl, data: Uint8Array, dst: number, dport: number) {
        if (!(dport > 0 && dport <= 0xffff) || (dport | 0) !== dport) return "invalid_port";
        if (dst === 0) return "invalid_destination";
        const len = data.length;
        if (len > UDP_MAX_PAYLOAD_V4) {
          c.tooLong.value++;
          return "message_too_long";
        }
        let src = 0;
        if (sock.sendFromLocal) {
          src = sock.localAddress;
          if (!ipv4.isLocal(src)) return "addr_not_available"; // removed since bind
        } else {
          src = chooseSource(dst);
          if (src === 0) {
            c.noRoute.value++;
            return "no_route";
          }
        }
        const total = UDP_HEADER_LEN + len;
        const pkt = ctx.pool.alloc(total);
        const s = pkt.start;
        const b = pkt.buf;
        const dv = pkt.dv;
        b.set(data, s + UDP_HEADER_LEN);
        dv.setUint16(s, sock.localPort);
        dv.setUint16(s + 2, dport);
        dv.setUint16(s + 4, total);
        dv.setUint16(s + 6, 0);
        dv.setUint16(
          s + 6,
          udpChecksum(
            b.subarray(s, s + total),
            pseudoHeaderSumV4(src, dst, IP_PROTOCOL_UDP, total),
          ),
        );
        pkt.l4 = s;
        const ttl = isIpv4Multicast(dst) ? MULTICAST_TTL : sock.ttl;
        const err = ipv4.send(
          pkt,
          src,
          dst,
          IP_PROTOCOL_UDP,
          ttl,
          sock.broadcast ? Ipv4SendFlags.BROADCAST : 0,
        );
        if (err === undefined) {
          c.txDatagrams.value++;
          return undefined;
        }
        if (err === "broadcast_not_permitted") {
          c.broadcast.value++;
          return "broadcast_not_enabled";
        }
        if (err === "no_route") c.noRoute.value++;
        else if (err === "message_too_long") c.tooLong.value++;
        else c.failed.value++;
        return err;
      },

      connect(sock: UdpSocketImpl, dst: number, dport: number) {
        if (!(dport > 0 && dport <= 0xffff) || (dport | 0) !== dport) return "invalid_port";
        if (dst === 0) return "invalid_destination";
        // Linux refuses to connect to a broadcast address without SO_BROADCAST (EACCES).
        if (!sock.broadcast && isBroadcast(dst)) {
          c.broadcast.value++;
          return "broadcast_not_enabled";
        }
        // Linux (ip4_datagram_connect) looks the route up even for a bound socket.
        const src = chooseSource(dst);
        if (src === 0) {
          c.noRoute.value++;
          return "no_route";
        }
        // An unbound local address becomes the route's source, so the
        // socket now matches only that address.
        if (sock.localAddress === 0) {
          sock.localAddress = src;
          sock.sendFromLocal = true;
        }
        sock.remoteAddress = dst;
        sock.remotePort = dport;
        return undefined;
      },

      unbind(sock: UdpSocketImpl) {
        table.unbind(sock);
      },
    };

    // ---- receive ----------------------------------------------------------------

    /** Queues a copy of the payload for `sock`; true when queued. Borrows `pkt`. */
    function enqueue(sock: UdpSocketImpl, pkt: PacketBuffer, s: number, len: number): boolean {
      const payload = len - UDP_HEADER_LEN;
      if (sock.closed || !sock.hasRoom(payload)) {
        sock.dropped++;
        return false;
      }
      const q = ctx.pool.alloc(payload, 0);
      // copy: retained past receive() (the socket queue owns it)
      q.buf.set(pkt.buf.subarray(s + UDP_HEADER_LEN, s + len), q.start);
      if (!sock.push(q, pkt.src4, pkt.dv.getUint16(s))) return false;
      c.datagrams.value++;
      return true;
    }

    /** Broadcast or multicast: every matching socket gets a copy. */
    function deliverGroup(pkt: PacketBuffer, s: number, len: number, dport: number): Verdict {
      const list = table.at(dport);
      if (list === undefined) return "ignored_broadcast";
      const sport = pkt.dv.getUint16(s);
      let delivered = 0;
      let full = 0;
      for (let i = 0; i < list.length; i++) {
        const sock = list[i]!;
        if (sock.closed || !matchesGroup(sock, pkt.dst4, pkt.src4, sport)) continue;
        if (enqueue(sock, pkt, s, len)) delivered++;
        else full++;
      }
      if (delivered > 0) return CONSUMED;
      return full > 0 ? "rcvbuf_full" : "ignored_broadcast";
    }

    /** `ip.protocol` 17. Borrows `pkt`; never throws. */
    function receive(pkt: PacketBuffer, _rx: RxContext): Verdict {
      const s = pkt.start;
      const avail = pkt.end - s;
      if (avail < UDP_HEADER_LEN) return "truncated";
      const dv = pkt.dv;
      const len = dv.getUint16(s + 4);
      // RFC 768: the length covers header and data; it may not exceed the IP payload.
      if (len < UDP_HEADER_LEN || len > avail) return "bad_length";
      pkt.end = s + len; // anything after the UDP length is not ours
      pkt.l4 = s;
      const checksum = dv.getUint16(s + 6);
      if (pkt.family === 4) {
        // RFC 768 / RFC 1122 §4.1.3.4: zero means the sender computed none.
        if (checksum === 0) c.noChecksum.value++;
        else if (
          verify &&
          sumBytes(
              pkt.buf.subarray(s, s + len),
              pseudoHeaderSumV4(pkt.src4, pkt.dst4, IP_PROTOCOL_UDP, len),
            ) !== 0xffff
        ) return "bad_checksum";
      } else if (pkt.family === 6 && pkt.src6 !== null && pkt.dst6 !== null) {
        if (checksum === 0) return "zero_checksum"; // RFC 8200 §8.1
        if (
          verify &&
          sumBytes(
              pkt.buf.subarray(s, s + len),
              pseudoHeaderSumV6(pkt.src6, pkt.dst6, IP_PROTOCOL_UDP, len),
            ) !== 0xffff
        ) return "bad_checksum";
        return "unsupported_family"; // TODO(#udp6): IPv6 sockets
      } else {
        return "unsupported_family";
      }
      const dport = dv.getUint16(s + 2);
      if ((pkt.flags & (PacketFlags.NET_BROADCAST | PacketFlags.NET_MULTICAST)) !== 0) {
        return deliverGroup(pkt, s, len, dport);
      }
      const sock = table.lookup(pkt.dst4, dport, pkt.src4, dv.getUint16(s));
      if (sock === undefined) {
        // RFC 1122 §4.1.3.1: port unreachable; the ICMP plugin applies the
        // never-send rules (broadcast link frames, …) and the rate limit.
        if (icmpError !== undefined) {
          icmpError.send(pkt, ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, 0);
          c.portUnreachable.value++;
        }
        return "no_socket";
      }
      return enqueue(sock, pkt, s, len) ? CONSUMED : "rcvbuf_full";
    }

    /**
     * `ip.error` 17: an ICMP error quoting a datagram we sent. `pkt.start` is
     * at the quoted UDP header, `src4`/`dst4` are the quoted (our) source and
     * destination. Only connected sockets hear of it (Linux without
     * IP_RECVERR); the error waits for the next operation. Borrows `pkt`.
     */
    function receiveError(pkt: PacketBuffer, _rx: RxContext): Verdict {
      const s = pkt.start;
      if (pkt.end - s < 4) return "error_truncated";
      if (pkt.family !== 4) return "unsupported_family";
      const sport = pkt.dv.getUint16(s);
      const dport = pkt.dv.getUint16(s + 2);
      const sock = table.lookup(pkt.src4, sport, pkt.dst4, dport);
      if (sock === undefined) return "error_no_socket";
      const error = icmpToError(pkt.errType, pkt.errCode);
      if (error === undefined || sock.remoteAddress === 0) return "error_ignored";
      c.errorsReported.value++;
      sock.setError(error);
      return CONSUMED;
    }

    // ---- service ----------------------------------------------------------------

    const service: UdpService = {
      open(options: UdpOpenOptions): UdpSocket | UdpError {
        const address = (options.address ?? 0) >>> 0;
        const port = options.port ?? 0;
        if (!(Number.isInteger(port) && port >= 0 && port <= 0xffff)) return "invalid_port";
        const local = address !== 0 && ipv4.isLocal(address);
        if (address !== 0 && !local && !isIpv4Multicast(address) && !isBroadcast(address)) {
          return "addr_not_available";
        }
        if (table.size >= maxSockets) return "too_many_sockets";
        const sock = new UdpSocketImpl(host, {
          queueLimit: clamp(options.receiveQueueLimit, defaultQueueLimit, MAX_QUEUE_LIMIT),
          byteLimit: clamp(options.receiveQueueBytes, defaultQueueBytes, MAX_QUEUE_BYTES),
        });
        const err = table.bind(sock, address, port, options.reuseAddress === true);
        if (err !== undefined) return err;
        sock.sendFromLocal = local;
        sock.broadcast = options.broadcast === true;
        sock.ttl = options.ttl ?? 0;
        return sock;
      },
      list(): UdpSocketInfo[] {
        return [...table.sockets()].map((s) => ({
          local: endpoint(s.localAddress, s.localPort),
          remote: s.remoteAddress === 0 ? "*:*" : endpoint(s.remoteAddress, s.remotePort),
          queued: s.queued,
          queuedBytes: s.queuedBytes,
          dropped: s.dropped,
        }));
      },
    };

    return {
      receivers: { "ip.protocol": receive, "ip.error": receiveError },
      services: { "udp.sockets": service },
      ready() {
        ipv4 = ctx.service<Ipv4Service>("ipv4.send");
        routes = ctx.service<Ipv4RoutesService>("ipv4.routes");
        icmpError = ctx.optionalService<IcmpErrorService>("icmp.error");
      },
      teardown() {
        for (const sock of [...table.sockets()]) sock.close();
      },
    };
  },
};

function clamp(value: number | undefined, fallback: number, limit: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.max(1, Math.min(Math.floor(value), limit));
}
