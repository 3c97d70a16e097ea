/**
 * The Character Generator Protocol (RFC 864) on TCP and UDP port 19. TCP:
 * lines of 72 printable ASCII characters, each starting one character
 * further along the 95-character set and ending in CR LF, sent as fast as
 * the connection takes them (`write` waits while the send buffer is full)
 * until the client closes the connection; what the client sends is read
 * and thrown away. UDP: each datagram is answered with one of a random
 * length in 0..512 (from the stack's seeded RNG), cut from the same pattern.
 *
 * - **Binds:** nothing (a service: it listens through `tcp.sockets` and `udp.sockets`).
 * - **Requires:** `tcp.sockets`, `udp.sockets` (each optional: it serves on what is loaded).
 * - **Options:** `port` (19), `hostname` (every address: `::`, both families, with an IPv6 plugin, else `0.0.0.0`), `tcp`/`udp` (true),
 *   `maxConnections` (256), `lingerMs` (10000).
 * - **Counters:** `bytes` (bytes sent, TCP and UDP), `connections`,
 *   `rejected`, `datagrams`, `loop_drops`, `errors`.
 * - **Not supported:** answering datagrams from the ports of other simple
 *   services (7, 9, 13, 17, 19, 37): dropped (the echo–chargen loop).
 *
 * Graph: `tcp.sockets / udp.sockets -> chargen`
 *
 * @example The first line of the pattern
 * ```ts
 * import { createStack, VirtualNetwork } from "../../../mod.ts";
 * import { chargenPlugin, chargenLine } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const server = net.addNode(createStack({ clock: net.clock, seed: 1, extraPlugins: [chargenPlugin] }));
 * const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
 * client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
 * const line = await net.run(async () => {
 *   const conn = await client.connect({ hostname: "10.0.0.2", port: 19 });
 *   const buf = new Uint8Array(74);
 *   let got = 0;
 *   while (got < 74) got += (await conn.read(buf.subarray(got)))!;
 *   conn.close(); // unread data: a reset, which stops the server
 *   return new TextDecoder().decode(buf);
 * });
 * assert.equal(line, chargenLine(0));
 * assert.ok(line.startsWith(" !\"#$%&"));
 * client.close();
 * server.close();
 * net.close();
 * ```
 *
 * @module
 */
import { defineService, type ProtocolPlugin } from "../../../mod.ts";

/** Characters per line (RFC 864 "one popular pattern"). */
export const CHARGEN_LINE_CHARS = 72;
/** The printable ASCII characters, 0x20..0x7e. */
const CHARSET = 95;
/** Bytes per line, CR LF included. */
const LINE = CHARGEN_LINE_CHARS + 2;
/** The pattern repeats after this many bytes (95 lines). */
export const CHARGEN_PERIOD = CHARSET * LINE;
/** Longest UDP answer (RFC 864: "a random number (between 0 and 512) of characters"). */
const UDP_MAX = 512;
/** Bytes offered to one `write`. */
const CHUNK = 65536;

/**
 * Line `i` of the pattern (0-based, mod 95), CR LF included.
 *
 * @param i The line number.
 * @returns 74 characters.
 *
 * @example
 * ```ts
 * import { chargenLine } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(chargenLine(1).slice(0, 3), "!\"#");
 * assert.equal(chargenLine(95), chargenLine(0));
 * assert.ok(chargenLine(0).endsWith("\r\n"));
 * assert.equal(chargenLine(0).length, 74);
 * ```
 */
export function chargenLine(i: number): string {
  let s = "";
  for (let j = 0; j < CHARGEN_LINE_CHARS; j++) {
    s += String.fromCharCode(0x20 + ((i + j) % CHARSET));
  }
  return s + "\r\n";
}

/**
 * The pattern from its start, at least `n` bytes long (whole periods).
 *
 * @param n The least length wanted.
 * @returns The bytes: line 0, line 1, …, line 94, line 0, …
 *
 * @example
 * ```ts
 * import { chargenPattern, chargenLine } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const p = chargenPattern(100);
 * assert.equal(new TextDecoder().decode(p.subarray(74, 148)), chargenLine(1));
 * ```
 */
export function chargenPattern(n: number): Uint8Array {
  const periods = Math.max(1, Math.ceil(n / CHARGEN_PERIOD));
  const out = new Uint8Array(periods * CHARGEN_PERIOD);
  for (let line = 0; line < CHARSET; line++) {
    const base = line * LINE;
    for (let j = 0; j < CHARGEN_LINE_CHARS; j++) out[base + j] = 0x20 + ((line + j) % CHARSET);
    out[base + CHARGEN_LINE_CHARS] = 13;
    out[base + CHARGEN_LINE_CHARS + 1] = 10;
  }
  for (let p = 1; p < periods; p++) out.copyWithin(p * CHARGEN_PERIOD, 0, CHARGEN_PERIOD);
  return out;
}

/** The chargen service plugin (RFC 864). */
export const chargenPlugin: ProtocolPlugin = defineService({
  name: "chargen",
  description: "Character Generator Protocol (RFC 864) on TCP and UDP port 19",
  port: 19,
  transports: ["tcp", "udp"],
  counters: ["bytes"],
  setup(ctx) {
    const bytes = ctx.counter("bytes");
    // Shared and read-only: one period past a chunk, so any offset in the
    // period has CHUNK bytes after it.
    const pattern = chargenPattern(CHUNK + CHARGEN_PERIOD);
    return {
      async tcp(conn) {
        // Read and discard what the client sends; a reset or close there also
        // ends the writes below (they reject).
        void (async () => {
          const sink = new Uint8Array(4096);
          while ((await conn.read(sink)) !== null) { /* RFC 864: thrown away */ }
        })().catch(() => {});
        // RFC 864 §"TCP Based Character Generator Service": "Once a connection is
        // established a stream of data is sent out the connection (and any data
        // received is thrown away). This continues until the calling user
        // terminates the connection."
        // The loop ends when a write rejects: the client reset or closed.
        for (let off = 0;;) {
          const n = await conn.write(pattern.subarray(off, off + CHUNK));
          bytes.value += n;
          off = (off + n) % CHARGEN_PERIOD;
        }
      },
      async udp(_data, from, sock) {
        const len = ctx.rng.range(0, UDP_MAX);
        const start = ctx.rng.range(0, CHARSET - 1) * LINE;
        await sock.send(pattern.subarray(start, start + len), from);
        bytes.value += len;
      },
    };
  },
});

export default chargenPlugin;
