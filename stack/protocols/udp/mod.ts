/**
 * UDP for IPv4 (RFC 768, RFC 1122 §4.1.3): sockets with Linux's bind and
 * demultiplexing rules, bounded receive queues, ICMP port unreachable for
 * closed ports, and ICMP errors reported to connected sockets. The promise
 * API on top is `stack.listenDatagram()` (a `DatagramConn`, shaped like
 * `Deno.listenDatagram`).
 *
 * - **Binds:** `ip.protocol` 17; `ip.error` 17 (optional: ICMP errors that
 *   quote a UDP datagram, when a plugin exposes that table).
 * - **Provides:** `udp.sockets` (synchronous sockets; see `UdpService`).
 * - **Requires:** `ipv4.route`; `ipv6.route`, `icmp.error`, `icmpv6.error`,
 *   `igmp.groups`, `mld.groups` (optional; the group tables multicast
 *   memberships go to). Routes, source addresses and errors to send are asked of
 *   the service of the destination's IP version (`routeServiceName`,
 *   `errorServiceName`); UDP itself is version-neutral (one code path, one
 *   pseudo-header function, errors by `TransportErrorKind`).
 * - **Options:** `ephemeralPortMin`/`ephemeralPortMax` (49152..65535, RFC
 *   6335), `receiveQueueLimit` (256 datagrams), `receiveQueueBytes` (212992,
 *   Linux's rmem_default), `totalQueueBytes` (16 MiB over all sockets,
 *   Linux's udp_mem), `maxSockets` (65536), `verifyChecksum` (true). Queue
 *   limits count each datagram as the pooled buffer it takes (2 KiB for
 *   most), not its payload, as Linux charges an skb's truesize.
 * - **Counters:** `rx.datagrams`, `rx.no_checksum` (zero checksum accepted),
 *   `rx.errors_reported`, `rx.pmtu_updates` (a "packet too big" quoting
 *   one of our sockets lowered the path MTU), `tx.datagrams`, `tx.port_unreachable`,
 *   `tx.multicast_looped` (copies of our own multicast given to local
 *   members); drops `rx.multicast_filtered` (a socket's own source filter
 *   refused a multicast datagram, RFC 3678);
 *   `rx.truncated` (under 8 bytes), `rx.bad_length` (length field below 8
 *   or past the IP payload), `rx.bad_checksum`, `rx.zero_checksum` (IPv6),
 *   `rx.no_socket` (closed port: ICMP port
 *   unreachable), `rx.ignored_broadcast` (broadcast/multicast nobody
 *   listens to: no ICMP), `rx.rcvbuf_full`, `rx.queue_total_full` (the
 *   stack's total reached), `rx.error_truncated`,
 *   `rx.error_no_socket`, `rx.error_ignored` (an ICMP error for an
 *   unconnected socket, or one that is not an error to the application);
 *   send failures `tx.no_route`, `tx.no_source` (a route but no usable
 *   source: every address on it tentative), `tx.message_too_long` (also one
 *   `segmentSize` datagram over the path MTU), `tx.too_many_segments`
 *   (a `segmentSize` send of more than 128 datagrams),
 *   `tx.broadcast_not_enabled` (SO_BROADCAST off), `tx.failed`.
 * - **Segmentation offload on send (UDP_SEGMENT):** a socket's
 *   `segmentSize` makes a larger send one super-datagram (`gsoSize`, the
 *   checksum field holding the pseudo-header sum, `CHECKSUM_PARTIAL`) that
 *   a link with USO cuts (`LinkDriver.usoMaxSize`) and the dispatcher cuts
 *   right before any other link (`wire/udp_gso.ts`); `tx.datagrams` counts
 *   the datagrams it stands for. Validation as Linux's `udp_send_skb`
 *   (`segment.ts`).
 * - **Semantics (Linux):** see `table.ts`: bind conflicts unless both
 *   sockets set `reuseAddress`; the most specific socket wins a unicast
 *   datagram (connected > bound to the address > wildcard; the most
 *   recently bound among equals); broadcast and multicast go to every
 *   matching socket; ephemeral ports by RFC 6056 Algorithm 1 from the
 *   stack's RNG. `connect` binds an unbound local address to the route's
 *   source. ICMP errors reach only connected sockets and fail the *next*
 *   send or receive (port/protocol unreachable → connection refused).
 *   Sending to a broadcast address needs `broadcast` (SO_BROADCAST);
 *   receiving one does not.
 * - **Multicast (issue #11, Linux semantics):** a socket joins a group on an
 *   interface with an RFC 3678 filter (`setMulticastFilter`: any-source,
 *   source-specific, blocked sources) held in `igmp.groups`/`mld.groups`,
 *   which merge every holder's filter into the interface's state (what IP
 *   accepts and the reports say). Every socket bound to the port hears a
 *   group some socket joined (IP_MULTICAST_ALL); a socket that joined it on
 *   that interface hears only the sources its filter allows. Memberships end
 *   with the socket. Sends to a group use `multicastTtl` (default 1),
 *   `multicastInterface` (IP_MULTICAST_IF) and, with `multicastLoop` (default
 *   on), a copy goes to this host's members when the outgoing interface is a
 *   member (`ip_mc_output`). At most 20 memberships per socket and 64
 *   sources per filter (`"too_many_memberships"`, `"too_many_sources"`).
 * - **Depends on:** ipv4 (and icmp for errors).
 * - **Not supported:** IPv6 without an IPv6 network plugin (sending says
 *   `family_not_supported`), dual-stack sockets (a socket has one family;
 *   no IPV6_V6ONLY), IP_MULTICAST_ALL off, multicast loopback of other
 *   protocols than UDP, SO_REUSEPORT
 *   load balancing, IP_RECVERR and the error queue, IP_PKTINFO, UDP-Lite,
 *   GSO/GRO, SO_NO_CHECK (checksums are always sent), disconnecting a
 *   connected socket, path-MTU discovery for UDP (DF is never set: IPv4
 *   fragments datagrams over the MTU; Linux's default IP_PMTUDISC_WANT
 *   would set DF on those that fit).
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 17]-> udp`
 *
 * @module
 */
export { udpPlugin, udpPlugin as default } from "./udp.ts";
