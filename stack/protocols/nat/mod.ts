/**
 * IPv4 NAT (issue #12) on top of the conntrack plugin, with rules like
 * iptables' nat table. Not a default plugin: add `conntrackPlugin` and
 * `natPlugin` (or `"conntrack"`, `{ "use": "nat", "options": { "rules":
 * "masquerade -o eth1" } }` in a stack manifest), and turn forwarding on
 * for a router.
 *
 * - **Rules** (option `rules`, `;`-separated, or `nat.table`'s `addRule`):
 *   `snat [-s CIDR] [-o IF] … --to ADDR[-ADDR][:PORT-PORT]`,
 *   `masquerade -o IF` (the interface's address, followed: its mappings
 *   and flows are flushed when the address goes or the link goes down), `dnat -i IF -p tcp
 *   --dport 8080 --to ADDR[:PORT]` (port forwarding), `redirect -p tcp
 *   --dport 80 --to 8080` (to this host); matches on `-i`/`-o`, `-s`/`-d`,
 *   `-p tcp|udp|icmp`, `--sport`/`--dport`, and for dnat/redirect
 *   `--dst-type local` (only to this host's own addresses, as iptables'
 *   addrtype match; what `--forward-port` on the command line sets, so a
 *   forwarded port takes no transit traffic). The first matching rule of a
 *   flow's first packet decides; the rest of the flow follows it.
 * - **Hooks:** DNAT at `prerouting` and `output` (after conntrack), SNAT at
 *   `postrouting` and `input` (before conntrack's confirmation): ordered by
 *   name, never by load order. Rewrites keep every checksum right.
 * - **RFC 4787 / 5382 behaviour:** endpoint-independent mapping (one
 *   external port per internal endpoint and external address, whatever the
 *   remote); filtering `address` by default (inbound to a mapping only from
 *   an address it sent to; `endpoint` or `address-port` as the option
 *   `filtering`); port preservation when free, else a random port from the
 *   stack's RNG with the same parity, below 1024 only for ports below 1024;
 *   paired address pooling for SNAT ranges; a mapping is never reused while
 *   a flow uses it and lingers `mappingTimeout` (120 s) after; TCP flows
 *   last as conntrack's timeouts (ESTABLISHED 5 days ≥ RFC 5382's 2 h 4 min),
 *   but a translated TCP flow opening or closing lasts idle at least
 *   `tcpTransitoryTimeout` (240 s: RFC 5382 REQ-5's transitory idle-timeout,
 *   and RFC 7857 §2.2's 4 minutes after a RST), where Linux's conntrack
 *   gives CLOSE_WAIT 60 s and CLOSE 10 s; TIME_WAIT keeps conntrack's 120 s
 *   (both FINs acknowledged: nothing more to carry).
 * - **ICMP:** echo identifiers are mapped like ports; errors about a
 *   translated flow get the outer address, the quoted header (address,
 *   port, its checksums) and the ICMP checksum rewritten (RFC 5508); errors
 *   quoting an external address some mapping is on that no flow owns are dropped
 *   (`prerouting.unknown_error`).
 * - **Hairpinning** (REQ-9, option `hairpin`): a flow whose destination was
 *   translated and that leaves by the interface it came in by gets its
 *   source translated to the external address it was sent to. Inbound
 *   through a mapping, a hairpinned packet is filtered by its sender's
 *   external endpoint, and sending it opens the sender's own mapping to
 *   that endpoint even when the other side's filter drops it, so two inside
 *   hosts punch holes to each other as through any NAT.
 * - **Bounds:** `maxMappings` (65536); `maxRemotes` (256) remote endpoints
 *   a mapping remembers for its filtering (beyond them a new remote is not
 *   let in: `map.remotes_full`); `maxBytes` (16 MiB) for the mappings
 *   (597 bytes each, measured) and their remembered remotes together: a
 *   flow needing a new mapping beyond it is dropped
 *   (`postrouting.map_bytes_full`, `input.map_bytes_full`) once no idle
 *   mapping can make room, a new remote is not remembered
 *   (`map.remotes_bytes_full`); expiry gives the bytes back.
 * - **Provides:** `nat.table` (`NatService`: `addRule`, `rules`,
 *   `clearRules`, `mappings`). **Requires:** `conntrack.table`.
 * - **Counters:** `flow.snat`, `flow.dnat`, `flow.hairpin`, `map.created`,
 *   `map.expired`, `map.flushed`, `map.remotes_full`; drops `prerouting.filtered` (inbound to a
 *   mapping the filtering refuses), `prerouting.unknown_error`,
 *   `prerouting.clash`/`output.clash` (the translated tuple is taken),
 *   `postrouting.no_port`/`input.no_port` (no external port free),
 *   `postrouting.no_address` (MASQUERADE out of an interface without an
 *   IPv4 address).
 * - **Depends on:** conntrack, ipv4.
 * - **Not supported:** NAT66 (IPv6 flows pass untranslated; NPTv6 is
 *   another plugin), ALGs (FTP, SIP), DNAT to a range (load balancing),
 *   TCP MSS clamping (another plugin), fragments
 *   without conntrack's reassembly.
 *
 * Graph: `[prerouting] conntrack -> nat`, `[postrouting] nat -> conntrack`.
 *
 * @example
 * ```ts
 * import { conntrackPlugin, createStack, DEFAULT_PLUGINS } from "../../../mod.ts";
 * import { natPlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const router = createStack({
 *   seed: 1,
 *   plugins: [...DEFAULT_PLUGINS, conntrackPlugin, {
 *     plugin: natPlugin,
 *     options: { rules: "masquerade -o eth1" },
 *   }],
 * });
 * assert.deepEqual(router.describe().hooks.postrouting, ["nat", "conntrack"]);
 * router.close();
 * ```
 *
 * @module
 */
export {
  NAT_SERVICE,
  type NatFiltering,
  type NatMappingRow,
  natPlugin,
  natPlugin as default,
  type NatService,
} from "./nat.ts";
export {
  compileNatRule,
  formatNatRule,
  type NatAction,
  type NatProtocol,
  type NatRule,
  parseNatRule,
  parsePortForward,
} from "./rules.ts";
