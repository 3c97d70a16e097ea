import assert from "node:assert/strict";
import { conntrackPlugin } from "../../mod.ts";
import { httpPlugin } from "../../plugins/services/http/mod.ts";
import { makeLink } from "../_harness.ts";

Deno.test("conntrack rows on the HTTP status page, like conntrack -L", async () => {
  const env = makeLink({ extraPlugins: [conntrackPlugin, httpPlugin] });
  const text = await env.run(async () => {
    const conn = await env.a.connect({ hostname: "10.0.0.2", port: 80 });
    await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\nAccept: text/plain\r\n\r\n"));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      chunks.push(buf.slice(0, n));
    }
    conn.close();
    return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  });
  const section = text.split("== Tracked connections\n")[1]?.split("\n== ")[0] ?? "";
  assert.match(
    section,
    /^tcp +6 \d+ ESTABLISHED src=10\.0\.0\.1 dst=10\.0\.0\.2 sport=\d+ dport=80 src=10\.0\.0\.2 dst=10\.0\.0\.1 sport=80 dport=\d+ \[ASSURED\]$/m,
  );
  env.runFor(200_000_000);
  env.finish();
});
