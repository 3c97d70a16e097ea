/**
 * TCP over link-local addresses when the local link-local address does not
 * name the link: host a holds fe80::1 on both of its links (a static
 * address given twice, or EUI-64 from one MAC), so only the zone can say
 * which link a connection is on. The connection keeps its zone (the one
 * given to `connect`, or the link its SYN came in on), as Linux keeps
 * `sk_bound_dev_if`; before, every segment after `connect` left through the
 * first interface holding the source address.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { twoLinksThroughA } from "./_zones.ts";

/** Host a on two raw-IP links, fe80::1 on both; b (tun0 side) and c (tun1 side) both fe80::2. */
function sharedLinkLocal() {
  return twoLinksThroughA(43, {
    aTun0: ["fe80::1/64"],
    aTun1: ["fe80::1/64"],
    b: ["fe80::2/64"],
    c: ["fe80::2/64"],
  });
}

const enc = new TextEncoder();

Deno.test("tcp to fe80::2%tun1 from an address both links hold: every segment stays on tun1", async () => {
  const { env, a, b, c } = sharedLinkLocal();
  await env.run(async () => {
    using lb = b.listen({ hostname: "::", port: 80 });
    using lc = c.listen({ hostname: "::", port: 80 });
    const [conn, s] = await Promise.all([
      a.connect({ hostname: "fe80::2%tun1", port: 80 }),
      lc.accept(),
    ]);
    await conn.write(enc.encode("hello"));
    const got = new Uint8Array(5);
    assert.equal(await s.read(got), 5);
    assert.equal(new TextDecoder().decode(got), "hello");
    conn.close();
    s.close();
    void lb;
  }, { timeout: ms(10_000) });
  assert.equal(b.counters.value("tcp.in_segs"), 0, "nothing of the connection reached b");
  env.finish();
});

Deno.test("tcp accepted over tun1 from fe80::2 answers on tun1, though fe80::1 is tun0's too", async () => {
  const { env, a, b, c } = sharedLinkLocal();
  await env.run(async () => {
    using la = a.listen({ hostname: "::", port: 80 });
    const [conn, s] = await Promise.all([
      c.connect({ hostname: "fe80::1%tun0", port: 80 }),
      la.accept(),
    ]);
    await s.write(enc.encode("hi"));
    assert.equal(await conn.read(new Uint8Array(2)), 2);
    conn.close();
    s.close();
  }, { timeout: ms(10_000) });
  assert.equal(b.counters.value("tcp.in_segs"), 0, "nothing of the connection reached b");
  env.finish();
});
