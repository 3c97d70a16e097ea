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
  RxVerdict,
} from "../../manifest.ts";
import { CONSUMED } from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import { pooledBufferSize } from "../../packet_pool.ts";
import {
  errorServiceName,
  type IcmpErrorService,
  type MulticastFilter,
  type MulticastGroupsService,
  RouteSendFlags,
  type RouteService,
  routeServiceName,
  type UdpError,
  type UdpOpenOptions,
  type UdpService,
  type UdpSocket,
  type UdpSocketInfo,
} from "../../services.ts";
import {
  formatIpKeyPort,
  IpAddress,
  type IpKey,
  isMulticastKey,
  isUnspecifiedKey,
} from "../../wire/ip_address.ts";
import { sumRange } from "../../wire/checksum.ts";
import { UDP_HEADER_LEN, UDP_MAX_PAYLOAD_V4 } from "../../wire/udp.ts";
import {
  setUdpChecksumField,
  setUdpDstPort,
  setUdpLength,
  setUdpSrcPort,
  udpChecksumField,
  udpDstPort,
  udpLength,
  udpSrcPort,
} from "../../wire/udp_fields.ts";
import { IP_PROTOCOL_UDP } from "../../wire/numbers.ts";
import { packetPseudoHeaderSum, pseudoHeaderSum } from "../../ip/pseudo_header.ts";
import { TransportErrorKind } from "../../ip/transport_error.ts";
import { unsourcedReason } from "../../ip/unsourced.ts";
import { type QueueAccount, Room, type SocketHost, UdpSocketImpl } from "./socket.ts";
import { segmentSendError } from "./segment.ts";
import { matchesGroup, SocketTable } from "./table.ts";
import {
  MAX_SOCKET_FILTER_SOURCES,
  MAX_SOCKET_MEMBERSHIPS,
  SocketMemberships,
} from "./multicast.ts";

/** The group table service of an IP version (issue #11 contract). */
function groupsServiceName(family: 4 | 6): "igmp.groups" | "mld.groups" {
  return family === 4 ? "igmp.groups" : "mld.groups";
}
/** Upper bounds of the per-socket queue options, so every queue stays bounded. */
const MAX_QUEUE_LIMIT = 65536;
const MAX_QUEUE_BYTES = 64 * 1024 * 1024;
/** Default cap of the buffer bytes queued on all sockets of a stack (16 MiB). */
export const UDP_TOTAL_QUEUE_BYTES = 16 * 1024 * 1024;

/**
 * The size of the pooled buffer a `length`-byte copy with no headroom takes
 * (packet.ts), which the socket's queue then charges (`queueCost`).
 */
function pooledSize(length: number): number {
  return pooledBufferSize(length);
}
/** Largest payload over IPv6: the payload length field covers the UDP header (RFC 8200 §3). */
const UDP_MAX_PAYLOAD_V6 = 65535 - UDP_HEADER_LEN;

/**
 * What a transport error means to a connected socket (RFC 1122 §4.1.3.3:
 * pass them all up; the errno choices follow Linux's `icmp_err_convert`).
 * Packet too big is path-MTU news, not an error for the application; source
 * quench is not an error either (RFC 6633).
 */
