/**
 * The Discard Protocol (RFC 863) on TCP and UDP port 9: everything received
 * is thrown away, and counted, so a test can check that every byte arrived.
 * A TCP connection ends when the client closes its side (we then close ours).
 *
 * - **Binds:** nothing (a service: it listens through `tcp.sockets` and `udp.sockets`).
 * - **Requires:** `tcp.sockets`, `udp.sockets` (each optional: it serves on what is loaded).
 * - **Options:** `port` (9), `hostname` (every address: `::`, both families, with an IPv6 plugin, else `0.0.0.0`), `tcp`/`udp` (true),
 *   `maxConnections` (256), `lingerMs` (10000), `readSize` (262144: bytes consumed per read, uncopied: `TcpConn.discard`).
 * - **Counters:** `bytes` (every byte received, TCP and UDP payload),
 *   `connections`, `rejected`, `datagrams`, `loop_drops`, `errors`.
 * - **Not supported:** nothing the RFC asks for.
 *
 * Graph: `tcp.sockets / udp.sockets -> discard`
 *
 * @example 100 kB sent over TCP are all counted
 * ```ts
 * import { createStack, VirtualNetwork } from "../../../mod.ts";
 * import { discardPlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const server = net.addNode(createStack({ clock: net.clock, seed: 1, extraPlugins: [discardPlugin] }));
 * const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
 * client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
 * await net.run(async () => {
 *   const conn = await client.connect({ hostname: "10.0.0.2", port: 9 });
 *   const data = new Uint8Array(100_000);
 *   for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
 *   await conn.closeWrite();
 *   assert.equal(await conn.read(new Uint8Array(1)), null); // the server closed too
 *   conn.close();
 * });
 * assert.equal(server.counters.value("discard.bytes"), 100_000);
 * client.close();
 * server.close();
 * net.close();
 * ```
 *
 * @module
 */
import { defineService, type ProtocolPlugin } from "../../../mod.ts";

/** The discard service plugin (RFC 863). */
export const discardPlugin: ProtocolPlugin = defineService({
  name: "discard",
  description: "Discard Protocol (RFC 863) on TCP and UDP port 9, counting every byte",
  port: 9,
  transports: ["tcp", "udp"],
  counters: ["bytes"],
  options: {
    readSize: { default: 262_144, description: "bytes consumed per read" },
  },
  setup(ctx, host) {
    const bytes = ctx.counter("bytes");
    const readSize = Math.max(1, Math.min(1 << 24, Number(ctx.options.readSize)));
    return {
      // RFC 863: "Once a connection is established any data received is thrown away."
      async tcp(conn) {
        for (;;) {
          const n = await conn.discard(readSize); // counted, never copied
          if (n === null) break;
          bytes.value += n;
        }
        await host.finish(conn);
      },
      udp(data) {
        bytes.value += data.length;
      },
    };
  },
});

export default discardPlugin;
