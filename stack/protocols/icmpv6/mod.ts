/**
 * ICMPv6 (RFC 4443), a skeleton: echo requests answered (to a multicast
 * request from a unicast address), errors received handed to the
 * transport they quote through `ip.error` by transport error kind, and
 * errors sent for the other plugins with RFC 4443 §2.4 (e)'s rules and a
 * token-bucket rate limit (§2.4 (f); Packet Too Big exempt).
 *
 * - **Binds:** `ip.protocol` 58.
 * - **Exposes:** `ip.error` (keyed by the quoted upper-layer protocol),
 *   `icmpv6.message` (keyed by ICMPv6 type: Neighbor Discovery, MLD and
 *   other plugins bind the types they own and receive the checksummed
 *   message with `pkt.start` at the ICMPv6 header).
 * - **Provides:** `icmpv6.error` (the `IcmpErrorService` contract).
 * - **Requires:** `ipv6.route`.
 * - **Options:** `msgsPerSecond` (1000; 0: off), `msgsBurst` (50).
 * - **Counters:** `rx.truncated`, `rx.bad_checksum`, `rx.echo_requests`,
 *   `rx.echo_replies`, `rx.errors`, `rx.error_bad_quote`,
 *   `rx.ndp_unhandled`, `rx.mld_unhandled`, `rx.unknown_type`,
 *   `tx.echo_replies`, `tx.errors`, `tx.rate_limited`,
 *   `tx.no_error_for_icmp_error`, `tx.no_error_for_multicast`,
 *   `tx.no_error_for_bad_source`, `tx.no_error_for_bad_packet`,
 *   `tx.failed`.
 * - **Depends on:** `ipv6`.
 * - **Not supported yet:** Neighbor Discovery and MLD themselves (they are
 *   plugins bound to `icmpv6.message`; unbound types count as
 *   `rx.ndp_unhandled` / `rx.mld_unhandled`), ping over IPv6 (an echo service), path MTU learning
 *   from Packet Too Big (RFC 8201: the error reaches transports by kind),
 *   per-destination rate limits.
 *
 * Graph: `tun0 -> rawip -[ethertype 0x86dd]-> ipv6 -[ip.protocol 58]-> icmpv6`
 *
 * @module
 */
export { icmpv6Plugin, icmpv6Plugin as default } from "./icmpv6.ts";
export { icmpv6ErrorKind, icmpv6ErrorSuppressed, icmpv6ForKind, TokenBucket } from "./errors.ts";
export type { Icmpv6Suppression } from "./errors.ts";
