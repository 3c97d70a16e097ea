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
import { acceptEach, curlSize, serveHttp } from "./_tcp_interop.ts";
import { gated, type Requirement } from "../_require.ts";
import { tcpSegment } from "../tcp/_tcp.ts";
import { assertTsharkClean, CAPTURE_GAP_WARNINGS } from "../_tshark.ts";
import { kernelOf } from "../../stack/stack.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "curl"];
/** Connections; each would stall with probability ½ on the old code. */
const CONNECTIONS = 8;
/** Bytes per download (about 140 full segments). */
const BODY = 200_000;

/** What each download gets: `BODY` bytes of a pattern. */
function patternBody(): Uint8Array {
  const body = new Uint8Array(BODY);
  for (let i = 0; i < BODY; i++) body[i] = (i * 7) & 0xff;
  return body;
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
          allowWarnings: [...CAPTURE_GAP_WARNINGS, /^Connection reset \(RST\)/],
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
      const body = patternBody();
      const accepting = acceptEach(l, (conn) => serveHttp(conn, body), true);
      const results: string[] = [];
      for (let i = 0; i < CONNECTIONS; i++) {
        const r = await h.exec(curlSize(`http://${STACK_ADDRESS}/`), 15);
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
