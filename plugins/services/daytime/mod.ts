/**
 * The Daytime Protocol (RFC 867) on TCP and UDP port 13: the date and time
 * as one line of ASCII, `Tuesday, February 22, 1982 17:37:43-UTC` plus CR LF
 * (the RFC's suggested syntax, always in UTC). TCP: sent on connect, then we
 * close; UDP: sent in answer to any datagram.
 *
 * The plugin never reads the wall clock: the time is the stack's clock plus
 * the `epoch` option, the µs since 1970-01-01T00:00:00Z at stack time 0.
 * `cli.ts up` sets it from the real clock; on a virtual network it is
 * whatever the test says (default 0: the stack starts at the Unix epoch).
 *
 * - **Binds:** nothing (a service: it listens through `tcp.sockets` and `udp.sockets`).
 * - **Requires:** `tcp.sockets`, `udp.sockets` (each optional: it serves on what is loaded).
 * - **Options:** `epoch` (0), `port` (13), `hostname` (every address: `::`, both families, with an IPv6 plugin, else `0.0.0.0`), `tcp`/`udp`
 *   (true), `maxConnections` (256), `lingerMs` (10000).
 * - **Counters:** `connections`, `rejected`, `datagrams`, `loop_drops`, `errors`.
 * - **Not supported:** time zones other than UTC.
 *
 * Graph: `tcp.sockets / udp.sockets -> daytime`
 *
 * @example On a virtual network whose stack time 0 is 2024-02-29T12:00:00Z
 * ```ts
 * import { createStack, VirtualNetwork } from "../../../mod.ts";
 * import { daytimePlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const epoch = Date.UTC(2024, 1, 29, 12) * 1000;
 * const server = net.addNode(createStack({
 *   clock: net.clock,
 *   seed: 1,
 *   extraPlugins: [{ plugin: daytimePlugin, options: { epoch } }],
 * }));
 * const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
 * client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
 * const text = await net.run(async () => {
 *   const conn = await client.connect({ hostname: "10.0.0.2", port: 13 });
 *   const t = await new Response(conn.readable).text();
 *   conn.close();
 *   return t;
 * });
 * assert.equal(text, "Thursday, February 29, 2024 12:00:00-UTC\r\n");
 * client.close();
 * server.close();
 * net.close();
 * ```
 *
 * @module
 */
import { defineService, type ProtocolPlugin, writeAll } from "../../../mod.ts";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * The RFC 867 line for `unixMicros` (µs since 1970, UTC), CR LF included.
 *
 * @param unixMicros The time.
 * @returns `Weekday, Month Day, Year HH:MM:SS-UTC\r\n`.
 *
 * @example
 * ```ts
 * import { formatDaytime } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatDaytime(0), "Thursday, January 1, 1970 00:00:00-UTC\r\n");
 * assert.equal(formatDaytime(383_247_463_000_000), "Monday, February 22, 1982 17:37:43-UTC\r\n");
 * ```
 */
export function formatDaytime(unixMicros: number): string {
  const d = new Date(Math.floor(unixMicros / 1000));
  return `${DAYS[d.getUTCDay()]}, ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ` +
    `${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:` +
    `${two(d.getUTCSeconds())}-UTC\r\n`;
}

/** The daytime service plugin (RFC 867). */
export const daytimePlugin: ProtocolPlugin = defineService({
  name: "daytime",
  description: "Daytime Protocol (RFC 867) on TCP and UDP port 13",
  port: 13,
  transports: ["tcp", "udp"],
  options: {
    epoch: {
      default: 0,
      description: "µs since 1970-01-01T00:00:00Z at stack time 0 (cli.ts up sets it)",
    },
  },
  setup(ctx, host) {
    const epoch = Number(ctx.options.epoch);
    if (!Number.isFinite(epoch)) {
      throw new RangeError(`Cannot set up daytime: epoch ${ctx.options.epoch} is not a number`);
    }
    const encoder = new TextEncoder();
    const now = () => encoder.encode(formatDaytime(epoch + ctx.now()));
    return {
      // RFC 867: "Once a connection is established the current date and time is sent out
      // the connection as a ascii character string (and any data received is thrown
      // away). The service closes the connection after sending the quote."
      async tcp(conn) {
        await writeAll(conn, now());
        await host.finish(conn);
      },
      async udp(_data, from, sock) {
        await sock.send(now(), from);
      },
    };
  },
});

export default daytimePlugin;
