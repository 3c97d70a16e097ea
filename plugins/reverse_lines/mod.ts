/**
 * An example service written on `mod.ts`'s public exports alone, the way
 * the built-in services are: every line a client sends comes back reversed
 * (`hello\n` → `olleh\n`, by Unicode code points, the line's end kept as
 * sent, LF or CR LF). TCP: line by line until the client closes its side (a
 * last line without an end comes back without one), then we close ours. UDP:
 * each datagram answered with its lines reversed.
 *
 * Run it: `deno run -A cli.ts up --serve ./plugins/reverse_lines/mod.ts`
 * (`…/mod.ts:7100` on another port), or load it in code with
 * `createStack({ extraPlugins: [reverseLinesPlugin] })`.
 *
 * - **Options:** `maxLineBytes` (1024: the longest line, its end included;
 *   each connection holds one buffer this long), and every service's
 *   `port` (7272), `hostname`, `maxConnections` (256), `lingerMs` (10000),
 *   `tcp`/`udp` (true).
 * - **Counters:** `lines` (lines reversed, TCP and UDP), `long_lines` (a
 *   TCP line over `maxLineBytes`: the client gets `line too long` and the
 *   connection is closed), and every service's `connections`, `rejected`,
 *   `datagrams`, `loop_drops`, `errors`.
 *
 * @example A client on another virtual host
 * ```ts
 * import { createStack, VirtualNetwork } from "../../mod.ts";
 * import { reverseLinesPlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const server = net.addNode(
 *   createStack({ clock: net.clock, seed: 1, extraPlugins: [reverseLinesPlugin] }),
 * );
 * const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
 * client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
 * const reply = await net.run(async () => {
 *   const conn = await client.connect({ hostname: "10.0.0.2", port: 7272 });
 *   await conn.write(new TextEncoder().encode("hello\r\nworld"));
 *   await conn.closeWrite();
 *   const text = await new Response(conn.readable).text();
 *   conn.close();
 *   return text;
 * });
 * assert.equal(reply, "olleh\r\ndlrow");
 * assert.equal(server.counters.value("reverse_lines.lines"), 2);
 * client.close();
 * server.close();
 * net.close();
 * ```
 *
 * @module
 */
import { defineService, type ProtocolPlugin, writeAll } from "../../mod.ts";

const LF = 0x0a;
const encoder = new TextEncoder();
const TOO_LONG = encoder.encode("line too long\n");

/**
 * `line` reversed by Unicode code points, its end (`\n` or `\r\n`) kept at
 * the end.
 *
 * @param line One line, with or without its end.
 * @returns The reversed line.
 *
 * @example
 * ```ts
 * import { reverseLine } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(reverseLine("hello\n"), "olleh\n");
 * assert.equal(reverseLine("abc\r\n"), "cba\r\n");
 * assert.equal(reverseLine("añ😀"), "😀ña");
 * ```
 */
export function reverseLine(line: string): string {
  const end = line.endsWith("\r\n") ? 2 : line.endsWith("\n") ? 1 : 0;
  const body = line.slice(0, line.length - end);
  return Array.from(body).reverse().join("") + line.slice(line.length - end);
}

/** The reverse_lines service plugin. */
export const reverseLinesPlugin: ProtocolPlugin = defineService({
  name: "reverse_lines",
  description: "Example: sends back every line reversed, TCP and UDP port 7272",
  port: 7272,
  transports: ["tcp", "udp"],
  counters: ["lines", "long_lines"],
  options: {
    maxLineBytes: { default: 1024, description: "the longest line, its end included" },
  },
  setup(ctx, host) {
    const maxLine = ctx.options.maxLineBytes;
    if (typeof maxLine !== "number" || !Number.isInteger(maxLine)) {
      throw new TypeError(`Cannot set up ${ctx.name}: maxLineBytes ${maxLine} is not an integer`);
    }
    if (maxLine < 2 || maxLine > 65536) {
      throw new RangeError(`Cannot set up ${ctx.name}: maxLineBytes ${maxLine} is not in 2..65536`);
    }
    const lines = ctx.counter("lines");
    const longLines = ctx.counter("long_lines");
    const decoder = new TextDecoder();
    const reversed = (bytes: Uint8Array) => {
      lines.value++;
      return encoder.encode(reverseLine(decoder.decode(bytes)));
    };
    return {
      async tcp(conn) {
        const buf = new Uint8Array(maxLine); // one line at most: what a connection holds
        let have = 0;
        for (;;) {
          const n = await conn.read(buf.subarray(have));
          if (n === null) break;
          const end = have + n;
          let start = 0;
          for (let lf = buf.indexOf(LF, have); lf >= 0 && lf < end; lf = buf.indexOf(LF, lf + 1)) {
            await writeAll(conn, reversed(buf.subarray(start, lf + 1)));
            start = lf + 1;
          }
          buf.copyWithin(0, start, end);
          have = end - start;
          if (have === buf.length) {
            longLines.value++;
            await writeAll(conn, TOO_LONG);
            return await host.finish(conn);
          }
        }
        if (have > 0) await writeAll(conn, reversed(buf.subarray(0, have)));
        await host.finish(conn);
      },
      async udp(data, from, sock) {
        const text = decoder.decode(data);
        const parts = text === "" ? [] : text.split(/(?<=\n)/); // each line with its end
        await sock.send(encoder.encode(parts.map(reverseLine).join("")), from);
        lines.value += parts.length;
      },
    };
  },
});

export default reverseLinesPlugin;
