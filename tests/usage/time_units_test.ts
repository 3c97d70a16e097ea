/**
 * Every time a user passes to the stack's Deno-shaped API is in
 * milliseconds (README "Units of time"): a timeout of 1.5 fires after
 * 1,500 µs of virtual time, in connect, ping, traceroute, fetch and serve's
 * keepAliveTimeout; NaN, negative and infinite values are refused the same
 * way everywhere (`checkMillis`), and times reported back (ping and
 * traceroute RTTs, route expiries) are milliseconds too.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Stack } from "../../mod.ts";
import { makeLink, ms, withEnv } from "../_harness.ts";

/** The virtual µs from the call until `fn`'s promise settles (rejections included). */
async function settlesAfter(env: { now(): number }, fn: () => Promise<unknown>): Promise<number> {
  const t0 = env.now();
  await fn().catch(() => undefined);
  return env.now() - t0;
}

/** Each entry point that takes a time, called with `timeout` (ms) towards nobody. */
const TIMED: Record<string, (s: Stack, timeout: number) => Promise<unknown>> = {
  connect: (s, timeout) => s.connect({ hostname: "10.0.0.9", port: 80, timeout }),
  ping: (s, timeout) => s.ping("10.0.0.9", { timeout }),
  traceroute: (s, timeout) => s.traceroute("10.0.0.9", { maxHops: 1, timeout }),
  fetch: (s, timeout) => s.fetch("http://10.0.0.9/", { timeout }),
};

for (const [name, call] of Object.entries(TIMED)) {
  Deno.test(`${name}: a timeout of 1.5 ends the wait after 1,500 µs of virtual time`, async () => {
    await withEnv(makeLink({ seed: 1 }), async (env) => {
      // 10.0.0.9 is on the link but absent: ARP never answers, nothing else comes.
      const took = await env.run(() => settlesAfter(env.net, () => call(env.a, 1.5)));
      assert.equal(took, 1_500);
    });
  });
}

Deno.test("connect, ping and fetch say which timeout ran out, in their own words", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const [c, p, f] = await env.run(() =>
      Promise.all([
        env.a.connect({ hostname: "10.0.0.9", port: 80, timeout: 1.5 }).catch((e) => e),
        env.a.ping("10.0.0.9", { timeout: 1.5 }).catch((e) => e),
        env.a.fetch("http://10.0.0.9/", { timeout: 1.5 }).catch((e) => e),
      ])
    );
    assert.ok(c instanceof Deno.errors.TimedOut, String(c));
    assert.ok(p instanceof Deno.errors.TimedOut, String(p));
    assert.match(p.message, /within 1\.5 ms/);
    assert.ok(f instanceof TypeError && f.cause instanceof Deno.errors.TimedOut, String(f));
    assert.match(f.message, /after 1\.5 ms/);
  });
});

Deno.test("serve: a keepAliveTimeout of 1.5 closes an idle connection after 1,500 µs", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const server = env.b.serve({ port: 80, keepAliveTimeout: 1.5 }, () => new Response("hi"));
    const took = await env.run(async () => {
      const conn = await env.a.connect({ hostname: "10.0.0.2", port: 80 });
      const t0 = env.net.now(); // the server's side is up one crossing before ours (no delay)
      const n = await conn.read(new Uint8Array(1)); // the server closes: end of stream
      conn.close();
      assert.equal(n, null);
      return env.net.now() - t0;
    });
    assert.equal(took, 1_500);
    await env.run(() => server.shutdown());
  });
});

/** A bad time given to each entry point: the class and the words are the same. */
const BAD: [number, typeof TypeError | typeof RangeError, string][] = [
  [NaN, TypeError, "timeout NaN is not a number"],
  [-1, RangeError, "timeout -1 is not in 0..2147483647 ms"],
  [Infinity, RangeError, "timeout Infinity is not in 0..2147483647 ms"],
  [2 ** 31, RangeError, "timeout 2147483648 is not in 0..2147483647 ms"],
];

for (const [value, type, words] of BAD) {
  Deno.test(`a timeout of ${value} is refused the same way by every entry point`, async () => {
    await withEnv(makeLink({ seed: 1 }), async (env) => {
      const calls: Record<string, () => Promise<unknown>> = {
        ...Object.fromEntries(
          Object.entries(TIMED).map(([name, call]) => [name, () => call(env.a, value)]),
        ),
        // serve() throws at once: the executor turns that into a rejection like the others'.
        serve: () =>
          new Promise((resolve) =>
            resolve(env.b.serve({ port: 81, keepAliveTimeout: value }, () => new Response()))
          ),
      };
      for (const [name, call] of Object.entries(calls)) {
        const err = await call().then(() => undefined, (e) => e);
        assert.ok(err instanceof type, `${name}: ${err}`);
        // serve's keep-alive cannot be 0 (it would close every connection at once).
        const expected = name === "serve"
          ? words.replace("timeout", "keepAliveTimeout").replace("0..", "1..")
          : words;
        assert.ok(err.message.endsWith(`: ${expected}`), `${name}: ${err.message}`);
      }
    });
  });
}

Deno.test("times reported back are milliseconds: ping and traceroute RTTs", async () => {
  await withEnv(makeLink({ seed: 1, faults: { delay: ms(2.5) } }), async (env) => {
    await env.run(() => env.a.ping("10.0.0.2")); // ARP first
    const reply = await env.run(() => env.a.ping("10.0.0.2"));
    assert.equal(reply.rtt, 5);
    const hops = await env.run(() => env.a.traceroute("10.0.0.2", { protocol: "icmp" }));
    assert.deepEqual(hops.map((h) => [h.from, h.rtt]), [["10.0.0.2", 5]]);
  });
});
