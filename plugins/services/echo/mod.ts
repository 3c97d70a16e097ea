/**
 * The Echo Protocol (RFC 862) on TCP and UDP port 7: every byte a TCP client
 * sends comes back on the same connection until the client closes its side
 * (then we close ours); every UDP datagram comes back to its sender.
 *
 * - **Binds:** nothing (a service: it listens through `tcp.sockets` and `udp.sockets`).
 * - **Requires:** `tcp.sockets`, `udp.sockets` (each optional: it serves on what is loaded).
 * - **Options:** `port` (7), `hostname` (every address: `::`, both families, with an IPv6 plugin, else `0.0.0.0`), `tcp`/`udp` (true),
 *   `maxConnections` (256), `lingerMs` (10000).
 * - **Counters:** `bytes` (bytes echoed, TCP and UDP), `connections`,
 *   `rejected` (over `maxConnections`, reset), `datagrams`, `loop_drops`, `errors`.
 * - **Not supported:** answering datagrams from the ports of other simple
 *   services (7, 9, 13, 17, 19, 37): dropped, so two echo servers cannot
 *   ping-pong forever.
 *
 * Graph: `tcp.sockets / udp.sockets -> echo`
 *
 * @example A TCP client on another virtual host gets its bytes back
 * ```ts
 * import { createStack, VirtualNetwork } from "../../../mod.ts";
 * import { echoPlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const server = net.addNode(createStack({ clock: net.clock, seed: 1, extraPlugins: [echoPlugin] }));
 * const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
 * client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
 * const reply = await net.run(async () => {
 *   const conn = await client.connect({ hostname: "10.0.0.2", port: 7 });
 *   await conn.write(new TextEncoder().encode("hello"));
 *   await conn.closeWrite();
 *   const text = await new Response(conn.readable).text();
 *   conn.close();
 *   return text;
 * });
 * assert.equal(reply, "hello");
 * assert.equal(server.counters.value("echo.bytes"), 5);
 * client.close();
 * server.close();
 * net.close();
 * ```
 *
 * @module
 */
import { defineService, type ProtocolPlugin, writeAll } from "../../../mod.ts";

/** The echo service plugin (RFC 862). */
export const echoPlugin: ProtocolPlugin = defineService({
  name: "echo",
  description: "Echo Protocol (RFC 862) on TCP and UDP port 7",
  port: 7,
  transports: ["tcp", "udp"],
  counters: ["bytes"],
  setup(ctx, host) {
    const bytes = ctx.counter("bytes");
    return {
      // RFC 862 §2: "Once a connection is established any data received is sent back.
      // This continues until the calling user terminates the connection."
      async tcp(conn) {
        const buf = new Uint8Array(65536);
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          await writeAll(conn, buf.subarray(0, n));
          bytes.value += n;
        }
        await host.finish(conn);
      },
      // RFC 862 §3: "When a datagram is received, the data from it is sent back in an answering datagram."
      async udp(data, from, sock) {
        await sock.send(data, from);
        bytes.value += data.length;
      },
    };
  },
});

export default echoPlugin;
