/**
 * Dead peers, found by timers on the virtual clock, between two stacks whose
 * link is cut (`link.partition()`): keepalive (RFC 1122 §4.2.3.6) fails an
 * idle connection after idle + probes × interval; the retransmission timer
 * (RFC 6298, RFC 9293 §3.8.3 R2) fails a connection with data in flight
 * after `maxRetries` retransmissions with backoff, at Linux's figure for
 * `tcp_retries2 = 15` with a 200 ms RTO (924.6 s).
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { pattern } from "./_tcp.ts";

const SECOND = 1_000_000;

async function pair(env: ReturnType<typeof makeLink>) {
  const l = env.b.listen({ port: 80 });
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()])
  );
  l.close();
  // One byte each way, so both sides have sent and received data.
  await env.run(async () => {
    await c.write(pattern(1));
    await s.read(new Uint8Array(1));
    await s.write(pattern(1));
    await c.read(new Uint8Array(1));
  });
  env.runFor(SECOND); // every ACK delivered
  return { c, s };
}

Deno.test("tcp ESTABLISHED + keepalive, peer partitioned → probes unanswered, TimedOut after idle + count × interval", async () => {
  const env = makeLink({
    seed: 3,
    plugins: { tcp: { keepaliveIdleMs: 60_000, keepaliveIntervalMs: 5_000, keepaliveProbes: 4 } },
  });
  const { c, s } = await pair(env);
  const t0 = env.net.now();
  c.setKeepAlive(true);
  env.link.partition();
  const probesBefore = env.a.counters.get("tcp.keepalive_probes").value;
  const pending = c.read(new Uint8Array(1)); // a read waiting when the connection fails
  const failedAt = await env.run(async () => {
    await assert.rejects(pending, Deno.errors.TimedOut);
    return env.net.now();
  }, { timeout: 3600 * SECOND });
  assert.equal(failedAt - t0, 60 * SECOND + 4 * 5 * SECOND);
  assert.equal(env.a.counters.get("tcp.keepalive_probes").value - probesBefore, 4);
  // The probes (and ARP's unicast re-probes) went into the cut.
  assert.ok(env.link.stats("a->b").dropped.partition >= 4);
  assert.deepEqual(env.a.sockets(), []);
  await assert.rejects(() => c.read(new Uint8Array(1)), Deno.errors.TimedOut);
  await assert.rejects(() => c.write(pattern(1)), Deno.errors.TimedOut);
  // The other side (no keepalive) never noticed; once healed, its next
  // segment meets a closed port and is reset.
  assert.equal(env.b.sockets()[0]?.state, "ESTABLISHED");
  env.link.heal();
  await env.run(async () => {
    await s.write(pattern(1));
    await assert.rejects(() => s.read(new Uint8Array(1)), Deno.errors.ConnectionReset);
  });
  c.close();
  s.close();
  env.finish();
});

Deno.test("tcp ESTABLISHED + keepalive: an answered probe keeps a partition-free connection for hours", async () => {
  const env = makeLink({
    seed: 4,
    plugins: { tcp: { keepaliveIdleMs: 60_000, keepaliveIntervalMs: 5_000, keepaliveProbes: 4 } },
  });
  const { c, s } = await pair(env);
  c.setKeepAlive(true);
  env.runFor(3600 * SECOND);
  // One probe per idle period (the answer restarts the idle time), never a second one.
  const probes = env.a.counters.get("tcp.keepalive_probes").value;
  assert.ok(probes >= 59 && probes <= 60, `${probes} probes in an hour`);
  assert.equal(env.a.sockets()[0]?.state, "ESTABLISHED");
  assert.equal(env.a.sockets()[0]?.timer, "keepalive");
  c.close();
  s.close();
  env.finish();
});

Deno.test("tcp ESTABLISHED + data, peer partitioned → a loss probe, 15 retransmissions with backoff, TimedOut at 924.8 s", async () => {
  const env = makeLink({ seed: 5 });
  const { c, s } = await pair(env);
  assert.equal(env.a.sockets()[0]!.rto, 200);
  env.link.partition();
  const retransBefore = env.a.counters.get("tcp.retrans_segs").value;
  const t0 = env.net.now();
  const failedAt = await env.run(async () => {
    await c.write(pattern(1000));
    await assert.rejects(() => c.read(new Uint8Array(1)), Deno.errors.TimedOut);
    return env.net.now();
  }, { timeout: 3600 * SECOND });
  // First a tail loss probe (RFC 8985 §7: the PTO, capped by the RTO, at
  // 0.2 s; the RTO restarts after it), then RTOs 0.2, 0.4, … 102.4 s (sum
  // 204.6 s), then six at the 120 s maximum.
  assert.equal(failedAt - t0, ms(924_800));
  assert.equal(env.a.counters.get("tcp.tlp_probes").value, 1);
  assert.equal(env.a.counters.get("tcp.retrans_segs").value - retransBefore, 16);
  assert.equal(env.a.counters.get("tcp.timeouts").value, 16);
  assert.deepEqual(env.a.sockets(), []);
  await assert.rejects(() => c.write(pattern(1)), Deno.errors.TimedOut);
  c.close();
  s.close();
  env.finish();
});
