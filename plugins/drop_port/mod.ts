/**
 * An example firewall on ports: drops TCP and UDP datagrams for this host
 * to one destination port, IPv4 and IPv6, at the `input` hook. It shows how
 * a hook finds the transport header: the network layer tells it, the same
 * way for both families (`stack/hooks.ts`), `pkt.proto` the upper-layer
 * protocol (on IPv6 past any Hop-by-Hop, Destination Options, Routing or
 * Fragment header) and `pkt.l4` its header, -1 in a non-first fragment.
 * At `input` a datagram is whole: both network layers reassemble before
 * the chain. IPv6 tells the sender (Destination Unreachable,
 * administratively prohibited, RFC 4443 §3.1); IPv4 drops silently.
 *
 * - **Hooks:** input.
 * - **Counters:** `input.blocked`, `passed`.
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
import { ACCEPT, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from "../../mod.ts";

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
    counters: ["input.blocked", "passed"],
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
    return {
      hook(_point, pkt: PacketBuffer, _hctx: HookContext): HookVerdict {
        const protocol = pkt.proto;
        const at = pkt.l4; // -1: a non-first fragment, no header
        const drops = (protocol === IP_PROTOCOL_TCP && tcp) ||
          (protocol === IP_PROTOCOL_UDP && udp);
        // Both ports are in the first 4 bytes of TCP and UDP headers alike.
        if (drops && at >= 0 && at + 4 <= pkt.end && pkt.dv.getUint16(at + 2) === port) {
          return "blocked";
        }
        passed.value++;
        return ACCEPT;
      },
    };
  },
};

export default plugin;
