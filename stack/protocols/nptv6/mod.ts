/**
 * NPTv6 (RFC 6296): stateless, checksum-neutral IPv6-to-IPv6 prefix
 * translation on a router. A packet leaving by the outside interface with a
 * source in the inside prefix gets the outside prefix (at `postrouting`); a
 * packet arriving on it with a destination in the outside prefix gets the
 * inside prefix back (at `prerouting`, before the routing decision, so it is
 * forwarded inside). The rewrite keeps the address's one's-complement sum,
 * so no TCP, UDP or ICMPv6 checksum changes (§3.1). ICMPv6 errors about a
 * translated packet have the quoted header's address translated too (the
 * inside host must recognise its own packet, the outside one its own; §5):
 * being checksum-neutral as well, the ICMPv6 checksum stays valid.
 *
 * - **Binds:** nothing; a `middlebox`.
 * - **Hooks:** `prerouting` (outside → inside, destination and a quoted
 *   source), `postrouting` (inside → outside, source and a quoted
 *   destination). Per fragment: every fragment carries the addresses.
 *   Ordered by name, whatever the load order: before `conntrack` at
 *   prerouting, after it at postrouting, so conntrack tracks the inside
 *   addresses both ways.
 * - **Counters:** `outbound`, `inbound`, `icmp_quoted` (quoted headers
 *   translated), `prerouting.unmappable`, `postrouting.unmappable` (the
 *   adjustment word is 0xFFFF, §3.4: dropped).
 * - **Options:** `inside` and `outside` (prefixes of the same length,
 *   1..64, e.g. `"fd01:203:405::/48"` and `"2001:db8:1::/48"`), `interface`
 *   (the outside interface's name; empty: every interface).
 * - **Depends on:** an IPv6 plugin running the hook points.
 * - **Not supported:** several mappings in one instance, prefixes longer
 *   than /64, proxy Neighbor Discovery for an outside prefix that is on-link
 *   outside (route the outside prefix to the translator instead, RFC 6296
 *   §4.1), IPv4.
 *
 * Graph: `eth1 <- [postrouting: nptv6] <- ipv6`
 *
 * @example
 * ```ts
 * import { createStack, DEFAULT_PLUGINS } from "../../../mod.ts";
 * import { nptv6Plugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({
 *   plugins: [...DEFAULT_PLUGINS, {
 *     plugin: nptv6Plugin,
 *     options: { inside: "fd01:203:405::/48", outside: "2001:db8:1::/48", interface: "eth1" },
 *   }],
 * });
 * assert.deepEqual(stack.describe().hooks.postrouting, ["nptv6"]);
 * stack.close();
 * ```
 *
 * @module
 */
import { ACCEPT, type HookPoint, type HookVerdict, type ProtocolPlugin } from "../../manifest.ts";
import type { HookContext } from "../../hooks.ts";
import type { PacketBuffer } from "../../packet.ts";
import { type NptDirection, NptMapping } from "./mapping.ts";

export { type NptDirection, NptMapping } from "./mapping.ts";

const ICMPV6 = 58;
const IPV6_HEADER_LEN = 40;

/** The NPTv6 plugin; configure it with the `inside`, `outside` and `interface` options. */
export const nptv6Plugin: ProtocolPlugin = {
  manifest: {
    name: "nptv6",
    version: "1.0.0",
    api: "^1.0.0",
    description: "NPTv6 (RFC 6296): checksum-neutral IPv6 prefix translation",
    layer: "middlebox",
    binds: [],
    // Outside conntrack on both sides, so a tracker sees only inside
    // addresses: the reply of a flow that left translated matches it.
    // (Linux runs NPT in mangle, after conntrack at prerouting, and asks
    // for NOTRACK on translated flows instead: libip6t_SNPT(8).)
    hooks: [
      { point: "prerouting", before: ["conntrack"] },
      { point: "postrouting", after: ["conntrack"] },
    ],
    counters: [
      "outbound",
      "inbound",
      "icmp_quoted",
      "prerouting.unmappable",
      "postrouting.unmappable",
    ],
    options: {
      inside: { default: "", description: "inside prefix, e.g. fd01:203:405::/48" },
      outside: { default: "", description: "outside prefix of the same length" },
      interface: { default: "", description: "the outside interface (empty: every one)" },
    },
  },
  setup(ctx) {
    const inside = String(ctx.options.inside);
    const outside = String(ctx.options.outside);
    if (inside === "" || outside === "") {
      throw new TypeError("Cannot set up nptv6: the options inside and outside are required");
    }
    const mapping = NptMapping.parse(inside, outside);
    const ifname = String(ctx.options.interface);
    const c = {
      outbound: ctx.counter("outbound"),
      inbound: ctx.counter("inbound"),
      quoted: ctx.counter("icmp_quoted"),
    };

    /**
     * Translates the address at `addrAt` of the packet quoted by an ICMPv6
     * error at `icmp`, if the message is an error (types 1..127) and the
     * quote holds it. Checksum-neutral like the outer rewrite.
     */
    function translateQuoted(
      b: Uint8Array,
      icmp: number,
      end: number,
      field: 8 | 24,
      direction: NptDirection,
    ): void {
      if (icmp < 0 || b[icmp]! >= 128) return;
      const inner = icmp + 8;
      if (inner + IPV6_HEADER_LEN > end || b[inner]! >> 4 !== 6) return;
      const at = inner + field;
      if (mapping.matches(b, at, direction) && mapping.translate(b, at, direction)) {
        c.quoted.value++;
      }
    }

    return {
      /** Rewrites `pkt` in place (borrows it). */
      hook(point: HookPoint, pkt: PacketBuffer, hctx: HookContext): HookVerdict {
        if (pkt.family !== 6) return ACCEPT;
        const b = pkt.buf;
        const s = pkt.start;
        const end = pkt.end;
        if (end - s < IPV6_HEADER_LEN || b[s]! >> 4 !== 6) return ACCEPT;
        if (point === "postrouting") {
          if (ifname !== "" && hctx.outIface?.name !== ifname) return ACCEPT;
          if (mapping.matches(b, s + 8, "outbound")) {
            if (!mapping.translate(b, s + 8, "outbound")) return "unmappable";
            c.outbound.value++;
          }
          // An error about a packet sent to an inside host (e.g. time
          // exceeded here): the sender knows only the outside address. The
          // network layer found the ICMPv6 header (-1 in a later fragment).
          if (pkt.proto === ICMPV6) translateQuoted(b, pkt.l4, end, 24, "outbound");
          return ACCEPT;
        }
        if (point === "prerouting") {
          if (ifname !== "" && hctx.inIface?.name !== ifname) return ACCEPT;
          if (mapping.matches(b, s + 24, "inbound")) {
            if (!mapping.translate(b, s + 24, "inbound")) return "unmappable";
            c.inbound.value++;
          }
          if (pkt.proto === ICMPV6) translateQuoted(b, pkt.l4, end, 8, "inbound");
        }
        return ACCEPT;
      },
    };
  },
};
