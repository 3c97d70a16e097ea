/**
 * Neighbor Discovery for IPv6 (RFC 4861) and Duplicate Address Detection
 * (RFC 4862 §5.4), on the neighbour cache ARP shares
 * (`stack/ip/neighbor_cache.ts`: INCOMPLETE, REACHABLE, STALE, DELAY, PROBE,
 * FAILED, PERMANENT with Linux's timers).
 *
 * - **Binds:** `icmpv6.message` 135 (Neighbor Solicitation), 136 (Neighbor
 *   Advertisement), 137 (Redirect). Every message is validated first
 *   (`validateNdp`: hop limit 255, code 0, ICMP length, options of nonzero
 *   length, per-type rules).
 * - **Provides:** `neighbor.ipv6` ({@linkcode NdpService}): Ethernet's
 *   link output asks it for the MAC of an IPv6 next hop; multicast groups
 *   map to 33:33:xx:xx:xx:xx without traffic (RFC 2464 §7); unicast next
 *   hops are solicited at their solicited-node group (hop limit 255, Source
 *   Link-Layer Address option) while their packets wait in a bounded queue;
 *   `onUnresolved` tells IPv6 which packets died with a failed resolution
 *   (address unreachable); `addStatic`; `confirmReachable` (upper-layer
 *   hints, RFC 4861 §7.3.1: TCP's forward progress through `ipv6.route`,
 *   answered with when to hint next); for Router Discovery (the slaac plugin),
 *   `setLinkTimers` (an RA's Reachable Time and Retrans Timer become the
 *   link's BaseReachableTime, REACHABLE lifetimes re-drawn, and
 *   RetransTimer for solicitations and DAD probes, §6.3.4) and
 *   `learnRouterDiscovery` (an RA's or RS's Source Link-Layer Address
 *   creates or updates a STALE entry; IsRouter set for RAs, cleared for
 *   RSs, §6.3.4, §6.2.6; `ip -6 neigh` rows then say `router: true`).
 * - **Answers** solicitations for our usable addresses (solicited, Override,
 *   Router when IPv6 forwards), defends them against another node's DAD,
 *   and announces an address that becomes usable with an unsolicited
 *   advertisement (Override, to ff02::1). A router's Subnet-Router
 *   anycast addresses (`ipv6.routes`' `isSubnetAnycast`, RFC 4291 §2.6.1)
 *   are answered without Override from a unicast address (RFC 4861
 *   §7.2.4), after a random delay under `anycastDelay` (1 s,
 *   MAX_ANYCAST_DELAY_TIME, §7.2.7) when the solicitation was multicast;
 *   at most 64 wait (`anycast_delay.ts`, Linux's `proxy_qlen`).
 * - **DAD:** an IPv6 address added on an interface with a MAC becomes
 *   `tentative`; `dadTransmits` probes from `::` later it is `preferred`,
 *   or `duplicate` (logged, counted, never used) when another node probes
 *   for or advertises it meanwhile. Raw-IP (TUN) links skip DAD, as Linux
 *   does for NOARP devices.
 * - **Redirect:** accepted only from the current first-hop router for the
 *   destination (`ipv6.routes` lookup) and only while not forwarding;
 *   becomes a /128 route with origin `redirect` for `redirectLifetime`.
 * - **Requires:** `ipv6.routes`. **Depends on:** ipv6, icmpv6.
 * - **Counters:** `rx.<problem>` for each `NDP_PROBLEMS` entry,
 *   `rx.no_link_layer`, `rx.bad_link_address` (short or multicast
 *   link-layer option), `rx.not_for_us`, `rx.looped_back` (our own frame),
 *   `rx.tentative_target`, `rx.duplicate_target`, `rx.address_conflict`
 *   (a neighbour advertises one of our addresses), `rx.no_entry` (an
 *   advertisement nobody asked for, RFC 4861 §7.2.5), `rx.no_target_lla`,
 *   `rx.redirect_not_from_router`, `rx.redirect_while_forwarding`,
 *   `rx.redirect_ignored`, `rx.redirect_table_full`, the cache's
 *   `tx.queue_full`, `tx.queue_total_full`, `tx.unresolved`, `cache.full`,
 *   `cache.evicted`, `tx.no_source` (no usable address to solicit
 *   from), `tx.anycast_delay_full` (64 anycast answers waiting), plus the tallies `rx.solicitations`, `rx.advertisements`,
 *   `rx.redirects`, `tx.solicitations`, `tx.advertisements`,
 *   `tx.unsolicited_advertisements`, `tx.dad_probes`, `dad.started`,
 *   `dad.passed`, `dad.duplicates`.
 * - **Not supported:** Router and Prefix Discovery (the SLAAC plugin's),
 *   sending Redirects, proxy advertisements, RFC 7527 enhanced
 *   DAD (a frame from our own MAC is ignored instead), DAD again for
 *   addresses that passed it when a link comes back up (only those it
 *   left tentative are checked anew), SEND (RFC 3971).
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x86dd]-> ipv6 -[ip.protocol 58]-> icmpv6 -[icmpv6.message 135]-> ndp`
 *
 * @example
 * ```ts
 * import { ndpPlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ndpPlugin.manifest.provides?.[0], "neighbor.ipv6");
 * ```
 *
 * @module
 */
export { ndpPlugin, ndpPlugin as default } from "./ndp.ts";
export type { NdpService } from "../../services.ts";
