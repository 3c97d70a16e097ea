/**
 * A receiver that never reads, between two stacks: its window closes, the
 * sender's `write()` blocks once its send buffer is full (memory bounded on
 * both sides), and persist probes (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17)
 * go on for as long as the receiver answers them, their interval doubling
 * up to the RTO maximum and staying there.
 */
import assert from "node:assert/strict";
import { makeLink } from "../_harness.ts";
import { pattern } from "./_tcp.ts";

const SECOND = 1_000_000;
const BUFFER = 262_144; // the default send and receive buffers
// A closing window keeps its right edge by rounding up to the scale (wscale 7:
// 128-byte units, Linux's too); the receiver takes those few bytes more.
const ROUNDING = 1024;

Deno.test("tcp zero window from a peer that never reads: write() blocks, buffers bounded, probes for 30 min with capped backoff", async () => {
  const env = makeLink({ seed: 9 });
  const l = env.b.listen({ port: 80 });
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()])
  );
  l.close();
  // The writer never stops offering data; count what write() accepted.
  let written = 0;
  let writerError: unknown = null;
  const chunk = pattern(65536);
  const writer = (async () => {
    for (;;) written += await c.write(chunk);
  })().catch((e) => writerError = e);
  const aInfo = () => env.a.sockets().find((x) => x.remote === "10.0.0.2:80")!;
  const bInfo = () => env.b.sockets().find((x) => x.local === "10.0.0.2:80")!;
  // Run until the send buffer is full and the writer is blocked.
  await env.run(async () => {
    // (A rounded-up last window of a few bytes is filled by a probe.)
    for (
      let i = 0;
      i < 100 && (written < 2 * BUFFER || bInfo().rcvWnd !== 0 || aInfo().sndWnd !== 0);
      i++
    ) {
      await new Promise<void>((r) => env.net.at(env.net.now() + SECOND / 10, r));
    }
  });
  const held = bInfo().recvQ;
  assert.ok(held >= BUFFER && held < BUFFER + ROUNDING, `receiver holds ${held}`);
  const queued = aInfo().sendQ;
  assert.ok(queued > BUFFER - ROUNDING && queued <= BUFFER, `sender holds ${queued}`);
  assert.equal(written, held + queued, "what the receiver holds plus what the sender holds");
  assert.equal(bInfo().rcvWnd, 0);
  assert.equal(aInfo().sndWnd, 0);
  // Probe for 30 minutes of virtual time, sampling the probe counter every 100 ms.
  const probes = () => env.a.counters.get("tcp.zero_window_probes").value;
  const times: number[] = [];
  let last = probes();
  // b's receive queue holds a's buffers (in memory the receiver gets the
  // sender's own): a fixed set, bounded by the buffer; nothing else stays out.
  const heldNow = env.a.pool.held + env.b.pool.held;
  const loose = (pool: typeof env.a.pool) => pool.outstanding - pool.held;
  // a's send queue keeps its bytes in a's pool buffers (send_queue.ts): a
  // fixed set too while write() is blocked.
  const queuedChunks = loose(env.a.pool);
  assert.ok(queuedChunks >= Math.ceil(queued / 1460), `${queuedChunks} buffers queued`);
  for (let t = 0; t < 18_000; t++) {
    env.runFor(SECOND / 10);
    const p = probes();
    if (p !== last) times.push(env.net.now());
    last = p;
    assert.equal(written, held + queued, "write() stays blocked");
    assert.ok(
      loose(env.a.pool) <= queuedChunks + 2 && loose(env.b.pool) <= 2,
      "no packets piling up",
    );
    assert.equal(env.a.pool.held + env.b.pool.held, heldNow, "no more packets held");
  }
  const gaps = times.slice(1).map((t, i) => (t - times[i]!) / SECOND);
  // The interval doubles from the 200 ms RTO, then stays at the 120 s maximum.
  assert.deepEqual(gaps.slice(0, 9), [0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4]);
  assert.ok(gaps.length >= 20, `gaps ${gaps}`);
  assert.ok(gaps.slice(9).every((g) => g === 120), `gaps ${gaps}`);
  assert.equal(aInfo().state, "ESTABLISHED");
  assert.equal(aInfo().timer, "persist");
  assert.equal(aInfo().sendQ, queued);
  assert.equal(bInfo().recvQ, held);
  assert.equal(env.a.counters.get("tcp.timeouts").value, 0, "probes are not timeouts");
  // The reader finally reads: the window opens and the transfer resumes.
  await env.run(async () => {
    const buf = new Uint8Array(BUFFER);
    let got = 0;
    while (got < 4 * BUFFER) got += (await s.read(buf))!;
  });
  assert.ok(written >= 4 * BUFFER);
  // The receiver closes with data unread: RST, and the blocked writer fails.
  s.close();
  await env.run(() => writer);
  assert.ok(writerError instanceof Deno.errors.ConnectionReset, String(writerError));
  c.close();
  env.finish();
});
