/**
 * An example UDP service: answers every datagram to its port with
 * `hello <n>` (n counts the datagrams answered). It shows a service plugin
 * on the bare plugin API, which `defineService` of `mod.ts` wraps (the
 * built-in services and `plugins/reverse_lines` use that): `udp.sockets`
 * found in `ready()`, wrapped in a {@linkcode DatagramConn} (the socket
 * `listenDatagram()` returns), a receive loop in ordinary async code, and
 * the socket closed in `teardown()`, when the stack closes.
 *
 * - **Requires:** `udp.sockets`.
 * - **Counters:** `answered`, `errors` (a send that failed).
 * - **Options:** `port` (4000); `hostname` (default: `::`, both IPv6 and
 *   IPv4, when an IPv6 plugin is loaded, else `0.0.0.0`).
 *
 * @example
 * ```ts
 * import { loadStack } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = await loadStack({
 *   plugins: ["ethernet", "arp", "ipv4", "icmp", "udp", new URL("./mod.ts", import.meta.url).href],
 * });
 * assert.ok(stack.pluginNames.includes("udp_hello"));
 * stack.close();
 * ```
 *
 * @module
 */
import type { ProtocolPlugin, UdpService } from "../../mod.ts";
import { DatagramConn } from "../../mod.ts";

/** The udp_hello plugin. */
export const plugin: ProtocolPlugin = {
  manifest: {
    name: "udp_hello",
    version: "1.0.0",
    api: "^1.0.0",
    description: "Example UDP service: answers each datagram with hello <n>",
    layer: "service",
    binds: [],
    requires: ["udp.sockets", { service: "ipv6.route", optional: true }],
    counters: ["answered", "errors"],
    options: {
      port: { default: 4000, description: "the UDP port to answer on" },
      hostname: { default: "", description: "the address to bind (default every address)" },
    },
  },
  setup(ctx) {
    const answered = ctx.counter("answered");
    const errors = ctx.counter("errors");
    let conn: DatagramConn | null = null;
    const encoder = new TextEncoder();
    return {
      ready() {
        // Services are resolved here, once every plugin is set up. A bad
        // option throws: the stack fails to boot, naming the plugin.
        const wildcard = ctx.service("ipv6.route") !== undefined ? "::" : "0.0.0.0";
        conn = DatagramConn.open(ctx.service<UdpService>("udp.sockets")!, {
          transport: "udp",
          hostname: String(ctx.options.hostname) || wildcard,
          port: Number(ctx.options.port),
        });
        const socket = conn;
        (async () => {
          for await (const [, from] of socket) {
            try {
              await socket.send(encoder.encode(`hello ${answered.value + 1}\n`), from);
              answered.value++;
            } catch {
              errors.value++; // no route back, say: the next datagram may fare better
            }
          }
        })();
      },
      teardown() {
        conn?.close(); // ends the loop above
      },
    };
  },
};

export default plugin;
