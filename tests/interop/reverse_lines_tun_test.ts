/**
 * A service of one's own under `cli.ts up --serve PATH:PORT` over TUN: the
 * example `plugins/reverse_lines` (written on `mod.ts`'s `defineService`
 * alone) loaded by path, moved to port 7100, with nc and socat from Linux
 * in a namespace of its own (prefix `svchost`); the bytes that come back
 * are checked, and tshark checks the capture (tests/services/_interop.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { HOST, SERVICE_INTEROP_NEEDS, withUp } from "../services/_interop.ts";
import { gated } from "../_require.ts";

const REVERSE = new URL("../../plugins/reverse_lines/mod.ts", import.meta.url).pathname;
const PORT = 7100;

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name: "reverse_lines tun: up --serve PATH:PORT answers nc and socat, TCP and UDP, byte for byte",
  async fn() {
    await withUp(
      { driver: "tun", serve: `${REVERSE}:${PORT}`, netnsPrefix: "svchost" },
      async (h) => {
        const nc = await h.sh(
          `printf 'hello\\nworld\\r\\n\\nlast' | nc -N -w 3 ${HOST} ${PORT} | od -An -tx1`,
          10,
        );
        assert.equal(nc.code, 0, nc.stderr);
        assert.deepEqual(hex(nc.stdout), bytesOf("olleh\ndlrow\r\n\ntsal"));
        const socat = await h.sh(
          `printf 'abc\\n\\303\\251t\\303\\251\\n' | socat -t 3 - TCP:${HOST}:${PORT}`,
          10,
        );
        assert.equal(socat.code, 0, socat.stderr);
        assert.equal(socat.stdout, "cba\nété\n");
        const udp = await h.sh(`printf 'ab\\ncd\\r\\n' | socat -T 2 - UDP:${HOST}:${PORT}`, 5);
        assert.equal(udp.code, 0, udp.stderr);
        assert.equal(udp.stdout, "ba\ndc\r\n");
        // A line over maxLineBytes (1024): refused, the connection closed by the service.
        const long = await h.sh(
          `head -c 2000 /dev/zero | tr '\\0' a | nc -w 3 ${HOST} ${PORT}`,
          10,
        );
        assert.equal(long.stdout, "line too long\n", long.stderr);
        const c = (n: string) => h.stack.counters.value(`reverse_lines-${PORT}.${n}`);
        assert.equal(c("lines"), 4 + 2 + 2);
        assert.equal(c("long_lines"), 1);
        assert.equal(c("connections"), 3);
        assert.equal(c("datagrams"), 1);
        assert.equal(c("errors"), 0);
      },
    );
  },
}));

/** `od -An -tx1` output as bytes. */
function hex(text: string): number[] {
  return text.trim().split(/\s+/).filter((w) => w !== "").map((w) => parseInt(w, 16));
}

function bytesOf(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}