function errorOfKind(kind: number): UdpError | undefined {
  switch (kind) {
    case TransportErrorKind.PORT_UNREACHABLE:
    case TransportErrorKind.PROTOCOL_UNREACHABLE:
      return "connection_refused";
    case TransportErrorKind.NETWORK_UNREACHABLE:
      return "network_unreachable";
    case TransportErrorKind.HOST_UNREACHABLE:
    case TransportErrorKind.PROHIBITED:
    case TransportErrorKind.SOURCE_ROUTE_FAILED:
    case TransportErrorKind.TIME_EXCEEDED: // Linux: EHOSTUNREACH
      return "host_unreachable";
    case TransportErrorKind.PARAMETER_PROBLEM: // Linux: EPROTO
      return "protocol_error";
    default: // packet too big, source quench, none
      return undefined;
  }
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
    requires: [
      routeServiceName(4),
      { service: routeServiceName(6), optional: true },
      { service: errorServiceName(4), optional: true },
      { service: errorServiceName(6), optional: true },
      { service: groupsServiceName(4), optional: true },
      { service: groupsServiceName(6), optional: true },
    ],
    counters: [
      "rx.datagrams",
      "rx.no_checksum",
      "rx.truncated",
      "rx.bad_length",
      "rx.bad_checksum",
      "rx.zero_checksum",
      "rx.no_socket",
      "rx.ignored_broadcast",
      "rx.rcvbuf_full",
      "rx.queue_total_full",
      "rx.error_truncated",
      "rx.error_no_socket",
      "rx.error_ignored",
      "rx.errors_reported",
      "rx.pmtu_updates",
      "rx.multicast_filtered",
      "tx.datagrams",
      "tx.too_many_segments",
      "tx.multicast_looped",
      "tx.port_unreachable",
      "tx.no_route",
      "tx.no_source",
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
        description:
          "default most buffer bytes queued per socket, each datagram counted as its pooled buffer (Linux rmem_default)",
      },
      totalQueueBytes: {
        default: UDP_TOTAL_QUEUE_BYTES,
        description:
          "most buffer bytes the receive queues of all sockets hold together (Linux udp_mem)",
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
    const totalQueueBytes = o.totalQueueBytes as number;
    if (!(Number.isInteger(totalQueueBytes) && totalQueueBytes >= 0)) {
      throw new RangeError(
        `Cannot set up udp: totalQueueBytes ${totalQueueBytes} is not an integer, 0 or more`,
      );
    }
    const account: QueueAccount = { bytes: 0, limit: totalQueueBytes };
    let net4!: RouteService;
    let net6: RouteService | undefined;
    let error4: IcmpErrorService | undefined;
    let error6: IcmpErrorService | undefined;
    let groups4: MulticastGroupsService | undefined;
    let groups6: MulticastGroupsService | undefined;
    const c = ctx.counterHandles({
      datagrams: "rx.datagrams",
      noChecksum: "rx.no_checksum",
      errorsReported: "rx.errors_reported",
      pmtuUpdates: "rx.pmtu_updates",
      txDatagrams: "tx.datagrams",
      portUnreachable: "tx.port_unreachable",
      noRoute: "tx.no_route",
      noSource: "tx.no_source",
      tooLong: "tx.message_too_long",
      tooManySegments: "tx.too_many_segments",
      broadcast: "tx.broadcast_not_enabled",
      failed: "tx.failed",
      multicastFiltered: "rx.multicast_filtered",
      multicastLooped: "tx.multicast_looped",
    });

    // ---- send -----------------------------------------------------------------

    /** The route service of the family of `key`, or undefined when no plugin provides it. */
    /** No source for `dst`: no route, or every address on it tentative (counted apart). */
    function unsourced(net: RouteService, dst: IpKey, scope: number): UdpError {
      const why = unsourcedReason(net, dst, scope);
      (why === "no_route" ? c.noRoute : c.noSource).value++;
      return why;
    }

    function netOf(key: IpKey): RouteService | undefined {
      return typeof key === "number" ? net4 : net6;
    }

    /**
     * Whether `sock` may send to `dst`: not unspecified, and of its family,
     * or IPv4 from a dual-stack socket whose binding is not IPv6-only by now
     * (a local address it was given or took by connecting).
     */
    function canReach(sock: UdpSocketImpl, dst: IpKey): boolean {
      if (isUnspecifiedKey(dst)) return false;
      if (typeof sock.localKey !== typeof dst) {
        return sock.dual && typeof dst === "number" && sock.localKey === sock.anyKey;
      }
      return true;
    }

    const host: SocketHost = {
      output(sock: UdpSocketImpl, data: Uint8Array, dst: IpKey, dport: number, scope: number) {
        if (!(dport > 0 && dport <= 0xffff) || (dport | 0) !== dport) return "invalid_port";
        if (!canReach(sock, dst)) return "invalid_destination";
        const net = netOf(dst);
        if (net === undefined) {
          c.noRoute.value++;
          return "family_not_supported";
        }
        const len = data.length;
        if (len > (typeof dst === "number" ? UDP_MAX_PAYLOAD_V4 : UDP_MAX_PAYLOAD_V6)) {
          c.tooLong.value++;
          return "message_too_long";
        }
        const multicast = isMulticastKey(dst);
        if (multicast && sock.multicastInterface > 0 && scope < 0) scope = sock.multicastInterface;
        let src: IpKey;
        if (sock.sendFromLocal) {
          src = sock.localKey;
          if (!net.isLocal(src)) return "addr_not_available"; // removed since bind
        } else if (multicast && typeof dst === "number" && scope > 0) {
          // IP_MULTICAST_IF: IPv4 picks the interface by the source address.
          src = ctx.interfaces.get(scope)?.ipv4[0]?.address ?? 0;
          if (src === 0) {
            c.noRoute.value++;
            return "no_route";
          }
        } else {
          src = net.selectSource(dst, scope);
          if (isUnspecifiedKey(src)) return unsourced(net, dst, scope);
        }
        // UDP_SEGMENT: a payload over segmentSize goes as one super-datagram.
        const seg = sock.segmentSize;
        let gso = 0;
        if (seg > 0) {
          const why = segmentSendError(len, seg, net.headerLength, net.pathMtu(dst));
          if (why !== undefined) {
            (why === "segment_too_long" ? c.tooLong : c.tooManySegments).value++;
            return why;
          }
          if (len > seg) gso = seg;
        }
        const total = UDP_HEADER_LEN + len;
        const pkt = ctx.pool.alloc(total);
        const s = pkt.start;
        const b = pkt.buf;
        const dv = pkt.dv;
        b.set(data, s + UDP_HEADER_LEN);
        setUdpSrcPort(dv, s, sock.localPort);
        setUdpDstPort(dv, s, dport);
        setUdpLength(dv, s, total);
        setUdpChecksumField(dv, s, 0);
        const pseudo = pseudoHeaderSum(src, dst, IP_PROTOCOL_UDP, total);
        if (gso > 0) {
          // Each datagram's checksum is the segmenter's (Linux's
          // CHECKSUM_PARTIAL): the field holds the pseudo-header sum only.
          setUdpChecksumField(dv, s, pseudo);
          pkt.gsoSize = gso;
          pkt.flags |= PacketFlags.CHECKSUM_PARTIAL;
        } else {
          // RFC 768: a computed zero goes out as all ones (udpChecksum, without its subarray).
          const sum = ~sumRange(b, s, s + total, pseudo) & 0xffff;
          setUdpChecksumField(dv, s, sum === 0 ? 0xffff : sum);
        }
        pkt.l4 = s;
        const count = gso > 0 ? Math.ceil(len / gso) : 1;
        const ttl = multicast ? sock.multicastTtl : sock.ttl;
        if (multicast && ttl === 0) {
          // RFC 1112 §6.1: TTL 0 stays on the host (looped only, as Linux's
          // ip_mc_output); the IP layers read 0 as "the default TTL".
          pkt.release();
          c.txDatagrams.value += count;
          if (sock.multicastLoop) loopEach(sock, data, gso, src, dst, dport, scope);
          return undefined;
        }
        const err = net.send(
          pkt,
          src,
          dst,
          IP_PROTOCOL_UDP,
          ttl,
          sock.broadcast ? RouteSendFlags.BROADCAST : 0,
          scope,
        );
        if (err === undefined) {
          c.txDatagrams.value += count;
          if (multicast && sock.multicastLoop) loopEach(sock, data, gso, src, dst, dport, scope);
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

      connect(sock: UdpSocketImpl, dst: IpKey, dport: number, scope: number) {
        if (!(dport > 0 && dport <= 0xffff) || (dport | 0) !== dport) return "invalid_port";
        if (!canReach(sock, dst)) return "invalid_destination";
        const net = netOf(dst);
        if (net === undefined) {
          c.noRoute.value++;
          return "family_not_supported";
        }
        // Linux refuses to connect to a broadcast address without SO_BROADCAST (EACCES).
        if (!sock.broadcast && net.isBroadcast(dst)) {
          c.broadcast.value++;
          return "broadcast_not_enabled";
        }
        // Linux (ip4_datagram_connect) looks the route up even for a bound socket.
        const src = net.selectSource(dst, scope);
        if (isUnspecifiedKey(src)) return unsourced(net, dst, scope);
        // An unbound local address becomes the route's source, so the
        // socket now matches only that address.
        if (sock.localKey === sock.anyKey) {
          sock.localKey = src;
          sock.sendFromLocal = true;
        }
        sock.remoteKey = dst;
        sock.remotePort = dport;
        sock.scope = scope;
        return undefined;
      },

      unbind(sock: UdpSocketImpl) {
        table.unbind(sock);
        // Memberships end with the socket (Linux ip_mc_drop_socket).
        if (sock.memberships !== null) {
          if (sock.holder4 !== 0) groups4?.dropHolder(sock.holder4);
          if (sock.holder6 !== 0) groups6?.dropHolder(sock.holder6);
          sock.memberships.clear();
        }
      },

      setMulticastFilter(
        sock: UdpSocketImpl,
        ifindex: number,
        group: IpAddress,
        filter: MulticastFilter,
      ): UdpError | undefined {
        const family = group.family;
        if (family !== sock.family && !(family === 4 && sock.dual)) return "invalid_destination";
        const groups = family === 4 ? groups4 : groups6;
        if (groups === undefined) return "family_not_supported";
        if (filter.sources.length > MAX_SOCKET_FILTER_SOURCES) return "too_many_sources";
        const sources: IpKey[] = [];
        for (const text of filter.sources) {
          const a = IpAddress.parse(text);
          if (a === null || a.family !== family) {
            throw new TypeError(
              `Cannot set the filter of ${group}: source "${text}" is not an IPv${family} address`,
            );
          }
          sources.push(a.key);
        }
        if (ifindex === 0) {
          const r = netOf(group.key)?.route(group);
          if (r === undefined || typeof r === "string" || r.ifindex < 0) return "no_route";
          ifindex = r.ifindex;
        }
        const leaving = filter.mode === "include" && sources.length === 0;
        if (ctx.interfaces.get(ifindex) === undefined) {
          // A removed interface's groups went with it; leaving still frees
          // the socket's own record, as Linux's ip_mc_leave_group (no
          // in_dev any more: the entry is dropped and it returns 0).
          const held = sock.memberships?.get(ifindex, group.key);
          if (!leaving || held === undefined) return "no_such_interface";
          sock.memberships!.set(ifindex, group.key, filter, sources);
          return undefined;
        }
        const mine = sock.memberships ?? new SocketMemberships();
        if (
          !leaving && mine.get(ifindex, group.key) === undefined &&
          mine.size >= MAX_SOCKET_MEMBERSHIPS
        ) return "too_many_memberships";
        let holder = family === 4 ? sock.holder4 : sock.holder6;
        if (holder === 0) {
          holder = groups.newHolder();
          if (family === 4) sock.holder4 = holder;
          else sock.holder6 = holder;
        }
        // The table checks the group (multicast, family) and its bound; it throws first.
        groups.setFilter(ifindex, group.toString(), holder, filter);
        mine.set(ifindex, group.key, filter, sources);
        sock.memberships = mine;
        return undefined;
      },
    };

    /**
     * IP_MULTICAST_LOOP: a copy of a datagram `sock` sends to group `dst`
     * for this host's member sockets, as if received on the interface it
     * leaves by (Linux loops it at the IP layer when the interface is a
     * member, `ip_mc_output`). The sender itself hears it too when it
     * matches. Retains (copies) `data`.
     */
    function loopMulticast(
      sock: UdpSocketImpl,
      data: Uint8Array,
      src: IpKey,
      dst: IpKey,
      dport: number,
      scope: number,
    ): void {
      const groups = typeof dst === "number" ? groups4 : groups6;
      if (groups === undefined) return;
      const ifindex = scope > 0 ? scope : outIfindexOf(src, dst);
      if (ifindex < 0 || !groups.accepts(ifindex, dst, src)) return;
      const list = table.at(dport);
      if (list === undefined) return;
      const sport = sock.localPort;
      for (let i = 0; i < list.length; i++) {
        const s = list[i]!;
        if (s.closed || !matchesGroup(s, dst, src, sport)) continue;
        if (s.memberships !== null && !s.memberships.allows(ifindex, dst, src)) {
          c.multicastFiltered.value++;
          continue;
        }
        if (s.room(pooledSize(data.length)) !== Room.OK) {
          s.dropped++;
          continue;
        }
        // allocKept: a store of its own, so the queued copy pins no slab (packet.ts).
        const q = ctx.pool.allocKept(data.length, 0);
        q.buf.set(data, q.start); // copy: retained past send (the socket queue owns it)
        q.ifindex = ifindex;
        if (s.push(q, src, sport)) {
          c.datagrams.value++;
          c.multicastLooped.value++;
        }
      }
    }

    /** {@linkcode loopMulticast} for each datagram of a send (`gso`: its segment size, or 0). */
    function loopEach(
      sock: UdpSocketImpl,
      data: Uint8Array,
      gso: number,
      src: IpKey,
      dst: IpKey,
      dport: number,
      scope: number,
    ): void {
      if (gso === 0) return loopMulticast(sock, data, src, dst, dport, scope);
      for (let at = 0; at < data.length; at += gso) {
        loopMulticast(sock, data.subarray(at, at + gso), src, dst, dport, scope);
      }
    }

    /** The interface a multicast datagram from `src` leaves by (as the IP layers decide), or -1. */
    function outIfindexOf(src: IpKey, dst: IpKey): number {
      if (typeof src === "number") {
        const own = ctx.interfaces.withIpv4(src);
        if (own !== undefined) return own.index;
      } else {
        const bytes = IpAddress.fromKey(src).bytes();
        for (const i of ctx.interfaces.list()) if (i.hasIpv6(bytes)) return i.index;
      }
      const r = netOf(dst)?.route(IpAddress.fromKey(dst));
      return r === undefined || typeof r === "string" ? -1 : r.ifindex;
    }

    // ---- receive ----------------------------------------------------------------

    /**
     * Queues a copy of the payload for `sock`; undefined when queued, else
     * the drop reason (the socket's limits, or the stack's total). The
     * limits count the pooled buffer the copy takes, not the payload
     * (issue 16.2: empty datagrams each hold 2 KiB). Borrows `pkt`.
     */
    function enqueue(
      sock: UdpSocketImpl,
      pkt: PacketBuffer,
      s: number,
      len: number,
      src: IpKey,
      sport: number,
    ): "rcvbuf_full" | "queue_total_full" | undefined {
      const payload = len - UDP_HEADER_LEN;
      // Room is checked once, before the copy; append() trusts it.
      const room = sock.closed ? Room.SOCKET_FULL : sock.room(pooledSize(payload));
      if (room !== Room.OK) {
        sock.dropped++;
        return room === Room.STACK_FULL ? "queue_total_full" : "rcvbuf_full";
      }
      // copy: retained past receive() (the socket queue owns it), in a
      // store of its own, so it pins no slab or arena (allocKept, packet.ts)
      const q = ctx.pool.allocKept(payload, 0);
      q.buf.set(pkt.buf.subarray(s + UDP_HEADER_LEN, s + len), q.start);
      q.ifindex = pkt.ifindex; // the arrival interface: a link-local peer's zone
      c.datagrams.value++;
      sock.append(q, src, sport); // may run the socket's onReadable: counted first
      return undefined;
    }

    /** Broadcast or multicast: every matching socket gets a copy. */
    function deliverGroup(
      pkt: PacketBuffer,
      s: number,
      len: number,
      dport: number,
      ifindex: number,
    ): RxVerdict {
      const list = table.at(dport);
      if (list === undefined) return "ignored_broadcast";
      const sport = udpSrcPort(pkt.dv, s);
      const dst = pkt.dstKey();
      const src = pkt.srcKey();
      let delivered = 0;
      let full: string | undefined;
      for (let i = 0; i < list.length; i++) {
        const sock = list[i]!;
        if (sock.closed || !matchesGroup(sock, dst, src, sport)) continue;
        // The socket's own source filter (RFC 3678), when it joined this group here.
        if (sock.memberships !== null && !sock.memberships.allows(ifindex, dst, src)) {
          c.multicastFiltered.value++;
          continue;
        }
        const why = enqueue(sock, pkt, s, len, src, sport);
        if (why === undefined) delivered++;
        else full = why;
      }
      if (delivered > 0) return CONSUMED;
      return full ?? "ignored_broadcast";
    }

    /** `ip.protocol` 17. Borrows `pkt`; never throws. */
    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      const s = pkt.start;
      const avail = pkt.end - s;
      if (avail < UDP_HEADER_LEN) return "truncated";
      const b = pkt.buf;
      const dv = pkt.dv;
      const len = udpLength(dv, s);
      // RFC 768: the length covers header and data; it may not exceed the IP payload.
      if (len < UDP_HEADER_LEN || len > avail) return "bad_length";
      pkt.end = s + len; // anything after the UDP length is not ours
      pkt.l4 = s;
      const checksum = udpChecksumField(dv, s);
      if (checksum === 0) {
        // RFC 768 / RFC 1122 §4.1.3.4: zero means the sender computed none;
        // over IPv6 the checksum is mandatory (RFC 8200 §8.1).
        if (pkt.family === 6) return "zero_checksum";
        c.noChecksum.value++;
      } else if (
        verify && (pkt.flags & PacketFlags.CHECKSUM_VERIFIED) === 0 &&
        sumRange(b, s, s + len, packetPseudoHeaderSum(pkt, IP_PROTOCOL_UDP, len)) !==
          0xffff
      ) return "bad_checksum";
      const dport = udpDstPort(dv, s);
      if ((pkt.flags & (PacketFlags.NET_BROADCAST | PacketFlags.NET_MULTICAST)) !== 0) {
        return deliverGroup(pkt, s, len, dport, rx.iface.index);
      }
      const src = pkt.srcKey();
      const sport = udpSrcPort(dv, s);
      const sock = table.lookup(pkt.dstKey(), dport, src, sport);
      if (sock === undefined) {
        // RFC 1122 §4.1.3.1: port unreachable; the error plugin applies the
        // never-send rules (broadcast link frames, …) and the rate limit.
        const errors = pkt.family === 4 ? error4 : error6;
        if (errors !== undefined) {
          errors.report(pkt, TransportErrorKind.PORT_UNREACHABLE, 0);
          c.portUnreachable.value++;
        }
        return "no_socket";
      }
      return enqueue(sock, pkt, s, len, src, sport) ?? CONSUMED;
    }

    /**
     * `ip.error` 17: an error (by kind) about a datagram we sent. `pkt.start`
     * is at the quoted UDP header, its addresses are the quoted (our) source
     * and destination. Only connected sockets hear of it (Linux without
     * IP_RECVERR); the error waits for the next operation. Borrows `pkt`.
     */
    function receiveError(pkt: PacketBuffer, _rx: RxContext): RxVerdict {
      const s = pkt.start;
      if (pkt.end - s < 4) return "error_truncated";
      const sport = udpSrcPort(pkt.dv, s);
      const dport = udpDstPort(pkt.dv, s);
      const sock = table.lookup(pkt.srcKey(), sport, pkt.dstKey(), dport);
      if (sock === undefined) return "error_no_socket";
      if (pkt.errorKind === TransportErrorKind.PACKET_TOO_BIG) {
        // A socket of ours sent it: only now may the path MTU go down
        // (RFC 5927 §4.1, as Linux's __udp4_lib_err()).
        netOf(pkt.dstKey())?.learnPathMtu(pkt.dstKey(), pkt.errorInfo);
        c.pmtuUpdates.value++;
        return CONSUMED;
      }
      const error = errorOfKind(pkt.errorKind);
      if (error === undefined || sock.remoteKey === sock.anyKey) return "error_ignored";
      c.errorsReported.value++;
      sock.setError(error);
      return CONSUMED;
    }

    // ---- service ----------------------------------------------------------------

    const service: UdpService = {
      open(options: UdpOpenOptions): UdpSocket | UdpError {
        const family = options.address?.family ?? options.family ?? 4;
        const address = options.address ?? IpAddress.any(family);
        const port = options.port ?? 0;
        if (!(Number.isInteger(port) && port >= 0 && port <= 0xffff)) return "invalid_port";
        if (address.family !== family) return "addr_not_available";
        const net = family === 4 ? net4 : net6;
        if (net === undefined) return "family_not_supported";
        const key = address.key;
        const any = address.isUnspecified();
        const local = !any && net.isLocal(key); // ours, or loopback (Linux binds 127.0.0.1 on lo)
        if (!any && !local && !isMulticastKey(key) && !net.isBroadcast(key)) {
          return "addr_not_available";
        }
        if (table.size >= maxSockets) return "too_many_sockets";
        const seg = options.segmentSize ?? 0;
        if (!(Number.isInteger(seg) && seg >= 0 && seg <= 0xffff)) return "invalid_option";
        const sock = new UdpSocketImpl(host, {
          queueLimit: clamp(options.receiveQueueLimit, defaultQueueLimit, MAX_QUEUE_LIMIT),
          byteLimit: clamp(options.receiveQueueBytes, defaultQueueBytes, MAX_QUEUE_BYTES),
          account,
          family,
        });
        // Linux's default (net.ipv6.bindv6only = 0): `::` takes IPv4 too.
        sock.dual = any && family === 6 && options.v6only !== true;
        sock.scope = options.scope ?? -1;
        const err = table.bind(sock, key, port, options.reuseAddress === true);
        if (err !== undefined) return err;
        sock.sendFromLocal = local;
        sock.broadcast = options.broadcast === true;
        sock.ttl = options.ttl ?? 0;
        sock.segmentSize = options.segmentSize ?? 0;
        return sock;
      },
      list(): UdpSocketInfo[] {
        return [...table.sockets()].map((s) => ({
          // As `ss -uan`: a dual-stack `::` is `*:53`.
          local: s.dual && s.localKey === s.anyKey
            ? `*:${s.localPort}`
            : formatIpKeyPort(s.localKey, s.localPort),
          remote: s.remoteKey !== s.anyKey
            ? formatIpKeyPort(s.remoteKey, s.remotePort)
            : s.dual && s.localKey === s.anyKey
            ? "*:*"
            : s.family === 4
            ? "0.0.0.0:*"
            : "[::]:*",
          queued: s.queued,
          queuedBytes: s.queuedBytes,
          queuedMemory: s.queuedMemory,
          dropped: s.dropped,
        }));
      },
    };

    return {
      receivers: { "ip.protocol": receive, "ip.error": receiveError },
      services: { "udp.sockets": service },
      ready() {
        net4 = ctx.service<RouteService>(routeServiceName(4));
        net6 = ctx.optionalService<RouteService>(routeServiceName(6));
        error4 = ctx.optionalService<IcmpErrorService>(errorServiceName(4));
        error6 = ctx.optionalService<IcmpErrorService>(errorServiceName(6));
        groups4 = ctx.optionalService<MulticastGroupsService>(groupsServiceName(4));
        groups6 = ctx.optionalService<MulticastGroupsService>(groupsServiceName(6));
        // An MLD plugin without holders' filters (the older mld.groups) cannot serve sockets.
        if (typeof groups6?.setFilter !== "function") groups6 = undefined;
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
