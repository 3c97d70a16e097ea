/**
 * SYN cookies against Linux's TCP over a real TUN device: the stack's SYN
 * queue is kept full (one spoofed half-open connection, `synBacklog` 1), so
 * every connection from Linux comes in through a cookie, with Linux's
 * timestamps, window scaling and SACK. curl downloads from a small HTTP
 * responder on the stack; each download must be complete. With the old cookie
 * TSval (the bare clock, then the connection's offset TSvals) Linux's PAWS
 * dropped every data segment of about half of the connections (#16 item 4).
 *
 * @module
 */
import assert from "node:assert/strict";
import { ipv4Packet, pluginsWith } from "../_harness.ts";
import { INTEROP_NEEDS, STACK_ADDRESS, withDevice } from "./_netns.ts";
import { gated, type Requirement } from "../_require.ts";
import { tcpSegment } from "../tcp/_tcp.ts";
import { assertTsharkClean } from "../_tshark.ts";
import type { TcpConn } from "../../mod.ts";
import { kernelOf } from "../../stack/stack.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "curl"];
/** Connections; each would stall with probability ½ on the old code. */
const CONNECTIONS = 8;
/** Bytes per download (about 140 full segments). */
const BODY = 200_000;

/** Reads an HTTP request head, answers with `BODY` bytes of a pattern, closes. */
async function serve(conn: TcpConn): Promise<void> {
  const buf = new Uint8Array(4096);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  const body = new Uint8Array(BODY);
  for (let i = 0; i < BODY; i++) body[i] = (i * 7) & 0xff;
  const msg = new TextEncoder().encode(
    `HTTP/1.0 200 OK\r\nContent-Length: ${BODY}\r\nConnection: close\r\n\r\n`,
  );
  for (const part of [msg, body]) {
    for (let off = 0; off < part.length;) off += await conn.write(part.subarray(off));
  }
  conn.close();
}

Deno.test(gated(NEEDS, {
  name:
    `tun syncookies: ${CONNECTIONS} curl downloads from Linux, each through a SYN cookie with timestamps, all complete`,
  async fn() {
    await withDevice({
      mode: "tun",
      plugins: () => pluginsWith({ tcp: { synBacklog: 1 } }),
      // Allowed: tcpdump on a loaded machine missing some of a burst, and the
      // RST that closing the listener sends to the spoofed half-open connection.
      checkCapture: (pcap) =>
        assertTsharkClean(pcap, {
          allowWarnings: [
            /^ACKed segment that wasn't captured/,
            /^Previous segment.* not captured/,
            /^Connection reset \(RST\)/,
          ],
        }),
    }, async (h) => {
      const l = h.stack.listen({ port: 80 });
      // A spoofed SYN fills the SYN queue (its SYN-ACKs go to an address Linux does not have).
      const spoofed = "10.0.0.77";
      kernelOf(h.stack).inject(
        h.stack.interfaces.list()[0]!.index,
        ipv4Packet(
          { src: spoofed, dst: STACK_ADDRESS, protocol: 6 },
          tcpSegment({ srcPort: 1234, dstPort: 80, seq: 1, flags: "S" }, spoofed, STACK_ADDRESS),
        ),
      );
      h.runner.kick();
      // Each connection served on its own, so a stalled one cannot hold up the rest.
      const accepting = (async () => {
        for (;;) serve(await l.accept()).catch(() => {});
      })().catch(() => {}); // ends when the listener closes
      const results: string[] = [];
      for (let i = 0; i < CONNECTIONS; i++) {
        const r = await h.exec([
          "curl",
          "-sS",
          "--noproxy",
          "*",
          "--max-time",
          "10",
          "-o",
          "/dev/null",
          "-w",
          "%{size_download}",
          `http://${STACK_ADDRESS}/`,
        ], 15);
        results.push(r.code === 0 ? r.stdout.trim() : `curl ${r.code}: ${r.stderr.trim()}`);
      }
      l.close();
      await accepting;
      const counters = h.stack.counters.snapshot();
      assert.deepEqual(results, Array(CONNECTIONS).fill(String(BODY)));
      assert.equal(counters["tcp.syncookies_recv"], CONNECTIONS, "every connection via a cookie");
    });
  },
}));
