/**
 * ICMP for IPv4 (RFC 792, RFC 1122 §3.2.2, RFC 1812 §4.3): echo request and
 * reply, the ping and traceroute probes with round-trip times on the stack's
 * clock, ICMP errors sent for the other plugins, and errors received handed
 * to the transport they concern.
 *
 * - **Binds:** `ip.protocol` 1.
 * - **Exposes:** `ip.error`, keyed by the protocol of the datagram an error
 *   quotes (transports bind it with `optional: true`). Delivered packets
 *   have `l3` at the quoted IP header, `start`/`l4` at the quoted transport
 *   header, `srcAt`/`dstAt`/`proto` of the quoted header (the source is
 *   ours), and `errorKind` (a `TransportErrorKind`: the ICMP type and code
 *   mapped by `errorKind()`) and `errorInfo` (for "packet too big": the path
 *   MTU now in force after RFC 1191's rules; for a parameter problem: the
 *   pointer).
 * - **Provides:** `icmp.echo` (ping, probes), `icmp.error` (send an error
 *   about a packet; the never-send rules and the rate limit applied).
 * - **Requires:** `ipv4.send`; `ipv4.routes` (optional: path MTU learning
 *   for our probes, UDP probe checksums; for TCP and UDP traffic the
 *   transport learns it once the quoted flow matches a socket, RFC 5927).
 * - **Options:** `echoIgnoreBroadcasts` (true), `ratelimit` (1 s per token
 *   per destination, 0 off), `ratelimitBurst` (6), `msgsPerSecond` (1000, 0
 *   off), `msgsBurst` (50): Linux's `icmp_ratelimit`, `icmp_msgs_per_sec`,
 *   `icmp_msgs_burst`; "fragmentation needed" is never limited.
 * - **Counters:**
 *   - receive: `rx.truncated`, `rx.wrong_family` (an IPv6 packet with Next Header 1), `rx.bad_checksum`, `rx.echo_requests`,
 *     `rx.echo_replies`, `rx.unmatched_reply`, `rx.broadcast_echo_ignored`,
 *     `rx.unhandled_type`, `rx.dest_unreachable`, `rx.frag_needed`,
 *     `rx.time_exceeded`, `rx.parameter_problem`, `rx.source_quench_ignored`
 *     (RFC 6633), `rx.redirect_ignored`, `rx.bad_quote`, `rx.error_not_ours`,
 *     `rx.error_for_probe`, `rx.error_delivered`, `rx.error_unclaimed`;
 *   - send: `tx.echo_replies`, `tx.echo_requests`, `tx.udp_probes`,
 *     `tx.send_failed`, `tx.dest_unreachable`, `tx.time_exceeded`,
 *     `tx.parameter_problem`, `tx.rate_limited`, and the never-send rules:
 *     `tx.no_error_for_bad_packet`, `tx.no_error_for_icmp_error`,
 *     `tx.no_error_for_broadcast`, `tx.no_error_for_fragment`,
 *     `tx.no_error_for_bad_source`.
 * - **Depends on:** ipv4.
 * - **Not supported:** redirects (received ones are counted and ignored;
 *   none sent), timestamp and address-mask messages (obsolete), router
 *   discovery (RFC 1256), RFC 4884 extension objects, parameter problem
 *   sent by this stack (options are never interpreted, so never at fault),
 *   per-type rate masks (Linux's `icmp_ratemask`: here every error but
 *   "fragmentation needed" is limited).
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 1]-> icmp -[ip.error 17]-> udp`
 *
 * @module
 */
export { describeIcmpError, icmpPlugin, icmpPlugin as default } from "./icmp.ts";
export {
  buildIcmpError,
  checkQuote,
  errorSuppression,
  ICMP_ERROR_DATAGRAM_MAX,
  isIcmpErrorType,
  isInvalidErrorTarget,
  plateauBelow,
} from "./errors.ts";
export type { IcmpSuppression } from "./errors.ts";
export { IcmpRateLimiter, type IcmpRateLimitOptions } from "../../ip/icmp_rate_limit.ts";
