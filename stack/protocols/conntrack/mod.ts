/**
 * Connection tracking (issue #12), as Linux's nf_conntrack: every IPv4 and
 * IPv6 packet through the stack (received, forwarded, sent) is matched to a
 * flow, so that a NAT or a stateful filter can ask which flow a packet
 * belongs to and which way it goes. Not a default plugin: add it
 * (`createStack({ plugins: [...DEFAULT_PLUGINS, conntrackPlugin] })`, or
 * `"conntrack"` in a stack manifest).
 *
 * - **Hooks:** `prerouting` (with `defrag: true`: the network layer
 *   reassembles fragments first, as nf_defrag) and `output` find or start
 *   the flow and set `pkt.ct` (a `ConntrackRef`); `input` and
 *   `postrouting` confirm a new flow (put it in the table) once its first
 *   packet got through, so a dropped packet leaves nothing. Ordered before
 *   `nat` at prerouting/output and after it at input/postrouting.
 * - **Provides:** `conntrack.table` (`ConntrackService`: `refOf(pkt)`,
 *   `find`, `changeReply` for a NAT, `remove`, `onRemove`, `list`).
 *   `stack.conntrack()` lists it; {@linkcode formatConntrack} prints it like
 *   `conntrack -L`.
 * - **Tracks:** TCP from a SYN, with Linux's state table and window tracking
 *   (an out-of-window segment, RST included, is invalid and changes
 *   nothing); UDP (unreplied, then assured on a reply); ICMP and ICMPv6
 *   echo by identifier; other protocols by addresses. ICMP/ICMPv6 errors
 *   are RELATED to the flow of the datagram they quote.
 * - **Timeouts** (options, µs, Linux's defaults): `tcpSynSentTimeout` 120 s,
 *   `tcpSynRecvTimeout` 60 s, `tcpEstablishedTimeout` 5 days,
 *   `tcpFinWaitTimeout` 120 s, `tcpCloseWaitTimeout` 60 s,
 *   `tcpLastAckTimeout` 30 s, `tcpTimeWaitTimeout` 120 s, `tcpCloseTimeout`
 *   10 s, `udpTimeout` 30 s, `udpStreamTimeout` 120 s, `icmpTimeout` 30 s,
 *   `genericTimeout` 600 s. An entry's `minTimeout` (set by a NAT) raises
 *   every state's timeout but TIME_WAIT's to at least that.
 * - **Bounds:** `maxEntries` (65536) and `maxBytes` (32 MiB, estimated per
 *   entry); when full, the oldest entry that is not assured is dropped
 *   early; when none is, the new flow's packet is dropped.
 * - **Counters:** `track.new`, `track.invalid` (no flow and cannot start
 *   one, or outside the TCP windows: passed untracked, as Linux's INVALID),
 *   `track.related`, `track.related_unknown` (an error quoting no known
 *   flow), `track.error_bad_checksum` (a received ICMP error whose checksum
 *   is wrong: related to nothing, as Linux's icmp_error), `track.early_drop`, `track.expired`, `track.reopened` (a SYN on a
 *   closed TCP flow); drops `input.table_full`, `postrouting.table_full`,
 *   `input.insert_failed`, `postrouting.insert_failed` (the same flow was
 *   confirmed meanwhile).
 * - **Depends on:** ipv4 and/or ipv6 (the hook points).
 * - **Not supported:** SACK-aware acknowledgment bounds, retransmission
 *   counting, TCP pickup mid-stream, helpers (FTP, SIP), zones, marks in
 *   the tuple, events (`conntrack -E`), SCTP/DCCP/GRE tracking (tracked
 *   generically).
 *
 * Graph: `[prerouting] conntrack -> nat`, `[postrouting] nat -> conntrack`.
 *
 * @example
 * ```ts
 * import { createStack, DEFAULT_PLUGINS } from "../../../mod.ts";
 * import { conntrackPlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1, plugins: [...DEFAULT_PLUGINS, conntrackPlugin] });
 * assert.deepEqual(stack.conntrack(), []);
 * stack.close();
 * ```
 *
 * @module
 */
export { conntrackPlugin, conntrackPlugin as default, formatConntrack } from "./conntrack.ts";
