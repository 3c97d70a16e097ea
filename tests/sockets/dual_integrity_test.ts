/**
 * TCP integrity over IPv6 on the loopback network with seeded loss,
 * reordering and duplication, next to IPv4 through the same dual-stack
 * `::` listener: both directions at once, byte counts and SHA-256 checked,
 * for several seeds.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { exchangeBoth } from "../tcp/_transfer.ts";
import { dualLink } from "./_dual.ts";

const TOTAL = 300_000;

for (const seed of [1, 2, 3]) {
  Deno.test(`tcp over IPv6 and IPv4-mapped through one :: listener, lossy and reordering link, seed ${seed}`, async () => {
    const env = dualLink(seed, {
      delay: ms(2),
      jitter: ms(1),
      loss: 0.03,
      reorder: 0.05,
      duplicate: 0.01,
    });
    await env.run(async () => {
      using l = env.b.listen({ hostname: "::", port: 9 });
      const [c6, s6] = await Promise.all([
        env.a.connect({ hostname: "fd00::2", port: 9 }),
        l.accept(),
      ]);
      const [c4, s4] = await Promise.all([
        env.a.connect({ hostname: "10.0.0.2", port: 9 }),
        l.accept(),
      ]);
      assert.equal(s6.remoteAddr.hostname, "fd00::1");
      assert.equal(s4.remoteAddr.hostname, "::ffff:10.0.0.1");
      await Promise.all([
        exchangeBoth(c6, s6, seed, TOTAL, ["a6", "b6"]),
        exchangeBoth(c4, s4, seed + 100, TOTAL, ["a4", "b4"]),
      ]);
      for (const c of [c6, s6, c4, s4]) c.close();
    }, { timeout: ms(600_000) });
    // The faults happened, and TCP repaired them.
    for (const dir of ["a->b", "b->a"] as const) {
      const s = env.link.stats(dir);
      const lost = Object.values(s.dropped).reduce((x, y) => x + y, 0);
      assert.ok(lost > 10 && s.reordered > 10 && s.duplicated > 0, `${dir}: ${JSON.stringify(s)}`);
    }
    assert.ok(env.a.counters.value("tcp.retrans_segs") > 0);
    assert.ok(env.b.counters.value("tcp.retrans_segs") > 0);
    assert.ok(env.a.counters.value("ipv6.tx.packets") > 200, "IPv6 carried its share");
    assert.ok(env.a.counters.value("ipv4.tx.packets") > 200, "IPv4 carried its share");
    env.finish();
  });
}
