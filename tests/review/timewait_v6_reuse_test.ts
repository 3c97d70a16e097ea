/**
 * review16, risk 1 over IPv6: a server that closes first keeps TIME-WAIT
 * for its client's tuple; the client connects again from the same port a
 * second later, and the server's stack takes the SYN over the TIME-WAIT
 * connection (RFC 6191: a newer timestamp; RFC 9293 3.10.7.4 with an ISN
 * above the old SND.NXT, derived from SND.MAX in a compact record). The
 * whole exchange, link-local and global addresses, must be the same bytes
 * on the wire whether the server's socket was closed (a compact record,
 * revived by the SYN) or kept open (a full endpoint).
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";

async function exchange(scope: "global" | "link-local", keepSocket: boolean) {
  const env = makeLink({
    seed: 5,
    capture: true,
    addresses: [["fd00::1/64"], ["fd00::2/64"]],
    plugins: { ndp: { dadTransmits: 0 } },
    withoutPlugins: ["mld"],
  });
  // a's link-local address (SLAAC's, stable per seed), zoned for b.
  const server = scope === "global" ? "fd00::1" : `${env.a.routeGet("fe80::1%eth0")!.source}%eth0`;
  const l = env.a.listen({ hostname: "::", port: 80 });
  let twSeen = "";
  let second = "";
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.b.connect({ hostname: server, port: 80, localPort: 40000 }),
      l.accept(),
    ]);
    await s.write(new TextEncoder().encode("hello"));
    const buf = new Uint8Array(16);
    assert.equal(await c.read(buf), 5);
    if (keepSocket) await s.closeWrite();
    else s.close();
    assert.equal(await c.read(buf), null);
    c.close();
    await new Promise((r) => env.net.at(env.net.now() + ms(1_000), () => r(undefined)));
    twSeen = env.a.sockets().find((x) => x.state === "TIME-WAIT")?.remote ?? "";
    // The client comes back from the same port: the TIME-WAIT is taken over.
    const [c2, s2] = await Promise.all([
      env.b.connect({ hostname: server, port: 80, localPort: 40000 }),
      l.accept(),
    ]);
    await c2.write(new TextEncoder().encode("again"));
    assert.equal(await s2.read(buf), 5);
    second = new TextDecoder().decode(buf.subarray(0, 5));
    c2.close();
    s2.close();
    if (keepSocket) s.close();
  }, { timeout: 10_000_000 });
  env.runFor(ms(130_000));
  l.close();
  const frames = env.capture!.frames().map((f) => Array.from(f).join(","));
  env.finish();
  return { frames, twSeen, second };
}

for (const scope of ["global", "link-local"] as const) {
  Deno.test(`tcp TIME-WAIT over IPv6 (${scope}) taken over by the client's new SYN: the same bytes from a compact record as from a full endpoint`, async () => {
    const compact = await exchange(scope, false);
    const full = await exchange(scope, true);
    assert.match(compact.twSeen, /:40000$/, "the server held TIME-WAIT");
    assert.equal(compact.second, "again");
    assert.equal(full.second, "again");
    assert.ok(compact.frames.length > 10);
    assert.deepEqual(compact.frames, full.frames);
  });
}
