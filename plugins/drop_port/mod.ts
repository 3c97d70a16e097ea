/**
 * An example firewall on ports: drops TCP and UDP datagrams for this host
 * to one destination port, IPv4 and IPv6, at the `input` hook. It shows how
 * a hook finds the transport header: IPv4 after the header's IHL words,
 * IPv6 after the extension headers ({@linkcode walkIpv6Chain}). At `input`
 * a datagram is whole: both network layers reassemble before the chain.
 * IPv6 tells the sender (Destination Unreachable, administratively
 * prohibited, RFC 4443 §3.1); IPv4 drops silently.
 *
 * - **Hooks:** input.
 * - **Counters:** `input.blocked`, `input.malformed` (an IPv6 chain the
 *   network layer would refuse anyway), `passed`.
 * - **Options:** `port` (9), `tcp` and `udp` (both true).
 *
 * @example
 * ```ts
 * import { loadStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = await loadStack({
 *   plugins: ["ethernet", "arp", "ipv4", "icmp", "udp", "tcp",
 *     { use: new URL("./mod.ts", import.meta.url).href, options: { port: 7 } }],
 * });
 * assert.deepEqual(stack.describe().hooks.input, ["drop_port"]);
 * stack.close();
 * ```
 *
 * @module
 */
import type { HookContext, HookVerdict, PacketBuffer, ProtocolPlugin } from "../../mod.ts";
import { ACCEPT, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP, Ipv6Chain, walkIpv6Chain } from "../../mod.ts";

/** The drop_port plugin. */
export const plugin: ProtocolPlugin = {
  manifest: {
    name: "drop_port",
    version: "1.0.0",
    api: "^1.0.0",
    description: "Example firewall: drop TCP and UDP to one destination port",
    layer: "middlebox",
    binds: [],
    hooks: [{ point: "input" }],
    counters: ["input.blocked", "input.malformed", "passed"],
    options: {
      port: { default: 9, description: "the destination port to drop, 0..65535" },
      tcp: { default: true, description: "drop TCP to the port" },
      udp: { default: true, description: "drop UDP to the port" },
    },
  },
  setup(ctx) {
    const port = Number(ctx.options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`drop_port: port ${port} is not in 0..65535`);
    }
    const tcp = ctx.options.tcp === true, udp = ctx.options.udp === true;
    const passed = ctx.counter("passed");
    const chain = new Ipv6Chain(); // one, reused: a hook allocates nothing per packet
    return {
      hook(_point, pkt: PacketBuffer, _hctx: HookContext): HookVerdict {
        let protocol: number, at: number;
        if (pkt.family === 4) {
          protocol = pkt.proto;
          at = pkt.l3 + (pkt.buf[pkt.l3]! & 0x0f) * 4;
        } else {
          if (walkIpv6Chain(pkt.buf, pkt.l3, pkt.end, chain) !== null) return "malformed";
          protocol = chain.protocol;
          at = chain.upperAt;
        }
        const drops = (protocol === IP_PROTOCOL_TCP && tcp) ||
          (protocol === IP_PROTOCOL_UDP && udp);
        // Both ports are in the first 4 bytes of TCP and UDP headers alike.
        if (drops && at + 4 <= pkt.end && pkt.dv.getUint16(at + 2) === port) return "blocked";
        passed.value++;
        return ACCEPT;
      },
    };
  },
};

export default plugin;
