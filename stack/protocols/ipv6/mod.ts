/**
 * IPv6 (RFC 8200): header validation
 * (version, payload length against the link's bytes), destination checks
 * (no multicast or loopback source from a wire, no unspecified
 * destination), the extension header chain (`wire/ipv6_chain.ts`: RFC 8200
 * §4, RFC 5095, RFC 6946, RFC 7112) with Parameter Problem through
 * `icmpv6.error`, reassembly (RFC 8200 §4.5, RFC 5722), the hook points
 * (prerouting, input, forward, output, postrouting: each hook reads the
 * upper-layer protocol in `pkt.proto` and its header at `pkt.l4`, found
 * past the extension headers as netfilter's `ipv6_find_hdr()`; a chain it
 * cannot follow is dropped before them), delivery through `ip.protocol`,
 * sending with RFC 6724 source selection and fragmentation at the
 * source, forwarding when enabled (`forward.ts`: hop limit, Packet Too Big
 * with the outgoing link's MTU, no link-local across links), and path MTU
 * discovery (`pmtu.ts`, RFC 8201: per destination, floor 1280, 10 minutes).
 * While forwarding, the Subnet-Router anycast address of each prefix
 * shorter than /127 (`anycast.ts`, RFC 4291 §2.6.1, RFC 6164) is ours: taken,
 * never forwarded, never a source, as Linux's addrconf holds it.
 * Every address's prefix route (origin `connected`, metric 256) exists
 * from the moment the address is added, tentative or not, as Linux's
 * `inet6_addr_add` adds it, and goes with the last address of that prefix
 * on the interface (a `duplicate` one keeps it, as Linux's `dadfailed`); an
 * RA's route for the same prefix, with its lifetime, stands in for it. While
 * every candidate source is tentative a send finds its route and fails at
 * source selection: `addr_not_available` (EADDRNOTAVAIL), not `no_route`.
 *
 * - **Binds:** `ethertype` 0x86dd.
 * - **Exposes:** `ip.protocol` (keyed by the upper-layer Next Header).
 * - **Provides:** `ipv6.route` (the `RouteService` contract; `RouteOptions.scope`
 *   for zones), `ipv6.routes` (the table: `Ipv6RoutesService`; routes with a
 *   lifetime expire; `setForwarding`/`isForwarding`; `setLinkParameters`
 *   takes a Router Advertisement's hop limit and MTU for a link, and marks
 *   advertising links, where ff02::2 is ours).
 * - **Requires:** `icmpv6.error`, `neighbor.ipv6`, `mld.groups` (all optional:
 *   a forwarded packet whose next hop does not resolve gets address
 *   unreachable; groups joined through MLD are received). Sends through
 *   `ctx.linkOutput` (Ethernet resolves next hops with the `neighbor.ipv6` service).
 * - **Options:** `forwarding` (false), `hopLimit` (64), `maxExtensionHeaders` (8),
 *   `reassemblyTimeout` (60 s), `reassemblyMaxDatagrams` (64),
 *   `reassemblyMaxBytes` (4 MiB), `reassemblyMaxPerSource` (0: automatic).
 * - **Counters:** receive `rx.truncated`, `rx.bad_version`,
 *   `rx.bad_payload_length`, `rx.bad_source`, `rx.bad_destination`,
 *   `rx.not_for_us`, `rx.delivered`, `rx.no_next_header`, one per chain
 *   problem (`rx.chain_truncated`, `rx.chain_too_long`,
 *   `rx.hop_by_hop_not_first`, `rx.unknown_next_header`, `rx.bad_option`,
 *   `rx.too_many_options`, `rx.unknown_option`, `rx.unknown_routing_type`,
 *   `rx.fragment_bad_length`, `rx.fragment_too_big`,
 *   `rx.first_fragment_incomplete`, `rx.nested_fragment`); reassembly
 *   `rx.fragments`, `rx.reassembled`, `rx.reasm_duplicate`,
 *   `rx.reasm_overlap`, `rx.reasm_inconsistent`, `rx.reasm_too_big`,
 *   `rx.reasm_header_too_long`, `rx.reasm_no_memory`, `rx.reasm_timeout`,
 *   `rx.reasm_evicted`; send `tx.packets`, `tx.no_route`, `tx.no_source`,
 *   `tx.node_local_multicast` (to scope 0 or 1: kept off the links, RFC 4291 §2.7),
 *   `tx.message_too_long`, `tx.loopback`,
 *   `tx.loopback_queue_full`, `tx.fragmented`, `tx.fragments`,
 *   `tx.cannot_fragment`; `rx.input_prohibited`; before any hook point
 *   `hook.chain_truncated`, `hook.chain_too_long`; forwarding `rx.fwd_link_multicast`,
 *   `rx.fwd_bad_destination`, `rx.fwd_bad_source`, `rx.fwd_hop_limit_exceeded`,
 *   `rx.fwd_no_route`, `rx.fwd_beyond_scope`, `rx.fwd_too_big`, `fwd.forwarded`,
 *   `fwd.prohibited`, `fwd.address_unreachable`.
 * - **Depends on:** nothing (ICMPv6 and Ethernet when present).
 * - **Not supported yet:** Neighbor Discovery and SLAAC are other plugins
 *   (without a `neighbor.ipv6` provider Ethernet drops as
 *   `ethernet.tx.no_neighbor_service`), Redirect, multicast routing, MLD,
 *   following Routing headers, jumbograms, Hop-by-Hop options at a router.
 *
 * Graph: `tun0 -> rawip -[ethertype 0x86dd]-> ipv6 -[ip.protocol 58]-> icmpv6`
 *
 * @module
 */
export { ipv6Plugin, ipv6Plugin as default } from "./ipv6.ts";
export { fragmentIpv6 } from "./fragment.ts";
export type { Ipv6FragmentDropReason } from "./fragment.ts";
export {
  Ipv6Reassembler,
  REASSEMBLY_MAX_UNFRAGMENTABLE,
  REASSEMBLY_TIMEOUT,
} from "./reassembly.ts";
export type { Ipv6ReassemblyDropReason, Ipv6ReassemblyOptions } from "./reassembly.ts";
export { IPV6_MAX_ROUTES, Ipv6RoutingTable, UNSPECIFIED } from "./routes.ts";
export { IPV6_PMTU_EXPIRY, Ipv6PmtuCache } from "./pmtu.ts";
export type { Ipv6PmtuOptions } from "./pmtu.ts";
export { IPV6_FORWARD_DROPS, Ipv6Forwarder } from "./forward.ts";
export type { Ipv6ForwardDropReason } from "./forward.ts";
export type { Ipv6Route, Ipv6RouteInput, Ipv6RouteResult } from "./routes.ts";
