/**
 * IPv4 (RFC 791, RFC 1122 §3.2.1, RFC 1812 for routers): header validation,
 * local delivery (unicast, directed and limited broadcast, all-systems
 * multicast, and the groups `igmp.groups` accepts from the datagram's
 * source), reassembly (RFC 815), sending through the routing table with
 * path MTU discovery (RFC 1191) and fragmentation to the interface's link
 * output (`ctx.linkOutput`: the link resolves the next hop, e.g. Ethernet
 * with ARP), forwarding between interfaces, and a loopback path for packets
 * to our own addresses.
 *
 * - **Binds:** `ethertype` 0x0800.
 * - **Exposes:** `ip.protocol` (keyed by the protocol number).
 * - **Provides:** `ipv4.send`, `ipv4.routes` (routes, path MTU cache,
 *   forwarding switch).
 * - **Requires:** `neighbor.ipv4` (optional: raw-IP links need none; its
 *   `onUnresolved` tells us of forwarded packets to answer with host
 *   unreachable), `icmp.error` (optional: without ICMP no error is sent),
 *   `igmp.groups` (optional: without IGMP only 224.0.0.1 is received).
 *   Neither ARP nor Ethernet is known here: a datagram and its next hop go
 *   to `ctx.linkOutput`.
 * - **Hooks run:** prerouting (every datagram, fragments one by one), input
 *   (datagrams for us, after reassembly), forward (the forwarded copy, after
 *   the TTL decrement), output (what we originate), postrouting (everything
 *   leaving, before fragmentation).
 * - **Options:** `ttl` (64), `verifyChecksum` (true), `forwarding` (false),
 *   `reassemblyTimeout` (30 s), `reassemblyMaxDatagrams` (64),
 *   `reassemblyMaxBytes` (4 MiB), `reassemblyMaxPerSource`
 *   (0: automatic), `pmtuExpiry` (10 min), `minPmtu` (552),
 *   `acceptSourceRoute` (false), `rpFilter` (0: off; 1 strict, 2 loose
 *   reverse-path check of sources, as Linux's rp_filter), `epoch` (0 µs: IP timestamps are
 *   the clock modulo 24 h; see options.ts).
 * - **IP options** (options.ts): checked on receive (malformed: Parameter
 *   Problem with the bad byte's offset), Router Alert / Record Route /
 *   Timestamp flagged on the packet, RR/TS recorded on receive, send and
 *   forward; `ipv4.send` takes options and raw headers (`HEADER_INCLUDED`).
 * - **Counters:**
 *   - receive: `rx.truncated`, `rx.bad_version`, `rx.bad_header_length`,
 *     `rx.bad_total_length`, `rx.bad_checksum`, `rx.bad_source`
 *     (multicast, limited broadcast, 127/8 from the wire), martian sources
 *     (`rx.martian_own_source`, `rx.martian_broadcast_source`: a subnet's
 *     broadcast or network address, `rx.martian_zero_source`: 0/8 except
 *     0.0.0.0 to 255.255.255.255), `rx.rp_filter`, `rx.not_for_us`, `rx.delivered`, `rx.unknown_protocol` (protocol
 *     unreachable sent), `rx.bad_options` (parameter problem sent),
 *     `rx.source_route` (LSRR/SSRR, RFC 7126);
 *   - reassembly: `rx.fragments`, `rx.reassembled`, `rx.fragment_bad_length`,
 *     `rx.reasm_duplicate`, `rx.reasm_overlap` (whole datagram discarded),
 *     `rx.reasm_inconsistent`, `rx.reasm_too_big`, `rx.reasm_no_memory`,
 *     `rx.reasm_timeout`, `rx.reasm_evicted`;
 *   - forwarding: `fwd.forwarded`, `fwd.host_unreachable`,
 *     `rx.fwd_link_broadcast`, `rx.fwd_bad_destination`, `rx.fwd_bad_source`,
 *     `rx.fwd_ttl_exceeded`, `rx.fwd_no_route`, `rx.fwd_frag_needed`;
 *   - send: `tx.packets`, `tx.no_route`, `tx.message_too_long`,
 *     `tx.broadcast_not_permitted`, `tx.loopback`,
 *     `tx.loopback_queue_full`, `tx.fragmented`, `tx.fragments`,
 *     `tx.cannot_fragment`.
 * - **Depends on:** nothing (a neighbour service and ICMP when present).
 * - **Not supported:** following source routes (dropped by default; with
 *   `acceptSourceRoute` handled by destination address, never reversed in
 *   replies), ICMP redirects (sent or obeyed),
 *   directed-broadcast forwarding, multicast routing, ECMP (equal routes: the first
 *   wins), host unreachable for our own datagrams whose next hop does not
 *   resolve (they time out, where Linux loops an error back to the socket),
 *   per-interface reassembly keys (RFC 791's four-tuple only).
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 1]-> icmp`
 *
 * @module
 */
export { ipv4Plugin, ipv4Plugin as default } from "./ipv4.ts";
export { RoutingTable } from "./routes.ts";
export { PMTU_EXPIRY, PMTU_FLOOR, PmtuCache } from "./pmtu.ts";
export type { PmtuEntry, PmtuOptions } from "./pmtu.ts";
export { fragmentIpv4, ipv4HeaderChecksum } from "./fragment.ts";
export type { FragmentDropReason } from "./fragment.ts";
export {
  Reassembler,
  REASSEMBLY_FRAGMENT_COST,
  REASSEMBLY_MAX_BYTES,
  REASSEMBLY_MAX_DATAGRAMS,
  REASSEMBLY_TIMEOUT,
} from "./reassembly.ts";
export type { CounterLike, ReassemblyDropReason, ReassemblyOptions } from "./reassembly.ts";
export { Forwarder, isUnforwardableDestination } from "./forward.ts";
export type { ForwardDropReason, ForwardOutput } from "./forward.ts";
