/**
 * ICMPv6 (RFC 4443): echo requests answered (to a multicast request from
 * a unicast address), ping and traceroute (`echo.ts`: echo requests and
 * UDP probes matched to the replies and errors that quote them), errors
 * received handed to the transport they quote through `ip.error` by
 * transport error kind (a Packet Too Big about our own ICMPv6 message
 * lowers the path MTU here), and
 * errors sent for the other plugins with RFC 4443 §2.4 (e)'s rules and
 * rate limits (§2.4 (f)) as Linux's: a token bucket per destination and
 * one for the whole stack, Packet Too Big exempt from both.
 *
 * - **Binds:** `ip.protocol` 58.
 * - **Exposes:** `ip.error` (keyed by the quoted upper-layer protocol),
 *   `icmpv6.message` (keyed by ICMPv6 type: Neighbor Discovery, MLD and
 *   other plugins bind the types they own and receive the checksummed
 *   message with `pkt.start` at the ICMPv6 header).
 * - **Provides:** `icmpv6.echo` (`Icmpv6EchoService`: `stack.ping()` and
 *   `traceroute()` to IPv6 literals and zones), `icmpv6.error` (the
 *   `IcmpErrorService` contract).
 * - **Requires:** `ipv6.route`.
 * - **Options:** `ratelimit` (µs per token per destination, 1 s; 0: off),
 *   `ratelimitBurst` (6), `msgsPerSecond` (1000; 0: off), `msgsBurst` (50).
 *   Linux shortens its per-destination interval for a destination reached by
 *   a route shorter than /128 (250 ms through a /64); here it is one interval.
 * - **Counters:** `rx.truncated`, `rx.wrong_family` (an IPv4 datagram with protocol 58), `rx.bad_checksum`, `rx.echo_requests`,
 *   `rx.echo_replies`, `rx.unmatched_reply`, `rx.errors`, `rx.error_bad_quote`,
 *   `rx.error_not_ours`, `rx.error_for_probe`,
 *   `rx.ndp_unhandled`, `rx.mld_unhandled`, `rx.unknown_type`,
 *   `tx.echo_replies`, `tx.echo_requests`, `tx.udp_probes`, `tx.errors`, `tx.rate_limited`,
 *   `tx.no_error_for_icmp_error`, `tx.no_error_for_multicast`,
 *   `tx.no_error_for_bad_source`, `tx.no_error_for_bad_packet`,
 *   `tx.failed`.
 * - **Depends on:** `ipv6`.
 * - **Not supported yet:** Neighbor Discovery and MLD themselves (they are
 *   plugins bound to `icmpv6.message`; unbound types count as
 *   `rx.ndp_unhandled` / `rx.mld_unhandled`), Node Information queries (RFC 4620).
 *
 * Graph: `tun0 -> rawip -[ethertype 0x86dd]-> ipv6 -[ip.protocol 58]-> icmpv6`
 *
 * @module
 */
export { icmpv6Plugin, icmpv6Plugin as default } from "./icmpv6.ts";
export { icmpv6ErrorKind, icmpv6ErrorSuppressed, icmpv6ForKind } from "./errors.ts";
export type { Icmpv6Suppression } from "./errors.ts";
export { describeIcmpv6Error, Icmpv6Echo } from "./echo.ts";
