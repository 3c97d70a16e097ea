/**
 * `Stack.ping()` keeps the last IPv4 text it parsed (issue 13): repeated,
 * alternated and bad targets must each still reach (or fail on) their own
 * host.
 */
import assert from "node:assert/strict";
import type { Stack } from "../../mod.ts";
import { makeLan, withEnv } from "../_harness.ts";

Deno.test("ping() to one host twice, then another, then back: each reply comes from its target", async () => {
  await withEnv(makeLan({ hosts: 3, seed: 4 }), async (env) => {
    const [a] = env.hosts as [Stack, Stack, Stack];
    const froms = await env.run(async () => {
      const got: string[] = [];
      for (const host of ["10.0.0.2", "10.0.0.2", "10.0.0.3", "10.0.0.2"]) {
        got.push((await a.ping(host)).from);
      }
      return got;
    });
    assert.deepEqual(froms, ["10.0.0.2", "10.0.0.2", "10.0.0.3", "10.0.0.2"]);
    assert.equal(a.counters.get("icmp.rx.echo_replies").value, 4);
  });
});

Deno.test("ping() after a good target still refuses bad text and bad options", async () => {
  await withEnv(makeLan({ hosts: 2, seed: 4 }), async (env) => {
    const [a] = env.hosts as [Stack, Stack];
    await env.run(() => a.ping("10.0.0.2"));
    await assert.rejects(a.ping("10.0.0.2x"), TypeError);
    await assert.rejects(a.ping("10.0.0.2", { ttl: 0 }), RangeError);
    // The same text again after the refusals: still answered.
    const reply = await env.run(() => a.ping("10.0.0.2"));
    assert.equal(reply.from, "10.0.0.2");
    // A traceroute to it shares the parsed target and still ends there.
    const hops = await env.run(() => a.traceroute("10.0.0.2", { protocol: "icmp", maxHops: 3 }));
    assert.equal(hops.at(-1)?.reached, true);
  });
});
